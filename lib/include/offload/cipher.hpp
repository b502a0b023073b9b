#pragma once
// The simulated "cipher" transforms of the seeds. Both are involutions
// (applying one twice gives the input back), which is how results are verified.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace offload {

enum class Transform : std::uint8_t {
  Xor0xAA = 1,     // seed 000, first program: every byte XOR 0xAA
  BitwiseNot = 2,  // seed 000, DPDK backend: every byte bitwise NOT
};

std::string_view transform_name(Transform t) noexcept;

// What a device does to one request: the seeds' two transforms, or real
// AES-256-GCM (aes_gcm.hpp). The values are the protocol's (proto::Op).
enum class Operation : std::uint8_t {
  Xor0xAA = 1,
  BitwiseNot = 2,
  AesGcmEncrypt = 3,
  AesGcmDecrypt = 4,
};

// --op names: "xor", "not", "aes-256-gcm-encrypt", "aes-256-gcm-decrypt".
std::string_view operation_name(Operation op) noexcept;
std::optional<Operation> parse_operation(std::string_view name) noexcept;
inline constexpr bool is_aead(Operation op) noexcept {
  return op == Operation::AesGcmEncrypt || op == Operation::AesGcmDecrypt;
}
// The seeds' transform of a non-AEAD operation.
inline constexpr Transform transform_of(Operation op) noexcept {
  return op == Operation::BitwiseNot ? Transform::BitwiseNot : Transform::Xor0xAA;
}

// out[i] = f(in[i]); `in` and `out` may be the same buffer. Sizes must match.
void apply_transform(Transform t, std::span<const std::uint8_t> in, std::span<std::uint8_t> out) noexcept;

// True when applying `t` to `ciphertext` gives back `plaintext`.
bool verify_transform(Transform t, std::span<const std::uint8_t> plaintext,
                      std::span<const std::uint8_t> ciphertext) noexcept;

// "41 53 59 4e ..." for at most `max_bytes` bytes, then "… (N bytes)".
std::string hex_preview(std::span<const std::uint8_t> bytes, std::size_t max_bytes = 16);

// The input of one job: `message` if not empty, else `size` bytes whose
// content depends on (owner, job, seq), so that a result delivered to the
// wrong job cannot verify.
// Overwrites the first (up to) 12 bytes of `bytes` with (owner, job, seq):
// a load generator makes each job's payload once with make_payload and
// stamps it for every request, which keeps requests distinct (a result
// delivered to another job or request cannot verify) without generating
// every byte again (at 16 KiB, about 50 us of CPU per request).
void stamp_payload(std::span<std::uint8_t> bytes, std::uint32_t owner, std::uint32_t job, std::uint32_t seq) noexcept;
inline constexpr std::size_t kStampBytes = 12;

std::vector<std::uint8_t> make_payload(std::string_view message, std::size_t size, std::uint32_t owner,
                                       std::uint32_t job, std::uint32_t seq);

}  // namespace offload
