// The provider against the default provider: the same AES-256-GCM results
// and tags on random sizes, AAD lengths and update splits, in both
// directions, synchronously and inside ASYNC jobs (a wait fd, or the
// application's callback); the GCM spec vectors; tag mismatches.
//
// It needs a live backend: tests/bats/provider_unit.bats starts one and runs
// this program with OFFLOAD_INSTANCE and OFFLOAD_PROVIDER_DIR set.

#include <gtest/gtest.h>

#include <openssl/async.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/provider.h>
#include <openssl/rand.h>

#include <sys/select.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "../unit/gcm_vectors.hpp"

namespace {

using Bytes = std::vector<std::uint8_t>;
using offload::testing::from_hex;

struct Message {
  Bytes key, iv, aad, text;
  // How the data is cut into updates (sizes; their sum is text.size()).
  std::vector<std::size_t> splits;
  bool tag_before_data = true;  // decrypt: TLS 1.3 sets it first
};

struct Result {
  bool ok = false;
  Bytes out;
  Bytes tag;
};

class Libraries {
public:
  Libraries() {
    reference_ = OSSL_LIB_CTX_new();
    default_ = OSSL_PROVIDER_load(reference_, "default");
    offloaded_ = OSSL_LIB_CTX_new();
    const char* dir = std::getenv("OFFLOAD_PROVIDER_DIR");
    if (dir != nullptr) OSSL_PROVIDER_set_default_search_path(offloaded_, dir);
    offload_ = OSSL_PROVIDER_load(offloaded_, "offload");
    reference_gcm_ = EVP_CIPHER_fetch(reference_, "AES-256-GCM", nullptr);
    if (offload_ != nullptr) offload_gcm_ = EVP_CIPHER_fetch(offloaded_, "AES-256-GCM", "provider=offload");
  }
  ~Libraries() {
    EVP_CIPHER_free(reference_gcm_);
    EVP_CIPHER_free(offload_gcm_);
    OSSL_PROVIDER_unload(offload_);
    OSSL_PROVIDER_unload(default_);
    OSSL_LIB_CTX_free(offloaded_);
    OSSL_LIB_CTX_free(reference_);
  }
  EVP_CIPHER* reference() const { return reference_gcm_; }
  EVP_CIPHER* offload() const { return offload_gcm_; }
  OSSL_PROVIDER* provider() const { return offload_; }

  std::uint64_t counter(const char* name) const {
    std::uint64_t value = 0;
    OSSL_PARAM params[] = {OSSL_PARAM_construct_uint64(name, &value), OSSL_PARAM_construct_end()};
    OSSL_PROVIDER_get_params(offload_, params);
    return value;
  }

private:
  OSSL_LIB_CTX* reference_ = nullptr;
  OSSL_LIB_CTX* offloaded_ = nullptr;
  OSSL_PROVIDER* default_ = nullptr;
  OSSL_PROVIDER* offload_ = nullptr;
  EVP_CIPHER* reference_gcm_ = nullptr;
  EVP_CIPHER* offload_gcm_ = nullptr;
};

Libraries& libs() {
  static Libraries instance;
  return instance;
}

// One message through `cipher`, as an EVP caller streams it.
Result run(EVP_CIPHER* cipher, const Message& m, bool encrypt, const Bytes& tag_in = {}) {
  Result r;
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  int n = 0;
  bool ok = EVP_CipherInit_ex2(ctx, cipher, nullptr, nullptr, encrypt ? 1 : 0, nullptr) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, static_cast<int>(m.iv.size()), nullptr) == 1 &&
            EVP_CipherInit_ex2(ctx, nullptr, m.key.data(), m.iv.data(), encrypt ? 1 : 0, nullptr) == 1;
  Bytes tag = tag_in;
  if (ok && !encrypt && m.tag_before_data)
    ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, static_cast<int>(tag.size()), tag.data()) == 1;
  if (ok && !m.aad.empty())
    ok = EVP_CipherUpdate(ctx, nullptr, &n, m.aad.data(), static_cast<int>(m.aad.size())) == 1;
  r.out.resize(m.text.size() + 16);
  std::size_t in_at = 0, out_at = 0;
  for (std::size_t part : m.splits) {
    if (!ok) break;
    ok = EVP_CipherUpdate(ctx, r.out.data() + out_at, &n, m.text.data() + in_at, static_cast<int>(part)) == 1;
    in_at += part;
    out_at += static_cast<std::size_t>(n);
  }
  if (ok && !encrypt && !m.tag_before_data)
    ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, static_cast<int>(tag.size()), tag.data()) == 1;
  if (ok) {
    ok = EVP_CipherFinal_ex(ctx, r.out.data() + out_at, &n) == 1;
    out_at += static_cast<std::size_t>(n);
  }
  r.out.resize(out_at);
  if (ok && encrypt) {
    r.tag.resize(16);
    ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, r.tag.data()) == 1;
  }
  r.ok = ok;
  EVP_CIPHER_CTX_free(ctx);
  return r;
}

