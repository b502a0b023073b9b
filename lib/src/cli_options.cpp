#include <CLI/CLI.hpp>
#include "offload/cli_options.hpp"

#include <sched.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <string_view>

#include "offload/exit_codes.hpp"
#include "offload/logging.hpp"

namespace offload {
namespace {

// The shortest text that reads back as `v`: 60000, 0.001 (CLI::Range printed
// 60000.000000).
template <class T>
std::string shortest(T v) {
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, end) : std::to_string(v);
}

template <class T>
std::string range_text(T min, T max) {
  return shortest(min) + ".." + shortest(max);
}

// "0-3,6": the CPUs as taskset writes them.
std::string cpu_list_text(const std::vector<int>& cpus) {
  std::string out;
  for (std::size_t i = 0; i < cpus.size();) {
    std::size_t j = i;
    while (j + 1 < cpus.size() && cpus[j + 1] == cpus[j] + 1) ++j;
    if (!out.empty()) out += ',';
    out += std::to_string(cpus[i]);
    if (j > i) out += '-' + std::to_string(cpus[j]);
    i = j + 1;
  }
  return out;
}

std::string json_escape(std::string_view text) {
  std::string out;
  for (const char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out;
}

// --json given on the command line: scanned rather than read from the parse,
// so that an error anywhere in the parse still gets its JSON line.
bool json_requested(const CLI::App& app, int argc, char** argv) {
  if (app.get_option_no_throw("--json") == nullptr) return false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg(argv[i]);
    if (arg == "--") break;
    if (arg == "--json" || arg.rfind("--json=", 0) == 0) return true;
  }
  return false;
}

bool json_given(const CLI::App& app) {
  const CLI::Option* json = app.get_option_no_throw("--json");
  return json != nullptr && json->count() > 0;
}

void report_error(const std::string& app_name, bool json, const std::string& full_error, int exit_code) {
  const std::string error = clip_long_words(full_error);
  std::fprintf(stderr, "%s: error: %s\n", app_name.c_str(), error.c_str());
  if (exit_code == kExitUsage && error.find("--help") == std::string::npos)
    std::fprintf(stderr, "Run '%s --help' for the options.\n", app_name.c_str());
  if (json) {
    std::fputs((json_error_line(app_name, error, exit_code) + "\n").c_str(), stdout);
    std::fflush(stdout);
  }
}

}  // namespace

CLI::Validator integer_in(std::uint64_t min, std::uint64_t max) {
  const std::string range = range_text(min, max);
  return CLI::Validator(
      [min, max, range](std::string& text) -> std::string {
        std::uint64_t value = 0;
        const char* first = text.data();
        const char* last = first + text.size();
        const auto [end, ec] = std::from_chars(first, last, value, 10);
        if (text.empty() || ec != std::errc() || end != last || value < min || value > max)
          return "'" + text + "' is not an integer in " + range;
        // CLI11 converts with base 0: "010" would be 8.
        if (text.size() > 1 && text[0] == '0')
          return "'" + text + "' is not an integer in " + range + " (no leading zeros: octal or decimal?)";
        return {};
      },
      range);
}

CLI::Validator number_in(double min, double max) {
  const std::string range = range_text(min, max);
  return CLI::Validator(
      [min, max, range](std::string& text) -> std::string {
        double value = 0.0;
        const char* first = text.data();
        const char* last = first + text.size();
        const auto [end, ec] = std::from_chars(first, last, value);
        // nan passes every comparison-based range check: a nan delay made
        // threadsim spin and the backend never complete a request.
        if (text.empty() || ec != std::errc() || end != last || !std::isfinite(value) || value < min || value > max)
          return "'" + text + "' is not a number in " + range;
        return {};
      },
      range);
}

std::vector<int> allowed_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (sched_getaffinity(0, sizeof set, &set) != 0) return cpus;
  for (std::size_t cpu = 0; cpu < CPU_SETSIZE; ++cpu)
    if (CPU_ISSET(cpu, &set)) cpus.push_back(static_cast<int>(cpu));
  return cpus;
}

