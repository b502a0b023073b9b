#pragma once
// AES-256-GCM as an OpenSSL 3 cipher implementation: each message goes to
// the backend whole (one AAD, one data update, final: TLS 1.3 records and
// `openssl speed -aead`); what the device cannot take (a second data
// update, AAD over 64 bytes, a decryption's tag given after its data, ...)
// is done by the default provider, and counted.

#include <openssl/core_dispatch.h>

namespace offload::provider {

extern const OSSL_DISPATCH kAes256GcmFunctions[];

}  // namespace offload::provider
