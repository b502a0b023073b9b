#include "offload/aes_gcm.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <climits>
#include <memory>
#include <stdexcept>

namespace offload {
namespace {

struct CipherCtxDeleter {
  void operator()(EVP_CIPHER_CTX* ctx) const noexcept { EVP_CIPHER_CTX_free(ctx); }
};
using CipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDeleter>;

// The cipher fetched once per process (EVP_aes_256_gcm() would look it up
// again on every init under OpenSSL 3).
const EVP_CIPHER* aes_256_gcm() {
  static const std::unique_ptr<EVP_CIPHER, decltype(&EVP_CIPHER_free)> cipher(
      EVP_CIPHER_fetch(nullptr, "AES-256-GCM", "provider=default"), &EVP_CIPHER_free);
  return cipher.get();
}

// One-shot GCM in either direction up to (not including) the final call.
CipherCtxPtr start(int encrypt, const GcmKey& key, const GcmIv& iv, std::span<const std::uint8_t> aad,
                   std::span<const std::uint8_t> in, std::span<std::uint8_t> out) {
  if (out.size() != in.size() || in.size() > INT_MAX || aad.size() > INT_MAX || aes_256_gcm() == nullptr) return {};
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  // The IV length is GCM's default (12 bytes).
  if (!ctx || EVP_CipherInit_ex2(ctx.get(), aes_256_gcm(), key.data(), iv.data(), encrypt, nullptr) != 1) return {};
  if (!aad.empty() && EVP_CipherUpdate(ctx.get(), nullptr, &len, aad.data(), static_cast<int>(aad.size())) != 1)
    return {};
  if (!in.empty() && EVP_CipherUpdate(ctx.get(), out.data(), &len, in.data(), static_cast<int>(in.size())) != 1)
    return {};
  return ctx;
}

}  // namespace

bool gcm_encrypt(const GcmKey& key, const GcmIv& iv, std::span<const std::uint8_t> aad,
                 std::span<const std::uint8_t> in, std::span<std::uint8_t> out, GcmTag& tag) {
  const CipherCtxPtr ctx = start(1, key, iv, aad, in, out);
  int len = 0;
  return ctx && EVP_CipherFinal_ex(ctx.get(), nullptr, &len) == 1 &&
         EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(tag.size()), tag.data()) == 1;
}

bool gcm_decrypt(const GcmKey& key, const GcmIv& iv, std::span<const std::uint8_t> aad,
                 std::span<const std::uint8_t> in, std::span<std::uint8_t> out, const GcmTag& tag) {
  const CipherCtxPtr ctx = start(0, key, iv, aad, in, out);
  GcmTag expected = tag;  // the ctrl takes a non-const pointer
  int len = 0;
  return ctx &&
         EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(expected.size()), expected.data()) == 1 &&
         EVP_CipherFinal_ex(ctx.get(), nullptr, &len) == 1;
}

GcmKey random_gcm_key() {
  GcmKey key{};
  if (RAND_bytes(key.data(), static_cast<int>(key.size())) != 1)
    throw std::runtime_error("RAND_bytes failed: no random AES key");
  return key;
}

std::optional<GcmKey> parse_gcm_key(std::string_view hex) {
  if (hex.size() != 2 * kGcmKeyBytes) return std::nullopt;
  const auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  GcmKey key{};
  for (std::size_t i = 0; i < key.size(); ++i) {
    const int hi = digit(hex[2 * i]);
    const int lo = digit(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    key[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return key;
}

std::string to_hex(std::span<const std::uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * bytes.size());
  for (const std::uint8_t b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 0xf];
  }
  return out;
}

}  // namespace offload
