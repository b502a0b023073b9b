#include "offload/protocol.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "offload/aes_gcm.hpp"
#include "offload/cipher.hpp"

namespace offload::proto {

static_assert(kTagBytes == kGcmTagBytes && kIvBytes == kGcmIvBytes && kKeyBytes == kGcmKeyBytes &&
              kMaxAadBytes == kGcmMaxAadBytes);
static_assert(static_cast<int>(Op::AesGcmEncrypt) == static_cast<int>(Operation::AesGcmEncrypt) &&
              static_cast<int>(Op::AesGcmDecrypt) == static_cast<int>(Operation::AesGcmDecrypt) &&
              static_cast<int>(Op::BitwiseNot) == static_cast<int>(Operation::BitwiseNot) &&
              static_cast<int>(Op::Xor0xAA) == static_cast<int>(Operation::Xor0xAA));
static_assert(kDefaultBufferBytes <= kMaxBufferBytes && kMinBufferBytes > kTagBytes);

namespace {

std::string ring_name(const char* prefix, std::uint16_t frontend_id) {
  char name[32];
  std::snprintf(name, sizeof name, "%s%02u", prefix, static_cast<unsigned>(frontend_id));
  return name;
}

// The checks every control message shares; `fds_allowed` is the most fds
// the message may carry.
template <class T>
Parsed<T> parse_common(const void* param, std::size_t len, std::size_t num_fds, std::size_t fds_allowed) noexcept {
  Parsed<T> out{MpStatus::BadMessage, {}};
  if (param == nullptr || len < sizeof(MpHeader)) return out;
  // The header first: a peer of another version may use other sizes, and
  // deserves "version mismatch" rather than "malformed".
  MpHeader header{};
  std::memcpy(&header, param, sizeof header);
  if (header.magic != kMpMagic) return out;
  if (header.version != kVersion) {
    out.status = MpStatus::VersionMismatch;
    return out;
  }
  if (len != sizeof(T) || num_fds > fds_allowed) return out;
  std::memcpy(&out.value, param, sizeof(T));
  out.status = MpStatus::Ok;
  return out;
}

}  // namespace

bool copy_payload(void* buffer, std::size_t capacity, std::span<const std::uint8_t> input) noexcept {
  if (buffer == nullptr || input.size() > capacity) return false;
  if (!input.empty()) std::memcpy(buffer, input.data(), input.size());
  return true;
}

std::string grant_ring_name(std::uint16_t frontend_id) { return ring_name("ofl_gnt_", frontend_id); }
std::string request_ring_name(std::uint16_t frontend_id) { return ring_name("ofl_req_", frontend_id); }
std::string completion_ring_name(std::uint16_t frontend_id) { return ring_name("ofl_cpl_", frontend_id); }
std::string return_ring_name(std::uint16_t frontend_id) { return ring_name("ofl_ret_", frontend_id); }

std::string_view status_name(Status s) noexcept {
  switch (s) {
    case Status::Pending: return "pending";
    case Status::Ok: return "ok";
    case Status::BadRequest: return "bad request";
    case Status::DeviceError: return "device error";
    case Status::Dropped: return "dropped";
    case Status::AuthFailed: return "auth failed";
  }
  return "unknown status";
}

std::string_view notify_mode_name(NotifyMode m) noexcept {
  switch (m) {
    case NotifyMode::EventFd: return "eventfd";
    case NotifyMode::Callback: return "callback";
    case NotifyMode::Coalesced: return "coalesced";
  }
  return "unknown";
}

std::string_view mp_status_text(MpStatus s) noexcept {
  switch (s) {
    case MpStatus::Ok: return "ok";
    case MpStatus::BadMessage: return "malformed message";
    case MpStatus::VersionMismatch: return "protocol version mismatch";
    case MpStatus::NoFreeSlot: return "no free frontend slot (too many frontends attached)";
    case MpStatus::UnknownFrontend: return "unknown frontend";
    case MpStatus::BadJobRange: return "job ids outside the registered range";
    case MpStatus::AlreadyRegistered: return "job eventfd already registered";
    case MpStatus::Stopping: return "the backend is stopping";
    case MpStatus::BadKey: return "the key is not 32 bytes (AES-256)";
    case MpStatus::TooManyKeys: return "too many keys registered by this frontend";
    case MpStatus::NoCryptoDevice: return "the backend runs without a crypto device (--crypto-dev none)";
  }
  return "unknown error";
}

const char* validate_request(const Request& r, const RequestCheck& check) noexcept {
  if (r.magic != kRequestMagic) return "bad magic";
  if (r.version != kVersion) return "protocol version mismatch";
  if (r.frontend_id != check.frontend_id) return "frontend id does not match the ring it came on";
  if (r.generation != check.generation) return "stale frontend registration";
  if (r.job_id >= check.max_jobs) return "job id out of range";
  if (r.op != Op::Xor0xAA && r.op != Op::BitwiseNot && !is_aead(r.op)) return "unknown operation";
  if (!is_aead(r.op)) {
    if (r.payload_len == 0 || r.payload_len > check.buffer_bytes) return "payload length out of range";
  } else {
    // An empty message is legal AES-GCM (only the tag).
    if (check.buffer_bytes < kTagBytes || r.payload_len > check.buffer_bytes - kTagBytes)
      return "payload length out of range (AES-GCM needs 16 bytes of the buffer for its tag)";
    if (r.aad_len > kMaxAadBytes) return "AAD longer than 64 bytes";
    if (r.key_id >= kMaxKeysPerFrontend) return "key id out of range";
  }
  if (!is_pool_element(check.payload_buffers, r.payload_addr)) return "payload address is not a payload pool buffer this request may use";
  return nullptr;
}

bool is_pool_element(std::span<const std::uint64_t> elements, std::uint64_t addr) noexcept {
  return std::binary_search(elements.begin(), elements.end(), addr);
}

MpHeader make_mp_header() noexcept { return MpHeader{kMpMagic, kVersion, 0}; }

Parsed<RegisterRequest> parse_register(const void* param, std::size_t len, std::size_t num_fds) noexcept {
  auto out = parse_common<RegisterRequest>(param, len, num_fds, 1);
  if (out.status != MpStatus::Ok) return out;
  const auto& v = out.value;
  if (v.pid <= 0 || v.max_jobs == 0 || v.max_jobs > kMaxJobsPerFrontend ||
      (v.notify != NotifyMode::EventFd && v.notify != NotifyMode::Callback && v.notify != NotifyMode::Coalesced))
    out.status = MpStatus::BadMessage;
  // Coalesced mode's one doorbell eventfd travels with the registration.
  else if ((v.notify == NotifyMode::Coalesced) != (num_fds == 1))
    out.status = MpStatus::BadMessage;
  return out;
}

Parsed<FdSyncRequest> parse_fd_sync(const void* param, std::size_t len, std::size_t num_fds) noexcept {
  auto out = parse_common<FdSyncRequest>(param, len, num_fds, kMpMaxFds);
  if (out.status != MpStatus::Ok) return out;
  const auto& v = out.value;
  if (v.count == 0 || v.count > kMpMaxFds || v.count != num_fds || v.frontend_id >= kMaxFrontends)
    out.status = MpStatus::BadMessage;
  else if (v.first_job >= kMaxJobsPerFrontend || v.count > kMaxJobsPerFrontend - v.first_job)
    out.status = MpStatus::BadJobRange;
  return out;
}

Parsed<UnregisterRequest> parse_unregister(const void* param, std::size_t len, std::size_t num_fds) noexcept {
  auto out = parse_common<UnregisterRequest>(param, len, num_fds, 0);
  if (out.status == MpStatus::Ok && out.value.frontend_id >= kMaxFrontends) out.status = MpStatus::UnknownFrontend;
  return out;
}

Parsed<StatsRequest> parse_stats(const void* param, std::size_t len, std::size_t num_fds) noexcept {
  return parse_common<StatsRequest>(param, len, num_fds, 0);
}

Parsed<AddKeyRequest> parse_add_key(const void* param, std::size_t len, std::size_t num_fds) noexcept {
  auto out = parse_common<AddKeyRequest>(param, len, num_fds, 0);
  if (out.status != MpStatus::Ok) return out;
  if (out.value.frontend_id >= kMaxFrontends)
    out.status = MpStatus::UnknownFrontend;
  else if (out.value.key_len != kKeyBytes)
    out.status = MpStatus::BadKey;
  return out;
}

Parsed<ForgetKeyRequest> parse_forget_key(const void* param, std::size_t len, std::size_t num_fds) noexcept {
  auto out = parse_common<ForgetKeyRequest>(param, len, num_fds, 0);
  if (out.status != MpStatus::Ok) return out;
  if (out.value.frontend_id >= kMaxFrontends)
    out.status = MpStatus::UnknownFrontend;
  else if (out.value.key_id >= kMaxKeysPerFrontend)
    out.status = MpStatus::BadKey;
  return out;
}

}  // namespace offload::proto
