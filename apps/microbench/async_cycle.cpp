#include "async_cycle.hpp"

#include <openssl/async.h>

#include <stdexcept>

#include "offload/clock.hpp"
#include "offload/openssl_handles.hpp"

namespace offload::microbench {

namespace {

int pause_once(void* /*args*/) {
  return ASYNC_pause_job() == 1 ? 1 : 0;
}

void cycle(ASYNC_WAIT_CTX* ctx) {
  ASYNC_JOB* job = nullptr;
  int ret = 0;
  if (ASYNC_start_job(&job, ctx, &ret, pause_once, nullptr, 0) != ASYNC_PAUSE)
    throw std::runtime_error("ASYNC_start_job did not pause: " + take_openssl_error());
  if (ASYNC_start_job(&job, ctx, &ret, pause_once, nullptr, 0) != ASYNC_FINISH || ret != 1)
    throw std::runtime_error("ASYNC_start_job did not resume the job to its finish: " + take_openssl_error());
}

}  // namespace

double measure_async_cycle_ns(std::uint64_t iterations) {
  const AsyncThreadPool pool(1, 1);
  const WaitCtxPtr ctx = make_wait_ctx();
  for (std::uint64_t i = 0; i < iterations / 10 + 1; ++i) cycle(ctx.get());  // warm-up
  const std::uint64_t start = monotonic_ns();
  for (std::uint64_t i = 0; i < iterations; ++i) cycle(ctx.get());
  return static_cast<double>(monotonic_ns() - start) / static_cast<double>(iterations);
}

}  // namespace offload::microbench
