#include <CLI/CLI.hpp>
#include "threadsim_options.hpp"

#include <algorithm>

namespace offload::threadsim {

void define_options(CLI::App& app, ThreadsimOptions& opts) {
  app.description(
      "Runs OpenSSL ASYNC jobs against a simulated accelerator made of threads (seed 000).\n"
      "Each job submits its payload to the device, registers an eventfd in its ASYNC_WAIT_CTX and\n"
      "pauses; an epoll loop resumes the job when the device signals the fd; the job verifies\n"
      "its result (decrypting gives the input back).\n\n"
      "Exit codes: 0 all jobs verified, 1 some job failed, 2 bad flags, 3 environment (e.g. too few\n"
      "file descriptors), 4 --timeout-ms expired, 70 an internal error (a bug).");
  opts.common.delay_ms = 100.0;
  add_common_options(app, opts.common, kMaxJobs);
  add_delay_dist_options(app, opts.delay_dist);
  add_payload_options(app, opts.payload, kMaxPayloadBytes);
  app.add_option("--fail-job", opts.fail_job,
                 "Make the device report an error for job K (0-based): that job fails, the others succeed, exit 1")
      ->check(integer_in(0, kMaxJobs - 1));
  app.add_option("--device-threads", opts.device_threads, "Device threads completing requests (a pool, not one per job)")
      ->check(integer_in(1, 64))
      ->capture_default_str();
  app.add_option("--engines", opts.engines,
                 "Parallel device engines; a request waits while all are busy (0 = unlimited)")
      ->check(integer_in(0, 1u << 20))
      ->capture_default_str();
  app.add_option("--inflight", opts.inflight, "Jobs in flight at once (0 = min(--jobs, 1024))")
      ->check(integer_in(0, kMaxJobs))
      ->capture_default_str();
  add_timeout_option(app, opts.timeout_ms);
  app.add_flag("--spurious-resumes", opts.spurious_resumes,
               "Resume every job once more before its device signal, to show that a job tolerates spurious resumes");

  app.callback([&opts] {
    opts.delay = make_delay_spec(opts.common.delay_ms, opts.delay_dist);
    if (opts.fail_job && *opts.fail_job >= opts.common.jobs)
      throw CLI::ValidationError("--fail-job", "job " + std::to_string(*opts.fail_job) + " does not exist: jobs are 0.." +
                                                   std::to_string(opts.common.jobs - 1));
    if (opts.inflight == 0) opts.inflight = std::min<std::uint32_t>(opts.common.jobs, 1024);
    opts.inflight = std::min(opts.inflight, opts.common.jobs);
  });
}

}  // namespace offload::threadsim
