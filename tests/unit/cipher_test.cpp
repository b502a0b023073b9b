#include "offload/cipher.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace offload {
// Lets GoogleTest name the parameterised cases "xor-0xaa" instead of a byte dump.
void PrintTo(Transform t, std::ostream* os) { *os << transform_name(t); }
}  // namespace offload

namespace {

using offload::Transform;

std::vector<std::uint8_t> bytes_of(std::string_view text) { return {text.begin(), text.end()}; }

// Every byte value, so an involution is checked over the whole domain.
std::vector<std::uint8_t> all_byte_values() {
  std::vector<std::uint8_t> v(256);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<std::uint8_t>(i);
  return v;
}

class TransformTest : public ::testing::TestWithParam<Transform> {};

TEST_P(TransformTest, ChangesEveryByte) {
  const auto in = all_byte_values();
  std::vector<std::uint8_t> out(in.size());
  offload::apply_transform(GetParam(), in, out);
  for (std::size_t i = 0; i < in.size(); ++i) EXPECT_NE(out[i], in[i]) << "byte " << i;
}

TEST_P(TransformTest, IsAnInvolution) {
  const auto in = all_byte_values();
  std::vector<std::uint8_t> once(in.size());
  std::vector<std::uint8_t> twice(in.size());
  offload::apply_transform(GetParam(), in, once);
  offload::apply_transform(GetParam(), once, twice);
  EXPECT_EQ(twice, in);
}

TEST_P(TransformTest, WorksInPlace) {
  const auto original = bytes_of("ASYNC-OK");
  auto buf = original;
  std::vector<std::uint8_t> expected(buf.size());
  offload::apply_transform(GetParam(), original, expected);

  offload::apply_transform(GetParam(), buf, buf);
  EXPECT_EQ(buf, expected);
  offload::apply_transform(GetParam(), buf, buf);
  EXPECT_EQ(buf, original);
}

TEST_P(TransformTest, VerifiesItsOwnOutput) {
  const auto plain = bytes_of("ASYNC-OK");
  std::vector<std::uint8_t> cipher(plain.size());
  offload::apply_transform(GetParam(), plain, cipher);
  EXPECT_TRUE(offload::verify_transform(GetParam(), plain, cipher));
  // The untransformed input is not a valid ciphertext of itself.
  EXPECT_FALSE(offload::verify_transform(GetParam(), plain, plain));
}

TEST_P(TransformTest, VerifyFailsOnSizeMismatch) {
  const auto plain = bytes_of("ASYNC-OK");
  std::vector<std::uint8_t> cipher(plain.size());
  offload::apply_transform(GetParam(), plain, cipher);

  auto shorter = cipher;
  shorter.pop_back();
  EXPECT_FALSE(offload::verify_transform(GetParam(), plain, shorter));
  // A prefix of the plaintext must not verify against the full ciphertext either.
  EXPECT_FALSE(offload::verify_transform(GetParam(), std::span(plain).first(plain.size() - 1), cipher));
  auto longer = cipher;
  longer.push_back(0);
  EXPECT_FALSE(offload::verify_transform(GetParam(), plain, longer));
}

TEST_P(TransformTest, VerifyFailsOnAnyFlippedByte) {
  const auto plain = bytes_of("ASYNC-OK");
  std::vector<std::uint8_t> cipher(plain.size());
  offload::apply_transform(GetParam(), plain, cipher);
  for (std::size_t i = 0; i < cipher.size(); ++i) {
    auto tampered = cipher;
    tampered[i] = static_cast<std::uint8_t>(tampered[i] ^ 0x01u);
    EXPECT_FALSE(offload::verify_transform(GetParam(), plain, tampered)) << "flipped byte " << i;
  }
}

TEST_P(TransformTest, EmptyInputVerifies) {
  const std::vector<std::uint8_t> empty;
  EXPECT_TRUE(offload::verify_transform(GetParam(), empty, empty));
}

INSTANTIATE_TEST_SUITE_P(Cipher, TransformTest, ::testing::Values(Transform::Xor0xAA, Transform::BitwiseNot),
                         [](const ::testing::TestParamInfo<Transform>& param_info) {
                           return param_info.param == Transform::Xor0xAA ? std::string("Xor0xAA")
                                                                   : std::string("BitwiseNot");
                         });

TEST(Cipher, XorAndNotGiveTheDocumentedBytes) {
  const std::array<std::uint8_t, 3> in{0x00, 0x41, 0xFF};
  std::array<std::uint8_t, 3> out{};
  offload::apply_transform(Transform::Xor0xAA, in, out);
  EXPECT_EQ(out, (std::array<std::uint8_t, 3>{0xAA, 0xEB, 0x55}));
  offload::apply_transform(Transform::BitwiseNot, in, out);
  EXPECT_EQ(out, (std::array<std::uint8_t, 3>{0xFF, 0xBE, 0x00}));
}

TEST(Cipher, TheTwoTransformsDoNotVerifyEachOther) {
  const auto plain = bytes_of("ASYNC-OK");
  std::vector<std::uint8_t> cipher(plain.size());
  offload::apply_transform(Transform::Xor0xAA, plain, cipher);
  EXPECT_FALSE(offload::verify_transform(Transform::BitwiseNot, plain, cipher));
}

TEST(Cipher, TransformNames) {
  EXPECT_EQ(offload::transform_name(Transform::Xor0xAA), "xor-0xaa");
  EXPECT_EQ(offload::transform_name(Transform::BitwiseNot), "bitwise-not");
}

TEST(Cipher, HexPreviewShowsShortInputWhole) {
  EXPECT_EQ(offload::hex_preview(bytes_of("AS")), "41 53");
  EXPECT_EQ(offload::hex_preview(std::vector<std::uint8_t>{0x00, 0x0f, 0xff}), "00 0f ff");
  EXPECT_EQ(offload::hex_preview(std::vector<std::uint8_t>{}), "");
}

TEST(Cipher, HexPreviewExactlyMaxBytesHasNoSuffix) {
  EXPECT_EQ(offload::hex_preview(bytes_of("ASYN"), 4), "41 53 59 4e");
}

TEST(Cipher, HexPreviewShortensWithByteCount) {
  EXPECT_EQ(offload::hex_preview(bytes_of("ASYNC"), 2), "41 53 \u2026 (5 bytes)");

  const std::vector<std::uint8_t> twenty(20, 0xAB);
  const std::string preview = offload::hex_preview(twenty);  // default: 16 bytes shown
  std::string expected;
  for (int i = 0; i < 16; ++i) expected += i == 0 ? "ab" : " ab";
  expected += " \u2026 (20 bytes)";
  EXPECT_EQ(preview, expected);
}

TEST(Cipher, MakePayloadReturnsTheMessage) {
  EXPECT_EQ(offload::make_payload("ASYNC-OK", 0, 1, 2, 3), bytes_of("ASYNC-OK"));
  // The message does not depend on who owns the job.
  EXPECT_EQ(offload::make_payload("hello", 0, 7, 8, 9), offload::make_payload("hello", 0, 1, 2, 3));
}

TEST(Cipher, MakePayloadGeneratesTheRequestedSize) {
  for (const std::size_t size : {std::size_t{1}, std::size_t{7}, std::size_t{64}, std::size_t{4096}}) {
    EXPECT_EQ(offload::make_payload("", size, 1, 2, 3).size(), size);
    // A size asks for generated bytes even when a message is given.
    EXPECT_EQ(offload::make_payload("ASYNC-OK", size, 1, 2, 3).size(), size);
  }
}

TEST(Cipher, MakePayloadIsDeterministic) {
  EXPECT_EQ(offload::make_payload("", 256, 11, 22, 33), offload::make_payload("", 256, 11, 22, 33));
}

TEST(Cipher, MakePayloadIsNotConstant) {
  const auto p = offload::make_payload("", 256, 1, 2, 3);
  std::size_t distinct = 0;
  std::array<bool, 256> seen{};
  for (const std::uint8_t b : p)
    if (!seen[b]) {
      seen[b] = true;
      ++distinct;
    }
  EXPECT_GT(distinct, 64u);
}

TEST(Cipher, MakePayloadDiffersPerOwnerJobAndSeq) {
  const auto base = offload::make_payload("", 64, 100, 5, 7);
  EXPECT_NE(offload::make_payload("", 64, 101, 5, 7), base) << "owner";
  EXPECT_NE(offload::make_payload("", 64, 100, 6, 7), base) << "job";
  EXPECT_NE(offload::make_payload("", 64, 100, 5, 8), base) << "seq";
  // Swapping fields must not collide either.
  EXPECT_NE(offload::make_payload("", 64, 5, 100, 7), base);
  EXPECT_NE(offload::make_payload("", 64, 100, 7, 5), base);
}

// Known lib bug (lib/src/cipher.cpp, make_payload's seed): `owner << 48`
// drops owner's upper 16 bits and `job << 20` overlaps both `seq` (bits 20-31)
// and `owner` (bits 48-51), so distinct (owner, job, seq) can give the same
// bytes. Enable once the seed mixes all 96 bits.
TEST(Cipher, MakePayloadUsesEveryBitOfOwnerJobAndSeq) {
  const auto base = offload::make_payload("", 64, 0, 0, 0);
  EXPECT_NE(offload::make_payload("", 64, 0x10000, 0, 0), base) << "owner bit 16 is lost";
  EXPECT_NE(offload::make_payload("", 64, 0, 1, 0), offload::make_payload("", 64, 0, 0, 1u << 20))
      << "job bit 0 collides with seq bit 20";
  EXPECT_NE(offload::make_payload("", 64, 1, 0, 0), offload::make_payload("", 64, 0, 1u << 28, 0))
      << "owner bit 0 collides with job bit 28";
}

TEST(Cipher, MakePayloadOfOneJobDoesNotVerifyAsAnother) {
  // The property make_payload exists for: a result delivered to the wrong
  // job fails verification.
  const auto mine = offload::make_payload("", 32, 1, 0, 0);
  const auto theirs = offload::make_payload("", 32, 1, 1, 0);
  std::vector<std::uint8_t> their_result(theirs.size());
  offload::apply_transform(Transform::Xor0xAA, theirs, their_result);
  EXPECT_FALSE(offload::verify_transform(Transform::Xor0xAA, mine, their_result));
}

}  // namespace

