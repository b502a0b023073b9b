#pragma once
// AES-256-GCM through OpenSSL EVP, in this process: the reference the
// frontend verifies the device's results with (an implementation
// independent of the cryptodev PMD), and threadsim's device threads' work.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace offload {

inline constexpr std::size_t kGcmKeyBytes = 32;  // AES-256
inline constexpr std::size_t kGcmIvBytes = 12;   // the 96-bit IV of TLS and IPsec
inline constexpr std::size_t kGcmTagBytes = 16;
// The most additional authenticated data one request carries (TLS 1.2: 13
// bytes, TLS 1.3: 5, IPsec ESP: 8 or 12).
inline constexpr std::size_t kGcmMaxAadBytes = 64;

using GcmKey = std::array<std::uint8_t, kGcmKeyBytes>;
using GcmIv = std::array<std::uint8_t, kGcmIvBytes>;
using GcmTag = std::array<std::uint8_t, kGcmTagBytes>;

// Encrypts `in` into `out` (same size; the same buffer is allowed) and
// writes the tag. False only when OpenSSL fails (its error is queued).
[[nodiscard]] bool gcm_encrypt(const GcmKey& key, const GcmIv& iv, std::span<const std::uint8_t> aad,
                               std::span<const std::uint8_t> in, std::span<std::uint8_t> out, GcmTag& tag);

// Decrypts `in` into `out` (same size; in place allowed) and checks `tag`:
// false when the tag does not verify (the message or AAD was altered, or the
// key differs); `out` must then be ignored.
[[nodiscard]] bool gcm_decrypt(const GcmKey& key, const GcmIv& iv, std::span<const std::uint8_t> aad,
                               std::span<const std::uint8_t> in, std::span<std::uint8_t> out, const GcmTag& tag);

// A key from the operating system's random generator (RAND_bytes).
GcmKey random_gcm_key();

// "00ff..." (64 hex digits) -> key; nullopt for any other text.
std::optional<GcmKey> parse_gcm_key(std::string_view hex);

// Lower-case hex of any bytes.
std::string to_hex(std::span<const std::uint8_t> bytes);

}  // namespace offload
