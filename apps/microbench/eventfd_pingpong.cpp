#include "eventfd_pingpong.hpp"

#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <stdexcept>
#include <string>
#include <system_error>

#include "child_process.hpp"
#include "offload/clock.hpp"
#include "offload/unique_fd.hpp"

namespace offload::microbench {

namespace {

constexpr std::uint64_t kPingValue = 1;
constexpr std::uint64_t kStopValue = 2;
constexpr int kWaitMs = 1000;       // one wake takes microseconds; this only catches a lost peer
constexpr int kIdleWaitsAllowed = 5;  // the child gives up after this many empty waits in a row

UniqueFd make_epoll_for(int fd) {
  UniqueFd ep(epoll_create1(EPOLL_CLOEXEC));
  if (!ep) throw std::system_error(errno, std::generic_category(), "epoll_create1");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = fd;
  if (epoll_ctl(ep.get(), EPOLL_CTL_ADD, fd, &ev) != 0)
    throw std::system_error(errno, std::generic_category(), "epoll_ctl(ADD)");
  return ep;
}

// Blocks until `fd` (the only fd in `ep`) is readable, then reads it: the
// counter, or 0 if kWaitMs passed with nothing.
std::uint64_t wait_and_read(int ep, int fd) {
  epoll_event ev{};
  const int n = epoll_wait(ep, &ev, 1, kWaitMs);
  if (n < 0 && errno != EINTR) throw std::system_error(errno, std::generic_category(), "epoll_wait");
  if (n <= 0) return 0;
  std::uint64_t value = 0;
  if (::read(fd, &value, sizeof value) != static_cast<ssize_t>(sizeof value))
    throw std::system_error(errno, std::generic_category(), "read(eventfd)");
  return value;
}

void write_value(int fd, std::uint64_t value) {
  if (::write(fd, &value, sizeof value) != static_cast<ssize_t>(sizeof value))
    throw std::system_error(errno, std::generic_category(), "write(eventfd)");
}

int answer(int ping_fd, int pong_fd) {
  // The epoll instance is made here, after fork: one shared with the parent
  // would report the parent's readiness too.
  const UniqueFd ep = make_epoll_for(ping_fd);
  int idle = 0;
  for (;;) {
    const std::uint64_t value = wait_and_read(ep.get(), ping_fd);
    if (value == 0) {
      if (++idle >= kIdleWaitsAllowed) return kChildIdleTimeout;
      continue;
    }
    idle = 0;
    if (value == kStopValue) return 0;
    if (value != kPingValue) return kChildProtocolError;
    write_value(pong_fd, kPingValue);
  }
}

double ping_pong(int ep, int ping_fd, int pong_fd, std::uint64_t count) {
  const std::uint64_t start = monotonic_ns();
  for (std::uint64_t i = 0; i < count; ++i) {
    write_value(ping_fd, kPingValue);
    std::uint64_t got = 0;
    for (int tries = 0; got == 0; ++tries) {
      if (tries == 2) throw std::runtime_error("eventfd ping-pong: the child stopped answering for 2 s");
      got = wait_and_read(ep, pong_fd);
    }
    if (got != kPingValue) throw std::runtime_error("eventfd ping-pong: unexpected counter " + std::to_string(got));
  }
  return static_cast<double>(monotonic_ns() - start);
}

}  // namespace

EventfdResult measure_eventfd_wake(int child_cpu, std::uint64_t round_trips) {
  const UniqueFd ping = make_eventfd();  // parent -> child
  const UniqueFd pong = make_eventfd();  // child -> parent
  const int ping_fd = ping.get();
  const int pong_fd = pong.get();
  ChildProcess child(child_cpu, [ping_fd, pong_fd] { return answer(ping_fd, pong_fd); });
  const UniqueFd ep = make_epoll_for(pong_fd);

  ping_pong(ep.get(), ping_fd, pong_fd, round_trips / 10 + 1);  // warm-up, untimed
  EventfdResult result;
  result.round_trip_us = ping_pong(ep.get(), ping_fd, pong_fd, round_trips) / static_cast<double>(round_trips) / 1000.0;
  result.wake_us = result.round_trip_us / 2.0;

  write_value(ping_fd, kStopValue);
  child.wait_success(std::chrono::milliseconds(5000));
  return result;
}

double measure_eventfd_write_read_ns(std::uint64_t iterations) {
  const UniqueFd fd = make_eventfd();
  const std::uint64_t start = monotonic_ns();
  for (std::uint64_t i = 0; i < iterations; ++i) {
    write_value(fd.get(), kPingValue);
    std::uint64_t value = 0;
    if (::read(fd.get(), &value, sizeof value) != static_cast<ssize_t>(sizeof value))
      throw std::system_error(errno, std::generic_category(), "read(eventfd)");
  }
  return static_cast<double>(monotonic_ns() - start) / static_cast<double>(iterations);
}

}  // namespace offload::microbench
