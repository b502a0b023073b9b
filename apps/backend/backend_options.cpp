#include <CLI/CLI.hpp>
#include "backend_options.hpp"

#include "offload/protocol.hpp"

namespace offload::backend {

void define_options(CLI::App& app, BackendOptions& opts) {
  app.description(
      "The DPDK primary of the two-process offload (seed 000, second program; seed 004's rte_mp IPC).\n"
      "Creates the shared request/payload mempools and per-frontend rings in hugepage memory,\n"
      "registers the rte_mp actions through which frontends register and pass their job eventfds,\n"
      "then serves requests and signals each job's eventfd: AES-256-GCM through a DPDK cryptodev\n"
      "(--crypto-dev), or the seeds' XOR/NOT, each completed no earlier than the simulated device\n"
      "latency. Stops cleanly on SIGINT/SIGTERM/SIGHUP (runtime dir and hugepage files removed).\n\n"
      "The crypto device is a software PMD by default (crypto_aesni_mb; crypto_openssl works too).\n"
      "The same code drives hardware: allow its PCI function after '--' and name its cryptodev, e.g.\n"
      "  offload-backend --crypto-dev 0000:3d:01.0_qat_sym -- -a 0000:3d:01.0\n\n"
      "Raw EAL arguments may follow '--', e.g.: offload-backend --instance demo -- --socket-mem=256\n"
      "(not -l/-c/--lcores, --file-prefix or --proc-type: the backend sets them from --lcore and --instance).\n\n"
      "Exit codes: 0 stopped cleanly, 2 bad flags (EAL arguments after '--' included), 3 environment\n"
      "(hugepages, instance already running, a crypto device without AES-256-GCM), 70 the stop overran its 5 s watchdog (DPDK's memory lock\n"
      "held by a dead process) or an internal error (a bug).");
  add_instance_option(app, opts.instance, "Instance name: the DPDK --file-prefix frontends attach to");
  add_lcore_option(app, opts.lcore, "CPU core the backend polls on (default: the last core this process may use)");
  add_delay_option(app, opts.delay_ms);
  add_delay_dist_options(app, opts.delay_dist);
  app.add_option("--engines", opts.engines, "Parallel device engines; a request waits while all are busy (0 = unlimited)")
      ->check(integer_in(0, 1u << 20))
      ->capture_default_str();
  app.add_option("--queue-depth", opts.queue_depth, "Capacity of each frontend's request ring")
      ->check(integer_in(8, 65536))
      ->capture_default_str();
  app.add_option("--pool-size", opts.pool_size, "Objects in each mempool (requests, payload buffers)")
      ->check(integer_in(64, 1u << 20))
      ->capture_default_str();
  app.add_option("--idle-sleep-us", opts.idle_sleep_us,
                 "Longest sleep of the polling loop when idle (busy polling while there is work)")
      ->check(integer_in(0, 100000))
      ->capture_default_str();
  app.add_option("--buffer-size", opts.buffer_bytes,
                 "Bytes of each payload buffer: the longest message one request carries (AES-GCM: less its "
                 "16-byte tag). The default holds a 16 KiB TLS record and its tag")
      ->check(integer_in(proto::kMinBufferBytes, proto::kMaxBufferBytes))
      ->capture_default_str();
  app.add_option("--crypto-dev", opts.crypto_dev,
                 "DPDK crypto device doing AES-256-GCM: a virtual device driver (crypto_aesni_mb, crypto_openssl), "
                 "the name of a cryptodev the EAL probed (hardware, with -a <pci> after '--'), or 'none' "
                 "(xor and not only)")
      ->check(CLI::Validator(
          [](std::string& name) { return name.empty() ? std::string("must name a crypto device (or 'none')") : std::string(); },
          "NAME"))
      ->capture_default_str();
  add_log_level_option(app, opts.log_level);

  app.callback([&opts] {
    opts.delay = make_delay_spec(opts.delay_ms, opts.delay_dist);
    if (opts.lcore < 0) {
      // The last CPU this process may use (taskset may exclude the machine's
      // last one): the frontends default to CPU 0.
      const auto cpus = allowed_cpus();
      opts.lcore = cpus.empty() ? 0 : cpus.back();
    }
  });
}

}  // namespace offload::backend
