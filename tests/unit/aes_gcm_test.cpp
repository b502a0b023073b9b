#include "offload/aes_gcm.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "gcm_vectors.hpp"

namespace offload {
namespace {

using testing::array_from_hex;
using testing::from_hex;
using testing::kGcmSpecVectors;

TEST(AesGcm, SpecVectorsEncrypt) {
  for (const auto& v : kGcmSpecVectors) {
    SCOPED_TRACE(v.test_case);
    const auto plain = from_hex(v.plaintext);
    std::vector<std::uint8_t> out(plain.size());
    GcmTag tag{};
    ASSERT_TRUE(gcm_encrypt(array_from_hex<kGcmKeyBytes>(v.key), array_from_hex<kGcmIvBytes>(v.iv), from_hex(v.aad),
                            plain, out, tag));
    EXPECT_EQ(to_hex(out), v.ciphertext);
    EXPECT_EQ(to_hex(tag), v.tag);
  }
}

TEST(AesGcm, SpecVectorsDecryptInPlace) {
  for (const auto& v : kGcmSpecVectors) {
    SCOPED_TRACE(v.test_case);
    auto buffer = from_hex(v.ciphertext);
    ASSERT_TRUE(gcm_decrypt(array_from_hex<kGcmKeyBytes>(v.key), array_from_hex<kGcmIvBytes>(v.iv), from_hex(v.aad),
                            buffer, buffer, array_from_hex<kGcmTagBytes>(v.tag)));
    EXPECT_EQ(to_hex(buffer), v.plaintext);
  }
}

TEST(AesGcm, FlippedTagBitFailsDecrypt) {
  const auto& v = kGcmSpecVectors[3];
  auto buffer = from_hex(v.ciphertext);
  auto tag = array_from_hex<kGcmTagBytes>(v.tag);
  tag[15] ^= 0x01;
  EXPECT_FALSE(gcm_decrypt(array_from_hex<kGcmKeyBytes>(v.key), array_from_hex<kGcmIvBytes>(v.iv), from_hex(v.aad),
                           buffer, buffer, tag));
}

TEST(AesGcm, AlteredAadFailsDecrypt) {
  const auto& v = kGcmSpecVectors[3];
  auto buffer = from_hex(v.ciphertext);
  auto aad = from_hex(v.aad);
  aad[0] ^= 0x80;
  EXPECT_FALSE(gcm_decrypt(array_from_hex<kGcmKeyBytes>(v.key), array_from_hex<kGcmIvBytes>(v.iv), aad, buffer, buffer,
                           array_from_hex<kGcmTagBytes>(v.tag)));
}

TEST(AesGcm, SizeMismatchIsRefused) {
  std::vector<std::uint8_t> in(16), out(15);
  GcmTag tag{};
  EXPECT_FALSE(gcm_encrypt(GcmKey{}, GcmIv{}, {}, in, out, tag));
}

TEST(AesGcm, ParseKey) {
  const auto key = parse_gcm_key(kGcmSpecVectors[2].key);
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ(to_hex(*key), kGcmSpecVectors[2].key);
  EXPECT_TRUE(parse_gcm_key("FEFFE9928665731C6D6A8F9467308308FEFFE9928665731C6D6A8F9467308308").has_value());
  EXPECT_FALSE(parse_gcm_key("feff").has_value());                                  // too short
  EXPECT_FALSE(parse_gcm_key(std::string(64, 'g')).has_value());                   // not hex
  EXPECT_FALSE(parse_gcm_key(std::string(kGcmSpecVectors[2].key) + "00").has_value());  // too long
}

TEST(AesGcm, RandomKeysDiffer) { EXPECT_NE(random_gcm_key(), random_gcm_key()); }

}  // namespace
}  // namespace offload
