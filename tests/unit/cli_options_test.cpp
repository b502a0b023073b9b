#include "offload/cli_options.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "offload/exit_codes.hpp"

namespace {

using offload::kExitUsage;

// parse_cli on "prog args...", with a writable argv as main() gets it.
int parse_args(CLI::App& app, std::initializer_list<const char*> args) {
  std::vector<std::string> storage{"prog"};
  for (const char* a : args) storage.emplace_back(a);
  std::vector<char*> argv;
  for (auto& s : storage) argv.push_back(s.data());
  argv.push_back(nullptr);
  return offload::parse_cli(app, static_cast<int>(storage.size()), argv.data());
}

// One program's options, wired the way every main() wires them.
struct Cli {
  CLI::App app{"offload unit test", "prog"};
  offload::CommonOptions common;
  offload::PayloadOptions payload;
  std::uint64_t timeout_ms = 0;

  Cli() {
    offload::add_common_options(app, common, 1024);
    offload::add_payload_options(app, payload, 1 << 20);
    offload::add_timeout_option(app, timeout_ms);
  }

  int parse(std::initializer_list<const char*> args) { return parse_args(app, args); }
};

TEST(CliOptions, NoFlagsKeepTheDefaults) {
  Cli cli;
  EXPECT_EQ(cli.parse({}), -1);
  EXPECT_EQ(cli.common.jobs, 8u);
  EXPECT_EQ(cli.common.delay_ms, 100.0);
  EXPECT_EQ(cli.common.log_level, "info");
  EXPECT_FALSE(cli.common.json);
  EXPECT_EQ(cli.payload.message, "ASYNC-OK");
  EXPECT_EQ(cli.payload.payload_bytes, 0u);
  EXPECT_EQ(cli.timeout_ms, 0u);
}

TEST(CliOptions, ValidFlagsSetTheFields) {
  Cli cli;
  EXPECT_EQ(cli.parse({"--jobs", "64", "--delay-ms", "2.5", "--log-level", "debug", "--json", "--message", "hello",
                       "--timeout-ms", "5000"}),
            -1);
  EXPECT_EQ(cli.common.jobs, 64u);
  EXPECT_DOUBLE_EQ(cli.common.delay_ms, 2.5);
  EXPECT_EQ(cli.common.log_level, "debug");
  EXPECT_TRUE(cli.common.json);
  EXPECT_EQ(cli.payload.message, "hello");
  EXPECT_EQ(cli.payload.payload_bytes, 0u);
  EXPECT_EQ(cli.timeout_ms, 5000u);
}

TEST(CliOptions, ShortFlagsAndPayload) {
  Cli cli;
  EXPECT_EQ(cli.parse({"-j", "3", "--payload", "4096"}), -1);
  EXPECT_EQ(cli.common.jobs, 3u);
  EXPECT_EQ(cli.payload.payload_bytes, 4096u);
}

TEST(CliOptions, RangeEndsAreAccepted) {
  Cli cli;
  EXPECT_EQ(cli.parse({"--jobs", "1024", "--delay-ms", "0", "--payload", "1", "--timeout-ms", "86400000"}), -1);
  EXPECT_EQ(cli.common.jobs, 1024u);
  EXPECT_EQ(cli.common.delay_ms, 0.0);
  EXPECT_EQ(cli.payload.payload_bytes, 1u);
  EXPECT_EQ(cli.timeout_ms, 86'400'000u);
}

TEST(CliOptions, FractionalDelayIsAccepted) {
  Cli cli;
  EXPECT_EQ(cli.parse({"--delay-ms", "0.05"}), -1);
  EXPECT_DOUBLE_EQ(cli.common.delay_ms, 0.05);
}

TEST(CliOptions, ZeroJobsIsAUsageError) {
  Cli cli;
  EXPECT_EQ(cli.parse({"--jobs", "0"}), kExitUsage);
}

TEST(CliOptions, TooManyJobsIsAUsageError) {
  Cli cli;
  EXPECT_EQ(cli.parse({"--jobs", "1025"}), kExitUsage);
}

TEST(CliOptions, NonNumericJobsIsAUsageError) {
  Cli cli;
  EXPECT_EQ(cli.parse({"--jobs", "abc"}), kExitUsage);
}

TEST(CliOptions, NegativeJobsIsAUsageError) {
  Cli cli;
  EXPECT_EQ(cli.parse({"--jobs=-1"}), kExitUsage);
}

TEST(CliOptions, NegativeDelayIsAUsageError) {
  Cli cli;
  EXPECT_EQ(cli.parse({"--delay-ms", "-1"}), kExitUsage);
  Cli joined;
  EXPECT_EQ(joined.parse({"--delay-ms=-1"}), kExitUsage);
}

TEST(CliOptions, DelayAboveAMinuteIsAUsageError) {
  Cli cli;
  EXPECT_EQ(cli.parse({"--delay-ms", "60000.5"}), kExitUsage);
}

TEST(CliOptions, UnknownFlagIsAUsageError) {
  Cli cli;
  EXPECT_EQ(cli.parse({"--no-such-flag"}), kExitUsage);
}

TEST(CliOptions, StrayPositionalIsAUsageError) {
  Cli cli;
  EXPECT_EQ(cli.parse({"extra"}), kExitUsage);
}

TEST(CliOptions, UnknownLogLevelIsAUsageError) {
  Cli cli;
  EXPECT_EQ(cli.parse({"--log-level", "verbose"}), kExitUsage);
}

TEST(CliOptions, MessageAndPayloadAreMutuallyExclusive) {
  Cli cli;
  EXPECT_EQ(cli.parse({"--message", "x", "--payload", "5"}), kExitUsage);
  Cli reversed;
  EXPECT_EQ(reversed.parse({"--payload", "5", "--message", "x"}), kExitUsage);
}

TEST(CliOptions, EmptyMessageIsAUsageError) {
  Cli cli;
  EXPECT_EQ(cli.parse({"--message", ""}), kExitUsage);
}

TEST(CliOptions, PayloadOutOfRangeIsAUsageError) {
  Cli zero;
  EXPECT_EQ(zero.parse({"--payload", "0"}), kExitUsage);
  Cli huge;
  EXPECT_EQ(huge.parse({"--payload", "1048577"}), kExitUsage);
}

TEST(CliOptions, MissingValueIsAUsageError) {
  Cli cli;
  EXPECT_EQ(cli.parse({"--jobs"}), kExitUsage);
}

TEST(CliOptions, HelpExitsZero) {
  Cli cli;
  EXPECT_EQ(cli.parse({"--help"}), 0);
}

struct DelayCli {
  CLI::App app{"offload unit test", "prog"};
  double delay_ms = 100.0;
  offload::DelayDistOptions dist;

