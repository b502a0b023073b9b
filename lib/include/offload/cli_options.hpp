#pragma once
// Command-line options that more than one program accepts, defined once so
// they have one spelling, one default and one validation everywhere.


#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "offload/device_model.hpp"

// CLI11 (header-only, slow to compile) is included only where apps are
// built and parsed: the options' .cpp files, the mains, the tests.
namespace CLI {
class App;
class Validator;
}  // namespace CLI

namespace offload {

// Validators for every numeric option, so that a bad value is told what was
// expected ("'abc' is not an integer in 1..65536"), whatever the option.
// integer_in: decimal digits only (no sign, no 0x, no leading zero: CLI11
// would read "010" as octal).
// number_in: a finite decimal number (nan and inf are refused, as is "1e999").
CLI::Validator integer_in(std::uint64_t min, std::uint64_t max);
CLI::Validator number_in(double min, double max);

// The CPUs this process may run on (sched_getaffinity), ascending.
std::vector<int> allowed_cpus();
// --lcore CPU: must be one of allowed_cpus() (DPDK would refuse it later with
// a page of usage text).
void add_lcore_option(CLI::App& app, int& lcore, const std::string& help);

struct CommonOptions {
  std::uint32_t jobs = 8;
  double delay_ms = 100.0;
  std::string log_level = "info";
  bool json = false;
};

struct PayloadOptions {
  std::string message = "ASYNC-OK";
  std::size_t payload_bytes = 0;  // 0: use `message`
};

// --jobs (1..max_jobs), --delay-ms (0..60000, fractional), --log-level, --json.
void add_common_options(CLI::App& app, CommonOptions& opts, std::uint32_t max_jobs);

// The pieces add_common_options is made of, for programs that need only some.
void add_jobs_option(CLI::App& app, std::uint32_t& jobs, std::uint32_t max_jobs);
void add_delay_option(CLI::App& app, double& delay_ms);
void add_log_level_option(CLI::App& app, std::string& level);
void add_json_flag(CLI::App& app, bool& json);

// The rest of the device's timing model, beside --delay-ms:
// --delay-dist fixed|uniform|exp, --delay-ms-min/--delay-ms-max, --seed.
struct DelayDistOptions {
  std::string dist = "fixed";
  double min_ms = -1.0;  // unset
  double max_ms = -1.0;  // unset
  std::uint64_t seed = 1;
};
void add_delay_dist_options(CLI::App& app, DelayDistOptions& opts);
// Combines --delay-ms with the options above; throws CLI::ValidationError on
// an inconsistent set (e.g. min > max). Setting min/max implies uniform.
DelaySpec make_delay_spec(double delay_ms, const DelayDistOptions& opts);

// --message TEXT (1..max_bytes bytes) | --payload BYTES (1..max_bytes);
// mutually exclusive. max_bytes is the buffer each job's payload is copied to.
// `allow_empty`: --message '' is a message of 0 bytes (AES-GCM's empty
// message), else refused.
void add_payload_options(CLI::App& app, PayloadOptions& opts, std::size_t max_bytes, bool allow_empty = false);

// --timeout-ms (0 = no bound): a bound on the whole run.
void add_timeout_option(CLI::App& app, std::uint64_t& timeout_ms);

// --instance NAME: the DPDK --file-prefix shared by a backend and its
// frontends; 1..32 of [A-Za-z0-9_-] (a path component and a file prefix).
void add_instance_option(CLI::App& app, std::string& instance, const std::string& help);

// The CLI11 parse for every program's main(): returns -1 when parsing
// succeeded, else the exit code to return (0 for --help/--version, kExitUsage
// after one "error: ..." line and a hint for anything else). With --json on
// the command line the error is also one JSON line on stdout (see
// print_json_error).
int parse_cli(CLI::App& app, int argc, char** argv);

// Runs a program's body (after parse_cli) and turns what escapes it into one
// "<program>: error: ..." line and an exit code: UsageError → 2,
// EnvironmentError → 3, anything else → 70; with --json, also one JSON line
// on stdout.
int run_guarded(const CLI::App& app, const std::function<int()>& body);

// A program's whole main(): a CLI::App named `program`, its options added by
// `define`, parse_cli, then `body` under run_guarded. (The mains need not
// compile CLI11 themselves.)
int run_program(const char* program, int argc, char** argv, const std::function<void(CLI::App&)>& define,
                const std::function<int()>& body);

// `error` with every run of non-blank characters longer than kMaxEchoedWord
// cut to its first kKeptOfLongWord and "… (N bytes)": a mistyped
// argument of megabytes (a file's content, a runaway $(...)) is named, not
// printed back whole on one line. Paths and numbers of any usual length stay.
inline constexpr std::size_t kMaxEchoedWord = 128;
inline constexpr std::size_t kKeptOfLongWord = 48;
std::string clip_long_words(std::string_view error);

// {"program":"frontend","error":"...","exit_code":3}: what a --json run that
// fails before its summary prints on stdout, so that `--json | jq` always has
// one line to read. `program` is the app's name without "offload-".
std::string json_error_line(const std::string& app_name, const std::string& error, int exit_code);

}  // namespace offload
