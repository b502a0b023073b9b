// Writes (or checks) the seed corpus of tests/fuzz/corpus/<target>/: a few
// valid and invalid inputs per fuzz target, built from the real structs of
// offload/protocol.hpp so that they stay meaningful when a layout changes.
//
//   fuzz_make_corpus --write tests/fuzz/corpus   regenerate after a protocol change
//   fuzz_make_corpus --check tests/fuzz/corpus   (CTest fuzz.corpus_current) every seed is
//                                                 present and up to date
// Files in the corpus that this program does not write (e.g. a reproducer a
// fuzzer found, added by hand) are left alone.

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fuzz_input.hpp"
#include "offload/protocol.hpp"

namespace {

namespace fs = std::filesystem;
using namespace offload;
using Bytes = std::vector<std::uint8_t>;

struct Seed {
  std::string path;  // relative to the corpus root
  Bytes bytes;
};

// A pool that looks like the backend's: 8 buffers of 4 KiB + 64 B of mempool
// header, at a DPDK-like address.
constexpr std::uint64_t kBase = 0x100000200000ULL;
constexpr std::uint32_t kStride = proto::kDefaultBufferBytes + 64;

fuzz::RequestFuzzParams pool_params() {
  fuzz::RequestFuzzParams p{};
  p.frontend_id = 3;
  p.buffer_count = 8;
  p.generation = 7;
  p.max_jobs = 64;
  p.buffer_stride = kStride;
  p.buffer_base = kBase;
  return p;
}

proto::Request good_request() {
  proto::Request r{};
  r.magic = proto::kRequestMagic;
  r.version = proto::kVersion;
  r.frontend_id = 3;
  r.job_id = 5;
  r.seq = 1;
  r.op = proto::Op::Xor0xAA;
  r.payload_len = 8;
  r.payload_addr = kBase + 2 * std::uint64_t{kStride};
  r.generation = 7;
  return r;
}

std::vector<Seed> request_seeds() {
  const std::string dir = "fuzz_request_validator/";
  std::vector<Seed> seeds;
  auto add = [&](const std::string& name, const proto::Request& r, const std::vector<std::uint64_t>& extra = {},
                 const fuzz::RequestFuzzParams& params = pool_params()) {
    seeds.push_back({dir + name, fuzz::encode_request_input(r, params, extra)});
  };
  add("valid.bin", good_request());
  {
    auto r = good_request();
    r.op = proto::Op::BitwiseNot;
    r.job_id = 63;  // max_jobs - 1
    r.payload_len = proto::kDefaultBufferBytes;
    r.payload_addr = kBase + 7 * std::uint64_t{kStride};  // the last buffer
    add("valid_limits.bin", r);
  }
  {
    auto r = good_request();
    r.payload_addr = 0x7f0000001000ULL;  // listed only among the raw extra addresses
    add("valid_extra_buffer.bin", r, {0x7f0000000000ULL, 0x7f0000001000ULL, 0x7f0000002000ULL});
  }
  {
    // Every check parameter tied to the request: valid whatever its frontend,
    // generation, job id and address (fuzz_input.hpp).
    auto r = good_request();
    r.frontend_id = 11;
    r.generation = 0xdeadbeef;
    r.job_id = 1000;
    r.payload_addr = 0x123456789a00ULL;
    auto p = pool_params();
    p.tie = fuzz::kTieFrontend | fuzz::kTieGeneration | fuzz::kTieMaxJobs | fuzz::kTieAddress;
    add("valid_tied.bin", r, {}, p);
  }
  // One seed per rule, breaking that rule alone: a fuzzer that mutates it
  // explores what the validator does at that rule's edge.
  auto bad = [&](const std::string& name, auto&& mutate) {
    auto r = good_request();
    mutate(r);
    add(name, r);
  };
  bad("bad_magic.bin", [](proto::Request& r) { r.magic = 0x4F464C44; });  // byte-swapped
  bad("bad_version.bin", [](proto::Request& r) { r.version = proto::kVersion + 1; });
  bad("bad_frontend.bin", [](proto::Request& r) { r.frontend_id = 4; });
  bad("bad_generation.bin", [](proto::Request& r) { r.generation = 6; });
  bad("bad_job_id.bin", [](proto::Request& r) { r.job_id = 64; });  // == max_jobs
  bad("bad_op.bin", [](proto::Request& r) { r.op = static_cast<proto::Op>(9); });
  bad("bad_len_zero.bin", [](proto::Request& r) { r.payload_len = 0; });
  bad("bad_len_too_long.bin", [](proto::Request& r) { r.payload_len = proto::kDefaultBufferBytes + 1; });
  {
    auto r = good_request();
    r.op = proto::Op::AesGcmDecrypt;
    r.payload_len = proto::kDefaultBufferBytes - proto::kTagBytes;  // the longest that leaves room for the tag
    r.aad_len = proto::kMaxAadBytes;
    r.key_id = proto::kMaxKeysPerFrontend - 1;
    add("valid_aead_limits.bin", r);
    r.payload_len = 0;  // only the tag
    add("valid_aead_empty.bin", r);
  }
  auto aead = [](proto::Request& r) {
    r.op = proto::Op::AesGcmEncrypt;
    r.aad_len = 13;
  };
  bad("bad_aead_len_no_room_for_tag.bin", [&](proto::Request& r) {
    aead(r);
    r.payload_len = proto::kDefaultBufferBytes - proto::kTagBytes + 1;
  });
  bad("bad_aead_aad_too_long.bin", [&](proto::Request& r) {
    aead(r);
    r.aad_len = proto::kMaxAadBytes + 1;
  });
  bad("bad_aead_key_id.bin", [&](proto::Request& r) {
    aead(r);
    r.key_id = proto::kMaxKeysPerFrontend;
  });
  bad("bad_addr_inside_buffer.bin", [](proto::Request& r) { r.payload_addr += 64; });
  return seeds;
}

proto::RegisterRequest good_register(proto::NotifyMode notify) {
  proto::RegisterRequest m{};
  m.header = proto::make_mp_header();
  m.pid = 4242;
  m.max_jobs = 16;
  m.notify = notify;
  return m;
}

proto::FdSyncRequest good_fd_sync(std::uint16_t count) {
  proto::FdSyncRequest m{};
  m.header = proto::make_mp_header();
  m.frontend_id = 2;
  m.count = count;
  m.generation = 1;
  m.first_job = 8;
  return m;
}

std::vector<Seed> mp_seeds() {
  const std::string dir = "fuzz_mp_messages/";
  std::vector<Seed> seeds;
  auto add = [&](const std::string& name, Bytes bytes) { seeds.push_back({dir + name, std::move(bytes)}); };

  add("register_eventfd.bin", fuzz::encode_mp_input(0, good_register(proto::NotifyMode::EventFd)));
  add("register_coalesced_1fd.bin", fuzz::encode_mp_input(1, good_register(proto::NotifyMode::Coalesced)));
  add("register_coalesced_no_fd.bin", fuzz::encode_mp_input(0, good_register(proto::NotifyMode::Coalesced)));
  add("fd_sync_8fds.bin", fuzz::encode_mp_input(8, good_fd_sync(8)));
  add("fd_sync_count_not_num_fds.bin", fuzz::encode_mp_input(3, good_fd_sync(4)));
  {
    auto m = good_fd_sync(8);
    m.first_job = proto::kMaxJobsPerFrontend - 4;  // runs past the last job
    add("fd_sync_bad_job_range.bin", fuzz::encode_mp_input(8, m));
  }
  {
    proto::UnregisterRequest m{};
    m.header = proto::make_mp_header();
    m.frontend_id = 2;
    m.generation = 1;
    add("unregister.bin", fuzz::encode_mp_input(0, m));
  }
  {
    proto::StatsRequest m{};
    m.header = proto::make_mp_header();
    add("stats.bin", fuzz::encode_mp_input(0, m));
    add("stats_too_long.bin", fuzz::encode_mp_input(0, m, sizeof m + 4));
  }
  {
    proto::AddKeyRequest m{};
    m.header = proto::make_mp_header();
    m.frontend_id = 2;
    m.generation = 1;
    m.key_len = proto::kKeyBytes;
    for (std::uint8_t i = 0; i < proto::kKeyBytes; ++i) m.key[i] = i;
    add("add_key.bin", fuzz::encode_mp_input(0, m));
    m.key_len = 16;  // AES-128: refused
    add("add_key_aes128.bin", fuzz::encode_mp_input(0, m));
  }
  {
    proto::ForgetKeyRequest m{};
    m.header = proto::make_mp_header();
    m.frontend_id = 2;
    m.generation = 1;
    m.key_id = 5;
    add("forget_key.bin", fuzz::encode_mp_input(0, m));
    m.key_id = proto::kMaxKeysPerFrontend;  // no such id: refused
    add("forget_key_bad_id.bin", fuzz::encode_mp_input(0, m));
  }
  {
    auto m = good_register(proto::NotifyMode::EventFd);
    m.header.version = proto::kVersion + 1;
    add("register_other_version.bin", fuzz::encode_mp_input(0, m));
  }
  {
    auto m = good_register(proto::NotifyMode::EventFd);
    m.header.magic ^= 0xFFu;
    add("register_bad_magic.bin", fuzz::encode_mp_input(0, m));
  }
  add("truncated_header.bin", fuzz::encode_mp_input(0, proto::make_mp_header(), sizeof(proto::MpHeader) - 2));
  return seeds;
}

Bytes read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return {};
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

int usage() {
  std::fprintf(stderr, "usage: fuzz_make_corpus --write|--check CORPUS_DIR\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) return usage();
  const std::string_view mode = argv[1];
  if (mode != "--write" && mode != "--check") return usage();
  const fs::path root = argv[2];
  try {
    std::vector<Seed> seeds = request_seeds();
    for (auto& s : mp_seeds()) seeds.push_back(std::move(s));

    int stale = 0;
    for (const auto& seed : seeds) {
      const fs::path p = root / seed.path;
      if (mode == "--write") {
        fs::create_directories(p.parent_path());
        std::ofstream out(p, std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(seed.bytes.data()), static_cast<std::streamsize>(seed.bytes.size()));
        if (!out) throw std::runtime_error("cannot write " + p.string());
      } else if (read_file(p) != seed.bytes) {
        std::fprintf(stderr, "fuzz_make_corpus: %s is missing or out of date\n", p.c_str());
        ++stale;
      }
    }
    if (stale > 0) {
      std::fprintf(stderr,
                   "fuzz_make_corpus: %d seed(s) differ from what offload/protocol.hpp now defines; regenerate with:\n"
                   "  build/fuzz/tests/fuzz/fuzz_make_corpus --write tests/fuzz/corpus\n",
                   stale);
      return 1;
    }
    std::printf("%s %zu seeds in %s\n", mode == "--write" ? "wrote" : "checked", seeds.size(), root.c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz_make_corpus: error: %s\n", e.what());
    return 1;
  }
}
