#pragma once
// A move-only owner of one file descriptor (after android-base's unique_fd).
// close() is not retried on EINTR: on Linux the fd is released either way.

#include <unistd.h>

#include <utility>

namespace offload {

class UniqueFd {
public:
  UniqueFd() noexcept = default;
  explicit UniqueFd(int fd) noexcept : fd_(fd) {}
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    reset(other.release());
    return *this;
  }
  ~UniqueFd() { reset(); }

  [[nodiscard]] int get() const noexcept { return fd_; }
  [[nodiscard]] bool valid() const noexcept { return fd_ >= 0; }
  explicit operator bool() const noexcept { return valid(); }

  // Gives up ownership; the caller must close the returned fd.
  [[nodiscard]] int release() noexcept { return std::exchange(fd_, -1); }

  void reset(int fd = -1) noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

private:
  int fd_ = -1;
};

// eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); throws std::system_error on failure.
UniqueFd make_eventfd();

// Adds one to an eventfd counter. Returns false (errno set) on failure.
bool signal_eventfd(int fd) noexcept;

// Reads and clears an eventfd counter. Returns the value read, 0 if it was
// not signalled (EAGAIN), or -1 on any other error (errno set).
long long drain_eventfd(int fd) noexcept;

}  // namespace offload
