#include <CLI/CLI.hpp>
#include "microbench_options.hpp"

#include <vector>

namespace offload::microbench {

void define_options(CLI::App& app, MicrobenchOptions& opts) {
  app.description(
      "Measures, on the spot, the unit costs that bound the offload's throughput and latency:\n"
      "  one OpenSSL ASYNC start+pause+resume+finish cycle (one job that pauses once);\n"
      "  one rte_ring round trip between two processes that busy-poll (one message in flight),\n"
      "  and the message rate with many in flight (rings on plain shared memory, no EAL);\n"
      "  one eventfd wake between two processes that block in epoll_wait (round trip / 2);\n"
      "  one eventfd write + read with nobody waiting, one system call (getppid), and how long\n"
      "  a 20 us nanosleep really takes (what an idle poller's nap costs).\n"
      "The cross-process measurements fork a child; parent and child are pinned to --cpus.\n\n"
      "Exit codes: 0 measured, 2 bad flags, 3 environment (e.g. a CPU of --cpus unavailable),\n"
      "70 a measurement went wrong (e.g. the child stopped answering).");
  app.add_option("--iterations", opts.iterations,
                 "Timed repetitions of the fast measurements (the pipelined ring passes 20x as many "
                 "messages, the eventfd ping-pong does 1/20 as many round trips)")
      ->check(offload::integer_in(kMinIterations, kMaxIterations))
      ->capture_default_str();
  app.add_option_function<std::vector<int>>(
         "--cpus",
         [&opts](const std::vector<int>& cpus) {
           opts.parent_cpu = cpus.at(0);
           opts.child_cpu = cpus.at(1);
         },
         "The two CPUs: this process, then the forked child (default 0,1)")
      ->expected(2)
      ->delimiter(',')
      ->check(offload::integer_in(0, 1023));
  add_json_flag(app, opts.json);
  app.callback([&opts] {
    if (opts.parent_cpu == opts.child_cpu)
      throw CLI::ValidationError("--cpus", "needs two different CPUs: both processes busy-poll");
  });
}

}  // namespace offload::microbench
