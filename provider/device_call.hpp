#pragma once
// One AES-256-GCM message through the backend: a granted buffer, the
// request, the wait (inside an ASYNC job: paused, woken by the job's one
// wait fd or the application's callback; outside: the thread waits), and
// the result copied back.

#include <cstdint>
#include <span>
#include <string>

#include "offload/aes_gcm.hpp"
#include "process.hpp"

namespace offload::provider {

struct DeviceMessage {
  bool encrypt = true;
  const GcmKey* key = nullptr;
  const GcmIv* iv = nullptr;
  std::span<const std::uint8_t> aad;
  std::span<const std::uint8_t> in;
  std::uint8_t* out = nullptr;  // in.size() bytes; may be in.data()
  GcmTag* tag = nullptr;        // encrypt: written; decrypt: the one to check
};

enum class DeviceResult {
  Ok,
  AuthFailed,  // decrypt: the tag did not verify (out untouched)
  Software,    // the device cannot take it (software_reason): do it in software
  Failed,      // an error (why)
};

// Returns Software with `reason` set, or Failed with `why` set, when not Ok.
DeviceResult run_on_device(Process& process, const DeviceMessage& message, SoftwareReason& reason, std::string& why);

// The longest message the backend's buffers take (0 before this thread
// registered, or when it cannot).
std::uint32_t device_capacity(Process& process);

}  // namespace offload::provider
