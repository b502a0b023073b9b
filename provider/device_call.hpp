#pragma once
// One AES-256-GCM message through the backend: a granted buffer, the
// request, the wait (inside an ASYNC job: paused, woken by the job's one
// wait fd or the application's callback; outside: the thread waits), and
// the result copied back.

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "offload/aes_gcm.hpp"
#include "process.hpp"

namespace offload::provider {

// A cipher context's memo of its key's id with the thread's client that
// registered it (looking the key up among a thread's 64 costs more than the
// rest of a small message's submit).
struct KeyIdMemo {
  std::uint64_t client_serial = 0;  // ThreadClient::serial(); 0: none
  std::uint16_t id = 0;
  std::uint32_t epoch = 0;  // the registration into that id (ids are reused)
};

class ThreadClient;

// A device buffer kept after its message: an encryption's ciphertext, until
// the message's final, in case a second data update (a streamed message)
// must be continued in software from it. A copy holds nothing.
class HeldBuffer {
public:
  HeldBuffer() = default;
  HeldBuffer(const HeldBuffer&) noexcept {}
  HeldBuffer& operator=(const HeldBuffer&) = delete;
  ~HeldBuffer() { release(); }
  void hold(std::shared_ptr<ThreadClient> client, void* request, const std::uint8_t* data, std::size_t length);
  void release() noexcept;
  [[nodiscard]] std::span<const std::uint8_t> bytes() const noexcept { return {data_, length_}; }
  [[nodiscard]] bool held() const noexcept { return request_ != nullptr; }

private:
  std::shared_ptr<ThreadClient> client_;
  void* request_ = nullptr;
  const std::uint8_t* data_ = nullptr;
  std::size_t length_ = 0;
};

struct DeviceMessage {
  bool encrypt = true;
  const GcmKey* key = nullptr;
  const GcmIv* iv = nullptr;
  std::span<const std::uint8_t> aad;
  std::span<const std::uint8_t> in;
  std::uint8_t* out = nullptr;  // in.size() bytes; may be in.data()
  GcmTag* tag = nullptr;        // encrypt: written; decrypt: the one to check
  KeyIdMemo* key_memo = nullptr;  // reset by the caller when the key changes
  HeldBuffer* hold = nullptr;     // encrypt: keep the buffer (its ciphertext) here
};

enum class DeviceResult {
  Ok,
  AuthFailed,  // decrypt: the tag did not verify (out untouched)
  Software,    // the device cannot take it (software_reason): do it in software
  Failed,      // an error (why)
};

// Returns Software with `reason` set, or Failed with `why` set, when not Ok.
DeviceResult run_on_device(Process& process, const DeviceMessage& message, SoftwareReason& reason, std::string& why);

}  // namespace offload::provider
