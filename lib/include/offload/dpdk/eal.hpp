#pragma once
// The EAL for one process of an instance: built from friendly flags
// (--instance, --lcore) so that users need not know EAL syntax, with raw EAL
// arguments still accepted after "--".

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace offload::dpdk {

enum class ProcessRole { Primary, Secondary };

struct EalConfig {
  ProcessRole role = ProcessRole::Primary;
  std::string instance = "offload";
  int lcore = 0;
  std::string eal_log_level = "warning";  // DPDK's own chatter
  std::vector<std::string> extra_args;    // appended verbatim, after ours
  // Bounds on rte_eal_init and rte_eal_cleanup (0: none). Both take DPDK's
  // shared memory lock, which a process killed while holding it leaves held
  // for good; past the bound the process says so and exits 3.
  std::chrono::milliseconds init_bound{0};
  std::chrono::milliseconds cleanup_bound{0};
  // Primary: hugepage memory (MB) to map at start-up and never give back
  // (EAL -m), unless extra_args choose the memory themselves. 0: DPDK's
  // default (grow and shrink on demand).
  std::uint32_t preallocate_mb = 0;
};

// True when raw EAL arguments set the memory themselves (-m, --socket-mem,
// --socket-limit, --legacy-mem): then EalConfig::preallocate_mb is not added.
bool eal_args_choose_memory(const std::vector<std::string>& eal_args);

std::vector<std::string> build_eal_args(const std::string& program, const EalConfig& config);

// The EAL arguments the programs derive from their own flags (-l/-c/--lcores
// from --lcore, --file-prefix from --instance, --proc-type from the program)
// may not be given again after "--": DPDK would take the last one, or fail
// with a page of usage. Throws UsageError naming the argument and the flag to
// use instead.
void refuse_reserved_eal_args(const std::vector<std::string>& extra_args);

// A secondary must map the primary's shared memory: --in-memory, --no-shconf
// and --no-huge after "--" are refused (UsageError) rather than left to a
// DPDK start-up that never finishes.
void refuse_secondary_incompatible_eal_args(const std::vector<std::string>& extra_args);

// rte_eal_init on construction, rte_eal_cleanup on destruction; each within
// its bound. A primary's DPDK telemetry is shut down before its clean-up
// (telemetry_shutdown.hpp says why). rte_eal_init's output goes to stderr (DPDK prints its usage on
// stdout, which is for results). Throws UsageError for a reserved argument
// or arguments DPDK rejects, EnvironmentError for any other failure.
class EalSession {
public:
  explicit EalSession(const std::string& program, const EalConfig& config);
  EalSession(const EalSession&) = delete;
  EalSession& operator=(const EalSession&) = delete;
  ~EalSession();

private:
  std::string instance_;
  ProcessRole role_;
  std::chrono::milliseconds cleanup_bound_;
};

// Splits argv at the first "--": what comes before is for CLI11, what comes
// after is passed to the EAL as is.
struct SplitArgs {
  std::vector<char*> app;  // argv[0] + application flags
  std::vector<std::string> eal;
};
SplitArgs split_eal_args(int argc, char** argv);

}  // namespace offload::dpdk