Bytes random_bytes(std::size_t n) {
  Bytes b(n);
  if (n != 0) RAND_bytes(b.data(), static_cast<int>(n));
  return b;
}

// A few keys, as a TLS server's connections reuse theirs: a thread registers
// at most 64 with the backend (KeysBeyondTheBackendsLimit).
const Bytes& some_key(std::mt19937& rng) {
  static const std::vector<Bytes> keys = [] {
    std::vector<Bytes> k;
    for (int i = 0; i < 6; ++i) k.push_back(random_bytes(32));
    return k;
  }();
  return keys[rng() % keys.size()];
}

Message random_message(std::mt19937& rng) {
  static const std::size_t sizes[] = {0, 1, 15, 16, 17, 255, 1024, 4096, 16384, 16385, 20000};
  static const std::size_t aads[] = {0, 5, 13, 32, 64, 65, 100};
  Message m;
  m.key = some_key(rng);
  m.iv = random_bytes(12);
  m.aad = random_bytes(aads[rng() % std::size(aads)]);
  m.text = random_bytes(sizes[rng() % std::size(sizes)]);
  // One update most of the time (the device's case), else two or three.
  const unsigned parts = rng() % 4 == 0 ? 2 + rng() % 2 : 1;
  std::size_t left = m.text.size();
  for (unsigned i = 1; i < parts && left > 1; ++i) {
    const std::size_t part = 1 + rng() % (left - 1);
    m.splits.push_back(part);
    left -= part;
  }
  m.splits.push_back(left);
  m.tag_before_data = rng() % 4 != 0;
  return m;
}

class Provider : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_NE(libs().provider(), nullptr) << "the offload provider did not load (OFFLOAD_PROVIDER_DIR?)";
    ASSERT_NE(libs().offload(), nullptr);
    ASSERT_EQ(libs().counter("offload-attached"), 1u) << "no backend for OFFLOAD_INSTANCE";
  }
};

TEST_F(Provider, GcmSpecVectors) {
  for (const auto& v : offload::testing::kGcmSpecVectors) {
    SCOPED_TRACE(v.test_case);
    Message m{from_hex(v.key), from_hex(v.iv), from_hex(v.aad), from_hex(v.plaintext), {}, true};
    m.splits = {m.text.size()};
    const Result enc = run(libs().offload(), m, true);
    ASSERT_TRUE(enc.ok);
    EXPECT_EQ(enc.out, from_hex(v.ciphertext));
    EXPECT_EQ(enc.tag, from_hex(v.tag));
    Message c = m;
    c.text = from_hex(v.ciphertext);
    const Result dec = run(libs().offload(), c, false, from_hex(v.tag));
    ASSERT_TRUE(dec.ok);
    EXPECT_EQ(dec.out, from_hex(v.plaintext));
  }
}

TEST_F(Provider, RandomMessagesMatchTheDefaultProvider) {
  std::mt19937 rng(static_cast<unsigned>(std::random_device{}()));
  const std::uint64_t device_before = libs().counter("offload-device-messages");
  const std::uint64_t software_before = libs().counter("offload-software-messages");
  for (int i = 0; i < 400; ++i) {
    const Message m = random_message(rng);
    SCOPED_TRACE(testing::Message() << "message " << i << ": " << m.text.size() << " bytes, AAD " << m.aad.size()
                                    << ", " << m.splits.size() << " update(s), tag "
                                    << (m.tag_before_data ? "before" : "after") << " the data");
    const Result want = run(libs().reference(), m, true);
    const Result got = run(libs().offload(), m, true);
    ASSERT_TRUE(want.ok);
    ASSERT_TRUE(got.ok);
    EXPECT_EQ(got.out, want.out);
    EXPECT_EQ(got.tag, want.tag);
    Message c = m;
    c.text = want.out;
    const Result plain = run(libs().offload(), c, false, want.tag);
    ASSERT_TRUE(plain.ok);
    EXPECT_EQ(plain.out, m.text);
  }
  // Both paths ran: the device's, and software for what it cannot take.
  EXPECT_GT(libs().counter("offload-device-messages"), device_before);
  EXPECT_GT(libs().counter("offload-software-messages"), software_before);
  EXPECT_EQ(libs().counter("offload-failed-messages"), 0u);
}

