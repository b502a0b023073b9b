#include <CLI/CLI.hpp>
#include "threadsim_options.hpp"

#include <algorithm>
#include <cctype>
#include <optional>
#include <string>

namespace offload::threadsim {
namespace {

constexpr const char* kOperationList = "xor, not, aes-256-gcm-encrypt or aes-256-gcm-decrypt";

CLI::Validator operation_check() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        if (parse_operation(text)) return {};
        return "'" + text + "' is not an operation: " + kOperationList;
      },
      "xor|not|aes-256-gcm-encrypt|aes-256-gcm-decrypt");
}

// The refused text is not echoed: it may be a real key with a typo in it.
CLI::Validator gcm_key_check() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        if (parse_gcm_key(text)) return {};
        const std::string expected = "expected 64 hex digits (a 32-byte AES-256 key)";
        if (text.size() != 2 * kGcmKeyBytes) return expected + ", got " + std::to_string(text.size()) + " characters";
        const auto bad = std::find_if_not(text.begin(), text.end(),
                                          [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; });
        return expected + ": character " + std::to_string(bad - text.begin() + 1) + " is not a hex digit";
      },
      "");
}

// The AES-GCM flags with --op xor or not would be silently ignored.
void refuse_gcm_flags_without_gcm(const CLI::App& app, const ThreadsimOptions& opts) {
  if (is_aead(opts.op)) return;
  for (const char* flag : {"--key", "--aad-len", "--corrupt-tag-job"})
    if (app.count(flag) > 0)
      throw CLI::ValidationError(flag, "applies only to --op aes-256-gcm-encrypt or aes-256-gcm-decrypt "
                                       "(this run's --op is " + std::string(operation_name(opts.op)) + ")");
  if (opts.payload.message.empty() && opts.payload.payload_bytes == 0)
    throw CLI::ValidationError("--message", "an empty message is only for --op aes-256-gcm-encrypt or "
                                            "aes-256-gcm-decrypt: xor and not need at least 1 byte to verify");
}

void check_job_exists(const char* flag, const std::optional<std::uint32_t>& job, std::uint32_t jobs) {
  if (job && *job >= jobs)
    throw CLI::ValidationError(flag, "job " + std::to_string(*job) + " does not exist: jobs are 0.." +
                                         std::to_string(jobs - 1));
}

}  // namespace

void define_options(CLI::App& app, ThreadsimOptions& opts) {
  app.description(
      "Runs OpenSSL ASYNC jobs against a simulated accelerator made of threads (seed 000).\n"
      "Each job submits its payload to the device, registers an eventfd in its ASYNC_WAIT_CTX and\n"
      "pauses; an epoll loop resumes the job when the device signals the fd; the job verifies its\n"
      "result, independently of the device:\n"
      "  xor, not             applying the transform again gives the input back;\n"
      "  aes-256-gcm-encrypt  the device encrypts (OpenSSL EVP in a device thread); the job decrypts\n"
      "                       the ciphertext and tag with EVP in its own thread and compares;\n"
      "  aes-256-gcm-decrypt  the job encrypts its input with EVP first; the device must decrypt it\n"
      "                       back, and reports 'auth failed' when the tag does not verify.\n"
      "Each AES-GCM job has its own 12-byte IV: 8 random bytes per run, then the job id.\n\n"
      "Exit codes: 0 all jobs verified, 1 some job failed (device error, auth failed, not verified),\n"
      "2 bad flags, 3 environment (e.g. too few file descriptors), 4 --timeout-ms expired,\n"
      "70 an internal error (a bug).");
  opts.common.delay_ms = 100.0;
  add_common_options(app, opts.common, kMaxJobs);
  add_delay_dist_options(app, opts.delay_dist);
  // --message '': AES-GCM on empty input is legal (the GCM spec's test case
  // 13); xor and not refuse it below.
  add_payload_options(app, opts.payload, kMaxPayloadBytes, /*allow_empty=*/true);
  app.add_option_function<std::string>(
         "--op", [&opts](const std::string& name) { opts.op = *parse_operation(name); },
         "What the device does to each payload: xor (0xAA) and not are the seeds' transforms; "
         "aes-256-gcm-encrypt/-decrypt are AES-256-GCM through OpenSSL EVP (12-byte IV, AAD, 16-byte tag)")
      ->check(operation_check())
      ->type_name("OP")
      ->default_str(std::string(operation_name(opts.op)));
  app.add_option_function<std::string>(
         "--key", [&opts](const std::string& hex) { opts.key = parse_gcm_key(hex); },
         "AES-GCM: the AES-256 key, 64 hex digits (default: a random key per run, shown with --log-level debug)")
      ->check(gcm_key_check())
      ->type_name("HEX");
  app.add_option("--aad-len", opts.aad_len,
                 "AES-GCM: BYTES of additional authenticated data per job, generated like --payload "
                 "(TLS 1.3: 5, TLS 1.2: 13)")
      ->check(integer_in(0, kGcmMaxAadBytes))
      ->capture_default_str();
  app.add_option("--corrupt-tag-job", opts.corrupt_tag_job,
                 "AES-GCM testing aid: flip one bit of job K's tag (decrypt: the tag sent to the device; encrypt: "
                 "the tag the device returned): that job fails with 'auth failed', the others verify, exit 1")
      ->check(integer_in(0, kMaxJobs - 1));
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

  app.callback([&opts, &app] {
    opts.delay = make_delay_spec(opts.common.delay_ms, opts.delay_dist);
    check_job_exists("--fail-job", opts.fail_job, opts.common.jobs);
    check_job_exists("--corrupt-tag-job", opts.corrupt_tag_job, opts.common.jobs);
    refuse_gcm_flags_without_gcm(app, opts);
    if (opts.inflight == 0) opts.inflight = std::min<std::uint32_t>(opts.common.jobs, 1024);
    opts.inflight = std::min(opts.inflight, opts.common.jobs);
  });
}

}  // namespace offload::threadsim
