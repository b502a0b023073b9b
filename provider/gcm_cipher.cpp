#include "gcm_cipher.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "device_call.hpp"
#include "offload/aes_gcm.hpp"
#include "process.hpp"
#include "provider_ctx.hpp"

namespace offload::provider {
namespace {

// One cipher context: a message at a time (init, AAD, data, final). It goes
// to the device whole at its first data update; what the device cannot take
// is continued by the default provider's AES-256-GCM in `software`.
struct GcmCtx {
  explicit GcmCtx(ProviderCtx* p) : prov(p) {}
  GcmCtx(const GcmCtx&) = default;
  ~GcmCtx() {
    EVP_CIPHER_CTX_free(software);
    OPENSSL_cleanse(key.data(), key.size());
  }

  ProviderCtx* prov;
  bool encrypt = true;
  GcmKey key{};
  bool key_set = false;
  KeyIdMemo key_memo;
  std::size_t ivlen = kGcmIvBytes;
  std::vector<std::uint8_t> iv;
  bool iv_set = false;
  // Decrypt: the tag to check (given before final). Encrypt: the computed
  // one, valid after final.
  GcmTag tag{};
  std::size_t taglen = kGcmTagBytes;
  bool tag_set = false;
  bool tag_ready = false;

  // The current message.
  std::vector<std::uint8_t> aad;
  bool data_seen = false;
  // What a continuation in `software` replays of the first data update
  // (GHASH covers every byte before): a decryption keeps its input; an
  // encryption holds its device buffer (the ciphertext), or, in a copied
  // context, a copy of it.
  std::vector<std::uint8_t> first_chunk;
  HeldBuffer held;
  std::vector<std::uint8_t> held_copy;
  bool device_auth_failed = false;