TEST_F(Provider, TagMismatchFailsTheDecryption) {
  std::mt19937 rng(7);
  for (bool before : {true, false}) {
    for (std::size_t parts : {1u, 2u}) {
      Message m;
      m.key = some_key(rng);
      m.iv = random_bytes(12);
      m.aad = random_bytes(13);
      m.text = random_bytes(1000);
      m.splits = parts == 1 ? std::vector<std::size_t>{1000} : std::vector<std::size_t>{400, 600};
      m.tag_before_data = before;
      const Result enc = run(libs().offload(), m, true);
      ASSERT_TRUE(enc.ok);
      Message c = m;
      c.text = enc.out;
      Bytes bad = enc.tag;
      bad[rng() % bad.size()] ^= 0x01;
      EXPECT_FALSE(run(libs().offload(), c, false, bad).ok) << "tag before data: " << before << ", parts " << parts;
      EXPECT_TRUE(run(libs().offload(), c, false, enc.tag).ok);
    }
  }
}

// A thread of its own registers as its own frontend, with the backend's 64
// key ids to itself. 70 keys, then the first 10 again: past 64 the least
// recently used key is forgotten to make room (ofl_forget_key), so every
// message stays on the device and a key used again is registered again.
TEST_F(Provider, KeysPastTheBackendsLimitReuseTheLeastRecentlyUsedIds) {
  const std::uint64_t device_before = libs().counter("offload-device-messages");
  const std::uint64_t software_before = libs().counter("offload-software-messages");
  constexpr int kKeys = 70;
  constexpr int kAgain = 10;
  int mismatches = 0;
  std::thread([&] {
    std::vector<Bytes> keys;
    for (int i = 0; i < kKeys; ++i) keys.push_back(random_bytes(32));
    const auto once = [&](const Bytes& key) {
      Message m{key, random_bytes(12), random_bytes(5), random_bytes(100), {100}, true};
      const Result want = run(libs().reference(), m, true);
      const Result got = run(libs().offload(), m, true);
      if (!got.ok || got.out != want.out || got.tag != want.tag) ++mismatches;
    };
    for (const Bytes& key : keys) once(key);
    for (int i = 0; i < kAgain; ++i) once(keys[static_cast<std::size_t>(i)]);
  }).join();
  EXPECT_EQ(mismatches, 0);
  EXPECT_EQ(libs().counter("offload-device-messages") - device_before, static_cast<std::uint64_t>(kKeys + kAgain));
  EXPECT_EQ(libs().counter("offload-software-messages") - software_before, 0u);
}

// A context keeps its key across messages (TLS sets it once, then only an
// IV per record) and remembers the key's id: once that id was given to
// another key, the context must notice and register its key again, never
// encrypt under the other one.
TEST_F(Provider, AContextWhoseKeyWasForgottenRegistersItAgain) {
  int mismatches = 0;
  bool ok = true;
  std::thread([&] {
    const Bytes key = random_bytes(32);
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    const auto seal = [&](const Bytes& iv, const Bytes& text, bool with_key) {
      Result r;
      int n = 0;
      r.out.resize(text.size());
      r.tag.resize(16);
      r.ok = EVP_EncryptInit_ex2(ctx, with_key ? libs().offload() : nullptr, with_key ? key.data() : nullptr,
                                 iv.data(), nullptr) == 1 &&
             EVP_EncryptUpdate(ctx, r.out.data(), &n, text.data(), static_cast<int>(text.size())) == 1 &&
             EVP_EncryptFinal_ex(ctx, r.out.data() + n, &n) == 1 &&
             EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, r.tag.data()) == 1;
      return r;
    };
    const auto check = [&](const Bytes& iv, const Result& got, const Bytes& text) {
      Message m{key, iv, {}, text, {text.size()}, true};
      const Result want = run(libs().reference(), m, true);
      ok = ok && got.ok;
      if (got.out != want.out || got.tag != want.tag) ++mismatches;
    };
    const Bytes text = random_bytes(64);
    const Bytes iv1 = random_bytes(12);
    check(iv1, seal(iv1, text, true), text);
    // 64 other keys: this thread's ids all go round once, this context's too.
    for (int i = 0; i < 64; ++i) {
      Message m{random_bytes(32), random_bytes(12), {}, random_bytes(16), {16}, true};
      if (!run(libs().offload(), m, true).ok) ok = false;
    }
    const Bytes iv2 = random_bytes(12);
    check(iv2, seal(iv2, text, false), text);
    EVP_CIPHER_CTX_free(ctx);
  }).join();
  EXPECT_TRUE(ok);
  EXPECT_EQ(mismatches, 0);
}

