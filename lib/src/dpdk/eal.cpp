#include "offload/dpdk/eal.hpp"

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_log.h>

#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string_view>

#include "offload/exit_codes.hpp"
#include "offload/dpdk/instance.hpp"
#include "offload/dpdk/telemetry_shutdown.hpp"
#include "offload/watchdog.hpp"

namespace offload::dpdk {

bool eal_args_choose_memory(const std::vector<std::string>& eal_args) {
  return std::any_of(eal_args.begin(), eal_args.end(), [](const std::string& a) {
    return a == "-m" || a.rfind("--socket-mem", 0) == 0 || a == "--legacy-mem" || a.rfind("--socket-limit", 0) == 0;
  });
}

// True when the EAL arguments allow a PCI device (a hardware crypto PMD).
bool eal_args_allow_pci(const std::vector<std::string>& eal_args) {
  return std::any_of(eal_args.begin(), eal_args.end(), [](const std::string& a) {
    return a == "-a" || a.rfind("-a", 0) == 0 || a.rfind("--allow", 0) == 0;
  });
}

std::vector<std::string> build_eal_args(const std::string& program, const EalConfig& config) {
  std::vector<std::string> args{
      program,
      "--file-prefix=" + config.instance,
      config.role == ProcessRole::Primary ? "--proc-type=primary" : "--proc-type=secondary",
      "-l",
      std::to_string(config.lcore),
      "--log-level=" + config.eal_log_level,
  };
  // Nothing to probe on PCI unless a hardware crypto device was allowed
  // with -a (the software PMDs are virtual devices).
  if (!eal_args_allow_pci(config.extra_args)) args.emplace_back("--no-pci");
  // A secondary probes the virtual devices its primary created, the
  // backend's crypto PMD included (DPDK's vdev bus shares the list), without
  // ever using it; at its clean-up DPDK then tries to close a device the
  // primary runs and logs "Device 0 must be stopped before closing", which
  // refuses, harmlessly. That false alarm is silenced; a frontend never
  // uses a cryptodev, so nothing real is hidden.
  if (config.role == ProcessRole::Secondary) args.emplace_back("--log-level=lib.cryptodev:critical");
  // The primary (the backend) serves the instance's DPDK telemetry socket,
  // /var/run/dpdk/<instance>/dpdk_telemetry.v2. DPDK 22.11 starts telemetry
  // in a primary only; said explicitly for secondaries all the same, so that
  // the frontends coming and going never add sockets to the instance.
  if (config.role == ProcessRole::Secondary) args.emplace_back("--no-telemetry");
  // DPDK announces at every start, as a warning, that it opens no legacy
  // (v1) telemetry socket: nothing here uses v1. Its errors still show.
  if (config.role == ProcessRole::Primary) args.emplace_back("--log-level=lib.telemetry:error");
#if defined(__SANITIZE_ADDRESS__)
  // DPDK's default base address (4 GiB) lies in ASan's shadow gap, so an
  // ASan primary maps its memory wherever the kernel puts it, and a
  // secondary, which must map at the same addresses, then often finds
  // something of its own there. A fixed address far above both avoids it.
  const bool has_base = std::any_of(config.extra_args.begin(), config.extra_args.end(),
                                    [](const std::string& a) { return a.rfind("--base-virtaddr", 0) == 0; });
  if (config.role == ProcessRole::Primary && !has_base) args.emplace_back("--base-virtaddr=0x200000000000");
#endif
  if (config.role == ProcessRole::Primary && config.preallocate_mb != 0 && !eal_args_choose_memory(config.extra_args)) {
    args.emplace_back("-m");
    args.push_back(std::to_string(config.preallocate_mb));
  }
  args.insert(args.end(), config.extra_args.begin(), config.extra_args.end());
  return args;
}

namespace {

struct ReservedEalArg {
  std::string_view long_name;  // without "--"; empty: a short option only
  char short_name;             // 0: a long option only
  const char* instead;
};
constexpr ReservedEalArg kReservedEalArgs[] = {
    {"lcores", 'l', "use --lcore (before '--') instead"},
    {"", 'c', "use --lcore (before '--') instead"},
    {"file-prefix", 0, "use --instance (before '--') instead"},
    {"proc-type", 0, "the backend is always DPDK's primary, a frontend always a secondary"},
};

// getopt_long accepts any unambiguous prefix of a long option ("--file-pre",
// "--lc"); no other EAL option starts with the first two letters of these.
constexpr std::size_t kMinPrefix = 2;

const ReservedEalArg* reserved(std::string_view arg) {
  if (arg.rfind("--", 0) == 0) {
    const std::string_view name = arg.substr(2, arg.find('=') == std::string_view::npos ? std::string_view::npos
                                                                                          : arg.find('=') - 2);
    for (const auto& r : kReservedEalArgs)
      if (!r.long_name.empty() && name.size() >= std::min(kMinPrefix, r.long_name.size()) &&
          r.long_name.rfind(name, 0) == 0)
        return &r;
    return nullptr;
  }
  // "-l 1", "-l1", "-c 0x2": short options (a cluster such as "-vl1" too).
  if (arg.size() >= 2 && arg[0] == '-')
    for (const char c : arg.substr(1)) {
      for (const auto& r : kReservedEalArgs)
        if (r.short_name != 0 && c == r.short_name) return &r;
      // Options with a value end the cluster: the rest is the value.
      if (std::string_view("bdmnrsaw").find(c) != std::string_view::npos) break;
    }
  return nullptr;
}

std::string joined(const std::vector<std::string>& args) {
  std::string out;
  for (const auto& a : args) out += (out.empty() ? "" : " ") + a;
  return out;
}

// DPDK prints its usage (about 100 lines, on a bad argument) with printf:
// while it runs, fd 1 is stderr, so that stdout carries only results.
class StdoutToStderr {
public:
  StdoutToStderr() {
    std::fflush(stdout);
    saved_ = ::fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
    if (saved_ >= 0) ::dup2(STDERR_FILENO, STDOUT_FILENO);
  }
  StdoutToStderr(const StdoutToStderr&) = delete;
  StdoutToStderr& operator=(const StdoutToStderr&) = delete;
  ~StdoutToStderr() {
    if (saved_ < 0) return;
    std::fflush(stdout);
    ::dup2(saved_, STDOUT_FILENO);
    ::close(saved_);
  }

private:
  int saved_ = -1;
};

}  // namespace

void refuse_reserved_eal_args(const std::vector<std::string>& extra_args) {
  for (const auto& arg : extra_args)
    if (const ReservedEalArg* r = reserved(arg))
      throw UsageError("'" + arg + "' after '--': the program sets this EAL argument itself; " + r->instead);
}

void refuse_secondary_incompatible_eal_args(const std::vector<std::string>& extra_args) {
  // Each makes a process keep its memory to itself, which a secondary cannot:
  // its DPDK start-up then never finishes (it spun for the whole bound).
  static constexpr std::string_view kPrivateMemory[] = {"--in-memory", "--no-shconf", "--no-huge"};
  for (const auto& arg : extra_args) {
    const std::string_view name = std::string_view(arg).substr(0, arg.find('='));
    for (const auto option : kPrivateMemory)
      if (name == option)
        throw UsageError("'" + arg + "' after '--': a frontend is a DPDK secondary and must map the backend's shared "
                         "hugepage memory, which this option forbids");
  }
}

namespace {
// rte_eal_init may keep pointers into argv, so its strings live as long as
// the process.
std::vector<std::string>& eal_argv_storage() {
  static std::vector<std::string> storage;
  return storage;
}
}  // namespace

namespace {

// Runs `step` (rte_eal_init or rte_eal_cleanup) within `bound`, if any.
template <class Step>
auto bounded_step(const char* what, const std::string& instance, std::chrono::milliseconds bound, Step&& step) {
  std::optional<Watchdog> watchdog;
  if (bound.count() != 0)
    watchdog.emplace(bound, kExitEnvironment, [what, &instance, bound] {
      spdlog::error("{}", explain_overrun(what, bound.count(), instance, observe_instance(instance)));
    });
  return step();
}

// A client's telemetry thread ends within microseconds of its socket being
// shut down, unless it is stuck writing to a client that reads nothing.
constexpr std::chrono::milliseconds kTelemetryStopBound{1000};

long long elapsed_ms(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - since).count();
}

}  // namespace