  EVP_CIPHER_CTX* software = nullptr;
  bool tls12 = false;  // TLS 1.2 records (explicit IV): software for good
};

Process& process_of(const GcmCtx& c) { return *c.prov->process; }

void begin_message(GcmCtx& c) {
  c.aad.clear();
  c.data_seen = false;
  c.first_chunk.clear();
  c.held.release();
  c.held_copy.clear();
  c.device_auth_failed = false;
  c.tag_ready = false;
  if (!c.tls12 && c.software != nullptr) {
    EVP_CIPHER_CTX_free(c.software);
    c.software = nullptr;
  }
}

void end_message(GcmCtx& c) {
  c.data_seen = false;
  c.aad.clear();
  c.first_chunk.clear();
  c.held.release();
  c.held_copy.clear();
  c.device_auth_failed = false;
  if (!c.encrypt) c.tag_set = false;
}

// The message continues in software from where it is: key, IV, tag, AAD,
// and (replay) the first data update's input, whose output is discarded.
bool start_software(GcmCtx& c, std::optional<SoftwareReason> reason, bool replay) {
  Process& process = process_of(c);
  EVP_CIPHER_CTX_free(c.software);
  c.software = EVP_CIPHER_CTX_new();
  std::size_t ivlen = c.ivlen;
  const OSSL_PARAM ivlen_params[] = {OSSL_PARAM_construct_size_t(OSSL_CIPHER_PARAM_AEAD_IVLEN, &ivlen),
                                     OSSL_PARAM_construct_end()};
  int n = 0;
  bool ok = c.software != nullptr && process.software_gcm() != nullptr &&
            EVP_CipherInit_ex2(c.software, process.software_gcm(), nullptr, nullptr, c.encrypt ? 1 : 0,
                               ivlen_params) == 1 &&
            EVP_CipherInit_ex2(c.software, nullptr, c.key_set ? c.key.data() : nullptr,
                               c.iv_set ? c.iv.data() : nullptr, c.encrypt ? 1 : 0, nullptr) == 1;
  if (ok && !c.encrypt && c.tag_set)
    ok = EVP_CIPHER_CTX_ctrl(c.software, EVP_CTRL_AEAD_SET_TAG, static_cast<int>(c.taglen), c.tag.data()) == 1;
  if (ok && !c.aad.empty())
    ok = EVP_CipherUpdate(c.software, nullptr, &n, c.aad.data(), static_cast<int>(c.aad.size())) == 1;
  if (ok && replay) {
    // An encryption's first input, recovered from its ciphertext: GCM's
    // data is counter mode, so a decryption without final gives it back.
    std::vector<std::uint8_t> input = c.first_chunk;
    if (c.encrypt) {
      const auto ciphertext = c.held.held() ? c.held.bytes() : std::span<const std::uint8_t>(c.held_copy);
      input.resize(ciphertext.size());
      EVP_CIPHER_CTX* ctr = EVP_CIPHER_CTX_new();
      ok = ctr != nullptr &&
           EVP_CipherInit_ex2(ctr, process.software_gcm(), nullptr, nullptr, 0, ivlen_params) == 1 &&
           EVP_CipherInit_ex2(ctr, nullptr, c.key.data(), c.iv.data(), 0, nullptr) == 1 &&
           (ciphertext.empty() || EVP_CipherUpdate(ctr, input.data(), &n, ciphertext.data(),
                                                   static_cast<int>(ciphertext.size())) == 1);
      EVP_CIPHER_CTX_free(ctr);
      c.held.release();
    }
    if (ok && !input.empty()) {
      std::vector<std::uint8_t> discard(input.size());
      ok = EVP_CipherUpdate(c.software, discard.data(), &n, input.data(), static_cast<int>(input.size())) == 1;
      OPENSSL_cleanse(discard.data(), discard.size());
    }
    OPENSSL_cleanse(input.data(), input.size());
  }
  if (!ok) {
    OFFLOAD_RAISE(*c.prov, kReasonSoftwareFailed, "the default provider's AES-256-GCM could not continue the message");
    return false;
  }
  if (reason) process.counters().count_software(*reason);
  return true;
}

bool software_update(GcmCtx& c, unsigned char* out, size_t* outl, const unsigned char* in, size_t inl) {
  int n = 0;
  if (EVP_CipherUpdate(c.software, out, &n, in, static_cast<int>(inl)) != 1) return false;
  *outl = static_cast<size_t>(n);
  return true;
}

// The message on the device; `in` is the first data update (or empty at a
// final with no data). Writes `out`, and for an encryption the tag.
bool device_message(GcmCtx& c, unsigned char* out, std::span<const std::uint8_t> in) {
  Process& process = process_of(c);
  GcmIv iv{};
  std::copy_n(c.iv.begin(), kGcmIvBytes, iv.begin());
  std::uint8_t no_output = 0;
  const DeviceMessage m{c.encrypt, &c.key,   &iv,         c.aad, in, out != nullptr ? out : &no_output,
                        &c.tag,    &c.key_memo, &c.held};
  SoftwareReason reason{};
  std::string why;
  switch (run_on_device(process, m, reason, why)) {
    case DeviceResult::Ok:
      process.counters().device_messages.fetch_add(1, std::memory_order_relaxed);
      if (c.encrypt) c.tag_ready = true;
      return true;
    case DeviceResult::AuthFailed: {
      // GCM gives its output before final says whether the tag verified:
      // the plaintext (and the state a continuation needs) from software;
      // its final fails.
      process.counters().device_messages.fetch_add(1, std::memory_order_relaxed);
      process.counters().auth_failures.fetch_add(1, std::memory_order_relaxed);
      c.device_auth_failed = true;
      size_t n = 0;
      return start_software(c, std::nullopt, false) && (in.empty() || software_update(c, out, &n, in.data(), in.size()));
    }
    case DeviceResult::Software: {
      size_t n = 0;
      return start_software(c, reason, false) && (in.empty() || software_update(c, out, &n, in.data(), in.size()));
    }
    case DeviceResult::Failed: break;
  }
  process.counters().failed_messages.fetch_add(1, std::memory_order_relaxed);
  spdlog::error("{}", why);
  OFFLOAD_RAISE(*c.prov, process.attached() ? kReasonRequestFailed : kReasonBackendUnavailable, why);
  return false;
}

std::optional<SoftwareReason> device_refuses(const GcmCtx& c) {
  if (c.ivlen != kGcmIvBytes) return SoftwareReason::IvLength;
  if (!c.encrypt && !c.tag_set) return SoftwareReason::TagAfterData;
  if (!c.encrypt && c.taglen != kGcmTagBytes) return SoftwareReason::TagLength;
  return std::nullopt;
}

// --- the dispatch functions -------------------------------------------------

// The provider's context starts with its ProviderCtx (provider.cpp).
void* gcm_newctx(void* provctx) { return new (std::nothrow) GcmCtx(static_cast<ProviderCtx*>(provctx)); }

void gcm_freectx(void* vctx) { delete static_cast<GcmCtx*>(vctx); }

void* gcm_dupctx(void* vctx) {
  const auto* src = static_cast<const GcmCtx*>(vctx);
  auto* dst = new (std::nothrow) GcmCtx(*src);
  if (dst == nullptr) return nullptr;
  dst->software = nullptr;
  // The copy holds no device buffer (HeldBuffer's copy is empty): a copy of
  // its bytes instead.
  if (src->held.held()) dst->held_copy.assign(src->held.bytes().begin(), src->held.bytes().end());
  if (src->software != nullptr) {
    dst->software = EVP_CIPHER_CTX_new();
    if (dst->software == nullptr || EVP_CIPHER_CTX_copy(dst->software, src->software) != 1) {
      delete dst;
      return nullptr;
    }
  }
  return dst;
}

int gcm_set_ctx_params(void* vctx, const OSSL_PARAM params[]);

int gcm_init(void* vctx, const unsigned char* key, size_t keylen, const unsigned char* iv, size_t ivlen,
             const OSSL_PARAM params[], bool encrypt) {
  auto& c = *static_cast<GcmCtx*>(vctx);
  Process& process = process_of(c);
  c.encrypt = encrypt;
  if (!process.attached() && !process.config().fallback) {
    OFFLOAD_RAISE(*c.prov, kReasonBackendUnavailable,
                  process.attach_error() + " (fallback = no; with fallback = yes, or OFFLOAD_FALLBACK=yes, it would run in software)");
    return 0;
  }
  if (params != nullptr && gcm_set_ctx_params(vctx, params) != 1) return 0;
  if (key != nullptr) {
    if (keylen != kGcmKeyBytes) {
      OFFLOAD_RAISE(*c.prov, kReasonBadParameter, "AES-256-GCM takes a 32-byte key");
      return 0;
    }
    // Callers such as openssl speed pass the same key with every message.
    if (!c.key_set || CRYPTO_memcmp(c.key.data(), key, kGcmKeyBytes) != 0) c.key_memo = KeyIdMemo{};
    std::memcpy(c.key.data(), key, kGcmKeyBytes);
    c.key_set = true;
  }
  if (iv != nullptr) {
    if (ivlen != c.ivlen || ivlen == 0) {
      OFFLOAD_RAISE(*c.prov, kReasonBadParameter, "the IV's length is not the one set (AEAD_IVLEN)");
      return 0;
    }
    c.iv.assign(iv, iv + ivlen);
    c.iv_set = true;
  }
  begin_message(c);
  if (c.tls12 && c.key_set) return start_software(c, std::nullopt, false) ? 1 : 0;
  return 1;
}

int gcm_einit(void* vctx, const unsigned char* key, size_t keylen, const unsigned char* iv, size_t ivlen,
              const OSSL_PARAM params[]) {
  return gcm_init(vctx, key, keylen, iv, ivlen, params, true);
}

int gcm_dinit(void* vctx, const unsigned char* key, size_t keylen, const unsigned char* iv, size_t ivlen,
              const OSSL_PARAM params[]) {
  return gcm_init(vctx, key, keylen, iv, ivlen, params, false);
}

int gcm_update(void* vctx, unsigned char* out, size_t* outl, size_t outsize, const unsigned char* in, size_t inl) {
  auto& c = *static_cast<GcmCtx*>(vctx);
  *outl = 0;
  if (c.tls12 && out != nullptr) process_of(c).counters().count_software(SoftwareReason::Tls12);
  if (c.software != nullptr) return software_update(c, out, outl, in, inl) ? 1 : 0;
  if (!c.key_set || !c.iv_set) {
    OFFLOAD_RAISE(*c.prov, kReasonBadParameter, "no key or IV set");
    return 0;
  }
  if (out == nullptr) {  // AAD
    if (c.data_seen) {
      OFFLOAD_RAISE(*c.prov, kReasonBadParameter, "AAD after the data");
      return 0;
    }
    if (inl != 0) c.aad.insert(c.aad.end(), in, in + inl);
    return 1;
  }
  if (inl == 0) return 1;
  if (outsize < inl) {
    OFFLOAD_RAISE(*c.prov, kReasonBadParameter, "the output buffer is shorter than the input");
    return 0;
  }
  if (c.data_seen) {  // a second data update: a streamed message
    if (!start_software(c, SoftwareReason::Streamed, true)) return 0;
    return software_update(c, out, outl, in, inl) ? 1 : 0;
  }
  c.data_seen = true;
  if (const auto reason = device_refuses(c)) {
    if (!start_software(c, reason, false)) return 0;
    return software_update(c, out, outl, in, inl) ? 1 : 0;
  }
  // A decryption's input is copied first (`in` may be `out`): a device that
  // refuses its tag leaves no plaintext to continue from. An encryption's
  // device buffer is held instead (held).
  std::span<const std::uint8_t> input(in, inl);
  if (!c.encrypt) {
    c.first_chunk.assign(in, in + inl);
    input = c.first_chunk;
  }
  if (!device_message(c, out, input)) return 0;
  *outl = inl;
  return 1;
}

int gcm_final(void* vctx, unsigned char* out, size_t* outl, size_t /*outsize*/) {
  auto& c = *static_cast<GcmCtx*>(vctx);
  *outl = 0;
  if (c.software == nullptr && !c.data_seen) {
    // AAD only (GMAC): an empty message on the device.
    if (!c.key_set || !c.iv_set) {
      OFFLOAD_RAISE(*c.prov, kReasonBadParameter, "no key or IV set");
      return 0;
    }
    if (const auto reason = device_refuses(c)) {
      if (!start_software(c, reason, false)) return 0;
    } else if (!device_message(c, nullptr, {})) {
      return 0;
    }
  }
  int ok = 1;
  if (c.software != nullptr) {
    int n = 0;
    ok = EVP_CipherFinal_ex(c.software, out, &n);
    *outl = static_cast<size_t>(n);
    if (ok == 1 && c.encrypt) {
      ok = EVP_CIPHER_CTX_ctrl(c.software, EVP_CTRL_AEAD_GET_TAG, static_cast<int>(kGcmTagBytes), c.tag.data());
      c.tag_ready = ok == 1;
    }
  }
  end_message(c);
  return ok == 1 ? 1 : 0;
}

int gcm_cipher(void* vctx, unsigned char* out, size_t* outl, size_t outsize, const unsigned char* in, size_t inl) {
  auto& c = *static_cast<GcmCtx*>(vctx);
  if (c.tls12 && c.software != nullptr) {
    const int n = EVP_Cipher(c.software, out, in, static_cast<unsigned int>(inl));
    if (n < 0) return 0;
    *outl = static_cast<size_t>(n);
    return 1;
  }
  if (in == nullptr) return gcm_final(vctx, out, outl, outsize);
  return gcm_update(vctx, out, outl, outsize, in, inl);
}

int gcm_get_params(OSSL_PARAM params[]) {
  OSSL_PARAM* p = nullptr;
  if ((p = OSSL_PARAM_locate(params, OSSL_CIPHER_PARAM_MODE)) != nullptr && !OSSL_PARAM_set_uint(p, EVP_CIPH_GCM_MODE))
    return 0;
  if ((p = OSSL_PARAM_locate(params, OSSL_CIPHER_PARAM_KEYLEN)) != nullptr && !OSSL_PARAM_set_size_t(p, kGcmKeyBytes))
    return 0;
  if ((p = OSSL_PARAM_locate(params, OSSL_CIPHER_PARAM_IVLEN)) != nullptr && !OSSL_PARAM_set_size_t(p, kGcmIvBytes))
    return 0;
  if ((p = OSSL_PARAM_locate(params, OSSL_CIPHER_PARAM_BLOCK_SIZE)) != nullptr && !OSSL_PARAM_set_size_t(p, 1))
    return 0;
  for (const char* flag : {OSSL_CIPHER_PARAM_AEAD, OSSL_CIPHER_PARAM_CUSTOM_IV})
    if ((p = OSSL_PARAM_locate(params, flag)) != nullptr && !OSSL_PARAM_set_int(p, 1)) return 0;
  for (const char* flag : {OSSL_CIPHER_PARAM_CTS, OSSL_CIPHER_PARAM_TLS1_MULTIBLOCK, OSSL_CIPHER_PARAM_HAS_RAND_KEY})
    if ((p = OSSL_PARAM_locate(params, flag)) != nullptr && !OSSL_PARAM_set_int(p, 0)) return 0;
  return 1;
}

const OSSL_PARAM* gcm_gettable_params(void* /*provctx*/) {
  static const OSSL_PARAM table[] = {OSSL_PARAM_uint(OSSL_CIPHER_PARAM_MODE, nullptr),
                                     OSSL_PARAM_size_t(OSSL_CIPHER_PARAM_KEYLEN, nullptr),
                                     OSSL_PARAM_size_t(OSSL_CIPHER_PARAM_IVLEN, nullptr),
                                     OSSL_PARAM_size_t(OSSL_CIPHER_PARAM_BLOCK_SIZE, nullptr),
                                     OSSL_PARAM_int(OSSL_CIPHER_PARAM_AEAD, nullptr),
                                     OSSL_PARAM_int(OSSL_CIPHER_PARAM_CUSTOM_IV, nullptr),
                                     OSSL_PARAM_int(OSSL_CIPHER_PARAM_CTS, nullptr),
                                     OSSL_PARAM_int(OSSL_CIPHER_PARAM_TLS1_MULTIBLOCK, nullptr),
                                     OSSL_PARAM_int(OSSL_CIPHER_PARAM_HAS_RAND_KEY, nullptr),
                                     OSSL_PARAM_END};
  return table;
}

int gcm_get_ctx_params(void* vctx, OSSL_PARAM params[]) {
  auto& c = *static_cast<GcmCtx*>(vctx);
  if (c.tls12 && c.software != nullptr) return EVP_CIPHER_CTX_get_params(c.software, params);
  OSSL_PARAM* p = nullptr;
  if ((p = OSSL_PARAM_locate(params, OSSL_CIPHER_PARAM_IVLEN)) != nullptr && !OSSL_PARAM_set_size_t(p, c.ivlen))
    return 0;
  if ((p = OSSL_PARAM_locate(params, OSSL_CIPHER_PARAM_KEYLEN)) != nullptr && !OSSL_PARAM_set_size_t(p, kGcmKeyBytes))
    return 0;
  if ((p = OSSL_PARAM_locate(params, OSSL_CIPHER_PARAM_AEAD_TAGLEN)) != nullptr && !OSSL_PARAM_set_size_t(p, c.taglen))
    return 0;
  for (const char* name : {OSSL_CIPHER_PARAM_IV, OSSL_CIPHER_PARAM_UPDATED_IV}) {
    if ((p = OSSL_PARAM_locate(params, name)) == nullptr) continue;
    if (!c.iv_set || c.iv.size() > p->data_size) return 0;
    if (!OSSL_PARAM_set_octet_string(p, c.iv.data(), c.iv.size())) return 0;
  }
  if ((p = OSSL_PARAM_locate(params, OSSL_CIPHER_PARAM_AEAD_TAG)) != nullptr) {
    if (!c.encrypt || !c.tag_ready || p->data_type != OSSL_PARAM_OCTET_STRING || p->data_size == 0 ||
        p->data_size > kGcmTagBytes) {
      OFFLOAD_RAISE(*c.prov, kReasonBadParameter, "no tag to get (an encryption's tag comes after its final)");
      return 0;
    }
    std::memcpy(p->data, c.tag.data(), p->data_size);
  }
  if ((p = OSSL_PARAM_locate(params, OSSL_CIPHER_PARAM_RANDOM_KEY)) != nullptr) {
    if (p->data_type != OSSL_PARAM_OCTET_STRING || p->data_size != kGcmKeyBytes ||
        RAND_priv_bytes(static_cast<unsigned char*>(p->data), static_cast<int>(kGcmKeyBytes)) != 1)
      return 0;
  }
  return 1;
}

int gcm_set_ctx_params(void* vctx, const OSSL_PARAM params[]) {
  auto& c = *static_cast<GcmCtx*>(vctx);
  if (params == nullptr) return 1;
  const OSSL_PARAM* p = nullptr;
  // TLS 1.2's explicit-IV records: the default provider's implementation
  // does them, for the whole life of this context.
  for (const char* name : {OSSL_CIPHER_PARAM_AEAD_TLS1_AAD, OSSL_CIPHER_PARAM_AEAD_TLS1_IV_FIXED,
                           OSSL_CIPHER_PARAM_AEAD_TLS1_SET_IV_INV}) {
    if (OSSL_PARAM_locate_const(params, name) == nullptr || c.tls12) continue;
    c.tls12 = true;
    if (!start_software(c, std::nullopt, false)) return 0;  // its records are counted one by one
  }
  if (c.tls12 && c.software != nullptr) return EVP_CIPHER_CTX_set_params(c.software, params);
  if ((p = OSSL_PARAM_locate_const(params, OSSL_CIPHER_PARAM_AEAD_IVLEN)) != nullptr) {
    size_t len = 0;
    if (!OSSL_PARAM_get_size_t(p, &len) || len == 0 || len > 128) {
      OFFLOAD_RAISE(*c.prov, kReasonBadParameter, "bad IV length");
      return 0;
    }
    c.ivlen = len;
  }
  if ((p = OSSL_PARAM_locate_const(params, OSSL_CIPHER_PARAM_AEAD_TAG)) != nullptr) {
    if (p->data_type != OSSL_PARAM_OCTET_STRING || p->data_size == 0 || p->data_size > kGcmTagBytes) {
      OFFLOAD_RAISE(*c.prov, kReasonBadParameter, "a GCM tag is 1 to 16 bytes");
      return 0;
    }
    if (p->data != nullptr) {
      if (c.encrypt) {
        OFFLOAD_RAISE(*c.prov, kReasonBadParameter, "an encryption's tag cannot be set");
        return 0;
      }
      std::memcpy(c.tag.data(), p->data, p->data_size);
      c.tag_set = true;
      if (c.software != nullptr &&
          EVP_CIPHER_CTX_ctrl(c.software, EVP_CTRL_AEAD_SET_TAG, static_cast<int>(p->data_size), c.tag.data()) != 1)
        return 0;
    }
    c.taglen = p->data_size;
  }
  if ((p = OSSL_PARAM_locate_const(params, OSSL_CIPHER_PARAM_KEYLEN)) != nullptr) {
    size_t len = 0;
    if (!OSSL_PARAM_get_size_t(p, &len) || len != kGcmKeyBytes) {
      OFFLOAD_RAISE(*c.prov, kReasonBadParameter, "AES-256-GCM takes a 32-byte key");
      return 0;
    }
  }
  return 1;
}

const OSSL_PARAM* gcm_gettable_ctx_params(void* /*cctx*/, void* /*provctx*/) {
  static const OSSL_PARAM table[] = {OSSL_PARAM_size_t(OSSL_CIPHER_PARAM_KEYLEN, nullptr),
                                     OSSL_PARAM_size_t(OSSL_CIPHER_PARAM_IVLEN, nullptr),
                                     OSSL_PARAM_size_t(OSSL_CIPHER_PARAM_AEAD_TAGLEN, nullptr),
                                     OSSL_PARAM_octet_string(OSSL_CIPHER_PARAM_IV, nullptr, 0),
                                     OSSL_PARAM_octet_string(OSSL_CIPHER_PARAM_UPDATED_IV, nullptr, 0),
                                     OSSL_PARAM_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, nullptr, 0),
                                     OSSL_PARAM_octet_string(OSSL_CIPHER_PARAM_RANDOM_KEY, nullptr, 0),
                                     OSSL_PARAM_size_t(OSSL_CIPHER_PARAM_AEAD_TLS1_AAD_PAD, nullptr),
                                     OSSL_PARAM_octet_string(OSSL_CIPHER_PARAM_AEAD_TLS1_GET_IV_GEN, nullptr, 0),
                                     OSSL_PARAM_END};
  return table;
}

const OSSL_PARAM* gcm_settable_ctx_params(void* /*cctx*/, void* /*provctx*/) {
  static const OSSL_PARAM table[] = {OSSL_PARAM_size_t(OSSL_CIPHER_PARAM_KEYLEN, nullptr),
                                     OSSL_PARAM_size_t(OSSL_CIPHER_PARAM_AEAD_IVLEN, nullptr),
                                     OSSL_PARAM_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, nullptr, 0),
                                     OSSL_PARAM_octet_string(OSSL_CIPHER_PARAM_AEAD_TLS1_AAD, nullptr, 0),
                                     OSSL_PARAM_octet_string(OSSL_CIPHER_PARAM_AEAD_TLS1_IV_FIXED, nullptr, 0),
                                     OSSL_PARAM_octet_string(OSSL_CIPHER_PARAM_AEAD_TLS1_SET_IV_INV, nullptr, 0),
                                     OSSL_PARAM_END};
  return table;
}

}  // namespace

