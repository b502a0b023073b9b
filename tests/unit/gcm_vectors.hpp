#pragma once
// The AES-256-GCM test cases of the GCM specification (McGrew & Viega, "The
// Galois/Counter Mode of Operation", test cases 13-16), shared by the tests
// of every path that does AES-256-GCM: EVP, threadsim's device, the
// backend's cryptodev.

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

namespace offload::testing {

struct GcmVector {
  int test_case;
  std::string_view key, iv, aad, plaintext, ciphertext, tag;  // hex
};

inline constexpr std::string_view kKey15 = "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308";
inline constexpr std::string_view kPlain15 =
    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255";
inline constexpr std::string_view kCipher15 =
    "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad";

inline constexpr std::array<GcmVector, 4> kGcmSpecVectors{{
    {13, "0000000000000000000000000000000000000000000000000000000000000000", "000000000000000000000000", "", "", "",
     "530f8afbc74536b9a963b4f1c4cb738b"},
    {14, "0000000000000000000000000000000000000000000000000000000000000000", "000000000000000000000000", "",
     "00000000000000000000000000000000", "cea7403d4d606b6e074ec5d3baf39d18", "d0d1c8a799996bf0265b98b5d48ab919"},
    {15, kKey15, "cafebabefacedbaddecaf888", "", kPlain15, kCipher15, "b094dac5d93471bdec1a502270e3cc6c"},
    {16, kKey15, "cafebabefacedbaddecaf888", "feedfacedeadbeeffeedfacedeadbeefabaddad2", kPlain15.substr(0, 120),
     kCipher15.substr(0, 120), "76fc6ece0f4e1768cddf8853bb2d551b"},
}};

inline std::vector<std::uint8_t> from_hex(std::string_view hex) {
  std::vector<std::uint8_t> out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    const auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
    out.push_back(static_cast<std::uint8_t>(nibble(hex[i]) << 4 | nibble(hex[i + 1])));
  }
  return out;
}

template <std::size_t N>
std::array<std::uint8_t, N> array_from_hex(std::string_view hex) {
  std::array<std::uint8_t, N> out{};
  const auto bytes = from_hex(hex);
  for (std::size_t i = 0; i < N && i < bytes.size(); ++i) out[i] = bytes[i];
  return out;
}

}  // namespace offload::testing
