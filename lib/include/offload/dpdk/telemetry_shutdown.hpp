#pragma once
// Ends DPDK's telemetry service in this process. DPDK 22.11 has no call for
// it, and rte_eal_cleanup() leaves its threads running: a client still
// connected (dpdk-telemetry.py left open) would then have DPDK's own commands
// (/mempool/list, /eal/heap_info ...) read shared memory that the clean-up
// has unmapped, and the process dies of SIGSEGV on its way out.

#include <chrono>
#include <string>

namespace offload::dpdk {

// Where DPDK serves telemetry for an instance: its primary's v2 socket.
std::string telemetry_socket_path(const std::string& instance);

// Shuts down for reading every socket of this process bound to
// `socket_path` (the listening one and each client's connection), so that
// DPDK's listener and client threads (all named "telemetry-v2") leave their
// loops: a reply being written is finished, no further command is read.
// Waits at most `bound` for those threads to end; false if some did not (a
// client that stopped reading its replies can hold one in a write). Does
// nothing, and returns true, when telemetry is not running.
bool shut_down_telemetry(const std::string& socket_path, std::chrono::milliseconds bound);

}  // namespace offload::dpdk
