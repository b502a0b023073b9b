// The backend's device path for AES-256-GCM (apps/backend/crypto_device):
// the GCM specification's test cases 13-16 through a real DPDK cryptodev
// (crypto_aesni_mb and crypto_openssl), in place in a mempool buffer, as the
// backend runs them. Its own executable: it starts a DPDK primary (in
// memory, no hugepages), which the other unit tests must not.

#include "crypto_device.hpp"

#include <rte_eal.h>
#include <rte_mempool.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gcm_vectors.hpp"
#include "offload/aes_gcm.hpp"
#include "offload/exit_codes.hpp"

namespace offload::backend {
namespace {

using testing::array_from_hex;
using testing::from_hex;
using testing::kGcmSpecVectors;

constexpr std::uint32_t kBuffers = 8;
constexpr std::uint32_t kBufferBytes = 4096;

struct PoolFree {
  void operator()(rte_mempool* mp) const noexcept { rte_mempool_free(mp); }
};

// A device and payload buffers from a mempool (real IOVAs), as the backend has.
class CryptoDeviceTest : public ::testing::TestWithParam<std::string_view> {
protected:
  void SetUp() override {
    pool_.reset(rte_mempool_create("unit_payload", kBuffers, kBufferBytes, 0, 0, nullptr, nullptr, nullptr, nullptr,
                                   SOCKET_ID_ANY, 0));
    ASSERT_NE(pool_, nullptr);
    ASSERT_EQ(rte_mempool_get(pool_.get(), &buffer_), 0);
    device_ = std::make_unique<CryptoDevice>(std::string(GetParam()), kBuffers, kBufferBytes);
  }
  void TearDown() override {
    device_.reset();
    if (buffer_ != nullptr) rte_mempool_put(pool_.get(), buffer_);
  }

  // Runs one operation on `buffer_` (message then tag) and returns its result.
  CryptoResult run(const testing::GcmVector& v, bool encrypt, std::uint32_t len) {
    const auto key = array_from_hex<kGcmKeyBytes>(v.key);
    const auto iv = from_hex(v.iv);
    const auto aad = from_hex(v.aad);
    const char* why = nullptr;
    // One key id per key: a registered key never changes.
    void* session = device_->session(0, 1, static_cast<std::uint16_t>(v.test_case), key, encrypt,
                                     static_cast<std::uint16_t>(aad.size()), why);
    EXPECT_NE(session, nullptr) << (why ? why : "");
    device_->submit(CryptoSubmission{3, encrypt, session, buffer_, len, iv, aad});
    device_->flush();
    CryptoResult result = CryptoResult::Error;
    unsigned got = 0;
    for (int spins = 0; got == 0 && spins < 1'000'000; ++spins)
      got = device_->poll([&](std::uint32_t index, CryptoResult r) {
        EXPECT_EQ(index, 3u);
        result = r;
      });
    EXPECT_EQ(got, 1u);
    EXPECT_EQ(device_->outstanding(), 0u);
    return result;
  }

  std::string buffer_hex(std::size_t offset, std::size_t len) const {
    return to_hex(std::span<const std::uint8_t>(static_cast<const std::uint8_t*>(buffer_) + offset, len));
  }
  void fill(std::string_view hex, std::size_t offset = 0) {
    const auto bytes = from_hex(hex);
    std::copy(bytes.begin(), bytes.end(), static_cast<std::uint8_t*>(buffer_) + offset);
  }

