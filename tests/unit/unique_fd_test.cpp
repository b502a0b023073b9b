#include "offload/unique_fd.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <utility>

namespace {

using offload::UniqueFd;

bool is_open(int fd) { return ::fcntl(fd, F_GETFD) != -1; }

bool is_closed(int fd) {
  errno = 0;
  return ::fcntl(fd, F_GETFD) == -1 && errno == EBADF;
}

// A plain fd the test owns, to hand to UniqueFd.
int new_fd() {
  const int fd = ::eventfd(0, EFD_CLOEXEC);
  EXPECT_GE(fd, 0);
  return fd;
}

TEST(UniqueFd, DefaultIsInvalid) {
  const UniqueFd fd;
  EXPECT_FALSE(fd.valid());
  EXPECT_FALSE(static_cast<bool>(fd));
  EXPECT_EQ(fd.get(), -1);
}

TEST(UniqueFd, ClosesOnDestruction) {
  const int raw = new_fd();
  {
    const UniqueFd fd(raw);
    EXPECT_TRUE(fd.valid());
    EXPECT_EQ(fd.get(), raw);
    EXPECT_TRUE(is_open(raw));
  }
  EXPECT_TRUE(is_closed(raw));
}

TEST(UniqueFd, MoveConstructionTransfersOwnership) {
  const int raw = new_fd();
  UniqueFd a(raw);
  {
    UniqueFd b(std::move(a));
    EXPECT_FALSE(a.valid());  // NOLINT(bugprone-use-after-move): the moved-from state is specified
    EXPECT_EQ(b.get(), raw);
    EXPECT_TRUE(is_open(raw));
  }
  EXPECT_TRUE(is_closed(raw));
}

TEST(UniqueFd, MoveAssignmentClosesTheOldFd) {
  const int first = new_fd();
  const int second = new_fd();
  UniqueFd a(first);
  UniqueFd b(second);
  a = std::move(b);
  EXPECT_TRUE(is_closed(first));
  EXPECT_TRUE(is_open(second));
  EXPECT_EQ(a.get(), second);
  EXPECT_FALSE(b.valid());  // NOLINT(bugprone-use-after-move)
}

TEST(UniqueFd, SelfMoveAssignmentKeepsTheFd) {
  const int raw = new_fd();
  UniqueFd a(raw);
  UniqueFd& alias = a;
  a = std::move(alias);
  EXPECT_EQ(a.get(), raw);
  EXPECT_TRUE(is_open(raw));
}

TEST(UniqueFd, ReleaseGivesUpOwnership) {
  const int raw = new_fd();
  int released = -1;
  {
    UniqueFd fd(raw);
    released = fd.release();
    EXPECT_FALSE(fd.valid());
    EXPECT_EQ(fd.get(), -1);
  }
  EXPECT_EQ(released, raw);
  EXPECT_TRUE(is_open(raw));  // the destructor did not close it
  ::close(raw);
}

TEST(UniqueFd, ResetClosesAndAdopts) {
  const int first = new_fd();
  const int second = new_fd();
  UniqueFd fd(first);
  fd.reset(second);
  EXPECT_TRUE(is_closed(first));
  EXPECT_TRUE(is_open(second));
  EXPECT_EQ(fd.get(), second);
  fd.reset();
  EXPECT_TRUE(is_closed(second));
  EXPECT_FALSE(fd.valid());
  fd.reset();  // resetting an empty one is harmless
  EXPECT_FALSE(fd.valid());
}

TEST(UniqueFd, MakeEventfdIsNonBlockingAndCloseOnExec) {
  const UniqueFd fd = offload::make_eventfd();
  ASSERT_TRUE(fd.valid());
  const int fd_flags = ::fcntl(fd.get(), F_GETFD);
  ASSERT_NE(fd_flags, -1);
  EXPECT_NE(fd_flags & FD_CLOEXEC, 0);
  const int fl_flags = ::fcntl(fd.get(), F_GETFL);
  ASSERT_NE(fl_flags, -1);
  EXPECT_NE(fl_flags & O_NONBLOCK, 0);
  // Non-blocking in practice: an unsignalled read fails at once with EAGAIN.
  std::uint64_t value = 0;
  errno = 0;
  EXPECT_EQ(::read(fd.get(), &value, sizeof value), -1);
  EXPECT_EQ(errno, EAGAIN);
}

TEST(UniqueFd, DrainOfAnUnsignalledEventfdIsZero) {
  const UniqueFd fd = offload::make_eventfd();
  EXPECT_EQ(offload::drain_eventfd(fd.get()), 0);
}

TEST(UniqueFd, SignalThenDrain) {
  const UniqueFd fd = offload::make_eventfd();
  ASSERT_TRUE(offload::signal_eventfd(fd.get()));
  EXPECT_EQ(offload::drain_eventfd(fd.get()), 1);
  EXPECT_EQ(offload::drain_eventfd(fd.get()), 0);  // the read cleared it
}

TEST(UniqueFd, DrainSumsSignals) {
  const UniqueFd fd = offload::make_eventfd();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(offload::signal_eventfd(fd.get()));
  EXPECT_EQ(offload::drain_eventfd(fd.get()), 3);
  EXPECT_EQ(offload::drain_eventfd(fd.get()), 0);
}

TEST(UniqueFd, SignalAndDrainReportErrorsOnABadFd) {
  int closed = new_fd();
  ::close(closed);
  errno = 0;
  EXPECT_FALSE(offload::signal_eventfd(closed));
  EXPECT_EQ(errno, EBADF);
  errno = 0;
  EXPECT_EQ(offload::drain_eventfd(closed), -1);
  EXPECT_EQ(errno, EBADF);
}

TEST(UniqueFd, DrainOfANonEventfdWithShortReadIsAnError) {
  int pipe_fds[2];
  ASSERT_EQ(::pipe2(pipe_fds, O_NONBLOCK | O_CLOEXEC), 0);
  const UniqueFd rd(pipe_fds[0]);
  const UniqueFd wr(pipe_fds[1]);
  const char one = 'x';
  ASSERT_EQ(::write(wr.get(), &one, 1), 1);
  EXPECT_EQ(offload::drain_eventfd(rd.get()), -1);
}

}  // namespace
