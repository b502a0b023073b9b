// The EAL arguments each role starts with: the backend (primary) serves the
// instance's DPDK telemetry, frontends (secondaries) never do.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "offload/dpdk/eal.hpp"

namespace offload::dpdk {
namespace {

bool has(const std::vector<std::string>& args, const std::string& arg) {
  return std::find(args.begin(), args.end(), arg) != args.end();
}

TEST(BuildEalArgs, ThePrimaryServesTelemetry) {
  const auto args = build_eal_args("offload-backend", EalConfig{ProcessRole::Primary, "tel1", 1, "warning", {}});
  EXPECT_FALSE(has(args, "--no-telemetry"));
  EXPECT_TRUE(has(args, "--proc-type=primary"));
  EXPECT_TRUE(has(args, "--file-prefix=tel1"));
}

TEST(BuildEalArgs, SecondariesKeepTelemetryOff) {
  const auto args = build_eal_args("offload-frontend", EalConfig{ProcessRole::Secondary, "tel1", 0, "warning", {}});
  EXPECT_TRUE(has(args, "--no-telemetry"));
  EXPECT_TRUE(has(args, "--proc-type=secondary"));
}

TEST(BuildEalArgs, RawArgumentsComeLastSoThatTheyMayTurnTelemetryOff) {
  const auto args =
      build_eal_args("offload-backend", EalConfig{ProcessRole::Primary, "tel1", 1, "warning", {"--no-telemetry"}});
  ASSERT_FALSE(args.empty());
  EXPECT_EQ(args.back(), "--no-telemetry");
}

}  // namespace
}  // namespace offload::dpdk
