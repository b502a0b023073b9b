#include "device_request.hpp"

#include <openssl/err.h>

namespace offload::threadsim {
namespace {

DeviceStatus execute_gcm(const DeviceRequest& r) noexcept {
  if (r.key == nullptr || r.tag == nullptr || r.aad.size() > kGcmMaxAadBytes) return DeviceStatus::Error;
  const bool ok = r.op == Operation::AesGcmEncrypt ? gcm_encrypt(*r.key, r.iv, r.aad, r.input, r.output, *r.tag)
                                                   : gcm_decrypt(*r.key, r.iv, r.aad, r.input, r.output, *r.tag);
  if (ok) return DeviceStatus::Done;
  // Whatever OpenSSL queued is about this request only: a later request
  // served by this thread must not find it.
  ERR_clear_error();
  return r.op == Operation::AesGcmEncrypt ? DeviceStatus::Error : DeviceStatus::AuthFailed;
}

}  // namespace

std::string_view device_status_name(DeviceStatus status) noexcept {
  switch (status) {
    case DeviceStatus::Pending: return "pending";
    case DeviceStatus::Done: return "done";
    case DeviceStatus::Error: return "device error";
    case DeviceStatus::AuthFailed: return "auth failed";
  }
  return "unknown";
}

DeviceStatus execute(const DeviceRequest& request) noexcept {
  if (request.inject_error || request.input.size() != request.output.size()) return DeviceStatus::Error;
  switch (request.op) {
    case Operation::Xor0xAA:
    case Operation::BitwiseNot:
      // Empty input would "verify" without the device doing anything.
      if (request.input.empty()) return DeviceStatus::Error;
      apply_transform(transform_of(request.op), request.input, request.output);
      return DeviceStatus::Done;
    case Operation::AesGcmEncrypt:
    case Operation::AesGcmDecrypt:
      return execute_gcm(request);
  }
  return DeviceStatus::Error;
}

}  // namespace offload::threadsim
