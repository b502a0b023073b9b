// threadsim's device path (SimDevice: submit, a device thread serves the
// request, its status and eventfd signal the completion) with the GCM
// specification's AES-256 test cases, as the device computes them.

#include "sim_device.hpp"

#include <gtest/gtest.h>

#include <poll.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <utility>
#include <vector>

#include "gcm_vectors.hpp"
#include "offload/aes_gcm.hpp"
#include "offload/unique_fd.hpp"

namespace offload::threadsim {
namespace {

using testing::array_from_hex;
using testing::from_hex;
using testing::GcmVector;
using testing::kGcmSpecVectors;

// One request's buffers and completion, as a job holds them.
struct Submission {
  GcmKey key{};
  GcmTag tag{};
  std::vector<std::uint8_t> aad, input, output;
  std::atomic<DeviceStatus> status{DeviceStatus::Pending};
  UniqueFd notify = make_eventfd();

  Submission(Operation op, const GcmVector& v) : key(array_from_hex<kGcmKeyBytes>(v.key)), aad(from_hex(v.aad)) {
    if (op == Operation::AesGcmEncrypt) {
      input = from_hex(v.plaintext);
    } else {
      input = from_hex(v.ciphertext);
      tag = array_from_hex<kGcmTagBytes>(v.tag);
    }
    output.assign(input.size(), 0);
  }

  DeviceRequest request(Operation op, const GcmVector& v, std::uint32_t job_id) {
    DeviceRequest r;
    r.job_id = job_id;
    r.op = op;
    r.input = input;
    r.output = output;
    r.key = &key;
    r.iv = array_from_hex<kGcmIvBytes>(v.iv);
    r.aad = aad;
    r.tag = &tag;
    r.status = &status;
    r.notify_fd = notify.get();
    return r;
  }