  std::unique_ptr<rte_mempool, PoolFree> pool_;
  void* buffer_ = nullptr;
  std::unique_ptr<CryptoDevice> device_;
};

TEST_P(CryptoDeviceTest, SpecVectorsEncryptInPlace) {
  for (const auto& v : kGcmSpecVectors) {
    SCOPED_TRACE(v.test_case);
    const auto len = static_cast<std::uint32_t>(v.plaintext.size() / 2);
    fill(v.plaintext);
    ASSERT_EQ(run(v, true, len), CryptoResult::Ok);
    EXPECT_EQ(buffer_hex(0, len), v.ciphertext);
    EXPECT_EQ(buffer_hex(len, kGcmTagBytes), v.tag);  // right after the message
  }
}

TEST_P(CryptoDeviceTest, SpecVectorsDecryptInPlace) {
  for (const auto& v : kGcmSpecVectors) {
    SCOPED_TRACE(v.test_case);
    const auto len = static_cast<std::uint32_t>(v.ciphertext.size() / 2);
    fill(v.ciphertext);
    fill(v.tag, len);
    ASSERT_EQ(run(v, false, len), CryptoResult::Ok);
    EXPECT_EQ(buffer_hex(0, len), v.plaintext);
  }
}

TEST_P(CryptoDeviceTest, FlippedTagBitIsAuthFailed) {
  const auto& v = kGcmSpecVectors[3];
  const auto len = static_cast<std::uint32_t>(v.ciphertext.size() / 2);
  fill(v.ciphertext);
  fill(v.tag, len);
  static_cast<std::uint8_t*>(buffer_)[len + 5] ^= 0x10;
  EXPECT_EQ(run(v, false, len), CryptoResult::AuthFailed);
}

TEST_P(CryptoDeviceTest, SessionsArePerFrontendAndFreedWithIt) {
  const auto key = array_from_hex<kGcmKeyBytes>(kGcmSpecVectors[2].key);
  const char* why = nullptr;
  void* a = device_->session(0, 1, 0, key, true, 13, why);
  EXPECT_EQ(device_->session(0, 1, 0, key, true, 13, why), a);  // found again
  EXPECT_NE(device_->session(0, 1, 0, key, false, 13, why), a);  // the other direction
  EXPECT_NE(device_->session(1, 1, 0, key, true, 13, why), nullptr);
  EXPECT_EQ(device_->sessions(), 3u);
  device_->forget_frontend(0);
  EXPECT_EQ(device_->sessions(), 1u);
}

TEST_P(CryptoDeviceTest, AFrontendHasAtMost128Sessions) {
  const auto key = array_from_hex<kGcmKeyBytes>(kGcmSpecVectors[2].key);
  const char* why = nullptr;
  for (std::uint16_t i = 0; i < kMaxSessionsPerFrontend; ++i)
    ASSERT_NE(device_->session(2, 1, static_cast<std::uint16_t>(i / 2), key, i % 2 == 0, 13, why), nullptr);
  EXPECT_EQ(device_->session(2, 1, 63, key, true, 0, why), nullptr);
  EXPECT_NE(std::string(why).find("too many"), std::string::npos) << why;
}

INSTANTIATE_TEST_SUITE_P(SoftwarePmds, CryptoDeviceTest, ::testing::Values("crypto_aesni_mb", "crypto_openssl"));

TEST(CryptoDeviceOpen, ADeviceWithoutAesGcmIsOneClearError) {
  try {
    CryptoDevice device("crypto_null", kBuffers, kBufferBytes);
    FAIL() << "crypto_null was accepted";
  } catch (const EnvironmentError& e) {
    EXPECT_NE(std::string(e.what()).find("does not offer AES-GCM"), std::string::npos) << e.what();
  }
}

TEST(CryptoDeviceOpen, AnUnknownDeviceSaysWhichExist) {
  try {
    CryptoDevice device("crypto_nonesuch", kBuffers, kBufferBytes);
    FAIL() << "crypto_nonesuch was accepted";
  } catch (const EnvironmentError& e) {
    EXPECT_NE(std::string(e.what()).find("crypto_aesni_mb, crypto_openssl"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace offload::backend

// The runtime dirs of earlier runs that did not end (a crash, a timeout's
// kill): their process is gone, their dir is not.
void remove_dead_runs_dirs() {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/var/run/dpdk", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("unit-crypto-", 0) != 0) continue;
    const std::string pid = name.substr(12);
    if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos) continue;
    if (std::filesystem::exists("/proc/" + pid, ec)) continue;
    std::filesystem::remove_all(entry.path(), ec);
  }
}

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  // Listing the tests (CTest's discovery) needs no DPDK.
  if (::testing::GTEST_FLAG(list_tests)) return RUN_ALL_TESTS();
  remove_dead_runs_dirs();
  const std::string prefix = "--file-prefix=unit-crypto-" + std::to_string(::getpid());
  std::vector<std::string> args{"offload_crypto_device_tests", "--no-shconf", "--no-huge", "-m", "256", "--no-pci",
                                "--no-telemetry", "-l", "0", "--log-level=error", prefix};
  std::vector<char*> eal_argv;
  for (auto& a : args) eal_argv.push_back(a.data());
  if (rte_eal_init(static_cast<int>(eal_argv.size()), eal_argv.data()) < 0) {
    std::fprintf(stderr, "offload_crypto_device_tests: rte_eal_init failed: the device path cannot be tested\n");
    return 1;
  }
  const int rc = RUN_ALL_TESTS();
  rte_eal_cleanup();
  // The EAL's runtime dir (its rte_mp socket): nothing else is left.
  std::filesystem::remove_all("/var/run/dpdk/" + prefix.substr(prefix.find('=') + 1));
  return rc;
}
