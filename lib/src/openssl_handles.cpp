#include "offload/openssl_handles.hpp"

#include <openssl/err.h>

#include <array>
#include <new>
#include <stdexcept>

namespace offload {

WaitCtxPtr make_wait_ctx() {
  WaitCtxPtr ctx(ASYNC_WAIT_CTX_new());
  if (!ctx) throw std::bad_alloc();
  return ctx;
}

AsyncThreadPool::AsyncThreadPool(std::size_t max_jobs, std::size_t initial_jobs) {
  if (ASYNC_init_thread(max_jobs, initial_jobs) != 1)
    throw std::runtime_error("ASYNC_init_thread(" + std::to_string(max_jobs) + ") failed: " + take_openssl_error());
}

AsyncThreadPool::~AsyncThreadPool() { ASYNC_cleanup_thread(); }

std::string take_openssl_error() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "no OpenSSL error queued";
  std::array<char, 256> text{};
  ERR_error_string_n(code, text.data(), text.size());
  return text.data();
}

}  // namespace offload
