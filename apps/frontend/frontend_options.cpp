#include "frontend_options.hpp"

#include "offload/dpdk/instance.hpp"
#include "offload/protocol.hpp"

namespace offload::frontend {

void define_options(CLI::App& app, FrontendOptions& opts) {
  app.description(
      "The DPDK secondary of the two-process offload (seed 000, second program; seed 004's rte_mp IPC).\n"
      "Attaches to a running offload-backend's shared memory, registers with it and passes every\n"
      "job's eventfd over rte_mp (up to 8 fds per message, each batch acknowledged), then runs\n"
      "ASYNC jobs that enqueue a request and pause; an epoll loop resumes each job when the backend\n"
      "signals its eventfd, and the job verifies its own response.\n\n"
      "Raw EAL arguments may follow '--'.\n\n"
      "Exit codes: 0 all jobs verified, 1 some job failed, 2 bad flags, 3 no backend / environment,\n"
      "4 --timeout-ms expired, 5 the backend died mid-run.");
  app.add_option("--instance", opts.instance, "Instance name of the backend to attach to (its DPDK --file-prefix)")
      ->check([](const std::string& v) {
        try {
          dpdk::validate_instance_name(v);
          return std::string();
        } catch (const std::exception& e) {
          return std::string(e.what());
        }
      })
      ->capture_default_str();
  app.add_option("--lcore", opts.lcore, "CPU core of this process's EAL thread")->check(CLI::Range(0, 1023))->capture_default_str();
  add_jobs_option(app, opts.jobs, proto::kMaxJobsPerFrontend);
  add_payload_options(app, opts.payload, proto::kPayloadBufferBytes);
  add_timeout_option(app, opts.timeout_ms);
  add_json_flag(app, opts.json);
  add_log_level_option(app, opts.log_level);
}

}  // namespace offload::frontend