// --- inside ASYNC jobs --------------------------------------------------

struct JobArgs {
  const Message* message;
  Result* result;
};

int encrypt_job(void* arg) {
  auto* a = *static_cast<JobArgs**>(arg);
  *a->result = run(libs().offload(), *a->message, true);
  return a->result->ok ? 1 : 0;
}

std::atomic<int> g_callbacks{0};
int on_callback(void* arg) {
  static_cast<std::atomic<bool>*>(arg)->store(true);
  g_callbacks.fetch_add(1);
  return 1;
}

// Runs `jobs` encryptions as ASYNC jobs at once; waits on each job's one
// wait fd (select, as openssl speed does), or on its callback's flag.
void run_jobs(std::size_t jobs, bool callbacks) {
  std::mt19937 rng(11);
  std::vector<Message> messages;
  for (std::size_t i = 0; i < jobs; ++i) {
    Message m;
    m.key = some_key(rng);
    m.iv = random_bytes(12);
    m.aad = random_bytes(13);
    m.text = random_bytes(1 + rng() % 4096);
    m.splits = {m.text.size()};
    messages.push_back(std::move(m));
  }
  std::vector<Result> results(jobs);
  std::vector<JobArgs> args(jobs);
  std::vector<ASYNC_JOB*> running(jobs, nullptr);
  std::vector<ASYNC_WAIT_CTX*> waits(jobs);
  std::vector<std::atomic<bool>> woken(jobs);
  std::vector<int> rets(jobs, -1);
  for (std::size_t i = 0; i < jobs; ++i) {
    args[i] = {&messages[i], &results[i]};
    waits[i] = ASYNC_WAIT_CTX_new();
    if (callbacks) ASYNC_WAIT_CTX_set_callback(waits[i], on_callback, &woken[i]);
  }
  std::size_t left = jobs;
  const auto step = [&](std::size_t i) {
    JobArgs* p = &args[i];
    const int status = ASYNC_start_job(&running[i], waits[i], &rets[i], encrypt_job, &p, sizeof p);
    ASSERT_NE(status, ASYNC_ERR);
    ASSERT_NE(status, ASYNC_NO_JOBS);
    if (status == ASYNC_FINISH) --left;
  };
  for (std::size_t i = 0; i < jobs; ++i) step(i);
  for (int rounds = 0; left > 0; ++rounds) {
    ASSERT_LT(rounds, 1'000'000) << "jobs never finished";
    if (callbacks) {
      for (std::size_t i = 0; i < jobs; ++i)
        if (running[i] != nullptr && woken[i].exchange(false)) step(i);
      continue;
    }
    fd_set set;
    FD_ZERO(&set);
    int max_fd = -1;
    for (std::size_t i = 0; i < jobs; ++i) {
      if (running[i] == nullptr) continue;
      size_t count = 0;
      ASSERT_EQ(ASYNC_WAIT_CTX_get_all_fds(waits[i], nullptr, &count), 1);
      ASSERT_EQ(count, 1u) << "a job's wait context must hold exactly one fd";
      OSSL_ASYNC_FD fd = -1;
      ASYNC_WAIT_CTX_get_all_fds(waits[i], &fd, &count);
      FD_SET(fd, &set);
      max_fd = std::max(max_fd, fd);
    }
    timeval bound{5, 0};
    ASSERT_GT(select(max_fd + 1, &set, nullptr, nullptr, &bound), 0) << "no job's fd became ready in 5 s";
    for (std::size_t i = 0; i < jobs; ++i) {
      if (running[i] == nullptr) continue;
      OSSL_ASYNC_FD fd = -1;
      size_t count = 0;
      ASYNC_WAIT_CTX_get_all_fds(waits[i], &fd, &count);
      if (FD_ISSET(fd, &set)) step(i);
    }
  }
  for (std::size_t i = 0; i < jobs; ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(rets[i], 1);
    const Result want = run(libs().reference(), messages[i], true);
    EXPECT_EQ(results[i].out, want.out);
    EXPECT_EQ(results[i].tag, want.tag);
    ASYNC_WAIT_CTX_free(waits[i]);
  }
}

TEST_F(Provider, AsyncJobsWaitOnOneFdEach) {
  const std::uint64_t before = libs().counter("offload-device-messages");
  run_jobs(32, false);
  EXPECT_GE(libs().counter("offload-device-messages") - before, 32u);
}

TEST_F(Provider, AsyncJobsWithTheApplicationsCallback) {
  g_callbacks = 0;
  run_jobs(16, true);
  EXPECT_GE(g_callbacks.load(), 16);
}

}  // namespace
