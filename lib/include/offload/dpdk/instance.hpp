#pragma once
// One offload instance = one DPDK --file-prefix: its runtime directory, the
// backend's ready file in it, and liveness checks that need no EAL (the
// frontend runs them before rte_eal_init, which would otherwise leave an
// empty runtime directory behind and print only EAL's own error).

#include <cstdint>
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
// The backend's stop begins: from now on it is not serving (no ready file).
void remove_ready_file(std::string_view instance) noexcept;

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

// The backend's record of the secondaries whose leftover runtime files it
// removed (they died without DPDK's clean-up), kept in the runtime dir so
// that a later diagnosis still sees them: appends `pids`.
void record_dead_secondaries(std::string_view instance, const std::vector<int>& pids);

// Both: removes the runtime files of the instance's dead secondaries and
// records their pids. Returns the number of files removed; `pids` gets the
// dead processes. The backend does it every second; a frontend does it
// before its DPDK start-up, which makes the backend broadcast to every
// secondary (its vdev bus scan) and so unlink a dead one's socket: its
// death would then be on record nowhere.
int sweep_dead_secondaries(std::string_view instance, std::vector<int>& pids);

// What can be seen of an instance from outside DPDK, for a diagnosis that
// states facts: when a DPDK step overruns its bound, which process holds up
// what is not recorded anywhere, so the message says only what is observed.
struct InstanceObservation {
  bool primary_alive = false;
  int backend_pid = 0;              // from the ready file, 0 if unknown
  bool lock_known = false;          // false: the shared config could not be read
  std::uint32_t lock_word = 0;      // the memory hotplug rwlock's counter
  std::vector<int> live_secondaries;  // pids with runtime files, alive (this process excluded)
  std::vector<int> dead_secondaries;  // pids with runtime files, gone
};
InstanceObservation observe_instance(std::string_view instance);

// "free", "held by a writer", "held by 3 reader(s), a writer waiting"...
std::string describe_lock_word(std::uint32_t word);

// One paragraph for a step (`what`: "DPDK start-up", "DPDK clean-up") of this
// process that did not finish within `bound_ms`: what was observed, and what
// follows from it (never a cause that was not seen).
std::string explain_overrun(std::string_view what, long long bound_ms, std::string_view instance,
                            const InstanceObservation& seen);

// Hugepage files of the instance under the hugetlbfs mount(s).
int count_hugepage_files(std::string_view instance);
int remove_hugepage_files(std::string_view instance);

// Serialises backends starting on this machine (an exclusive flock on the
// runtime base dir, /var/run/dpdk): held while a backend checks for a live
// primary, removes a dead one's files and runs rte_eal_init, after which the
// new primary's own config lock guards the instance. Two backends started at
// the same instant for one instance cannot both find it free, nor remove what
// the other is creating. Waits at most `bound`, then throws EnvironmentError.
class InstanceStartLock {
public:
  explicit InstanceStartLock(std::string_view instance, int bound_ms = 15'000);
  InstanceStartLock(const InstanceStartLock&) = delete;
  InstanceStartLock& operator=(const InstanceStartLock&) = delete;
  ~InstanceStartLock();

private:
  int fd_ = -1;
};

// For a secondary whose DPDK start-up failed: if the instance has no live
// primary (its backend stopped meanwhile), removes the runtime dir and
// hugepage files the attempt re-created, under InstanceStartLock so that a
// backend starting now is not disturbed. Returns true if it removed them.
bool remove_instance_if_unserved(std::string_view instance);

// Free hugepage memory in MB (HugePages_Free x Hugepagesize), -1 if unknown.
long free_hugepage_mb();

// Throws EnvironmentError, naming the commands that fix it, unless a
// hugetlbfs is mounted and at least one free hugepage exists.
void require_hugepages();

}  // namespace offload::dpdk
