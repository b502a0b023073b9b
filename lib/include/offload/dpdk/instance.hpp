#pragma once
// One offload instance = one DPDK --file-prefix: its runtime directory, the
// backend's ready file in it, and liveness checks that need no EAL (the
// frontend runs them before rte_eal_init, which would otherwise leave an
// empty runtime directory behind and print only EAL's own error).

#include <string>
#include <string_view>
#include <vector>

namespace offload::dpdk {

inline constexpr char kDefaultInstance[] = "offload";

// Where DPDK keeps the instance's runtime files: /var/run/dpdk/<instance>
// for root, else $XDG_RUNTIME_DIR/dpdk/<instance> (or /tmp/dpdk/<instance>).
std::string runtime_dir(std::string_view instance);

// Written by the backend once it serves requests: "pid=<pid>\n".
std::string ready_file(std::string_view instance);

// True if a DPDK primary process holds the instance's config lock.
bool primary_alive(std::string_view instance);

// The backend's pid from its ready file if that process exists, else 0.
int ready_backend_pid(std::string_view instance);

// Removes the instance's runtime directory and what is in it; returns the
// number of entries removed. Only call when no primary is alive.
int remove_runtime_dir(std::string_view instance);

// The pid a secondary's own runtime file is named after, else 0. DPDK
// secondaries create "mp_socket_<pid>_<n>" and local copies
// "fbarray_<name>_<pid>"; they remove them when they exit cleanly.
int runtime_file_pid(std::string_view name) noexcept;

// Removes the runtime files of secondaries that no longer exist (killed
// ones leave theirs, about 1.6 MB each, until the instance ends); appends
// their pids to `pids`. Returns the number of files removed.
int remove_dead_secondaries_files(std::string_view instance, std::vector<int>& pids);

// Hugepage files of the instance under the hugetlbfs mount(s).
int count_hugepage_files(std::string_view instance);
int remove_hugepage_files(std::string_view instance);

// Throws EnvironmentError, naming the commands that fix it, unless a
// hugetlbfs is mounted and at least one free hugepage exists.
void require_hugepages();

}  // namespace offload::dpdk
