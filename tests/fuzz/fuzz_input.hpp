#pragma once
// How the fuzz targets read their input bytes, shared with the corpus writer
// (make_corpus.cpp) so that the committed seeds mean what the targets expect.
//
// fuzz_request_validator input:
//   [Request, 192 bytes][RequestFuzzParams, 32 bytes][extra buffer addresses, 8 bytes each]...
//   A short input is zero-padded up to the two structs. The payload buffer
//   list is base + i * stride for i < buffer_count % (kMaxArithmeticBuffers + 1),
//   plus up to kMaxExtraBuffers raw addresses, then sorted (validate_request's
//   precondition): arithmetic lists look like a real pool, raw ones let the
//   fuzzer place any address, both may wrap around 2^64 or hold duplicates.
//   The `tie` bits make a check parameter agree with the request, so that
//   most inputs pass those rules and mutations explore the others one by one.
//
// fuzz_mp_messages input:
//   [num_fds, 1 byte][the rte_mp param bytes: all the rest]

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "offload/protocol.hpp"

namespace offload::fuzz {

struct RequestFuzzParams {
  std::uint16_t frontend_id;
  std::uint16_t buffer_count;
  std::uint32_t generation;
  std::uint32_t max_jobs;
  std::uint32_t buffer_stride;
  std::uint64_t buffer_base;
  std::uint8_t tie;  // kTie* bits
  std::uint8_t reserved[3];
  std::uint32_t buffer_bytes;  // check.buffer_bytes; 0: the backend's default
};
static_assert(sizeof(RequestFuzzParams) == 32, "no padding: the seeds are raw bytes");

inline constexpr std::uint8_t kTieFrontend = 1;     // check.frontend_id = request's
inline constexpr std::uint8_t kTieGeneration = 2;   // check.generation = request's
inline constexpr std::uint8_t kTieMaxJobs = 4;      // check.max_jobs = request's job_id + 1 + max_jobs % 8
inline constexpr std::uint8_t kTieAddress = 8;      // the request's payload_addr is a listed buffer

inline constexpr std::size_t kMaxArithmeticBuffers = 64;
inline constexpr std::size_t kMaxExtraBuffers = 64;
inline constexpr std::size_t kRequestInputHead = sizeof(proto::Request) + sizeof(RequestFuzzParams);

struct RequestInput {
  proto::Request request{};
  RequestFuzzParams params{};
  std::vector<std::uint64_t> buffers;  // sorted
};

inline RequestInput decode_request_input(const std::uint8_t* data, std::size_t size) {
  unsigned char head[kRequestInputHead] = {};
  if (size > 0) std::memcpy(head, data, std::min(size, sizeof head));
  RequestInput in;
  std::memcpy(&in.request, head, sizeof in.request);
  std::memcpy(&in.params, head + sizeof in.request, sizeof in.params);
  auto& p = in.params;
  if (p.tie & kTieFrontend) p.frontend_id = in.request.frontend_id;
  if (p.tie & kTieGeneration) p.generation = in.request.generation;
  if ((p.tie & kTieMaxJobs) && in.request.job_id < std::numeric_limits<std::uint32_t>::max() - 8) p.max_jobs = in.request.job_id + 1 + p.max_jobs % 8;
  if (p.tie & kTieAddress) in.buffers.push_back(in.request.payload_addr);
  if (p.buffer_bytes == 0) p.buffer_bytes = proto::kDefaultBufferBytes;

  const std::size_t count = in.params.buffer_count % (kMaxArithmeticBuffers + 1);
  for (std::size_t i = 0; i < count; ++i)
    in.buffers.push_back(in.params.buffer_base + i * std::uint64_t{in.params.buffer_stride});  // may wrap: fine
  for (std::size_t off = kRequestInputHead, n = 0; off + 8 <= size && n < kMaxExtraBuffers; off += 8, ++n) {
    std::uint64_t addr = 0;
    std::memcpy(&addr, data + off, sizeof addr);
    in.buffers.push_back(addr);
  }
  std::sort(in.buffers.begin(), in.buffers.end());
  return in;
}

inline std::vector<std::uint8_t> encode_request_input(const proto::Request& request, const RequestFuzzParams& params,
                                                      const std::vector<std::uint64_t>& extra_buffers = {}) {
  std::vector<std::uint8_t> out(kRequestInputHead + 8 * extra_buffers.size());
  std::memcpy(out.data(), &request, sizeof request);
  std::memcpy(out.data() + sizeof request, &params, sizeof params);
  for (std::size_t i = 0; i < extra_buffers.size(); ++i)
    std::memcpy(out.data() + kRequestInputHead + 8 * i, &extra_buffers[i], 8);
  return out;
}

template <class T>
std::vector<std::uint8_t> encode_mp_input(std::uint8_t num_fds, const T& param, std::size_t len = sizeof(T)) {
  std::vector<std::uint8_t> out(1 + len);
  out[0] = num_fds;
  std::memcpy(out.data() + 1, &param, std::min(len, sizeof(T)));
  return out;
}

}  // namespace offload::fuzz
