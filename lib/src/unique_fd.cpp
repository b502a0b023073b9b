#include "offload/unique_fd.hpp"

#include <sys/eventfd.h>

#include <cerrno>
#include <cstdint>
#include <system_error>

namespace offload {

UniqueFd make_eventfd() {
  UniqueFd fd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!fd) throw std::system_error(errno, std::generic_category(), "eventfd");
  return fd;
}

bool signal_eventfd(int fd) noexcept {
  const std::uint64_t one = 1;
  return ::write(fd, &one, sizeof one) == static_cast<ssize_t>(sizeof one);
}

long long drain_eventfd(int fd) noexcept {
  std::uint64_t value = 0;
  const ssize_t n = ::read(fd, &value, sizeof value);
  if (n == static_cast<ssize_t>(sizeof value)) return static_cast<long long>(value);
  if (n < 0 && errno == EAGAIN) return 0;
  return -1;
}

}  // namespace offload
