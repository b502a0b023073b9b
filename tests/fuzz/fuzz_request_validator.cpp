// libFuzzer target: validate_request and is_pool_element, the checks the
// backend runs on every Request a frontend puts in shared memory, before it
// touches the payload. The input encoding is in fuzz_input.hpp.
//
// Invariant: validate_request accepts a request if and only if every rule of
// the protocol holds (each checked here on its own, by a linear search rather
// than the binary search under test); a rejection names a reason. A
// violation prints what broke and aborts, which libFuzzer reports as a crash.

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>

#include "fuzz_input.hpp"
#include "offload/protocol.hpp"

namespace {

using namespace offload;

[[noreturn]] void violated(const char* what, const proto::Request& r) {
  std::fprintf(stderr,
               "fuzz_request_validator: invariant violated: %s (magic 0x%08x version %u frontend %u job %u op %u "
               "payload_len %u payload_addr 0x%016llx generation %u)\n",
               what, r.magic, unsigned{r.version}, unsigned{r.frontend_id}, r.job_id, unsigned(r.op), r.payload_len,
               static_cast<unsigned long long>(r.payload_addr), r.generation);
  std::abort();
}

bool listed(std::span<const std::uint64_t> buffers, std::uint64_t addr) {
  return std::find(buffers.begin(), buffers.end(), addr) != buffers.end();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const fuzz::RequestInput in = fuzz::decode_request_input(data, size);
  const proto::Request& r = in.request;
  const proto::RequestCheck check{in.params.frontend_id, in.params.generation, in.params.max_jobs,
                                  in.params.buffer_bytes, in.buffers};

  // The rules, one by one.
  const bool magic_ok = r.magic == proto::kRequestMagic;
  const bool version_ok = r.version == proto::kVersion;
  const bool frontend_ok = r.frontend_id == check.frontend_id;
  const bool generation_ok = r.generation == check.generation;
  const bool job_ok = r.job_id < check.max_jobs;
  const bool aead = r.op == proto::Op::AesGcmEncrypt || r.op == proto::Op::AesGcmDecrypt;
  const bool op_ok = r.op == proto::Op::Xor0xAA || r.op == proto::Op::BitwiseNot || aead;
  // AES-GCM: any length that leaves room for the tag (0 included), an AAD
  // and a key id within their bounds.
  const bool len_ok = aead ? std::uint64_t{r.payload_len} + proto::kTagBytes <= check.buffer_bytes
                           : r.payload_len >= 1 && r.payload_len <= check.buffer_bytes;
  const bool aead_ok = !aead || (r.aad_len <= proto::kMaxAadBytes && r.key_id < proto::kMaxKeysPerFrontend);
  const bool addr_ok = listed(in.buffers, r.payload_addr);
  const bool valid = magic_ok && version_ok && frontend_ok && generation_ok && job_ok && op_ok && len_ok && aead_ok && addr_ok;

  const char* why = proto::validate_request(r, check);
  if (why == nullptr) {
    if (!magic_ok) violated("accepted a request with a bad magic", r);
    if (!version_ok) violated("accepted a request of another protocol version", r);
    if (!frontend_ok) violated("accepted a request of another frontend id", r);
    if (!generation_ok) violated("accepted a request of a stale frontend generation", r);
    if (!job_ok) violated("accepted a job id >= max_jobs", r);
    if (!op_ok) violated("accepted an unknown operation", r);
    if (!len_ok) violated("accepted a payload_len that does not fit the buffer", r);
    if (!aead_ok) violated("accepted an AES-GCM request with a too long AAD or an out-of-range key id", r);
    if (!addr_ok) violated("accepted a payload_addr that is not a payload buffer", r);
  } else {
    if (why[0] == '\0') violated("rejected with an empty reason", r);
    if (valid) violated("rejected a valid request", r);
  }

  // is_pool_element against the linear search: the payload address, its
  // neighbours, and every listed buffer (present, by definition).
  for (const std::uint64_t addr : {r.payload_addr, r.payload_addr - 1, r.payload_addr + 1})
    if (proto::is_pool_element(in.buffers, addr) != listed(in.buffers, addr))
      violated("is_pool_element disagrees with a linear search", r);
  for (const std::uint64_t addr : in.buffers)
    if (!proto::is_pool_element(in.buffers, addr)) violated("is_pool_element misses a listed buffer", r);
  return 0;
}
