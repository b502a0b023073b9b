#include "offload/async_wait.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <system_error>

#include "offload/clock.hpp"

namespace offload {
namespace {

void close_wait_fd(ASYNC_WAIT_CTX* /*ctx*/, const void* /*key*/, OSSL_ASYNC_FD fd, void* /*custom*/) {
  ::close(fd);
}

}  // namespace

int job_wait_eventfd(const void* key) {
  ASYNC_JOB* job = ASYNC_get_current_job();
  if (job == nullptr) {
    errno = EINVAL;
    return -1;
  }
  ASYNC_WAIT_CTX* ctx = ASYNC_get_wait_ctx(job);
  if (ctx == nullptr) {  // a job started without a wait context has nowhere to publish an fd
    errno = EINVAL;
    return -1;
  }
  OSSL_ASYNC_FD fd = OSSL_BAD_ASYNC_FD;
  void* custom = nullptr;
  if (ASYNC_WAIT_CTX_get_fd(ctx, key, &fd, &custom) == 1 && fd != OSSL_BAD_ASYNC_FD) return fd;

  return add_wait_eventfd(ctx, key);
}

int add_wait_eventfd(ASYNC_WAIT_CTX* ctx, const void* key) {
  const int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) return -1;
  // The cleanup callback makes the wait context the fd's owner: it is closed
  // by ASYNC_WAIT_CTX_free, after the job that waits on it has finished.
  if (ASYNC_WAIT_CTX_set_wait_fd(ctx, key, fd, nullptr, close_wait_fd) != 1) {
    ::close(fd);
    errno = ENOMEM;
    return -1;
  }
  return fd;
}

AwaitResult await_eventfd(int fd, const std::atomic<bool>* cancel, std::uint64_t* spurious) {
  for (bool resumed = false;; resumed = true) {
    if (cancel != nullptr && cancel->load(std::memory_order_acquire)) return AwaitResult::Cancelled;
    const long long value = drain_eventfd(fd);
    if (value > 0) return AwaitResult::Signalled;
    if (value < 0) return AwaitResult::Error;
    // Nothing to read: the first wait, or a spurious resume. Both are
    // answered the same way, by handing control back to the event loop.
    if (resumed && spurious != nullptr) ++*spurious;
    if (ASYNC_pause_job() != 1) return AwaitResult::Error;
  }
}

JobEpoll::JobEpoll() : epfd_(::epoll_create1(EPOLL_CLOEXEC)), events_(256) {
  if (!epfd_) throw std::system_error(errno, std::generic_category(), "epoll_create1");
}

void JobEpoll::watch(int fd, void* token) {
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = token;
  if (::epoll_ctl(epfd_.get(), EPOLL_CTL_ADD, fd, &ev) == 0) return;
  if (errno == EEXIST && ::epoll_ctl(epfd_.get(), EPOLL_CTL_MOD, fd, &ev) == 0) return;
  throw std::system_error(errno, std::generic_category(), "epoll_ctl(ADD)");
}

void JobEpoll::unwatch(int fd) noexcept { ::epoll_ctl(epfd_.get(), EPOLL_CTL_DEL, fd, nullptr); }

void JobEpoll::watch_changed_fds(ASYNC_WAIT_CTX* ctx, void* token) {
  size_t num_add = 0;
  size_t num_del = 0;
  if (ASYNC_WAIT_CTX_get_changed_fds(ctx, nullptr, &num_add, nullptr, &num_del) != 1) return;
  if (num_add == 0 && num_del == 0) return;
  std::vector<OSSL_ASYNC_FD> added(num_add);
  std::vector<OSSL_ASYNC_FD> deleted(num_del);
  if (ASYNC_WAIT_CTX_get_changed_fds(ctx, added.data(), &num_add, deleted.data(), &num_del) != 1) return;
  for (OSSL_ASYNC_FD fd : deleted) unwatch(fd);
  for (OSSL_ASYNC_FD fd : added) watch(fd, token);
}

void JobEpoll::watch_all_fds(ASYNC_WAIT_CTX* ctx, void* token) {
  size_t n = 0;
  if (ASYNC_WAIT_CTX_get_all_fds(ctx, nullptr, &n) != 1 || n == 0) return;
  std::vector<OSSL_ASYNC_FD> fds(n);
  if (ASYNC_WAIT_CTX_get_all_fds(ctx, fds.data(), &n) != 1) return;
  for (OSSL_ASYNC_FD fd : fds) watch(fd, token);
}

void JobEpoll::unwatch_all_fds(ASYNC_WAIT_CTX* ctx) {
  size_t n = 0;
  if (ASYNC_WAIT_CTX_get_all_fds(ctx, nullptr, &n) != 1 || n == 0) return;
  std::vector<OSSL_ASYNC_FD> fds(n);
  if (ASYNC_WAIT_CTX_get_all_fds(ctx, fds.data(), &n) != 1) return;
  for (OSSL_ASYNC_FD fd : fds) unwatch(fd);
}

std::span<void* const> JobEpoll::wait(int timeout_ms) {
  return ready_tokens(::epoll_wait(epfd_.get(), events_.data(), static_cast<int>(events_.size()), timeout_ms),
                      "epoll_wait");
}

std::span<void* const> JobEpoll::wait_until(std::uint64_t deadline_ns) {
  const std::uint64_t now = monotonic_ns();
  const std::uint64_t left = deadline_ns > now ? deadline_ns - now : 0;
  const timespec timeout{static_cast<time_t>(left / 1'000'000'000), static_cast<long>(left % 1'000'000'000)};
  return ready_tokens(
      ::epoll_pwait2(epfd_.get(), events_.data(), static_cast<int>(events_.size()), &timeout, nullptr),
      "epoll_pwait2");
}

std::span<void* const> JobEpoll::ready_tokens(int n, const char* call) {
  ready_.clear();
  if (n < 0) {
    if (errno == EINTR) return {};
    throw std::system_error(errno, std::generic_category(), call);
  }
  for (int i = 0; i < n; ++i) ready_.push_back(events_[static_cast<size_t>(i)].data.ptr);
  return ready_;
}

}  // namespace offload
