#include <CLI/CLI.hpp>
#include "offload/cli_options.hpp"

#include <gtest/gtest.h>

#include <gmock/gmock.h>

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <vector>

#include "offload/exit_codes.hpp"

namespace {

using offload::kExitUsage;
using testing::HasSubstr;

// parse_cli on "prog args...", with a writable argv as main() gets it.
int parse_args(CLI::App& app, std::initializer_list<const char*> args) {
  std::vector<std::string> storage{"prog"};
  for (const char* a : args) storage.emplace_back(a);
  std::vector<char*> argv;
  for (auto& s : storage) argv.push_back(s.data());
  argv.push_back(nullptr);
  return offload::parse_cli(app, static_cast<int>(storage.size()), argv.data());
}

// The message CLI11 gives for `args` (what parse_cli prints after "error: "),
// or "" if they parse.
std::string error_of(CLI::App& app, std::initializer_list<const char*> args) {
  std::vector<std::string> storage{"prog"};
  for (const char* a : args) storage.emplace_back(a);
  std::vector<char*> argv;
  for (auto& s : storage) argv.push_back(s.data());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& e) {
    return e.what();
  }
  return {};
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
  std::string error(std::initializer_list<const char*> args) { return error_of(app, args); }
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

// CLI11's own words were "Value abc not in range", and ranges of floating
// options printed as 0.000000.
TEST(CliOptions, BadNumbersSayWhatWasExpected) {
  EXPECT_EQ(Cli().error({"--jobs", "abc"}), "--jobs: 'abc' is not an integer in 1..1024");
  EXPECT_EQ(Cli().error({"--jobs", "1025"}), "--jobs: '1025' is not an integer in 1..1024");
  EXPECT_EQ(Cli().error({"--jobs", "2.5"}), "--jobs: '2.5' is not an integer in 1..1024");
  EXPECT_EQ(Cli().error({"--jobs", "0x10"}), "--jobs: '0x10' is not an integer in 1..1024");
  EXPECT_EQ(Cli().error({"--delay-ms", "abc"}), "--delay-ms: 'abc' is not a number in 0..60000");
  EXPECT_EQ(Cli().error({"--delay-ms=-1"}), "--delay-ms: '-1' is not a number in 0..60000");
  EXPECT_EQ(Cli().error({"--payload", "1048577"}), "--payload: '1048577' is not an integer in 1..1048576");
  EXPECT_EQ(Cli().error({"--timeout-ms", "1e3"}), "--timeout-ms: '1e3' is not an integer in 0..86400000");
}

// nan passes every comparison-based range check: a nan delay made threadsim
// spin a core and the backend never complete a request.
TEST(CliOptions, NonFiniteNumbersAreUsageErrors) {
  for (const char* bad : {"nan", "NaN", "-nan", "inf", "-inf", "infinity", "1e999"}) {
    Cli cli;
    EXPECT_EQ(cli.parse({"--delay-ms", bad}), kExitUsage) << bad;
    EXPECT_EQ(Cli().error({"--delay-ms", bad}), std::string("--delay-ms: '") + bad + "' is not a number in 0..60000");
  }
}

TEST(CliOptions, IntegersAreDecimal) {
  // CLI11 alone read "010" as octal 8.
  EXPECT_EQ(Cli().error({"--jobs", "010"}),
            "--jobs: '010' is not an integer in 1..1024 (no leading zeros: octal or decimal?)");
  Cli zero;
  ASSERT_EQ(zero.parse({"--timeout-ms", "0"}), -1);
  EXPECT_EQ(zero.timeout_ms, 0u);
}

TEST(CliOptions, HelpPrintsRangesPlainly) {
  Cli cli;
  const std::string help = cli.app.help();
  EXPECT_THAT(help, HasSubstr("0..60000"));
  EXPECT_THAT(help, HasSubstr("1..1024"));
  EXPECT_THAT(help, testing::Not(HasSubstr("0.000000")));
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

// A job copies --message into a buffer of the payload limit (the frontend's
// 4096-byte granted buffer): a longer message overwrote the next mempool
// object.
TEST(CliOptions, MessageLongerThanTheBufferIsAUsageError) {
  CLI::App app{"offload unit test", "prog"};
  offload::PayloadOptions payload;
  offload::add_payload_options(app, payload, 4096);
  const std::string fits(4096, 'A');
  const std::string too_long(4097, 'A');
  EXPECT_EQ(error_of(app, {"--message", fits.c_str()}), "");
  EXPECT_EQ(payload.message, fits);
  CLI::App app2{"offload unit test", "prog"};
  offload::add_payload_options(app2, payload, 4096);
  EXPECT_EQ(error_of(app2, {"--message", too_long.c_str()}), "--message: at most 4096 bytes (got 4097)");
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

TEST(DelaySpecOptions, NonFiniteBoundsAndMeansAreUsageErrors) {
  DelayCli nan_min;
  EXPECT_EQ(error_of(nan_min.app, {"--delay-ms-min", "nan", "--delay-ms-max", "5"}),
            "--delay-ms-min: 'nan' is not a number in 0..60000");
  DelayCli inf_max;
  EXPECT_EQ(inf_max.parse({"--delay-ms-min", "1", "--delay-ms-max", "inf"}), kExitUsage);
  DelayCli exp_nan;
  EXPECT_EQ(exp_nan.parse({"--delay-dist", "exp", "--delay-ms", "NaN"}), kExitUsage);
  DelayCli bad_seed;
  EXPECT_EQ(error_of(bad_seed.app, {"--seed", "-1"}), "--seed: '-1' is not an integer in 0..18446744073709551615");
}

// --lcore must name a CPU this process may run on: DPDK refused it later with
// a page of usage on stdout and exit 3.
TEST(LcoreOption, ACpuOutsideTheAffinityMaskIsAUsageError) {
  const auto cpus = offload::allowed_cpus();
  ASSERT_FALSE(cpus.empty());
  CLI::App ok{"offload unit test", "prog"};
  int lcore = -1;
  offload::add_lcore_option(ok, lcore, "core");
  const std::string allowed = std::to_string(cpus.front());
  EXPECT_EQ(error_of(ok, {"--lcore", allowed.c_str()}), "");
  EXPECT_EQ(lcore, cpus.front());
  if (cpus.back() < 1023) {
    CLI::App bad{"offload unit test", "prog"};
    offload::add_lcore_option(bad, lcore, "core");
    EXPECT_THAT(error_of(bad, {"--lcore", "1023"}),
                HasSubstr("--lcore: CPU 1023 is not one this process may run on (it may use "));
  }
  CLI::App out_of_range{"offload unit test", "prog"};
  offload::add_lcore_option(out_of_range, lcore, "core");
  EXPECT_EQ(error_of(out_of_range, {"--lcore", "1024"}), "--lcore: '1024' is not an integer in 0..1023");
}

// With --json, a failed run prints one JSON line on stdout: `--json | jq`
// saw nothing at all.
TEST(JsonErrors, AParseErrorWithJsonPrintsOneJsonLine) {
  Cli cli;
  cli.app.name("offload-threadsim");
  testing::internal::CaptureStdout();
  testing::internal::CaptureStderr();
  EXPECT_EQ(cli.parse({"--json", "--jobs", "abc"}), kExitUsage);
  const std::string out = testing::internal::GetCapturedStdout();
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(out,
            "{\"program\":\"threadsim\",\"error\":\"--jobs: 'abc' is not an integer in 1..1024\",\"exit_code\":2}\n");
  EXPECT_THAT(err, HasSubstr("offload-threadsim: error: --jobs: 'abc' is not an integer in 1..1024"));
}

// A value of 5000 digits was echoed whole, on stderr and in the JSON line.
TEST(JsonErrors, AHugeValueIsNamedNotEchoedWhole) {
  Cli cli;
  cli.app.name("offload-threadsim");
  const std::string huge(5000, '9');
  testing::internal::CaptureStdout();
  testing::internal::CaptureStderr();
  EXPECT_EQ(cli.parse({"--json", "--jobs", huge.c_str()}), kExitUsage);
  const std::string out = testing::internal::GetCapturedStdout();
  const std::string err = testing::internal::GetCapturedStderr();
  const std::string named = "--jobs: '" + std::string(47, '9') + "… (5002 bytes) is not an integer in 1..1024";
  EXPECT_THAT(err, HasSubstr("offload-threadsim: error: " + named + "\n"));
  EXPECT_LT(err.size(), 300U);
  EXPECT_EQ(out, "{\"program\":\"threadsim\",\"error\":\"" + named + "\",\"exit_code\":2}\n");
}

TEST(ClipLongWords, KeepsUsualWordsAndBlanks) {
  const std::string path = "/mnt/" + std::string(120, 'p');  // 125: kept whole
  EXPECT_EQ(offload::clip_long_words("--huge-dir " + path + ":  no such\tdirectory"),
            "--huge-dir " + path + ":  no such\tdirectory");
  EXPECT_EQ(offload::clip_long_words(""), "");
  EXPECT_EQ(offload::clip_long_words(std::string(128, 'x')), std::string(128, 'x'));
  EXPECT_EQ(offload::clip_long_words(std::string(129, 'x') + " end"), std::string(48, 'x') + "… (129 bytes) end");
}

TEST(ClipLongWords, CutsOnACharacterBoundary) {
  // 'é' is two bytes: a cut at byte 48 would split the 24th.
  std::string accents;
  for (int i = 0; i < 100; ++i) accents += "é";
  EXPECT_EQ(offload::clip_long_words("x" + accents), "x" + accents.substr(0, 46) + "… (201 bytes)");
}

TEST(JsonErrors, WithoutJsonStdoutStaysEmpty) {
  Cli cli;
  testing::internal::CaptureStdout();
  testing::internal::CaptureStderr();
  EXPECT_EQ(cli.parse({"--jobs", "abc"}), kExitUsage);
  EXPECT_EQ(testing::internal::GetCapturedStdout(), "");
  (void)testing::internal::GetCapturedStderr();
}

TEST(JsonErrors, RunGuardedMapsEachErrorToItsCodeAndJsonLine) {
  Cli cli;
  cli.app.name("offload-frontend");
  ASSERT_EQ(cli.parse({"--json"}), -1);
  const struct {
    std::function<int()> body;
    int code;
  } cases[] = {
      {[]() -> int { throw offload::UsageError("bad EAL argument"); }, offload::kExitUsage},
      {[]() -> int { throw offload::EnvironmentError("no \"backend\""); }, offload::kExitEnvironment},
      {[]() -> int { throw std::runtime_error("a bug"); }, offload::kExitInternal},
  };
  for (const auto& c : cases) {
    testing::internal::CaptureStdout();
    testing::internal::CaptureStderr();
    EXPECT_EQ(offload::run_guarded(cli.app, c.body), c.code);
    const std::string out = testing::internal::GetCapturedStdout();
    (void)testing::internal::GetCapturedStderr();
    EXPECT_THAT(out, HasSubstr("{\"program\":\"frontend\",\"error\":\""));
    EXPECT_THAT(out, HasSubstr("\"exit_code\":" + std::to_string(c.code) + "}\n"));
  }
  EXPECT_EQ(offload::json_error_line("offload-frontend", "no \"backend\"\n", 3),
            "{\"program\":\"frontend\",\"error\":\"no \\\"backend\\\"\\n\",\"exit_code\":3}");
}

}  // namespace
