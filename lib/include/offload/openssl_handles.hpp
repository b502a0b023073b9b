#pragma once
// RAII for the OpenSSL ASYNC handles the programs own.

#include <openssl/async.h>

#include <cstddef>
#include <memory>
#include <string>

namespace offload {

struct WaitCtxDeleter {
  void operator()(ASYNC_WAIT_CTX* ctx) const noexcept { ASYNC_WAIT_CTX_free(ctx); }
};
using WaitCtxPtr = std::unique_ptr<ASYNC_WAIT_CTX, WaitCtxDeleter>;

// ASYNC_WAIT_CTX_new, throwing std::bad_alloc on failure.
WaitCtxPtr make_wait_ctx();

// Per-thread ASYNC job pool: ASYNC_init_thread on construction and
// ASYNC_cleanup_thread on destruction (every job must have finished by then).
class AsyncThreadPool {
public:
  AsyncThreadPool(std::size_t max_jobs, std::size_t initial_jobs);
  AsyncThreadPool(const AsyncThreadPool&) = delete;
  AsyncThreadPool& operator=(const AsyncThreadPool&) = delete;
  ~AsyncThreadPool();
};

// The text of the most recent OpenSSL error on this thread's queue (and
// clears the queue), or "no OpenSSL error queued".
std::string take_openssl_error();

}  // namespace offload
