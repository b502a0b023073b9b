#include "job_request.hpp"

#include <openssl/err.h>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <stdexcept>

#include "offload/cipher.hpp"

namespace offload::threadsim {
namespace {

// make_payload's streams: threadsim's payloads are owner 0, their AAD owner
// 1, so a job's AAD never repeats its payload.
constexpr std::uint32_t kPayloadStream = 0;
constexpr std::uint32_t kAadStream = 1;

std::string preview(const std::vector<std::uint8_t>& bytes) {
  return bytes.empty() ? std::string("(0 bytes)") : hex_preview(bytes);
}

}  // namespace

GcmRunKey make_gcm_run_key(const std::optional<GcmKey>& given) {
  GcmRunKey run_key;
  run_key.key = given ? *given : random_gcm_key();
  if (RAND_bytes(run_key.iv_prefix.data(), static_cast<int>(run_key.iv_prefix.size())) != 1)
    throw std::runtime_error("RAND_bytes failed: no random IV prefix for this run");
  return run_key;
}

GcmIv job_iv(const GcmRunKey& run_key, std::uint32_t job_id) {
  GcmIv iv{};
  std::copy(run_key.iv_prefix.begin(), run_key.iv_prefix.end(), iv.begin());
  for (std::size_t i = 0; i < 4; ++i) iv[8 + i] = static_cast<std::uint8_t>(job_id >> (24 - 8 * i));
  return iv;
}

std::string JobRequest::prepare(std::uint32_t job_id) {
  job_id_ = job_id;
  const auto& payload = opts_->payload;
  plaintext_ = make_payload(payload.message, payload.payload_bytes, kPayloadStream, job_id, 0);
  output_.assign(plaintext_.size(), 0);
  if (!is_aead(opts_->op)) return {};

  aad_ = make_payload("", opts_->aad_len, kAadStream, job_id, 0);
  iv_ = job_iv(*run_key_, job_id);
  tag_ = {};
  if (opts_->op == Operation::AesGcmDecrypt) {
    ciphertext_.assign(plaintext_.size(), 0);
    if (!gcm_encrypt(run_key_->key, iv_, aad_, plaintext_, ciphertext_, tag_)) {
      ERR_clear_error();
      return "cannot encrypt its input with EVP for the device to decrypt (OpenSSL failed)";
    }
    if (corrupts_tag()) flip_tag_bit();
  }
  return {};
}

DeviceRequest JobRequest::device_request() noexcept {
  DeviceRequest request;
  request.job_id = job_id_;
  request.op = opts_->op;
  request.input = device_input();
  request.output = output_;
  if (is_aead(opts_->op)) {
    request.key = &run_key_->key;
    request.iv = iv_;
    request.aad = aad_;
    request.tag = &tag_;
  }
  return request;
}

void JobRequest::flip_tag_bit() {
  tag_[0] ^= 0x01;
  spdlog::info("job {}: --corrupt-tag-job: flipped bit 0 of its tag ({}), so it must fail with 'auth failed'", job_id_,
               opts_->op == Operation::AesGcmDecrypt ? "before sending it to the device"
                                                     : "the device returned, before verifying it");
}

std::string JobRequest::check(DeviceStatus status) {
  switch (status) {
    case DeviceStatus::Done: break;
    case DeviceStatus::AuthFailed:
      return "auth failed: the device found that the tag does not verify (ciphertext, AAD or tag altered)";
    case DeviceStatus::Error:
    case DeviceStatus::Pending:
      return "the device reported an error for this request";
  }
  switch (opts_->op) {
    case Operation::Xor0xAA:
    case Operation::BitwiseNot:
      if (verify_transform(transform_of(opts_->op), plaintext_, output_)) return {};
      return "verification failed: decrypting the result does not give the input back";
    case Operation::AesGcmEncrypt: return check_encrypted();
    case Operation::AesGcmDecrypt:
      if (output_ == plaintext_) return {};
      return "verification failed: the device's plaintext is not the input the job encrypted";
  }
  return "verification failed: unknown operation";
}

// The device's ciphertext and tag must decrypt, here, to the job's input.
std::string JobRequest::check_encrypted() {
  if (corrupts_tag()) flip_tag_bit();
  decrypted_.assign(output_.size(), 0);
  if (!gcm_decrypt(run_key_->key, iv_, aad_, output_, decrypted_, tag_)) {
    ERR_clear_error();
    return "auth failed: the device's ciphertext and tag do not verify with EVP in the job's thread";
  }
  if (decrypted_ != plaintext_)
    return "verification failed: decrypting the device's ciphertext does not give the input back";
  return {};
}

std::string JobRequest::describe() const {
  switch (opts_->op) {
    case Operation::AesGcmEncrypt:
      return preview(plaintext_) + " -> " + preview(output_) + " (tag " + to_hex(tag_) + ")";
    case Operation::AesGcmDecrypt:
      return preview(ciphertext_) + " (tag " + to_hex(tag_) + ") -> " + preview(output_);
    default: return preview(plaintext_) + " -> " + preview(output_);
  }
}

}  // namespace offload::threadsim
