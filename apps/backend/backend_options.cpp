#include "backend_options.hpp"

#include <unistd.h>

#include "offload/protocol.hpp"

namespace offload::backend {

void define_options(CLI::App& app, BackendOptions& opts) {
  app.description(
      "The DPDK primary of the two-process offload (seed 000, second program; seed 004's rte_mp IPC).\n"
      "Creates the shared request/payload mempools and per-frontend rings in hugepage memory,\n"
      "registers the rte_mp actions through which frontends register and pass their job eventfds,\n"
      "then serves requests: applies the simulated cipher after the device latency and signals\n"
      "each job's eventfd. Stops cleanly on SIGINT/SIGTERM (runtime dir and hugepage files removed).\n\n"
      "Raw EAL arguments may follow '--', e.g.: offload-backend --instance demo -- --socket-mem=256\n\n"
      "Exit codes: 0 stopped cleanly, 2 bad flags, 3 environment (hugepages, instance already running).");
  add_instance_option(app, opts.instance, "Instance name: the DPDK --file-prefix frontends attach to");
  app.add_option("--lcore", opts.lcore, "CPU core the backend polls on (default: the last core)")
      ->check(CLI::Range(0, 1023));
  add_delay_option(app, opts.delay_ms);
  add_delay_dist_options(app, opts.delay_dist);
  app.add_option("--engines", opts.engines, "Parallel device engines; a request waits while all are busy (0 = unlimited)")
      ->check(CLI::Range(0u, 1u << 20))
      ->capture_default_str();
  app.add_option("--queue-depth", opts.queue_depth, "Capacity of each frontend's request ring")
      ->check(CLI::Range(8u, 65536u))
      ->capture_default_str();
  app.add_option("--pool-size", opts.pool_size, "Objects in each mempool (requests, payload buffers)")
      ->check(CLI::Range(64u, 1u << 20))
      ->capture_default_str();
  app.add_option("--idle-sleep-us", opts.idle_sleep_us,
                 "Longest sleep of the polling loop when idle (busy polling while there is work)")
      ->check(CLI::Range(0u, 100000u))
      ->capture_default_str();
  add_log_level_option(app, opts.log_level);

  app.callback([&opts] {
    opts.delay = make_delay_spec(opts.delay_ms, opts.delay_dist);
    if (opts.lcore < 0) {
      const long cores = sysconf(_SC_NPROCESSORS_ONLN);
      opts.lcore = cores > 1 ? static_cast<int>(cores - 1) : 0;
    }
  });
}

}  // namespace offload::backend