  // Waits (bounded) for the device's signal; the status then holds the result.
  DeviceStatus wait() {
    pollfd p{notify.get(), POLLIN, 0};
    if (::poll(&p, 1, 10'000) != 1 || drain_eventfd(notify.get()) != 1) return DeviceStatus::Pending;
    return status.load(std::memory_order_acquire);
  }
};

// SimDevice(2, 0, DelaySpec{}, 1): two device threads, unlimited engines, no
// latency (requests are served as they arrive), seed 1.
TEST(SimDeviceGcm, SpecVectorsEncrypt) {
  SimDevice device(2, 0, DelaySpec{}, 1);
  for (const auto& v : kGcmSpecVectors) {
    SCOPED_TRACE(v.test_case);
    Submission s(Operation::AesGcmEncrypt, v);
    device.submit(s.request(Operation::AesGcmEncrypt, v, 0));
    ASSERT_EQ(s.wait(), DeviceStatus::Done);
    EXPECT_EQ(to_hex(s.output), v.ciphertext);
    EXPECT_EQ(to_hex(s.tag), v.tag);
  }
}

TEST(SimDeviceGcm, SpecVectorsDecrypt) {
  SimDevice device(2, 0, DelaySpec{}, 1);
  for (const auto& v : kGcmSpecVectors) {
    SCOPED_TRACE(v.test_case);
    Submission s(Operation::AesGcmDecrypt, v);
    device.submit(s.request(Operation::AesGcmDecrypt, v, 0));
    ASSERT_EQ(s.wait(), DeviceStatus::Done);
    EXPECT_EQ(to_hex(s.output), v.plaintext);
  }
}

// All eight (four vectors, both directions) in flight at once, on a device
// whose latency makes them overlap across its threads.
TEST(SimDeviceGcm, SpecVectorsInFlightTogether) {
  // Declared before the device, so destroyed after it: a failed assertion
  // leaves no device thread holding pointers into them.
  std::deque<Submission> submissions;  // never moved, unlike a vector's elements
  SimDevice device(2, 0, DelaySpec{DelayDist::Fixed, 5.0, 0.0, 0.0}, 1);
  std::uint32_t job = 0;
  for (const Operation op : {Operation::AesGcmEncrypt, Operation::AesGcmDecrypt})
    for (const auto& v : kGcmSpecVectors) device.submit(submissions.emplace_back(op, v).request(op, v, job++));
  job = 0;
  for (const Operation op : {Operation::AesGcmEncrypt, Operation::AesGcmDecrypt}) {
    for (const auto& v : kGcmSpecVectors) {
      SCOPED_TRACE(v.test_case);
      Submission& s = submissions[job++];
      ASSERT_EQ(s.wait(), DeviceStatus::Done);
      if (op == Operation::AesGcmEncrypt) {
        EXPECT_EQ(to_hex(s.output), v.ciphertext);
        EXPECT_EQ(to_hex(s.tag), v.tag);
      } else {
        EXPECT_EQ(to_hex(s.output), v.plaintext);
      }
    }
  }
}

// A tag that does not verify is the request's status, never a crash; the
// device serves the next request as before.
TEST(SimDeviceGcm, FlippedTagBitIsAuthFailedForThatRequestOnly) {
  SimDevice device(2, 0, DelaySpec{}, 1);
  for (const auto& v : kGcmSpecVectors) {
    SCOPED_TRACE(v.test_case);
    Submission bad(Operation::AesGcmDecrypt, v);
    bad.tag[15] ^= 0x80;
    Submission good(Operation::AesGcmDecrypt, v);
    device.submit(bad.request(Operation::AesGcmDecrypt, v, 0));
    device.submit(good.request(Operation::AesGcmDecrypt, v, 1));
    EXPECT_EQ(bad.wait(), DeviceStatus::AuthFailed);
    ASSERT_EQ(good.wait(), DeviceStatus::Done);
    EXPECT_EQ(to_hex(good.output), v.plaintext);
  }
}

TEST(SimDeviceGcm, AlteredAadIsAuthFailed) {
  SimDevice device(2, 0, DelaySpec{}, 1);
  const GcmVector& v = kGcmSpecVectors[3];  // test case 16: the one with AAD
  Submission s(Operation::AesGcmDecrypt, v);
  s.aad[0] ^= 0x01;
  device.submit(s.request(Operation::AesGcmDecrypt, v, 0));
  EXPECT_EQ(s.wait(), DeviceStatus::AuthFailed);
}

TEST(SimDeviceGcm, RequestsItCannotServeAreErrors) {
  SimDevice device(1, 0, DelaySpec{}, 1);
  const GcmVector& v = kGcmSpecVectors[2];

  Submission no_key(Operation::AesGcmEncrypt, v);
  DeviceRequest r = no_key.request(Operation::AesGcmEncrypt, v, 0);
  r.key = nullptr;
  device.submit(r);
  EXPECT_EQ(no_key.wait(), DeviceStatus::Error);

  Submission short_output(Operation::AesGcmEncrypt, v);
  r = short_output.request(Operation::AesGcmEncrypt, v, 1);
  r.output = r.output.first(r.output.size() - 1);
  device.submit(r);
  EXPECT_EQ(short_output.wait(), DeviceStatus::Error);

  std::vector<std::uint8_t> aad(kGcmMaxAadBytes + 1);
  Submission long_aad(Operation::AesGcmEncrypt, v);
  r = long_aad.request(Operation::AesGcmEncrypt, v, 2);
  r.aad = aad;
  device.submit(r);
  EXPECT_EQ(long_aad.wait(), DeviceStatus::Error);

  Submission injected(Operation::AesGcmEncrypt, v);
  r = injected.request(Operation::AesGcmEncrypt, v, 3);
  r.inject_error = true;  // --fail-job
  device.submit(r);
  EXPECT_EQ(injected.wait(), DeviceStatus::Error);
}

// The seeds' transforms still go through the same path.
TEST(SimDeviceTransforms, XorAndNot) {
  SimDevice device(1, 0, DelaySpec{}, 1);
  using Bytes = std::vector<std::uint8_t>;
  const Bytes input{0x00, 0x0f, 0xaa, 0xff};
  for (const auto& [op, expected] : {std::pair{Operation::Xor0xAA, Bytes{0xaa, 0xa5, 0x00, 0x55}},
                                     std::pair{Operation::BitwiseNot, Bytes{0xff, 0xf0, 0x55, 0x00}}}) {
    std::vector<std::uint8_t> output(input.size());
    std::atomic<DeviceStatus> status{DeviceStatus::Pending};
    const UniqueFd notify = make_eventfd();
    DeviceRequest r;
    r.op = op;
    r.input = input;
    r.output = output;
    r.status = &status;
    r.notify_fd = notify.get();
    device.submit(r);
    pollfd p{notify.get(), POLLIN, 0};
    ASSERT_EQ(::poll(&p, 1, 10'000), 1);
    EXPECT_EQ(status.load(std::memory_order_acquire), DeviceStatus::Done);
    EXPECT_EQ(output, expected);
  }
}

TEST(DeviceRequest, EmptyInputIsAnErrorForTheTransformsOnly) {
  DeviceRequest r;
  r.op = Operation::Xor0xAA;
  EXPECT_EQ(execute(r), DeviceStatus::Error);

  const GcmKey key{};
  GcmTag tag{};
  r.op = Operation::AesGcmEncrypt;
  r.key = &key;
  r.tag = &tag;
  EXPECT_EQ(execute(r), DeviceStatus::Done);
  EXPECT_EQ(to_hex(tag), kGcmSpecVectors[0].tag);  // test case 13: the empty message
}

}  // namespace
}  // namespace offload::threadsim
