#include "callback_fence.hpp"

#include <unistd.h>

namespace offload::backend {

bool CallbackFence::close(std::chrono::milliseconds bound) noexcept {
  open_.store(false);
  for (long waited_us = 0; running_.load() != 0; waited_us += 100) {
    if (waited_us >= bound.count() * 1000) return false;
    ::usleep(100);
  }
  return true;
}

}  // namespace offload::backend
