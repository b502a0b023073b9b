// The provider's entry point: OSSL_provider_init reads its configuration,
// attaches to the backend (once per process) and offers AES-256-GCM.

#include <fmt/format.h>
#include <openssl/core.h>
#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/params.h>

#include <cstdarg>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>

#include "gcm_cipher.hpp"
#include "process.hpp"
#include "provider_ctx.hpp"

namespace offload::provider {
namespace {

// vset_error takes a va_list: a variadic function builds one.
void set_error(const ProviderCtx& ctx, int reason, const char* fmt, ...) {
  va_list args;
  va_start(args, fmt);
  ctx.vset_error(ctx.handle, static_cast<uint32_t>(reason), fmt, args);
  va_end(args);
}

}  // namespace

void raise_error(const ProviderCtx& ctx, int reason, const std::string& detail, const char* file, int line,
                 const char* func) {
  if (ctx.new_error == nullptr || ctx.vset_error == nullptr) return;
  ctx.new_error(ctx.handle);
  if (ctx.set_error_debug != nullptr) ctx.set_error_debug(ctx.handle, file, line, func);
  set_error(ctx, reason, "%s", detail.c_str());
}

namespace {

// DPDK's EAL starts once per process: every library context that loads
// the provider shares one Process.
std::mutex g_process_mutex;
std::weak_ptr<Process> g_process;

struct LoadedProvider {
  ProviderCtx ctx;
  std::shared_ptr<Process> process;
};

const OSSL_ALGORITHM kCiphers[] = {
    {"AES-256-GCM:id-aes256-GCM:2.16.840.1.101.3.4.1.46", "provider=offload", kAes256GcmFunctions,
     "AES-256-GCM through the async-offload-lab backend"},
    {nullptr, nullptr, nullptr, nullptr}};

const OSSL_ITEM kReasons[] = {
    {kReasonBackendUnavailable, const_cast<char*>("offload backend unavailable")},
    {kReasonRequestFailed, const_cast<char*>("offload request failed")},
    {kReasonAuthFailed, const_cast<char*>("tag mismatch")},
    {kReasonBadParameter, const_cast<char*>("bad parameter")},
    {kReasonSoftwareFailed, const_cast<char*>("software AES-GCM failed")},
    {0, nullptr}};

const OSSL_ALGORITHM* query_operation(void* /*provctx*/, int operation_id, int* no_cache) {
  *no_cache = 0;
  return operation_id == OSSL_OP_CIPHER ? kCiphers : nullptr;
}

const OSSL_ITEM* get_reason_strings(void* /*provctx*/) { return kReasons; }

// Counters beside the standard parameters: what ran where.
constexpr const char* kParamDeviceMessages = "offload-device-messages";
constexpr const char* kParamSoftwareMessages = "offload-software-messages";
constexpr const char* kParamFailedMessages = "offload-failed-messages";
constexpr const char* kParamAttached = "offload-attached";

const OSSL_PARAM* gettable_params(void* /*provctx*/) {
  static const OSSL_PARAM table[] = {OSSL_PARAM_utf8_ptr(OSSL_PROV_PARAM_NAME, nullptr, 0),
                                     OSSL_PARAM_utf8_ptr(OSSL_PROV_PARAM_VERSION, nullptr, 0),
                                     OSSL_PARAM_utf8_ptr(OSSL_PROV_PARAM_BUILDINFO, nullptr, 0),
                                     OSSL_PARAM_int(OSSL_PROV_PARAM_STATUS, nullptr),
                                     OSSL_PARAM_uint64(kParamDeviceMessages, nullptr),
                                     OSSL_PARAM_uint64(kParamSoftwareMessages, nullptr),
                                     OSSL_PARAM_uint64(kParamFailedMessages, nullptr),
                                     OSSL_PARAM_int(kParamAttached, nullptr),
                                     OSSL_PARAM_END};
  return table;
}

int get_params(void* provctx, OSSL_PARAM params[]) {
  auto& p = *static_cast<LoadedProvider*>(provctx);
  Counters& c = p.process->counters();
  OSSL_PARAM* q = nullptr;
  if ((q = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_NAME)) && !OSSL_PARAM_set_utf8_ptr(q, "async-offload-lab offload"))
    return 0;
  if ((q = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_VERSION)) && !OSSL_PARAM_set_utf8_ptr(q, "0.1.0")) return 0;
  if ((q = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_BUILDINFO)) &&
      !OSSL_PARAM_set_utf8_ptr(q, "AES-256-GCM over DPDK rte_ring/rte_mp to offload-backend"))
    return 0;
  if ((q = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_STATUS)) && !OSSL_PARAM_set_int(q, 1)) return 0;
  if ((q = OSSL_PARAM_locate(params, kParamDeviceMessages)) && !OSSL_PARAM_set_uint64(q, c.device_messages.load()))
    return 0;
  if ((q = OSSL_PARAM_locate(params, kParamSoftwareMessages)) && !OSSL_PARAM_set_uint64(q, c.software_total()))
    return 0;
  if ((q = OSSL_PARAM_locate(params, kParamFailedMessages)) && !OSSL_PARAM_set_uint64(q, c.failed_messages.load()))
    return 0;
  if ((q = OSSL_PARAM_locate(params, kParamAttached)) && !OSSL_PARAM_set_int(q, p.process->attached() ? 1 : 0))
    return 0;
  return 1;
}

