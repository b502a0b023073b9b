#pragma once
// The backend's real device: AES-256-GCM executed by a DPDK cryptodev, the
// API hardware accelerators such as QAT are driven through. Here it is one
// of DPDK's software PMDs (crypto_aesni_mb by default, crypto_openssl); a
// hardware PMD is chosen by EAL arguments (-a <pci>) and --crypto-dev.
//
// Zero copy: an operation works in place on the payload buffer the
// frontend filled (an external mbuf over it, with its real IOVA, so a PMD
// that reads physical addresses works too); the IV and AAD, copied out of
// the request once it was validated, travel in the crypto op's private area.
//
// Only the serving thread uses a CryptoDevice. Frontends never touch the
// cryptodev: they register keys over rte_mp, and the backend creates one
// session per (frontend, key, direction, AAD length) on first use, freed
// when the frontend detaches.

#include <rte_crypto.h>
#include <rte_cryptodev.h>
#include <rte_mbuf.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "offload/dpdk/handles.hpp"
#include "offload/protocol.hpp"

namespace offload::backend {

// The name --crypto-dev takes to run without a crypto device (xor/not only).
inline constexpr char kNoCryptoDevice[] = "none";

enum class CryptoResult { Ok, AuthFailed, Error };

// One operation, as the serving loop hands it over: `index` names the
// request object (and the op and mbuf kept for it), `payload` the granted
// buffer, holding the message and room for the tag right after it.
struct CryptoSubmission {
  std::uint32_t index;
  bool encrypt;
  void* session;
  void* payload;
  std::uint32_t payload_len;
  std::span<const std::uint8_t> iv;   // proto::kIvBytes
  std::span<const std::uint8_t> aad;  // at most proto::kMaxAadBytes
};

class CryptoDevice {
public:
  // Opens `name`: a cryptodev the EAL already probed (e.g. a QAT function
  // allowed with -a), else a virtual device of that driver name created
  // here. Checks AES-256-GCM with a 12-byte IV, a 16-byte tag and 0..64
  // bytes of AAD; configures one queue pair; keeps one op and one mbuf for
  // each of `requests` request objects. Throws EnvironmentError saying
  // what is missing.
  CryptoDevice(const std::string& name, std::uint32_t requests, std::uint32_t buffer_bytes);
  CryptoDevice(const CryptoDevice&) = delete;
  CryptoDevice& operator=(const CryptoDevice&) = delete;
  ~CryptoDevice();

  // "crypto_aesni_mb (cryptodev 0, driver crypto_aesni_mb, 1 queue pair of 8192)".
  const std::string& description() const noexcept { return description_; }
  // What the device offers, one line each (for logs and telemetry).
  const std::vector<std::string>& capabilities() const noexcept { return capabilities_; }

  // The session for (frontend, key, direction, AAD length), created on first
  // use. nullptr with `why` set when it cannot be (too many sessions).
  void* session(std::uint16_t frontend, std::uint32_t generation, std::uint16_t key_id,
                std::span<const std::uint8_t> key, bool encrypt, std::uint16_t aad_len, const char*& why);
  // Frees every session of `frontend`. Precondition: none of its operations
  // is in the device (drain() first).
  void forget_frontend(std::uint16_t frontend);
  // Frees the sessions of one key of `frontend`. Precondition: none of its
  // operations is in the device (drain() first).
  void forget_key(std::uint16_t frontend, std::uint16_t key_id);

  // Queues one operation; flush() hands the queued ones to the device.
  void submit(const CryptoSubmission& s);
  void flush();

  // Hands each finished operation to `sink(index, result)`; returns how many.
  template <class Sink>
  unsigned poll(Sink&& sink) {
    if (outstanding_ == 0) return 0;
    std::array<rte_crypto_op*, kBurst> done{};
    const std::uint16_t n = rte_cryptodev_dequeue_burst(dev_id_, 0, done.data(), kBurst);
    outstanding_ -= n;
    for (std::uint16_t i = 0; i < n; ++i) sink(index_of(done[i]), result_of(*done[i]));
    return n;
  }

  // Polls until nothing is in the device (before buffers are taken back:
  // a PMD writes them until it hands the operation back). Bounded; returns
  // false if operations are still in the device after `bound_ms`.
  template <class Sink>
  bool drain(Sink&& sink, unsigned bound_ms = 1000) {
    for (unsigned spins = 0; outstanding_ != 0 || !queued_.empty(); ++spins) {
      flush();
      if (poll(sink) == 0 && spins > bound_ms * 100) return false;
      if (outstanding_ != 0) rte_delay_us_block(10);
    }
    return true;
  }

  // Sessions alive, every frontend's.
  [[nodiscard]] std::size_t sessions() const noexcept { return sessions_.size(); }

  // Operations handed to the device (or queued for it) and not yet back.
  [[nodiscard]] std::size_t outstanding() const noexcept { return outstanding_ + queued_.size(); }

private:
  static constexpr unsigned kBurst = 32;
  struct Session {
    std::uint16_t frontend;
    std::uint32_t generation;
    std::uint16_t key_id;
    bool encrypt;
    std::uint16_t aad_len;
    void* handle;
  };

  std::uint32_t index_of(const rte_crypto_op* op) const noexcept;
  static CryptoResult result_of(const rte_crypto_op& op) noexcept;
  void free_session(Session& s) noexcept;

  std::string name_;
  std::uint8_t dev_id_ = 0;
  bool created_vdev_ = false;
  bool started_ = false;
  std::uint32_t buffer_bytes_;
  dpdk::MempoolPtr session_pool_;
  dpdk::MempoolPtr op_pool_;
  dpdk::MempoolPtr mbuf_pool_;
  std::vector<rte_crypto_op*> ops_;      // by request index
  std::vector<rte_mbuf*> mbufs_;         // by request index
  std::vector<rte_mbuf_ext_shared_info> ext_info_;  // by request index
  std::vector<rte_crypto_op*> queued_;   // submitted, not yet accepted by the device
  std::size_t outstanding_ = 0;          // accepted by the device, not yet dequeued
  std::vector<Session> sessions_;
  std::string description_;
  std::vector<std::string> capabilities_;
};

// The most sessions one frontend may hold: (key, direction, AAD length)
// combinations; one TLS connection needs two.
inline constexpr std::size_t kMaxSessionsPerFrontend = 128;

}  // namespace offload::backend
