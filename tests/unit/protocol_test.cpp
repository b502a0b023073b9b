#include "offload/protocol.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace {

using namespace offload::proto;

constexpr std::size_t kBuffer = 4096;

// A granted payload buffer followed by the next mempool object, which a
// message longer than the buffer used to overwrite.
struct BufferAndNeighbour {
  std::vector<std::uint8_t> bytes = std::vector<std::uint8_t>(2 * kBuffer, 0x5A);
  std::uint8_t* buffer() { return bytes.data(); }
  bool neighbour_untouched() const {
    return std::all_of(bytes.begin() + kBuffer, bytes.end(), [](std::uint8_t b) { return b == 0x5A; });
  }
};

TEST(CopyPayload, AFullBufferIsCopied) {
  BufferAndNeighbour mem;
  const std::vector<std::uint8_t> input(kBuffer, 0x41);
  ASSERT_TRUE(copy_payload(mem.buffer(), kBuffer, input));
  EXPECT_TRUE(std::equal(input.begin(), input.end(), mem.buffer()));
  EXPECT_TRUE(mem.neighbour_untouched());
}

TEST(CopyPayload, OneByteTooManyWritesNothing) {
  BufferAndNeighbour mem;
  const std::vector<std::uint8_t> input(kBuffer + 1, 0x41);
  EXPECT_FALSE(copy_payload(mem.buffer(), kBuffer, input));
  EXPECT_EQ(mem.bytes.front(), 0x5A);
  EXPECT_TRUE(mem.neighbour_untouched());
}

TEST(CopyPayload, RoomForTheTagIsTheCallersCapacity) {
  BufferAndNeighbour mem;
  const std::vector<std::uint8_t> input(kBuffer - kTagBytes + 1, 0x41);
  EXPECT_FALSE(copy_payload(mem.buffer(), max_message_bytes(Op::AesGcmEncrypt, kBuffer), input));
  EXPECT_TRUE(copy_payload(mem.buffer(), max_message_bytes(Op::Xor0xAA, kBuffer), input));
}

TEST(CopyPayload, EmptyInputIsNothingToCopyNoBufferIsRefused) {
  BufferAndNeighbour mem;
  EXPECT_TRUE(copy_payload(mem.buffer(), kBuffer, {}));
  EXPECT_EQ(mem.bytes.front(), 0x5A);
  const std::vector<std::uint8_t> input(8, 0x41);
  EXPECT_FALSE(copy_payload(nullptr, kBuffer, input));
}

// A request the validator accepts, and the check it is validated against.
struct ValidRequest : ::testing::Test {
  std::vector<std::uint64_t> buffers{0x1000, 0x2000, 0x3000};
  RequestCheck check{2, 9, 16, kBuffer, buffers};
  Request r{};
  void SetUp() override {
    r.magic = kRequestMagic;
    r.version = kVersion;
    r.frontend_id = 2;
    r.generation = 9;
    r.job_id = 15;
    r.op = Op::AesGcmEncrypt;
    r.payload_len = kBuffer - kTagBytes;
    r.payload_addr = 0x2000;
    r.aad_len = kMaxAadBytes;
    r.key_id = kMaxKeysPerFrontend - 1;
  }
  std::string why() {
    const char* reason = validate_request(r, check);
    return reason == nullptr ? "accepted" : reason;
  }
};

TEST_F(ValidRequest, AesGcmAtItsLimitsIsAccepted) { EXPECT_EQ(why(), "accepted"); }

TEST_F(ValidRequest, AesGcmMayBeEmpty) {
  r.payload_len = 0;
  EXPECT_EQ(why(), "accepted");
}

TEST_F(ValidRequest, AesGcmNeedsRoomForItsTag) {
  r.payload_len = kBuffer - kTagBytes + 1;
  EXPECT_NE(why().find("tag"), std::string::npos) << why();
}

TEST_F(ValidRequest, AadLongerThan64BytesIsRefused) {
  r.aad_len = kMaxAadBytes + 1;
  EXPECT_NE(why().find("AAD"), std::string::npos) << why();
}

TEST_F(ValidRequest, KeyIdOutOfRangeIsRefused) {
  r.key_id = kMaxKeysPerFrontend;
  EXPECT_NE(why().find("key id"), std::string::npos) << why();
}

TEST_F(ValidRequest, XorUsesTheWholeBufferButNotZeroBytes) {
  r.op = Op::Xor0xAA;
  r.payload_len = kBuffer;
  EXPECT_EQ(why(), "accepted");
  r.payload_len = 0;
  EXPECT_NE(why(), "accepted");
  r.payload_len = kBuffer + 1;
  EXPECT_NE(why(), "accepted");
}

TEST_F(ValidRequest, UnknownOperationIsRefused) {
  r.op = static_cast<Op>(5);
  EXPECT_EQ(why(), "unknown operation");
}

TEST(ParseAddKey, OnlyA32ByteKeyOfAKnownSlot) {
  AddKeyRequest m{};
  m.header = make_mp_header();
  m.frontend_id = 3;
  m.key_len = kKeyBytes;
  EXPECT_EQ(parse_add_key(&m, sizeof m, 0).status, MpStatus::Ok);
  EXPECT_EQ(parse_add_key(&m, sizeof m, 1).status, MpStatus::BadMessage);
  m.key_len = 16;
  EXPECT_EQ(parse_add_key(&m, sizeof m, 0).status, MpStatus::BadKey);
  m.key_len = kKeyBytes;
  m.frontend_id = kMaxFrontends;
  EXPECT_EQ(parse_add_key(&m, sizeof m, 0).status, MpStatus::UnknownFrontend);
}

TEST(ParseForgetKey, OnlyAKeyIdAndSlotThatCanExist) {
  ForgetKeyRequest m{};
  m.header = make_mp_header();
  m.frontend_id = 1;
  m.key_id = kMaxKeysPerFrontend - 1;
  EXPECT_EQ(parse_forget_key(&m, sizeof m, 0).status, MpStatus::Ok);
  EXPECT_EQ(parse_forget_key(&m, sizeof m, 1).status, MpStatus::BadMessage);
  EXPECT_EQ(parse_forget_key(&m, sizeof m - 1, 0).status, MpStatus::BadMessage);
  m.key_id = kMaxKeysPerFrontend;
  EXPECT_EQ(parse_forget_key(&m, sizeof m, 0).status, MpStatus::BadKey);
  m.key_id = 0;
  m.frontend_id = kMaxFrontends;
  EXPECT_EQ(parse_forget_key(&m, sizeof m, 0).status, MpStatus::UnknownFrontend);
}

TEST(StatusName, AuthFailedIsNamed) { EXPECT_EQ(status_name(Status::AuthFailed), "auth failed"); }

}  // namespace
