#pragma once
// One request to the pthread device and what the device does to it: the
// seeds' XOR/NOT, or AES-256-GCM through OpenSSL EVP in the device thread
// (as a crypto accelerator would, independent of the job that checks it).

#include <atomic>
#include <cstdint>
#include <span>
#include <string_view>

#include "offload/aes_gcm.hpp"
#include "offload/cipher.hpp"

namespace offload::threadsim {

enum class DeviceStatus : int {
  Pending = 0,
  Done = 1,
  Error = 2,       // a bad request, OpenSSL failed, or --fail-job
  AuthFailed = 3,  // AES-GCM decrypt: the tag does not verify (ciphertext, AAD or tag altered)
};

// "pending", "done", "device error", "auth failed".
std::string_view device_status_name(DeviceStatus status) noexcept;

struct DeviceRequest {
  std::uint32_t job_id = 0;
  Operation op = Operation::Xor0xAA;
  std::span<const std::uint8_t> input;
  std::span<std::uint8_t> output;  // as long as input
  // AES-GCM only. The key is the run's and outlives every request; the
  // other buffers are the job's, untouched by the device after notify_fd.
  const GcmKey* key = nullptr;
  GcmIv iv{};
  std::span<const std::uint8_t> aad;
  GcmTag* tag = nullptr;  // encrypt: the device writes it; decrypt: the tag it checks
  bool inject_error = false;              // --fail-job: the device reports an error
  std::atomic<DeviceStatus>* status = nullptr;  // written (release) before notify_fd
  int notify_fd = -1;                     // eventfd signalled last; the device keeps no reference after
};

// Does the request's work on the calling (device) thread: writes output
// (and, for encrypt, the tag) and returns the request's status. Never
// throws: a request it cannot serve is an Error, a tag that does not verify
// is AuthFailed.
DeviceStatus execute(const DeviceRequest& request) noexcept;

}  // namespace offload::threadsim
