#include "offload/stop_signals.hpp"

#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <thread>

namespace {

using offload::StopSignals;

// Each TEST runs in its own process (gtest_discover_tests + CTest), so the
// signal mask and dispositions changed here go no further.

TEST(StopSignals, ASignalSentToTheProcessWaitsUntilTaken) {
  StopSignals signals;
  EXPECT_EQ(signals.take(), 0);
  // Without the block the default action would end this test process.
  ASSERT_EQ(::kill(::getpid(), SIGTERM), 0);
  ASSERT_EQ(::kill(::getpid(), SIGINT), 0);
  const int first = signals.take();
  const int second = signals.take();
  EXPECT_TRUE((first == SIGINT && second == SIGTERM) || (first == SIGTERM && second == SIGINT))
      << first << ", " << second;
  EXPECT_EQ(signals.take(), 0);  // each taken once
}

TEST(StopSignals, ThreadsCreatedAfterwardsInheritTheBlock) {
  StopSignals signals;
  sigset_t mask;
  sigemptyset(&mask);
  std::thread([&] { ::pthread_sigmask(SIG_BLOCK, nullptr, &mask); }).join();
  EXPECT_EQ(sigismember(&mask, SIGINT), 1);
  EXPECT_EQ(sigismember(&mask, SIGTERM), 1);
  EXPECT_EQ(sigismember(&mask, SIGHUP), 1);
}

TEST(StopSignals, ASignalInheritedAsIgnoredStaysIgnored) {
  // As under nohup: a hangup must not stop the program.
  ::signal(SIGHUP, SIG_IGN);
  StopSignals signals;
  EXPECT_FALSE(signals.watches(SIGHUP));
  EXPECT_TRUE(signals.watches(SIGINT));
  ASSERT_EQ(::kill(::getpid(), SIGHUP), 0);
  EXPECT_EQ(signals.take(), 0);
  ASSERT_EQ(::raise(SIGINT), 0);
  EXPECT_EQ(signals.take(), SIGINT);
}

TEST(StopSignals, ExitCodesAreTheShellsForADeathBySignal) {
  EXPECT_EQ(StopSignals::exit_code(SIGINT), 130);
  EXPECT_EQ(StopSignals::exit_code(SIGTERM), 143);
  EXPECT_EQ(StopSignals::exit_code(SIGHUP), 129);
  EXPECT_STREQ(StopSignals::name(SIGTERM), "SIGTERM");
}

}  // namespace