void add_lcore_option(CLI::App& app, int& lcore, const std::string& help) {
  app.add_option("--lcore", lcore, help)
      ->check(integer_in(0, 1023))
      ->check(CLI::Validator(
          [](std::string& text) -> std::string {
            const int cpu = std::stoi(text);  // integer_in checked it
            const auto cpus = allowed_cpus();
            if (cpus.empty() || std::find(cpus.begin(), cpus.end(), cpu) != cpus.end()) return {};
            return "CPU " + text + " is not one this process may run on (it may use " + cpu_list_text(cpus) + ")";
          },
          ""));
}

void add_jobs_option(CLI::App& app, std::uint32_t& jobs, std::uint32_t max_jobs) {
  app.add_option("--jobs,-j", jobs, "Number of ASYNC jobs to run")
      ->check(integer_in(1, max_jobs))
      ->capture_default_str();
}

void add_delay_option(CLI::App& app, double& delay_ms) {
  app.add_option("--delay-ms", delay_ms,
                 "Simulated device latency per request, in milliseconds (fractions allowed, e.g. 0.05)")
      ->check(number_in(0.0, 60000.0))
      ->capture_default_str();
}

void add_log_level_option(CLI::App& app, std::string& level) {
  app.add_option("--log-level", level, "Log verbosity on stderr (warn: only problems and the summary)")
      ->check(CLI::IsMember({kLogLevels[0], kLogLevels[1], kLogLevels[2], kLogLevels[3], kLogLevels[4], kLogLevels[5]}))
      ->capture_default_str();
}

void add_json_flag(CLI::App& app, bool& json) {
  app.add_flag("--json", json,
               "Print the run summary as one JSON line on stdout; a run that fails before its summary prints "
               "{\"program\",\"error\",\"exit_code\"} instead");
}

void add_common_options(CLI::App& app, CommonOptions& opts, std::uint32_t max_jobs) {
  add_jobs_option(app, opts.jobs, max_jobs);
  add_delay_option(app, opts.delay_ms);
  add_log_level_option(app, opts.log_level);
  add_json_flag(app, opts.json);
}

void add_delay_dist_options(CLI::App& app, DelayDistOptions& opts) {
  app.add_option("--delay-dist", opts.dist,
                 "Device latency distribution: fixed (= --delay-ms), uniform (--delay-ms-min..--delay-ms-max), "
                 "exp (exponential, mean --delay-ms)")
      ->check(CLI::IsMember({"fixed", "uniform", "exp"}))
      ->capture_default_str();
  app.add_option("--delay-ms-min", opts.min_ms, "Uniform latency: lower bound in ms (implies --delay-dist uniform)")
      ->check(number_in(0.0, 60000.0));
  app.add_option("--delay-ms-max", opts.max_ms, "Uniform latency: upper bound in ms (implies --delay-dist uniform)")
      ->check(number_in(0.0, 60000.0));
  app.add_option("--seed", opts.seed, "Seed of the random latencies (same seed, same latencies)")
      ->check(integer_in(0, UINT64_MAX))
      ->capture_default_str();
}

DelaySpec make_delay_spec(double delay_ms, const DelayDistOptions& opts) {
  DelaySpec spec;
  spec.mean_ms = delay_ms;
  const bool has_bounds = opts.min_ms >= 0.0 || opts.max_ms >= 0.0;
  if (opts.dist == "exp") {
    if (has_bounds) throw CLI::ValidationError("--delay-ms-min/--delay-ms-max", "only apply to --delay-dist uniform");
    spec.dist = DelayDist::Exponential;
  } else if (opts.dist == "uniform" || has_bounds) {
    if (opts.min_ms < 0.0 || opts.max_ms < 0.0)
      throw CLI::ValidationError("--delay-ms-min/--delay-ms-max", "a uniform latency needs both bounds");
    if (opts.min_ms > opts.max_ms)
      throw CLI::ValidationError("--delay-ms-min", "must not be larger than --delay-ms-max");
    spec.dist = DelayDist::Uniform;
    spec.min_ms = opts.min_ms;
    spec.max_ms = opts.max_ms;
    spec.mean_ms = (opts.min_ms + opts.max_ms) / 2.0;
  }
  return spec;
}