const OSSL_DISPATCH kAes256GcmFunctions[] = {
    {OSSL_FUNC_CIPHER_NEWCTX, dispatch_fn(gcm_newctx)},
    {OSSL_FUNC_CIPHER_FREECTX, dispatch_fn(gcm_freectx)},
    {OSSL_FUNC_CIPHER_DUPCTX, dispatch_fn(gcm_dupctx)},
    {OSSL_FUNC_CIPHER_ENCRYPT_INIT, dispatch_fn(gcm_einit)},
    {OSSL_FUNC_CIPHER_DECRYPT_INIT, dispatch_fn(gcm_dinit)},
    {OSSL_FUNC_CIPHER_UPDATE, dispatch_fn(gcm_update)},
    {OSSL_FUNC_CIPHER_FINAL, dispatch_fn(gcm_final)},
    {OSSL_FUNC_CIPHER_CIPHER, dispatch_fn(gcm_cipher)},
    {OSSL_FUNC_CIPHER_GET_PARAMS, dispatch_fn(gcm_get_params)},
    {OSSL_FUNC_CIPHER_GETTABLE_PARAMS, dispatch_fn(gcm_gettable_params)},
    {OSSL_FUNC_CIPHER_GET_CTX_PARAMS, dispatch_fn(gcm_get_ctx_params)},
    {OSSL_FUNC_CIPHER_SET_CTX_PARAMS, dispatch_fn(gcm_set_ctx_params)},
    {OSSL_FUNC_CIPHER_GETTABLE_CTX_PARAMS, dispatch_fn(gcm_gettable_ctx_params)},
    {OSSL_FUNC_CIPHER_SETTABLE_CTX_PARAMS, dispatch_fn(gcm_settable_ctx_params)},
    {0, nullptr}};

}  // namespace offload::provider