void teardown(void* provctx) { delete static_cast<LoadedProvider*>(provctx); }

const OSSL_DISPATCH kProviderFunctions[] = {{OSSL_FUNC_PROVIDER_TEARDOWN, dispatch_fn(teardown)},
                                            {OSSL_FUNC_PROVIDER_GETTABLE_PARAMS, dispatch_fn(gettable_params)},
                                            {OSSL_FUNC_PROVIDER_GET_PARAMS, dispatch_fn(get_params)},
                                            {OSSL_FUNC_PROVIDER_QUERY_OPERATION, dispatch_fn(query_operation)},
                                            {OSSL_FUNC_PROVIDER_GET_REASON_STRINGS, dispatch_fn(get_reason_strings)},
                                            {0, nullptr}};

// A configuration value, strictly: a value that is not what its key takes
// is an error naming the key (in Config::error), never a silent default.
class ConfigReader {
public:
  explicit ConfigReader(Config& config) : config_(config) {}

  // `value` of `key` (the config file's key, or the environment variable),
  // if set: the later one wins.
  void instance(const char* value) {
    if (value != nullptr && *value != '\0') config_.instance = value;
  }
  void fallback(const char* key, const char* value) {
    if (value == nullptr || *value == '\0') return;
    const std::string v(value);
    if (v == "yes" || v == "1" || v == "true" || v == "on")
      config_.fallback = true;
    else if (v == "no" || v == "0" || v == "false" || v == "off")
      config_.fallback = false;
    else
      fail(key, value, "yes or no");
  }
  void log_level(const char* key, const char* value) {
    if (value == nullptr || *value == '\0') return;
    const std::string v(value);
    for (const char* level : {"trace", "debug", "info", "warning", "warn", "error", "critical", "off"})
      if (v == level) {
        config_.log_level = v;
        return;
      }
    fail(key, value, "trace, debug, info, warning, error, critical or off");
  }
  template <class T>
  void number(const char* key, const char* value, T& out, unsigned long long max) {
    if (value == nullptr) return;
    const std::string v(value);
    // Digits only: strtoull would take "-1" as 2^64 - 1 and "abc" as 0.
    if (v.empty() || v.size() > 9 || v.find_first_not_of("0123456789") != std::string::npos ||
        std::stoull(v) > max)
      return fail(key, value, fmt::format("a whole number in 0..{}", max));
    out = static_cast<T>(std::stoull(v));
  }

private:
  void fail(const char* key, const char* value, const std::string& expected) {
    if (!config_.error.empty()) return;  // the first one says it
    config_.error = fmt::format("offload provider: {} is '{}', not {}: fix the provider's configuration", key, value,
                                expected);
  }
  Config& config_;
};

