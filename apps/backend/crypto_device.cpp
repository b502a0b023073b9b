#include "crypto_device.hpp"

#include <rte_bus_vdev.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_prefetch.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>

#include "offload/exit_codes.hpp"

namespace offload::backend {
namespace {

// The op's private area, after the symmetric op: the IV (16 bytes reserved),
// the AAD, and the index of the request the op belongs to.
constexpr std::uint16_t kIvOffset = sizeof(rte_crypto_op) + sizeof(rte_crypto_sym_op);
constexpr std::uint16_t kAadOffset = kIvOffset + 16;
constexpr std::uint16_t kIndexOffset = kAadOffset + proto::kMaxAadBytes;
constexpr std::uint16_t kOpPrivateBytes = 16 + proto::kMaxAadBytes + sizeof(std::uint32_t);

// External buffers are the grant pools': nothing to free when an mbuf lets go.
void keep_buffer(void*, void*) {}

EnvironmentError fail(const std::string& name, const std::string& what) {
  return EnvironmentError(fmt::format("crypto device '{}': {}", name, what));
}

// The device's id, creating a virtual device of that driver name if no
// device of that name was probed.
std::uint8_t open_device(const std::string& name, bool& created) {
  int id = rte_cryptodev_get_dev_id(name.c_str());
  if (id < 0) {
    if (rte_vdev_init(name.c_str(), nullptr) != 0)
      throw fail(name, fmt::format("no such device and no virtual device driver of that name ({}); software PMDs: "
                                   "crypto_aesni_mb, crypto_openssl; a hardware one needs its PCI function allowed "
                                   "after '--' (e.g. -- -a 0000:3d:01.0) and its cryptodev name here",
                                   rte_strerror(rte_errno)));
    created = true;
    id = rte_cryptodev_get_dev_id(name.c_str());
    if (id < 0) throw fail(name, "created, but no cryptodev of that name appeared");
  }
  return static_cast<std::uint8_t>(id);
}

// AES-256-GCM as the protocol uses it, or an exception naming what differs.
void require_aes_256_gcm(const std::string& name, std::uint8_t dev_id) {
  rte_cryptodev_sym_capability_idx idx{};
  idx.type = RTE_CRYPTO_SYM_XFORM_AEAD;
  idx.algo.aead = RTE_CRYPTO_AEAD_AES_GCM;
  const rte_cryptodev_symmetric_capability* cap = rte_cryptodev_sym_capability_get(dev_id, &idx);
  if (cap == nullptr) throw fail(name, "does not offer AES-GCM");
  for (const std::uint16_t aad : {std::uint16_t{0}, static_cast<std::uint16_t>(proto::kMaxAadBytes)})
    if (rte_cryptodev_sym_capability_check_aead(cap, proto::kKeyBytes, proto::kTagBytes, aad, proto::kIvBytes) != 0)
      throw fail(name, fmt::format("AES-GCM without a 256-bit key, a 16-byte tag, a 12-byte IV and {} bytes of AAD",
                                   aad));
}

std::string range_text(const rte_crypto_param_range& r) {
  if (r.min == r.max) return std::to_string(r.min);
  return fmt::format("{}..{}{}", r.min, r.max, r.increment > 1 ? fmt::format(" step {}", r.increment) : "");
}

std::vector<std::string> describe_aead_capabilities(std::uint8_t dev_id) {
  std::vector<std::string> out;
  rte_cryptodev_info info{};
  rte_cryptodev_info_get(dev_id, &info);
  for (const rte_cryptodev_capabilities* c = info.capabilities;
       c != nullptr && c->op != RTE_CRYPTO_OP_TYPE_UNDEFINED; ++c) {
    if (c->op != RTE_CRYPTO_OP_TYPE_SYMMETRIC || c->sym.xform_type != RTE_CRYPTO_SYM_XFORM_AEAD) continue;
    const auto& a = c->sym.aead;
    out.push_back(fmt::format("{}: key {} bytes, tag {}, AAD {}, IV {}",
                              rte_crypto_aead_algorithm_strings[a.algo], range_text(a.key_size),
                              range_text(a.digest_size), range_text(a.aad_size), range_text(a.iv_size)));
  }
  return out;
}

}  // namespace

CryptoDevice::CryptoDevice(const std::string& name, std::uint32_t requests, std::uint32_t buffer_bytes)
    : name_(name), buffer_bytes_(buffer_bytes) {
  dev_id_ = open_device(name, created_vdev_);
  require_aes_256_gcm(name, dev_id_);
  const int socket = rte_cryptodev_socket_id(dev_id_) >= 0 ? rte_cryptodev_socket_id(dev_id_)
                                                           : static_cast<int>(rte_socket_id());

  // Sessions: every frontend's at most; ops and mbufs: one per request object.
  const auto sessions = static_cast<std::uint32_t>(proto::kMaxFrontends * kMaxSessionsPerFrontend);
  session_pool_.reset(rte_cryptodev_sym_session_pool_create(
      "ofl_crypto_sess", sessions, rte_cryptodev_sym_get_private_session_size(dev_id_), 0, 0, socket));
  op_pool_.reset(rte_crypto_op_pool_create("ofl_crypto_op", RTE_CRYPTO_OP_TYPE_SYMMETRIC, requests, 0,
                                           kOpPrivateBytes, socket));
  // No data room: every mbuf carries an external buffer, the payload's.
  mbuf_pool_.reset(rte_pktmbuf_pool_create("ofl_crypto_mbuf", requests, 0, 0, 0, socket));
  if (!session_pool_ || !op_pool_ || !mbuf_pool_)
    throw fail(name, fmt::format("cannot create its pools for {} requests: {}; lower --pool-size or reserve more "
                                 "hugepages",
                                 requests, rte_strerror(rte_errno)));
  ops_.resize(requests);
  mbufs_.resize(requests);
  ext_info_.resize(requests);
  for (std::uint32_t i = 0; i < requests; ++i) {
    ops_[i] = rte_crypto_op_alloc(op_pool_.get(), RTE_CRYPTO_OP_TYPE_SYMMETRIC);
    mbufs_[i] = rte_pktmbuf_alloc(mbuf_pool_.get());
    if (ops_[i] == nullptr || mbufs_[i] == nullptr) throw fail(name, "cannot take its ops and mbufs from their pools");
    *rte_crypto_op_ctod_offset(ops_[i], std::uint32_t*, kIndexOffset) = i;
    ext_info_[i].free_cb = keep_buffer;
    ext_info_[i].fcb_opaque = nullptr;
  }

  rte_cryptodev_config config{};
  config.socket_id = socket;
  config.nb_queue_pairs = 1;
  config.ff_disable = RTE_CRYPTODEV_FF_ASYMMETRIC_CRYPTO | RTE_CRYPTODEV_FF_SECURITY;
  if (rte_cryptodev_configure(dev_id_, &config) != 0) throw fail(name, "rte_cryptodev_configure failed");
  // Room for every request at once, as far as the device allows; the rest
  // waits in queued_.
  rte_cryptodev_qp_conf qp{};
  qp.nb_descriptors = std::min<std::uint32_t>(rte_align32pow2(requests + 1), 16384);
  qp.mp_session = session_pool_.get();
  int rc = rte_cryptodev_queue_pair_setup(dev_id_, 0, &qp, socket);
  while (rc != 0 && qp.nb_descriptors > 512) {  // a device with fewer descriptors
    qp.nb_descriptors /= 2;
    rc = rte_cryptodev_queue_pair_setup(dev_id_, 0, &qp, socket);
  }
  if (rc != 0) throw fail(name, fmt::format("cannot set up a queue pair: {}", rte_strerror(-rc)));
  if (rte_cryptodev_start(dev_id_) != 0) throw fail(name, "rte_cryptodev_start failed");
  started_ = true;
  queued_.reserve(requests);
  sessions_.reserve(kMaxSessionsPerFrontend);

  rte_cryptodev_info info{};
  rte_cryptodev_info_get(dev_id_, &info);
  description_ = fmt::format("{} (cryptodev {}, driver {}, 1 queue pair of {} descriptors)", name, dev_id_,
                             info.driver_name != nullptr ? info.driver_name : "?", qp.nb_descriptors);
  capabilities_ = describe_aead_capabilities(dev_id_);
}

CryptoDevice::~CryptoDevice() {
  drain([](std::uint32_t, CryptoResult) {});
  for (auto& s : sessions_) free_session(s);
  sessions_.clear();
  if (started_) rte_cryptodev_stop(dev_id_);
  for (rte_crypto_op* op : ops_)
    if (op != nullptr) rte_crypto_op_free(op);
  for (rte_mbuf* m : mbufs_) {
    if (m == nullptr) continue;
    if (RTE_MBUF_HAS_EXTBUF(m)) rte_pktmbuf_detach_extbuf(m);
    rte_pktmbuf_free(m);
  }
  rte_cryptodev_close(dev_id_);
  if (created_vdev_) rte_vdev_uninit(name_.c_str());
}

void* CryptoDevice::session(std::uint16_t frontend, std::uint32_t generation, std::uint16_t key_id,
                            std::span<const std::uint8_t> key, bool encrypt, std::uint16_t aad_len, const char*& why) {
  std::size_t of_frontend = 0;
  for (const Session& s : sessions_) {
    if (s.frontend != frontend) continue;
    if (s.generation == generation && s.key_id == key_id && s.encrypt == encrypt && s.aad_len == aad_len)
      return s.handle;
    ++of_frontend;
  }
  if (of_frontend >= kMaxSessionsPerFrontend) {
    why = "too many (key, direction, AAD length) combinations for one frontend (128)";
    return nullptr;
  }
  rte_crypto_sym_xform xform{};
  xform.type = RTE_CRYPTO_SYM_XFORM_AEAD;
  xform.aead.op = encrypt ? RTE_CRYPTO_AEAD_OP_ENCRYPT : RTE_CRYPTO_AEAD_OP_DECRYPT;
  xform.aead.algo = RTE_CRYPTO_AEAD_AES_GCM;
  xform.aead.key.data = key.data();
  xform.aead.key.length = static_cast<std::uint16_t>(key.size());
  xform.aead.iv.offset = kIvOffset;
  xform.aead.iv.length = proto::kIvBytes;
  xform.aead.digest_length = proto::kTagBytes;
  xform.aead.aad_length = aad_len;
  void* handle = rte_cryptodev_sym_session_create(dev_id_, &xform, session_pool_.get());
  if (handle == nullptr) {
    why = "the crypto device refused to create a session";
    spdlog::error("frontend {}: cannot create a cryptodev session: {}", frontend, rte_strerror(rte_errno));
    return nullptr;
  }
  sessions_.push_back(Session{frontend, generation, key_id, encrypt, aad_len, handle});
  spdlog::debug("frontend {}: cryptodev session for key {} ({}, {} bytes of AAD)", frontend, key_id,
                encrypt ? "encrypt" : "decrypt", aad_len);
  return handle;
}

void CryptoDevice::forget_frontend(std::uint16_t frontend) {
  const auto gone = std::remove_if(sessions_.begin(), sessions_.end(), [&](Session& s) {
    if (s.frontend != frontend) return false;
    free_session(s);
    return true;
  });
  const auto freed = static_cast<std::size_t>(sessions_.end() - gone);
  sessions_.erase(gone, sessions_.end());
  if (freed != 0) spdlog::debug("frontend {}: freed its {} cryptodev session(s)", frontend, freed);
}

void CryptoDevice::forget_key(std::uint16_t frontend, std::uint16_t key_id) {
  const auto gone = std::remove_if(sessions_.begin(), sessions_.end(), [&](Session& s) {
    if (s.frontend != frontend || s.key_id != key_id) return false;
    free_session(s);
    return true;
  });
  const auto freed = static_cast<std::size_t>(sessions_.end() - gone);
  sessions_.erase(gone, sessions_.end());
  if (freed != 0) spdlog::debug("frontend {}: freed the {} cryptodev session(s) of key {}", frontend, freed, key_id);
}

void CryptoDevice::free_session(Session& s) noexcept {
  if (s.handle != nullptr && rte_cryptodev_sym_session_free(dev_id_, s.handle) != 0)
    spdlog::warn("cannot free a cryptodev session of frontend {}", s.frontend);
  s.handle = nullptr;
}

void CryptoDevice::submit(const CryptoSubmission& s) {
  // The message's first line was last written by the frontend's core (at
  // least its stamp): a software PMD's first read of it waited for that
  // line to cross from the other core, 15 ns per request at 1 KiB
  // (dequeue 106 -> 91 ns per operation). Asked for now, it arrives while
  // the rest of the burst is admitted. (A hardware PMD reads it by DMA:
  // then a load that did nothing.)
  rte_prefetch0(s.payload);
  rte_crypto_op* op = ops_[s.index];
  rte_mbuf* m = mbufs_[s.index];
  // Re-attached without a detach in between: the mbuf is only ever this
  // request index's, and detaching (a no-op free callback, the internal
  // buffer restored) cost as much as the rest of the op's set-up.
  // Its IOVA is in the buffer's mempool header, a line nothing else reads
  // (a miss each time, half of this function at 16 KiB): the mbuf still
  // holds it when the request index comes with the same buffer again, as it
  // does while a grant lasts.
  const rte_iova_t iova = m->buf_addr == s.payload ? m->buf_iova : rte_mempool_virt2iova(s.payload);
  rte_mbuf_ext_refcnt_set(&ext_info_[s.index], 1);
  rte_pktmbuf_attach_extbuf(m, s.payload, iova, static_cast<std::uint16_t>(buffer_bytes_), &ext_info_[s.index]);
  m->data_len = static_cast<std::uint16_t>(s.payload_len);
  m->pkt_len = s.payload_len;

  op->status = RTE_CRYPTO_OP_STATUS_NOT_PROCESSED;
  rte_crypto_op_attach_sym_session(op, s.session);
  rte_crypto_sym_op* sym = op->sym;
  sym->m_src = m;
  sym->m_dst = nullptr;
  sym->aead.data.offset = 0;
  sym->aead.data.length = s.payload_len;
  // The tag lies right after the message, in the same buffer.
  sym->aead.digest.data = static_cast<std::uint8_t*>(s.payload) + s.payload_len;
  sym->aead.digest.phys_addr = rte_pktmbuf_iova_offset(m, s.payload_len);
  std::memcpy(rte_crypto_op_ctod_offset(op, std::uint8_t*, kIvOffset), s.iv.data(), proto::kIvBytes);
  auto* aad = rte_crypto_op_ctod_offset(op, std::uint8_t*, kAadOffset);
  if (!s.aad.empty()) std::memcpy(aad, s.aad.data(), s.aad.size());
  sym->aead.aad.data = aad;
  sym->aead.aad.phys_addr = rte_crypto_op_ctophys_offset(op, kAadOffset);
  queued_.push_back(op);
}

void CryptoDevice::flush() {
  std::size_t sent = 0;
  while (sent < queued_.size()) {
    const auto n = static_cast<std::uint16_t>(std::min<std::size_t>(queued_.size() - sent, UINT16_MAX));
    const std::uint16_t accepted = rte_cryptodev_enqueue_burst(dev_id_, 0, queued_.data() + sent, n);
    sent += accepted;
    outstanding_ += accepted;
    if (accepted < n) break;  // the queue pair is full: the rest goes on a later turn
  }
  queued_.erase(queued_.begin(), queued_.begin() + static_cast<std::ptrdiff_t>(sent));
}

std::uint32_t CryptoDevice::index_of(const rte_crypto_op* op) const noexcept {
  return *rte_crypto_op_ctod_offset(const_cast<rte_crypto_op*>(op), std::uint32_t*, kIndexOffset);
}

CryptoResult CryptoDevice::result_of(const rte_crypto_op& op) noexcept {
  switch (op.status) {
    case RTE_CRYPTO_OP_STATUS_SUCCESS: return CryptoResult::Ok;
    case RTE_CRYPTO_OP_STATUS_AUTH_FAILED: return CryptoResult::AuthFailed;
    default: return CryptoResult::Error;
  }
}

}  // namespace offload::backend
