#pragma once
// What the provider holds once per process: its configuration, the DPDK
// secondary it attached as when it was loaded (or why it could not), the
// software AES-GCM it falls back to, its counters, the monitor thread that
// keeps every wait bounded, and each thread's client of the backend.

#include <openssl/evp.h>
#include <openssl/types.h>

#include <array>
#include <functional>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "offload/dpdk/eal.hpp"
#include "offload/unique_fd.hpp"

namespace offload::provider {

class ThreadClient;
struct Slot;

struct Config {
  std::string instance = "offload";
  // No: a measurement tool that silently ran in software would report the
  // CPU's figures as the device's. Yes is for applications that must work
  // whether or not a backend runs.
  bool fallback = false;
  std::string log_level = "warning";
  int lcore = 0;
  std::uint64_t timeout_ms = 0;  // a request's bound; 0: derived from the backend's device
  std::string error;             // a value that is not what its key takes: nothing runs
};

// Why a message was done in software rather than on the device.
enum class SoftwareReason : unsigned {
  NoBackend,     // fallback = yes and no backend serves
  AadTooLong,    // more than the 64 bytes of AAD a request carries
  TooLarge,      // longer than the backend's buffers hold
  TagAfterData,  // a decryption whose tag came after its data
  IvLength,      // an IV other than 12 bytes
  TagLength,     // a tag other than 16 bytes
  Tls12,         // TLS 1.2's explicit-IV records (AEAD_TLS1_AAD)
  NoKeySlot,     // all 64 key ids of the thread held by requests in flight
  Streamed,      // a second data update: continued in software
  Count
};
const char* software_reason_name(SoftwareReason reason);

struct Counters {
  std::atomic<std::uint64_t> device_messages{0};
  std::atomic<std::uint64_t> failed_messages{0};
  std::atomic<std::uint64_t> auth_failures{0};
  std::atomic<std::uint64_t> eagain_pauses{0};
  std::atomic<std::uint64_t> sync_waits{0};
  std::array<std::atomic<std::uint64_t>, static_cast<unsigned>(SoftwareReason::Count)> software{};
  void count_software(SoftwareReason r) { software[static_cast<unsigned>(r)].fetch_add(1, std::memory_order_relaxed); }
  std::uint64_t software_total() const;
};

class Process {
public:
  explicit Process(Config config);
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  ~Process();

  const Config& config() const noexcept { return config_; }
  // Attached as a DPDK secondary to a live backend at load.
  [[nodiscard]] bool attached() const noexcept { return eal_ != nullptr; }
  // Why not attached: names the instance and what to do.
  const std::string& attach_error() const noexcept { return attach_error_; }
  // A child of the process that attached: it may use nothing of the attach.
  static bool forked() noexcept;
  // The backend died (or stopped) after the attach: every wait ends.
  [[nodiscard]] bool backend_lost() const noexcept { return backend_lost_.load(std::memory_order_acquire); }

  // AES-256-GCM of the default provider in a library context of its own:
  // the application's default properties prefer this provider, so a fetch
  // there would come back here.
  EVP_CIPHER* software_gcm() const noexcept { return software_gcm_; }

  Counters& counters() noexcept { return counters_; }
  std::string summary() const;

  // The calling thread's client, registered with the backend on first use.
  // nullptr (and `why`) when it cannot be.
  std::shared_ptr<ThreadClient> thread_client(std::string& why);

  // Callback mode: the monitor thread waits on `slot`'s eventfd and calls
  // its callback when the backend signals it.
  void watch_callback(Slot& slot);
  void unwatch_callback(Slot& slot) noexcept;

  // Detaches every thread's client, stops the monitor and DPDK (once; at
  // exit, or when the provider is unloaded). AES-256-GCM then fails.
  void shut_down();

  // The request bound: past it a wait ends with an error.
  std::uint64_t request_timeout_ns(const ThreadClient& client) const noexcept;

private:
  void attach();
  void monitor();
  void end_waits(const char* why);

  Config config_;
  std::unique_ptr<dpdk::EalSession> eal_;
  std::string attach_error_;
  std::atomic<bool> backend_lost_{false};
  OSSL_LIB_CTX* software_libctx_ = nullptr;
  OSSL_PROVIDER* software_provider_ = nullptr;
  EVP_CIPHER* software_gcm_ = nullptr;
  Counters counters_;

  std::mutex clients_mutex_;
  std::vector<std::weak_ptr<ThreadClient>> clients_;

  UniqueFd monitor_epoll_;
  UniqueFd monitor_wake_;
  std::atomic<bool> monitor_stop_{false};
  std::thread monitor_;
  std::once_flag shut_down_once_;
};

// Runs `work` on a thread of its own when called inside an ASYNC job: a
// job's stack is 32 KiB, too little for DPDK's rte_mp and its logging.
void off_job_stack(const std::function<void()>& work);

}  // namespace offload::provider