EalSession::EalSession(const std::string& program, const EalConfig& config)
    : instance_(config.instance), role_(config.role), cleanup_bound_(config.cleanup_bound) {
  refuse_reserved_eal_args(config.extra_args);
  if (config.role == ProcessRole::Secondary) refuse_secondary_incompatible_eal_args(config.extra_args);
  // EAL logs to stdout by default; stdout is for results here.
  rte_openlog_stream(stderr);
  auto& storage = eal_argv_storage();
  storage = build_eal_args(program, config);
  std::vector<char*> argv;
  for (auto& a : storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  int rc = 0;
  const auto started = std::chrono::steady_clock::now();
  {
    const StdoutToStderr redirect;
    rc = bounded_step("DPDK start-up", instance_, config.init_bound,
                      [&] { return rte_eal_init(static_cast<int>(storage.size()), argv.data()); });
  }
  if (rc >= 0) {
    spdlog::info("DPDK start-up took {} ms", elapsed_ms(started));
    return;
  }
  const int err = rte_errno;
  // EINVAL: DPDK could not parse its arguments; ours are fixed and valid, so
  // it is one of those after "--" (EAL names it above, before its usage).
  if (err == EINVAL && !config.extra_args.empty())
    throw UsageError("DPDK rejected the EAL arguments after '--' (" + joined(config.extra_args) +
                     "): see EAL's message above its usage text");
  // Some of DPDK's failure paths leave rte_errno 0 ("Success").
  throw EnvironmentError(std::string("DPDK EAL initialisation failed: ") +
                         (err != 0 ? rte_strerror(err) : "DPDK gave no reason; see its messages above"));
}

EalSession::~EalSession() {
  // Before the clean-up unmaps what DPDK's telemetry commands read.
  if (role_ == ProcessRole::Primary && !shut_down_telemetry(telemetry_socket_path(instance_), kTelemetryStopBound))
    spdlog::warn("DPDK telemetry still serves a client {} ms into the stop", kTelemetryStopBound.count());
  // A secondary probed the backend's crypto vdev at its start-up (DPDK's
  // vdev bus shares the primary's devices) and DPDK's clean-up removes it,
  // reading the device's data in the shared memory. A backend that stopped
  // meanwhile has freed that data: the clean-up then died of SIGSEGV (a
  // frontend registering while the backend stopped, 3 runs in 12 of
  // lifecycle.bats' rte_mp test). The backend removes its ready file before
  // it frees anything. Without it, this process waits for the backend to be
  // gone, then exits without the clean-up: not before, because a stopping
  // backend's frees ask every secondary to follow its memory map, under the
  // instance's memory lock, and a secondary that exited while it answered
  // left that lock held (the backend's stop then overran its watchdog). The
  // backend's exit, or the next backend, removes the files this one leaves.
  if (role_ == ProcessRole::Secondary && ready_backend_pid(instance_) == 0) {
    const auto deadline = std::chrono::steady_clock::now() + cleanup_bound_;
    while (rte_eal_primary_proc_alive(nullptr) != 0 && std::chrono::steady_clock::now() < deadline)
      ::usleep(5'000);
    if (rte_eal_primary_proc_alive(nullptr) == 0) {
      spdlog::info("the backend of instance '{}' is gone: DPDK's clean-up skipped (it would read the devices the "
                   "backend freed)",
                   instance_);
      return;
    }
  }
  const auto started = std::chrono::steady_clock::now();
  bounded_step("DPDK clean-up", instance_, cleanup_bound_, [] { return rte_eal_cleanup(); });
  spdlog::info("DPDK clean-up took {} ms", elapsed_ms(started));
}

SplitArgs split_eal_args(int argc, char** argv) {
  SplitArgs out;
  int i = 0;
  for (; i < argc; ++i) {
    if (i > 0 && std::string_view(argv[i]) == "--") break;
    out.app.push_back(argv[i]);
  }
  for (++i; i < argc; ++i) out.eal.emplace_back(argv[i]);
  return out;
}

}  // namespace offload::dpdk
