#pragma once
// A job's side of its one device request, for every --op: what it sends and
// how it checks the answer. The checks run in the job's own thread and do
// not trust the device: for AES-GCM they use OpenSSL EVP here, whatever the
// device did (in the terms, an implementation independent of it).

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "device_request.hpp"
#include "offload/aes_gcm.hpp"
#include "threadsim_options.hpp"

namespace offload::threadsim {

// What every AES-GCM job of one run shares.
struct GcmRunKey {
  GcmKey key{};
  std::array<std::uint8_t, 8> iv_prefix{};  // random per run
};

// --key if given, else a random key; the IV prefix is always random.
GcmRunKey make_gcm_run_key(const std::optional<GcmKey>& given);

// Job `job_id`'s IV: the run's random prefix, then the job id (big-endian).
// A job sends exactly one request, so no IV repeats within a run; the random
// prefix keeps a --key used for many runs from repeating one across runs
// (reusing an IV under a key is the one misuse that breaks AES-GCM).
GcmIv job_iv(const GcmRunKey& run_key, std::uint32_t job_id);

class JobRequest {
public:
  JobRequest() = default;  // to be assigned one of the below before use
  // `run_key` is needed (and outlives this) for the AES-GCM ops only.
  JobRequest(const ThreadsimOptions& opts, const GcmRunKey* run_key) : opts_(&opts), run_key_(run_key) {}

  // Inside the job: makes job `job_id`'s input (--message/--payload), AAD
  // (--aad-len) and IV. For aes-256-gcm-decrypt it encrypts the input
  // here first: that ciphertext and tag are what the device must decrypt
  // (--corrupt-tag-job flips a bit of this tag). Returns "" or why the job
  // cannot go on.
  std::string prepare(std::uint32_t job_id);

  // The request to submit; the caller adds the status and the notify fd.
  [[nodiscard]] DeviceRequest device_request() noexcept;

  // After the device answered `status`: "" when the result verified, else
  // why the job failed ("auth failed: ...", "verification failed: ...").
  std::string check(DeviceStatus status);

  // "<device input> -> <device output>", with the tag, for the done line.
  [[nodiscard]] std::string describe() const;

  // How many bytes go to the device.
  [[nodiscard]] std::size_t device_bytes() const noexcept { return device_input().size(); }

private:
  [[nodiscard]] const std::vector<std::uint8_t>& device_input() const noexcept {
    return opts_->op == Operation::AesGcmDecrypt ? ciphertext_ : plaintext_;
  }
  [[nodiscard]] bool corrupts_tag() const noexcept { return opts_->corrupt_tag_job == job_id_; }
  void flip_tag_bit();
  std::string check_encrypted();

  const ThreadsimOptions* opts_ = nullptr;
  const GcmRunKey* run_key_ = nullptr;
  std::uint32_t job_id_ = 0;
  std::vector<std::uint8_t> plaintext_;   // the job's input, what it verifies against
  std::vector<std::uint8_t> ciphertext_;  // decrypt: made here, sent to the device
  std::vector<std::uint8_t> output_;      // the device's result
  std::vector<std::uint8_t> decrypted_;   // encrypt: the job's own decryption of output_
  std::vector<std::uint8_t> aad_;
  GcmIv iv_{};
  GcmTag tag_{};
};

}  // namespace offload::threadsim