namespace offload {
namespace {

TEST(Operation, NamesRoundTrip) {
  for (const Operation op :
       {Operation::Xor0xAA, Operation::BitwiseNot, Operation::AesGcmEncrypt, Operation::AesGcmDecrypt})
    EXPECT_EQ(parse_operation(operation_name(op)), op);
  EXPECT_FALSE(parse_operation("aes-128-gcm").has_value());
  EXPECT_FALSE(parse_operation("").has_value());
  EXPECT_TRUE(is_aead(Operation::AesGcmDecrypt));
  EXPECT_FALSE(is_aead(Operation::BitwiseNot));
}

}  // namespace
}  // namespace offload

namespace offload {
namespace {

TEST(StampPayload, TheFirst12BytesNameOwnerJobAndSeq) {
  auto a = make_payload("", 64, 1, 2, 0);
  auto b = a;
  const auto base = a;
  stamp_payload(a, 1, 2, 3);
  stamp_payload(b, 1, 2, 4);
  EXPECT_NE(a, b) << "another request of the same job";
  EXPECT_TRUE(std::equal(a.begin() + kStampBytes, a.end(), base.begin() + kStampBytes)) << "the rest is kept";
  std::vector<std::uint8_t> tiny(5, 0xEE);
  stamp_payload(tiny, 0x04030201, 9, 9);  // shorter than a stamp: only what fits
  EXPECT_EQ(tiny, (std::vector<std::uint8_t>{1, 2, 3, 4, 9}));
  std::vector<std::uint8_t> none;
  stamp_payload(none, 1, 2, 3);
}

}  // namespace
}  // namespace offload
