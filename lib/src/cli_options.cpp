#include "offload/cli_options.hpp"

#include <cctype>
#include <cstdio>

#include "offload/exit_codes.hpp"
#include "offload/logging.hpp"

namespace offload {

void add_jobs_option(CLI::App& app, std::uint32_t& jobs, std::uint32_t max_jobs) {
  app.add_option("--jobs,-j", jobs, "Number of ASYNC jobs to run")
      ->check(CLI::Range(std::uint32_t{1}, max_jobs))
      ->capture_default_str();
}

void add_delay_option(CLI::App& app, double& delay_ms) {
  app.add_option("--delay-ms", delay_ms,
                 "Simulated device latency per request, in milliseconds (fractions allowed, e.g. 0.05)")
      ->check(CLI::Range(0.0, 60000.0))
      ->capture_default_str();
}

void add_log_level_option(CLI::App& app, std::string& level) {
  app.add_option("--log-level", level, "Log verbosity on stderr (warn: only problems and the summary)")
      ->check(CLI::IsMember({kLogLevels[0], kLogLevels[1], kLogLevels[2], kLogLevels[3], kLogLevels[4], kLogLevels[5]}))
      ->capture_default_str();
}

void add_json_flag(CLI::App& app, bool& json) {
  app.add_flag("--json", json, "Print the run summary as one JSON line on stdout");
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
      ->check(CLI::Range(0.0, 60000.0));
  app.add_option("--delay-ms-max", opts.max_ms, "Uniform latency: upper bound in ms (implies --delay-dist uniform)")
      ->check(CLI::Range(0.0, 60000.0));
  app.add_option("--seed", opts.seed, "Seed of the random latencies (same seed, same latencies)")
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

void add_payload_options(CLI::App& app, PayloadOptions& opts, std::size_t max_bytes) {
  auto* message = app.add_option("--message,-m", opts.message, "Text each job encrypts")->capture_default_str();
  auto* payload = app.add_option("--payload", opts.payload_bytes,
                                 "Instead of --message: BYTES of generated data per job, different for every job")
                      ->check(CLI::Range(std::size_t{1}, max_bytes));
  message->excludes(payload);
  message->check([](const std::string& text) { return text.empty() ? std::string("must not be empty") : std::string(); });
}

void add_timeout_option(CLI::App& app, std::uint64_t& timeout_ms) {
  app.add_option("--timeout-ms", timeout_ms,
                 "Bound on the whole run: on expiry, report the jobs still pending and exit 4 (0 = a default derived from the workload)")
      ->check(CLI::Range(std::uint64_t{0}, std::uint64_t{86'400'000}))
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

int run_guarded(const char* program, const std::function<int()>& body) {
  try {
    return body();
  } catch (const EnvironmentError& e) {
    std::fprintf(stderr, "%s: error: %s\n", program, e.what());
    return kExitEnvironment;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: error: %s\n", program, e.what());
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
    std::fprintf(stderr, "%s: error: %s\nRun '%s --help' for the options.\n", app.get_name().c_str(), e.what(),
                 app.get_name().c_str());
    return kExitUsage;
  }
}

}  // namespace offload