void add_payload_options(CLI::App& app, PayloadOptions& opts, std::size_t max_bytes, bool allow_empty) {
  auto* message = app.add_option("--message,-m", opts.message,
                                 "Text each job encrypts (1.." + std::to_string(max_bytes) + " bytes)")
                      ->capture_default_str();
  auto* payload = app.add_option("--payload", opts.payload_bytes,
                                 "Instead of --message: BYTES of generated data per job, different for every job")
                      ->check(integer_in(1, max_bytes));
  message->excludes(payload);
  // A job copies its message into a buffer of max_bytes: a longer one would
  // overrun it (the frontend's granted 4096-byte buffer, then the next
  // mempool object).
  message->check(CLI::Validator(
      [max_bytes, allow_empty](std::string& text) -> std::string {
        if (text.empty() && !allow_empty) return "must not be empty";
        if (text.size() > max_bytes)
          return "at most " + std::to_string(max_bytes) + " bytes (got " + std::to_string(text.size()) + ")";
        return {};
      },
      ""));
}

void add_timeout_option(CLI::App& app, std::uint64_t& timeout_ms) {
  app.add_option("--timeout-ms", timeout_ms,
                 "Bound on the whole run: on expiry, report the jobs still pending and exit 4 (0 = derived from the workload: "
                 "30 s + 2 x the waves of requests the device's engines take x the longest latency of one request)")
      ->check(integer_in(0, 86'400'000))
      ->capture_default_str();
}

void add_instance_option(CLI::App& app, std::string& instance, const std::string& help) {
  app.add_option("--instance", instance, help)
      ->check([](const std::string& name) -> std::string {
        if (name.empty() || name.size() > 32) return "instance name must be 1 to 32 characters";
        for (char c : name)
          if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_')
            return "instance name may contain only letters, digits, '-' and '_'";
        return {};
      })
      ->capture_default_str();
}

int run_program(const char* program, int argc, char** argv, const std::function<void(CLI::App&)>& define,
                const std::function<int()>& body) {
  CLI::App app{"", program};
  define(app);
  if (const int code = parse_cli(app, argc, argv); code >= 0) return code;
  return run_guarded(app, body);
}

int run_guarded(const CLI::App& app, const std::function<int()>& body) {
  const std::string& name = app.get_name();
  try {
    return body();
  } catch (const UsageError& e) {
    report_error(name, json_given(app), e.what(), kExitUsage);
    return kExitUsage;
  } catch (const EnvironmentError& e) {
    report_error(name, json_given(app), e.what(), kExitEnvironment);
    return kExitEnvironment;
  } catch (const std::exception& e) {
    report_error(name, json_given(app), e.what(), kExitInternal);
    return kExitInternal;
  }
}

int parse_cli(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
    return -1;
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    report_error(app.get_name(), json_requested(app, argc, argv), e.what(), kExitUsage);
    return kExitUsage;
  }
}

std::string clip_long_words(std::string_view error) {
  std::string out;
  out.reserve(std::min(error.size(), std::size_t{1024}));
  std::size_t i = 0;
  while (i < error.size()) {
    const bool blank = std::isspace(static_cast<unsigned char>(error[i])) != 0;
    std::size_t end = i;
    while (end < error.size() && (std::isspace(static_cast<unsigned char>(error[end])) != 0) == blank) ++end;
    const std::string_view run = error.substr(i, end - i);
    if (blank || run.size() <= kMaxEchoedWord) {
      out += run;
    } else {
      // Cut on a UTF-8 character boundary: the line stays valid text (and JSON).
      std::size_t kept = kKeptOfLongWord;
      while (kept > 0 && (static_cast<unsigned char>(run[kept]) & 0xC0u) == 0x80u) --kept;
      out += run.substr(0, kept);
      out += "… (" + std::to_string(run.size()) + " bytes)";
    }
    i = end;
  }
  return out;
}

std::string json_error_line(const std::string& app_name, const std::string& error, int exit_code) {
  std::string_view program(app_name);
  if (program.rfind("offload-", 0) == 0) program.remove_prefix(8);
  return "{\"program\":\"" + json_escape(program) + "\",\"error\":\"" + json_escape(error) +
         "\",\"exit_code\":" + std::to_string(exit_code) + "}";
}

}  // namespace offload
