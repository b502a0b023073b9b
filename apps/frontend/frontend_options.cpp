#include <CLI/CLI.hpp>
#include "frontend_options.hpp"

#include "offload/aes_gcm.hpp"
#include "offload/protocol.hpp"

namespace offload::frontend {

void define_options(CLI::App& app, FrontendOptions& opts) {
  app.description(
      "The DPDK secondary of the two-process offload (seed 000, second program; seed 004's rte_mp IPC).\n"
      "Attaches to a running offload-backend's shared memory, registers with it and passes every\n"
      "job's eventfd over rte_mp (up to 8 fds per message, each batch acknowledged), then runs\n"
      "ASYNC jobs that enqueue a request and pause; an epoll loop resumes each job when the backend\n"
      "signals its eventfd, and the job verifies its own response.\n\n"
      "Load generator: --inflight J jobs push --total N requests (or run for --duration S),\n"
      "reusing jobs, wait contexts and fds; --notify picks how completions reach the jobs:\n"
      "  eventfd    one eventfd per job in its ASYNC_WAIT_CTX, written by the backend (default)\n"
      "  callback   ASYNC_WAIT_CTX_set_callback: a poller drains the completion ring and calls it\n"
      "  coalesced  one doorbell eventfd per frontend + a completion ring drained in bursts\n"
      "--stats asks the backend for its counters and pool levels (one JSON line).\n\n"
      "--op picks the work: 'not' (seed 000's backend cipher, the default), 'xor', or real\n"
      "AES-256-GCM done by the backend's DPDK cryptodev: aes-256-gcm-encrypt / -decrypt, with a\n"
      "key registered once over rte_mp (--key HEX or a random one per run), a fresh 12-byte IV per\n"
      "request and --aad-len bytes of AAD. Every result is verified in this process with OpenSSL\n"
      "EVP (--verify): encrypt's ciphertext and tag are decrypted back, decrypt's input is first\n"
      "encrypted here. A decrypt whose tag does not verify fails that job ('auth failed').\n\n"
      "Raw EAL arguments may follow '--' (not -l/-c/--lcores, --file-prefix or --proc-type: the\n"
      "frontend sets them from --lcore and --instance).\n\n"
      "Exit codes: 0 all jobs verified, 1 some job failed, 2 bad flags (EAL arguments after '--'\n"
      "included), 3 no backend / environment, 4 --timeout-ms expired, 5 the backend died mid-run,\n"
      "70 an internal error (a bug).");
  add_instance_option(app, opts.instance, "Instance name of the backend to attach to (its DPDK --file-prefix)");
  add_lcore_option(app, opts.lcore, "CPU core of this process's EAL thread (default: the first core this process may use)");
  auto* jobs = app.add_option("--jobs,-j", opts.jobs, "Walkthrough: run this many jobs, once each")
                   ->check(integer_in(1, proto::kMaxJobsPerFrontend))
                   ->capture_default_str();
  auto* inflight = app.add_option("--inflight", opts.inflight, "Load generator: jobs in flight at once")
                       ->check(integer_in(1, proto::kMaxJobsPerFrontend));
  auto* total = app.add_option("--total", opts.total, "Load generator: requests to complete")
                    ->check(integer_in(1, std::uint64_t{1} << 40));
  auto* duration = app.add_option("--duration", opts.duration_s, "Load generator: seconds to run (instead of --total)")
                       ->check(number_in(0.001, 86400.0));
  total->excludes(duration);
  jobs->excludes(inflight);
  app.add_option("--requests-per-job", opts.requests_per_job,
                 "Load generator: requests each ASYNC job makes one after another before it finishes (1: one job "
                 "per request, as nginx's async mode starts one per TLS record; 0: until the run ends, as openssl "
                 "speed -async_jobs does: no job start and finish per request)")
      ->check(integer_in(0, std::uint64_t{1} << 40))
      ->capture_default_str()
      ->excludes(jobs);
  app.add_option("--op", opts.op_name, "Operation: not, xor, aes-256-gcm-encrypt or aes-256-gcm-decrypt")
      ->check(CLI::IsMember({"not", "xor", "aes-256-gcm-encrypt", "aes-256-gcm-decrypt"}))
      ->capture_default_str();
  app.add_option("--key", opts.key_hex, "AES-256 key, 64 hex digits (default: a random key per run)")
      ->check(CLI::Validator(
          [](std::string& text) -> std::string {
            return parse_gcm_key(text) ? std::string() : "must be 64 hex digits (a 256-bit AES key)";
          },
          "HEX"));
  app.add_option("--aad-len", opts.aad_len, "AES-GCM: bytes of additional authenticated data per request")
      ->check(integer_in(0, proto::kMaxAadBytes))
      ->capture_default_str();
  app.add_option("--verify", opts.verify,
                 "Which results this process checks with OpenSSL EVP: all, sample (each job's first and 1 in 64), "
                 "none (an offload frees this core: checking every result would spend it again)")
      ->check(CLI::IsMember({"all", "sample", "none"}))
      ->capture_default_str();
  app.add_option("--corrupt-tag-job", opts.corrupt_tag_job,
                 "Testing aid: job N's first aes-256-gcm-decrypt request carries a tag with one bit flipped: that "
                 "job must fail with 'auth failed', the others verify")
      ->check(integer_in(0, proto::kMaxJobsPerFrontend - 1))
      ->group("Testing");
  app.add_option("--notify", opts.notify_name, "How completions reach jobs: eventfd, callback or coalesced")
      ->check(CLI::IsMember({"eventfd", "callback", "coalesced"}))
      ->capture_default_str();
  app.add_option("--coalesced-wait", opts.coalesced_wait,
                 "Coalesced mode: how the frontend waits for completions. doorbell: after a short busy poll it "
                 "asks for the doorbell and sleeps until the backend writes its eventfd (while it works it looks "
                 "at its completion ring itself, and the backend writes nothing); nap: with requests on a fast "
                 "device it sleeps in short naps, sized to find about half its jobs done, and looks at the "
                 "completion ring itself, asking for the doorbell only before longer sleeps: the backend is "
                 "spared the cost of waking this core (a quarter of its time at 16 KiB on this VM), and each nap "
                 "costs this process a timer instead")
      ->check(CLI::IsMember({"doorbell", "nap"}))
      ->capture_default_str();
  app.add_option("--protocol-version", opts.protocol_version,
                 "Testing aid: register claiming this protocol version (the backend must refuse a mismatch)")
      ->check(integer_in(0, UINT16_MAX))
      ->group("Testing");
  app.add_option("--inject-fault", opts.inject_fault,
                 "Testing aid: job 0 sends a hostile first request the backend must reject without touching "
                 "memory: payload-outside-pool, payload-not-granted (a payload pool buffer not granted with "
                 "this request), payload-too-long, bad-job-id, foreign-frontend, bad-magic, "
                 "not-a-request (enqueues a pointer that is no request buffer), ungranted-request (enqueues a "
                 "request buffer the backend granted to nobody); with --op aes-256-gcm-*: unregistered-key (a key "
                 "id never registered), aad-too-long (65 bytes of AAD)")
      ->check(CLI::IsMember({"payload-outside-pool", "payload-not-granted", "payload-too-long", "bad-job-id",
                             "foreign-frontend", "bad-magic",
                             "not-a-request", "ungranted-request", "unregistered-key", "aad-too-long"}))
      ->group("Testing");
  app.add_flag("--die-holding-memory-lock", opts.die_holding_memory_lock,
               "Testing aid: take DPDK's shared memory lock, as DPDK's start-up does, and die by SIGKILL holding "
               "it: what a frontend killed during its start-up leaves behind")
      ->group("Testing");
  app.add_flag("--stats", opts.stats, "Print the backend's counters and pool levels as one JSON line, run no jobs");
  // The backend's --buffer-size bounds the payload: checked once registered.
  add_payload_options(app, opts.payload, proto::kMaxBufferBytes, /*allow_empty=*/true);
  add_timeout_option(app, opts.timeout_ms);
  add_json_flag(app, opts.json);
  add_log_level_option(app, opts.log_level);

  app.callback([&opts] {
    opts.notify = opts.notify_name == "callback"    ? proto::NotifyMode::Callback
                  : opts.notify_name == "coalesced" ? proto::NotifyMode::Coalesced
                                                    : proto::NotifyMode::EventFd;
    if (opts.lcore < 0) {
      // A fixed 0 failed in rte_eal_init under `taskset -c 1`.
      const auto cpus = allowed_cpus();
      opts.lcore = cpus.empty() ? 0 : cpus.front();
    }
    opts.op = *parse_operation(opts.op_name);
    if (!is_aead(opts.op) && opts.payload.message.empty() && opts.payload.payload_bytes == 0)
      throw CLI::ValidationError("--message", "an empty message is for AES-GCM only (--op aes-256-gcm-*)");
    if (opts.coalesced_wait != "doorbell" && opts.notify != proto::NotifyMode::Coalesced)
      throw CLI::ValidationError("--coalesced-wait", "applies to --notify coalesced only");
    if (opts.corrupt_tag_job >= 0 && opts.op != Operation::AesGcmDecrypt)
      throw CLI::ValidationError("--corrupt-tag-job", "applies to --op aes-256-gcm-decrypt only");
    if (opts.inflight == 0) opts.inflight = opts.jobs;
    if (opts.total == 0 && opts.duration_s == 0.0) opts.total = opts.inflight;
  });
}

}  // namespace offload::frontend
