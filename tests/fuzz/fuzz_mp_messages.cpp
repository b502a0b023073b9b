// libFuzzer target: the rte_mp parsers (parse_register, parse_fd_sync,
// parse_unregister, parse_stats, parse_add_key, parse_forget_key), which the backend runs on every control
// message a process of its instance sends. The input is [num_fds][param
// bytes...] (fuzz_input.hpp); every parser sees every input, as a peer may
// send any bytes under any message name. The param bytes end where
// libFuzzer's buffer ends and start unaligned, so ASan and UBSan catch a
// parser that reads past `len` or casts instead of copying.
//
// Invariants, for each parser: Ok if and only if the message is well formed
// (len == sizeof(T), magic, version, fd count and fields in range; checked
// here on its own), and then the parsed value is the bytes received;
// VersionMismatch only for a right-magic header of another version; no status
// the parser's contract does not list. A violation aborts (a libFuzzer crash).

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>

#include "offload/protocol.hpp"

namespace {

using namespace offload::proto;

[[noreturn]] void violated(const char* parser, const char* what, std::size_t len, std::size_t num_fds, MpStatus got) {
  std::fprintf(stderr, "fuzz_mp_messages: %s: invariant violated: %s (len %zu, num_fds %zu, status %d)\n", parser, what,
               len, num_fds, static_cast<int>(got));
  std::abort();
}

bool header_of_this_version(const std::uint8_t* param, std::size_t len) {
  if (len < sizeof(MpHeader)) return false;
  MpHeader h{};
  std::memcpy(&h, param, sizeof h);
  return h.magic == kMpMagic && h.version == kVersion;
}

bool header_of_other_version(const std::uint8_t* param, std::size_t len) {
  if (len < sizeof(MpHeader)) return false;
  MpHeader h{};
  std::memcpy(&h, param, sizeof h);
  return h.magic == kMpMagic && h.version != kVersion;
}

// One parser against its contract. `fields_ok(value, num_fds)` is the
// message-specific part of "well formed" (fd count included).
template <class T, class FieldsOk>
void check(const char* name, Parsed<T> (*parse)(const void*, std::size_t, std::size_t) noexcept,
           const std::uint8_t* param, std::size_t len, std::size_t num_fds, FieldsOk fields_ok,
           std::initializer_list<MpStatus> may_return) {
  const Parsed<T> got = parse(param, len, num_fds);

  bool listed = false;
  for (const MpStatus s : may_return) listed = listed || s == got.status;
  if (!listed) violated(name, "returned a status outside its contract", len, num_fds, got.status);

  bool well_formed = len == sizeof(T) && header_of_this_version(param, len);
  if (well_formed) {
    T value{};
    std::memcpy(&value, param, sizeof value);
    well_formed = fields_ok(value, num_fds);
  }
  if (well_formed != (got.status == MpStatus::Ok))
    violated(name, well_formed ? "refused a well-formed message" : "accepted a malformed message", len, num_fds,
             got.status);
  if (got.status == MpStatus::Ok && std::memcmp(&got.value, param, sizeof(T)) != 0)
    violated(name, "the parsed value differs from the bytes received", len, num_fds, got.status);
  if (got.status == MpStatus::VersionMismatch && !header_of_other_version(param, len))
    violated(name, "version mismatch without a right-magic header of another version", len, num_fds, got.status);
  if (header_of_other_version(param, len) && got.status != MpStatus::VersionMismatch)
    violated(name, "a header of another version is not reported as a version mismatch", len, num_fds, got.status);

  // No parameter buffer at all (a zero-length rte_mp message).
  if (parse(nullptr, len, num_fds).status != MpStatus::BadMessage)
    violated(name, "a null param is not a malformed message", len, num_fds, got.status);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::size_t num_fds = data[0];
  const std::uint8_t* param = data + 1;
  const std::size_t len = size - 1;

  check<RegisterRequest>(
      "parse_register", parse_register, param, len, num_fds,
      [](const RegisterRequest& v, std::size_t fds) {
        const bool notify_ok =
            v.notify == NotifyMode::EventFd || v.notify == NotifyMode::Callback || v.notify == NotifyMode::Coalesced;
        // Coalesced mode's doorbell eventfd, and only it, travels with the registration.
        return v.pid > 0 && v.max_jobs >= 1 && v.max_jobs <= kMaxJobsPerFrontend && notify_ok &&
               fds == (v.notify == NotifyMode::Coalesced ? 1u : 0u);
      },
      {MpStatus::Ok, MpStatus::BadMessage, MpStatus::VersionMismatch});

  check<FdSyncRequest>(
      "parse_fd_sync", parse_fd_sync, param, len, num_fds,
      [](const FdSyncRequest& v, std::size_t fds) {
        return v.count >= 1 && v.count <= kMpMaxFds && v.count == fds && v.frontend_id < kMaxFrontends &&
               std::uint64_t{v.first_job} + v.count <= kMaxJobsPerFrontend;
      },
      {MpStatus::Ok, MpStatus::BadMessage, MpStatus::VersionMismatch, MpStatus::BadJobRange});

  check<UnregisterRequest>(
      "parse_unregister", parse_unregister, param, len, num_fds,
      [](const UnregisterRequest& v, std::size_t fds) { return fds == 0 && v.frontend_id < kMaxFrontends; },
      {MpStatus::Ok, MpStatus::BadMessage, MpStatus::VersionMismatch, MpStatus::UnknownFrontend});

  check<StatsRequest>(
      "parse_stats", parse_stats, param, len, num_fds, [](const StatsRequest&, std::size_t fds) { return fds == 0; },
      {MpStatus::Ok, MpStatus::BadMessage, MpStatus::VersionMismatch});

  check<AddKeyRequest>(
      "parse_add_key", parse_add_key, param, len, num_fds,
      [](const AddKeyRequest& v, std::size_t fds) {
        return fds == 0 && v.frontend_id < kMaxFrontends && v.key_len == kKeyBytes;
      },
      {MpStatus::Ok, MpStatus::BadMessage, MpStatus::VersionMismatch, MpStatus::UnknownFrontend, MpStatus::BadKey});

  check<ForgetKeyRequest>(
      "parse_forget_key", parse_forget_key, param, len, num_fds,
      [](const ForgetKeyRequest& v, std::size_t fds) {
        return fds == 0 && v.frontend_id < kMaxFrontends && v.key_id < kMaxKeysPerFrontend;
      },
      {MpStatus::Ok, MpStatus::BadMessage, MpStatus::VersionMismatch, MpStatus::UnknownFrontend, MpStatus::BadKey});
  return 0;
}