// The bounds of the numbers: an lcore DPDK accepts, a request bound of at
// most an hour (in nanoseconds it must not overflow).
constexpr unsigned long long kMaxLcore = 1023;
constexpr unsigned long long kMaxTimeoutMs = 3'600'000;

// The provider's section of the configuration, then the environment
// (OFFLOAD_INSTANCE, OFFLOAD_FALLBACK, OFFLOAD_LOG_LEVEL, OFFLOAD_TIMEOUT_MS),
// which wins: one configuration file serves every instance.
Config read_config(const OSSL_CORE_HANDLE* handle, OSSL_FUNC_core_get_params_fn* core_get_params) {
  Config config;
  char* instance = nullptr;
  char* fallback = nullptr;
  char* log_level = nullptr;
  char* lcore = nullptr;
  char* timeout_ms = nullptr;
  OSSL_PARAM params[] = {OSSL_PARAM_utf8_ptr("instance", &instance, 0),
                         OSSL_PARAM_utf8_ptr("fallback", &fallback, 0),
                         OSSL_PARAM_utf8_ptr("log_level", &log_level, 0),
                         OSSL_PARAM_utf8_ptr("lcore", &lcore, 0),
                         OSSL_PARAM_utf8_ptr("timeout_ms", &timeout_ms, 0),
                         OSSL_PARAM_END};
  if (core_get_params != nullptr) core_get_params(handle, params);
  ConfigReader read(config);
  read.instance(instance);
  read.fallback("fallback", fallback);
  read.log_level("log_level", log_level);
  read.number("lcore", lcore, config.lcore, kMaxLcore);
  read.number("timeout_ms", timeout_ms, config.timeout_ms, kMaxTimeoutMs);
  read.instance(std::getenv("OFFLOAD_INSTANCE"));
  read.fallback("OFFLOAD_FALLBACK", std::getenv("OFFLOAD_FALLBACK"));
  read.log_level("OFFLOAD_LOG_LEVEL", std::getenv("OFFLOAD_LOG_LEVEL"));
  if (const char* v = std::getenv("OFFLOAD_TIMEOUT_MS"); v != nullptr && *v != '\0')  // empty: unset, as the others
    read.number("OFFLOAD_TIMEOUT_MS", v, config.timeout_ms, kMaxTimeoutMs);
  // A configuration that cannot be trusted runs nothing, in software neither.
  if (!config.error.empty()) config.fallback = false;
  return config;
}

}  // namespace
}  // namespace offload::provider

extern "C" __attribute__((visibility("default"))) int OSSL_provider_init(const OSSL_CORE_HANDLE* handle,
                                                                         const OSSL_DISPATCH* in,
                                                                         const OSSL_DISPATCH** out, void** provctx) {
  using namespace offload::provider;
  auto loaded = std::make_unique<LoadedProvider>();
  loaded->ctx.handle = handle;
  OSSL_FUNC_core_get_params_fn* core_get_params = nullptr;
  for (; in->function_id != 0; ++in) {
    switch (in->function_id) {
      case OSSL_FUNC_CORE_GET_PARAMS: core_get_params = OSSL_FUNC_core_get_params(in); break;
      case OSSL_FUNC_CORE_NEW_ERROR: loaded->ctx.new_error = OSSL_FUNC_core_new_error(in); break;
      case OSSL_FUNC_CORE_SET_ERROR_DEBUG: loaded->ctx.set_error_debug = OSSL_FUNC_core_set_error_debug(in); break;
      case OSSL_FUNC_CORE_VSET_ERROR: loaded->ctx.vset_error = OSSL_FUNC_core_vset_error(in); break;
      default: break;
    }
  }
  try {
    const std::lock_guard lock(g_process_mutex);
    loaded->process = g_process.lock();
    if (!loaded->process) {
      loaded->process = std::make_shared<Process>(read_config(handle, core_get_params));
      g_process = loaded->process;
    }
  } catch (const std::exception&) {
    return 0;
  }
  loaded->ctx.process = loaded->process.get();
  *out = kProviderFunctions;
  // OpenSSL hands this back to every function: the cipher contexts get the
  // ProviderCtx, which is the struct's first member.
  *provctx = loaded.release();
  return 1;
}
