// What a frontend or the backend says when a DPDK step overruns its bound:
// only what was observed, and a conclusion that follows from it.
#include <gtest/gtest.h>

#include <string>

#include "offload/dpdk/instance.hpp"

namespace offload::dpdk {
namespace {

InstanceObservation busy_lock_nobody_dead() {
  InstanceObservation seen;
  seen.primary_alive = true;
  seen.backend_pid = 4242;
  seen.lock_known = true;
  seen.lock_word = 0x4 | 0x1;  // one reader, a writer waiting
  seen.live_secondaries = {100, 101};
  return seen;
}

TEST(LockWord, DecodesDpdkRwlockCounter) {
  EXPECT_EQ(describe_lock_word(0), "free");
  EXPECT_EQ(describe_lock_word(0x2), "held by a writer");
  EXPECT_EQ(describe_lock_word(0x3), "held by a writer, a writer waiting");
  EXPECT_EQ(describe_lock_word(0xc), "held by 3 reader(s)");
  EXPECT_EQ(describe_lock_word(0xd), "held by 3 reader(s), a writer waiting");
  EXPECT_EQ(describe_lock_word(0x1), "not held, a writer waiting");
}

TEST(ExplainOverrun, BlamesNoDeathWhenNoneWasSeen) {
  const std::string msg = explain_overrun("DPDK clean-up", 8000, "inst", busy_lock_nobody_dead());
  EXPECT_NE(msg.find("DPDK clean-up did not finish within 8000 ms on instance 'inst'."), std::string::npos) << msg;
  EXPECT_NE(msg.find("the backend is running (pid 4242)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("held by 1 reader(s), a writer waiting"), std::string::npos) << msg;
  EXPECT_NE(msg.find("other DPDK processes attached: 100, 101"), std::string::npos) << msg;
  EXPECT_NE(msg.find("exited without DPDK's clean-up: none"), std::string::npos) << msg;
  EXPECT_NE(msg.find("No process is known to have died"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("died holding"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("If one of the processes that exited"), std::string::npos) << msg;
}

TEST(ExplainOverrun, NamesTheProcessesThatExitedWhenTheLockIsHeld) {
  auto seen = busy_lock_nobody_dead();
  seen.dead_secondaries = {77};
  const std::string msg = explain_overrun("DPDK start-up", 10000, "inst", seen);
  EXPECT_NE(msg.find("exited without DPDK's clean-up: 77."), std::string::npos) << msg;
  EXPECT_NE(msg.find("If one of the processes that exited held the lock"), std::string::npos) << msg;
  EXPECT_NE(msg.find("restart the instance"), std::string::npos) << msg;
}

TEST(ExplainOverrun, AFreeLockPointsElsewhere) {
  auto seen = busy_lock_nobody_dead();
  seen.lock_word = 0;
  const std::string msg = explain_overrun("DPDK start-up", 10000, "inst", seen);
  EXPECT_NE(msg.find("lock is free"), std::string::npos) << msg;
  EXPECT_NE(msg.find("DPDK waited on something else"), std::string::npos) << msg;
}

TEST(ExplainOverrun, AGoneBackendSaysToStartIt) {
  InstanceObservation seen;
  const std::string msg = explain_overrun("DPDK start-up", 10000, "inst", seen);
  EXPECT_NE(msg.find("the backend is gone"), std::string::npos) << msg;
  EXPECT_NE(msg.find("lock is unreadable"), std::string::npos) << msg;
  EXPECT_NE(msg.find("offload-backend --instance inst"), std::string::npos) << msg;
}

}  // namespace
}  // namespace offload::dpdk