  DelayCli() {
    offload::add_delay_option(app, delay_ms);
    offload::add_delay_dist_options(app, dist);
  }

  int parse(std::initializer_list<const char*> args) { return parse_args(app, args); }
};

TEST(DelaySpecOptions, DefaultIsFixedDelay) {
  DelayCli cli;
  ASSERT_EQ(cli.parse({"--delay-ms", "20"}), -1);
  const offload::DelaySpec spec = offload::make_delay_spec(cli.delay_ms, cli.dist);
  EXPECT_EQ(spec.dist, offload::DelayDist::Fixed);
  EXPECT_EQ(spec.mean_ms, 20.0);
  EXPECT_EQ(cli.dist.seed, 1u);
}

TEST(DelaySpecOptions, ExponentialUsesDelayAsMean) {
  DelayCli cli;
  ASSERT_EQ(cli.parse({"--delay-dist", "exp", "--delay-ms", "2", "--seed", "99"}), -1);
  const offload::DelaySpec spec = offload::make_delay_spec(cli.delay_ms, cli.dist);
  EXPECT_EQ(spec.dist, offload::DelayDist::Exponential);
  EXPECT_EQ(spec.mean_ms, 2.0);
  EXPECT_EQ(cli.dist.seed, 99u);
}

TEST(DelaySpecOptions, BoundsImplyUniform) {
  DelayCli cli;
  ASSERT_EQ(cli.parse({"--delay-ms-min", "1", "--delay-ms-max", "3"}), -1);
  const offload::DelaySpec spec = offload::make_delay_spec(cli.delay_ms, cli.dist);
  EXPECT_EQ(spec.dist, offload::DelayDist::Uniform);
  EXPECT_EQ(spec.min_ms, 1.0);
  EXPECT_EQ(spec.max_ms, 3.0);
  EXPECT_EQ(spec.mean_ms, 2.0);
}

TEST(DelaySpecOptions, InconsistentSetsAreRejected) {
  offload::DelayDistOptions min_above_max;
  min_above_max.dist = "uniform";
  min_above_max.min_ms = 5.0;
  min_above_max.max_ms = 1.0;
  EXPECT_THROW((void)offload::make_delay_spec(1.0, min_above_max), CLI::ValidationError);

  offload::DelayDistOptions one_bound;
  one_bound.min_ms = 1.0;
  EXPECT_THROW((void)offload::make_delay_spec(1.0, one_bound), CLI::ValidationError);

  offload::DelayDistOptions uniform_without_bounds;
  uniform_without_bounds.dist = "uniform";
  EXPECT_THROW((void)offload::make_delay_spec(1.0, uniform_without_bounds), CLI::ValidationError);

  offload::DelayDistOptions exp_with_bounds;
  exp_with_bounds.dist = "exp";
  exp_with_bounds.min_ms = 0.0;
  exp_with_bounds.max_ms = 1.0;
  EXPECT_THROW((void)offload::make_delay_spec(1.0, exp_with_bounds), CLI::ValidationError);
}

TEST(DelaySpecOptions, BadFlagsAreUsageErrors) {
  DelayCli unknown_dist;
  EXPECT_EQ(unknown_dist.parse({"--delay-dist", "normal"}), kExitUsage);
  DelayCli negative_bound;
  EXPECT_EQ(negative_bound.parse({"--delay-ms-min=-1"}), kExitUsage);
}

}  // namespace
