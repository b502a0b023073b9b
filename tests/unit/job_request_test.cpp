// threadsim's job side: what a job sends for each --op and how it checks the
// device's answer with EVP in its own thread, trusting nothing the device
// returned. The device here is execute() called directly.

#include "job_request.hpp"

#include <gtest/gtest.h>

#include <gmock/gmock.h>

#include <cstdint>
#include <string>

#include "offload/aes_gcm.hpp"

namespace offload::threadsim {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

ThreadsimOptions gcm_options(Operation op, std::size_t payload_bytes, std::size_t aad_len) {
  ThreadsimOptions opts;
  opts.op = op;
  opts.payload.payload_bytes = payload_bytes;
  if (payload_bytes == 0) opts.payload.message.clear();  // --message ''
  opts.aad_len = aad_len;
  return opts;
}

// prepare, then the device's work: the status execute() gives.
DeviceStatus send(JobRequest& job, std::uint32_t job_id) {
  EXPECT_EQ(job.prepare(job_id), "");
  return execute(job.device_request());
}

// The sizes (a TLS record: 16 KiB + the tag) and AAD lengths.
constexpr std::size_t kSizes[] = {0, 1, 15, 16, 17, 4096, 16 * 1024 + 16};
constexpr std::size_t kAadSizes[] = {0, 5, 13, 32, kGcmMaxAadBytes};

TEST(JobRequest, EncryptAndDecryptVerifyForEverySizeAndAad) {
  const GcmRunKey run_key = make_gcm_run_key(std::nullopt);
  for (const Operation op : {Operation::AesGcmEncrypt, Operation::AesGcmDecrypt}) {
    for (const std::size_t size : kSizes) {
      for (const std::size_t aad : kAadSizes) {
        SCOPED_TRACE(std::string(operation_name(op)) + ", " + std::to_string(size) + " bytes, AAD " +
                     std::to_string(aad));
        const ThreadsimOptions opts = gcm_options(op, size, aad);
        JobRequest job(opts, &run_key);
        const DeviceStatus status = send(job, 7);
        EXPECT_EQ(job.device_request().input.size(), size);
        EXPECT_EQ(job.device_request().aad.size(), aad);
        EXPECT_EQ(job.check(status), "");
      }
    }
  }
}

TEST(JobRequest, ADeviceThatAltersTheCiphertextDoesNotVerify) {
  const GcmRunKey run_key = make_gcm_run_key(std::nullopt);
  const ThreadsimOptions opts = gcm_options(Operation::AesGcmEncrypt, 64, 13);
  JobRequest job(opts, &run_key);
  ASSERT_EQ(job.prepare(0), "");
  const DeviceRequest request = job.device_request();
  ASSERT_EQ(execute(request), DeviceStatus::Done);
  request.output[5] ^= 0x10;
  EXPECT_THAT(job.check(DeviceStatus::Done), StartsWith("auth failed: the device's ciphertext and tag do not verify"));
}

TEST(JobRequest, ADeviceThatReturnsTheWrongPlaintextDoesNotVerify) {
  const GcmRunKey run_key = make_gcm_run_key(std::nullopt);
  const ThreadsimOptions opts = gcm_options(Operation::AesGcmDecrypt, 64, 13);
  JobRequest job(opts, &run_key);
  ASSERT_EQ(job.prepare(0), "");
  const DeviceRequest request = job.device_request();
  ASSERT_EQ(execute(request), DeviceStatus::Done);
  request.output[63] ^= 0x01;
  EXPECT_THAT(job.check(DeviceStatus::Done), StartsWith("verification failed: "));
}

TEST(JobRequest, CorruptTagJobFailsAuthenticationInBothDirections) {
  const GcmRunKey run_key = make_gcm_run_key(std::nullopt);
  for (const Operation op : {Operation::AesGcmEncrypt, Operation::AesGcmDecrypt}) {
    SCOPED_TRACE(operation_name(op));
    ThreadsimOptions opts = gcm_options(op, 17, 5);
    opts.corrupt_tag_job = 2;
    JobRequest job(opts, &run_key);
    EXPECT_EQ(job.check(send(job, 1)), "");  // another job: untouched
    const DeviceStatus status = send(job, 2);
    // Decrypt: the device finds out; encrypt: the job's own check does.
    EXPECT_EQ(status, op == Operation::AesGcmDecrypt ? DeviceStatus::AuthFailed : DeviceStatus::Done);
    EXPECT_THAT(job.check(status), StartsWith("auth failed: "));
  }
}

TEST(JobRequest, DeviceErrorsAreReported) {
  const GcmRunKey run_key = make_gcm_run_key(std::nullopt);
  const ThreadsimOptions opts = gcm_options(Operation::AesGcmEncrypt, 16, 0);
  JobRequest job(opts, &run_key);
  ASSERT_EQ(job.prepare(0), "");
  EXPECT_THAT(job.check(DeviceStatus::Error), HasSubstr("the device reported an error"));
}

TEST(JobRequest, TheSeedsTransformsStillVerify) {
  for (const Operation op : {Operation::Xor0xAA, Operation::BitwiseNot}) {
    SCOPED_TRACE(operation_name(op));
    ThreadsimOptions opts;
    opts.op = op;
    JobRequest job(opts, nullptr);
    const DeviceStatus status = send(job, 0);
    EXPECT_EQ(job.check(status), "");
    EXPECT_THAT(job.describe(), StartsWith("41 53 59 4e 43 2d 4f 4b -> "));  // "ASYNC-OK"
  }
}

TEST(JobRequest, TheSameMessageEncryptsDifferentlyInEveryJob) {
  const GcmRunKey run_key = make_gcm_run_key(std::nullopt);
  ThreadsimOptions opts;
  opts.op = Operation::AesGcmEncrypt;  // --message ASYNC-OK for every job
  JobRequest a(opts, &run_key), b(opts, &run_key);
  ASSERT_EQ(a.check(send(a, 0)), "");
  ASSERT_EQ(b.check(send(b, 1)), "");
  EXPECT_NE(a.describe(), b.describe());
}

TEST(JobIv, UniquePerJobWithARandomPrefixPerRun) {
  const GcmRunKey run = make_gcm_run_key(std::nullopt);
  const GcmIv first = job_iv(run, 0);
  const GcmIv other = job_iv(run, 0x01020304);
  EXPECT_NE(first, other);
  EXPECT_EQ(to_hex(other).substr(0, 16), to_hex(run.iv_prefix));
  EXPECT_EQ(to_hex(other).substr(16), "01020304");

  // The same --key in another run still gets other IVs.
  const GcmRunKey again = make_gcm_run_key(run.key);
  EXPECT_EQ(again.key, run.key);
  EXPECT_NE(job_iv(again, 0), first);
}

}  // namespace
}  // namespace offload::threadsim
