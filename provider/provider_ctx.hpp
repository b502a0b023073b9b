#pragma once
// The provider's context (what OpenSSL hands back to every function of
// ours) and its errors, raised through the core so that the application's
// error queue names the provider.

#include <openssl/core.h>
#include <openssl/core_dispatch.h>

#include <string>

namespace offload::provider {

class Process;

enum Reason : int {
  kReasonBackendUnavailable = 1,
  kReasonRequestFailed = 2,
  kReasonAuthFailed = 3,
  kReasonBadParameter = 4,
  kReasonSoftwareFailed = 5,
};

struct ProviderCtx {
  const OSSL_CORE_HANDLE* handle = nullptr;
  Process* process = nullptr;
  OSSL_FUNC_core_new_error_fn* new_error = nullptr;
  OSSL_FUNC_core_set_error_debug_fn* set_error_debug = nullptr;
  OSSL_FUNC_core_vset_error_fn* vset_error = nullptr;
};

// An OSSL_DISPATCH entry's function: every entry is stored as a void (*)()
// and cast back by OpenSSL to the type its function id names.
using DispatchFn = void (*)();
template <class F>
DispatchFn dispatch_fn(F* f) {
  return reinterpret_cast<DispatchFn>(f);
}

// Raises `reason` with `detail` on the calling thread's error queue.
void raise_error(const ProviderCtx& ctx, int reason, const std::string& detail, const char* file, int line,
                 const char* func);

}  // namespace offload::provider

#define OFFLOAD_RAISE(ctx, reason, detail) ::offload::provider::raise_error((ctx), (reason), (detail), __FILE__, __LINE__, __func__)
