#include "offload/dpdk/instance.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cctype>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "offload/exit_codes.hpp"
#include "offload/unique_fd.hpp"

namespace fs = std::filesystem;

namespace offload::dpdk {
namespace {

std::vector<fs::path> hugetlbfs_mounts() {
  std::vector<fs::path> mounts;
  std::ifstream in("/proc/mounts");
  std::string device, mountpoint, type, rest;
  while (in >> device >> mountpoint >> type && std::getline(in, rest))
    if (type == "hugetlbfs") mounts.emplace_back(mountpoint);
  return mounts;
}

// kill(pid, 0) fails with ESRCH only when no such process exists (EPERM:
// it exists, owned by someone else).
bool process_gone(int pid) { return ::kill(pid, 0) != 0 && errno == ESRCH; }

// DPDK names an instance's hugepage files "<file-prefix>map_<n>".
bool is_hugepage_file_of(const std::string& name, std::string_view instance) {
  const std::string head = std::string(instance) + "map_";
  if (name.size() <= head.size() || name.compare(0, head.size(), head) != 0) return false;
  for (std::size_t i = head.size(); i < name.size(); ++i)
    if (!std::isdigit(static_cast<unsigned char>(name[i]))) return false;
  return true;
}

template <class Fn>
int for_each_hugepage_file(std::string_view instance, Fn&& fn) {
  int n = 0;
  for (const auto& mount : hugetlbfs_mounts()) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(mount, ec))
      if (is_hugepage_file_of(entry.path().filename().string(), instance)) {
        fn(entry.path());
        ++n;
      }
  }
  return n;
}

long meminfo_value(const std::string& key) {
  std::ifstream in("/proc/meminfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(key + ":", 0) == 0) return std::strtol(line.c_str() + key.size() + 1, nullptr, 10);
  return -1;
}

}  // namespace

std::string runtime_dir(std::string_view instance) {
  std::string base = "/var/run/dpdk";
  if (geteuid() != 0) {
    const char* xdg = std::getenv("XDG_RUNTIME_DIR");
    base = std::string(xdg != nullptr ? xdg : "/tmp") + "/dpdk";
  }
  return base + "/" + std::string(instance);
}

std::string ready_file(std::string_view instance) { return runtime_dir(instance) + "/offload-backend.ready"; }

bool primary_alive(std::string_view instance) {
  UniqueFd fd(::open((runtime_dir(instance) + "/config").c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return false;
  // The primary holds a write lock on its config file for its whole life.
  struct flock probe {};
  probe.l_type = F_RDLCK;
  probe.l_whence = SEEK_SET;
  if (::fcntl(fd.get(), F_GETLK, &probe) != 0) return false;
  return probe.l_type != F_UNLCK;
}

int ready_backend_pid(std::string_view instance) {
  std::ifstream in(ready_file(instance));
  std::string line;
  if (!std::getline(in, line) || line.rfind("pid=", 0) != 0) return 0;
  const int pid = std::atoi(line.c_str() + 4);
  if (pid <= 0 || process_gone(pid)) return 0;
  return pid;
}

void remove_ready_file(std::string_view instance) noexcept {
  std::error_code ec;
  fs::remove(ready_file(instance), ec);
}

int remove_runtime_dir(std::string_view instance) {
  std::error_code ec;
  const auto removed = fs::remove_all(runtime_dir(instance), ec);
  return ec ? -1 : static_cast<int>(removed);
}

int runtime_file_pid(std::string_view name) noexcept {
  const auto digits = [](std::string_view d) {
    if (d.empty() || d.size() > 9) return 0;
    int pid = 0;
    for (const char c : d) {
      if (c < '0' || c > '9') return 0;
      pid = pid * 10 + (c - '0');
    }
    return pid;
  };
  constexpr std::string_view kSocket = "mp_socket_";
  if (name.substr(0, kSocket.size()) == kSocket) {
    const auto rest = name.substr(kSocket.size());
    return digits(rest.substr(0, rest.find('_')));
  }
  constexpr std::string_view kFbarray = "fbarray_";
  if (name.substr(0, kFbarray.size()) == kFbarray) {
    const auto last = name.rfind('_');
    return last < kFbarray.size() ? 0 : digits(name.substr(last + 1));
  }
  return 0;
}

int remove_dead_secondaries_files(std::string_view instance, std::vector<int>& pids) {
  std::error_code ec;
  std::vector<std::pair<fs::path, int>> dead;
  for (const auto& entry : fs::directory_iterator(runtime_dir(instance), ec)) {
    const int pid = runtime_file_pid(entry.path().filename().string());
    // A live process that reused the pid keeps the files (conservative).
    if (pid > 0 && process_gone(pid)) dead.emplace_back(entry.path(), pid);
  }
  int removed = 0;
  for (const auto& [path, pid] : dead) {
    std::error_code rm;
    if (!fs::remove(path, rm)) continue;
    ++removed;
    if (std::find(pids.begin(), pids.end(), pid) == pids.end()) pids.push_back(pid);
  }
  return removed;
}

namespace {

// The head of DPDK 22.11's struct rte_mem_config (eal_memcfg.h), the start
// of the instance's "config" file: magic, version, nchannel, nrank, then
// the mlock, qlock, mplock, tlock and memory_hotplug_lock words.
constexpr std::uint32_t kRteMagic = 19820526;
constexpr off_t kHotplugLockOffset = 32;
// rte_rwlock_t's counter (rte_rwlock.h): readers add 4, a writer holding
// it sets 2, a writer waiting sets 1.
constexpr std::uint32_t kRwlockWait = 0x1;
constexpr std::uint32_t kRwlockWrite = 0x2;
constexpr std::uint32_t kRwlockRead = 0x4;

std::string dead_secondaries_file(std::string_view instance) {
  return runtime_dir(instance) + "/offload-backend.dead-secondaries";
}

bool read_hotplug_lock(std::string_view instance, std::uint32_t& word) {
  UniqueFd fd(::open((runtime_dir(instance) + "/config").c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return false;
  std::uint32_t magic = 0;
  if (::pread(fd.get(), &magic, sizeof magic, 0) != sizeof magic || magic != kRteMagic) return false;
  return ::pread(fd.get(), &word, sizeof word, kHotplugLockOffset) == sizeof word;
}

std::string pid_list(const std::vector<int>& pids) {
  std::string out;
  for (const int pid : pids) out += (out.empty() ? "" : ", ") + std::to_string(pid);
  return out;
}

}  // namespace

InstanceObservation observe_instance(std::string_view instance) {
  InstanceObservation seen;
  seen.primary_alive = primary_alive(instance);
  seen.backend_pid = ready_backend_pid(instance);
  seen.lock_known = read_hotplug_lock(instance, seen.lock_word);
  std::error_code ec;
  const int self = ::getpid();
  for (const auto& entry : fs::directory_iterator(runtime_dir(instance), ec)) {
    const int pid = runtime_file_pid(entry.path().filename().string());
    if (pid <= 0 || pid == self) continue;
    auto& list = process_gone(pid) ? seen.dead_secondaries : seen.live_secondaries;
    if (std::find(list.begin(), list.end(), pid) == list.end()) list.push_back(pid);
  }
  std::ifstream recorded(dead_secondaries_file(instance));
  std::string line;
  while (std::getline(recorded, line)) {
    const int pid = line.rfind("pid=", 0) == 0 ? std::atoi(line.c_str() + 4) : 0;
    if (pid > 0 && std::find(seen.dead_secondaries.begin(), seen.dead_secondaries.end(), pid) == seen.dead_secondaries.end())
      seen.dead_secondaries.push_back(pid);
  }
  std::sort(seen.live_secondaries.begin(), seen.live_secondaries.end());
  std::sort(seen.dead_secondaries.begin(), seen.dead_secondaries.end());
  return seen;
}

std::string describe_lock_word(std::uint32_t word) {
  if (word == 0) return "free";
  std::string out;
  if ((word & kRwlockWrite) != 0) out = "held by a writer";
  if (const std::uint32_t readers = word / kRwlockRead; readers != 0)
    out += (out.empty() ? "held by " : " and ") + std::to_string(readers) + " reader(s)";
  if ((word & kRwlockWait) != 0) out += out.empty() ? "not held, a writer waiting" : ", a writer waiting";
  return out;
}

std::string explain_overrun(std::string_view what, long long bound_ms, std::string_view instance,
                            const InstanceObservation& seen) {
  std::ostringstream msg;
  msg << what << " did not finish within " << bound_ms << " ms on instance '" << instance
      << "'. Observed: the backend ";
  if (seen.primary_alive)
    msg << "is running" << (seen.backend_pid != 0 ? " (pid " + std::to_string(seen.backend_pid) + ")" : "");
  else
    msg << "is gone";
  msg << "; the instance's memory hotplug lock is "
      << (seen.lock_known ? describe_lock_word(seen.lock_word) : std::string("unreadable"));
  msg << "; other DPDK processes attached: "
      << (seen.live_secondaries.empty() ? std::string("none") : pid_list(seen.live_secondaries));
  msg << "; processes that exited without DPDK's clean-up: "
      << (seen.dead_secondaries.empty() ? std::string("none") : pid_list(seen.dead_secondaries)) << ". ";
  const bool lock_busy = seen.lock_known && seen.lock_word != 0;
  if (!seen.primary_alive)
    msg << "Start the backend again (offload-backend --instance " << instance << ").";
  else if (lock_busy && !seen.dead_secondaries.empty())
    msg << "If one of the processes that exited held the lock, it stays held for good (DPDK records no holder): "
           "restart the instance (kill -TERM the backend, start it again).";
  else if (lock_busy)
    msg << "No process is known to have died: a live one holds the lock, perhaps itself waiting on DPDK. Try "
           "again; restart the instance if it persists.";
  else
    msg << "The lock is free: DPDK waited on something else (see EAL's messages above).";
  return msg.str();
}

void record_dead_secondaries(std::string_view instance, const std::vector<int>& pids) {
  std::ofstream out(dead_secondaries_file(instance), std::ios::app);
  for (const int pid : pids) out << "pid=" << pid << "\n";
}

int sweep_dead_secondaries(std::string_view instance, std::vector<int>& pids) {
  const int removed = remove_dead_secondaries_files(instance, pids);
  if (removed > 0) record_dead_secondaries(instance, pids);
  return removed;
}

int count_hugepage_files(std::string_view instance) {
  return for_each_hugepage_file(instance, [](const fs::path&) {});
}

int remove_hugepage_files(std::string_view instance) {
  return for_each_hugepage_file(instance, [](const fs::path& p) {
    std::error_code ec;
    fs::remove(p, ec);
  });
}

InstanceStartLock::InstanceStartLock(std::string_view instance, int bound_ms) {
  const fs::path base = fs::path(runtime_dir(instance)).parent_path();
  std::error_code ec;
  fs::create_directories(base, ec);
  fd_ = ::open(base.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd_ < 0)
    throw EnvironmentError("cannot open " + base.string() + ": " + std::strerror(errno));
  for (int waited = 0; ::flock(fd_, LOCK_EX | LOCK_NB) != 0; waited += 10) {
    if (errno != EWOULDBLOCK || waited >= bound_ms) {
      ::close(fd_);
      throw EnvironmentError("another offload-backend has been starting for " + std::to_string(bound_ms / 1000) +
                             " s and still holds " + base.string() + " (flock): try again once it is up");
    }
    ::usleep(10'000);
  }
}

InstanceStartLock::~InstanceStartLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the flock
}

bool remove_instance_if_unserved(std::string_view instance) {
  const InstanceStartLock lock(instance, 2'000);
  if (primary_alive(instance)) return false;
  remove_runtime_dir(instance);
  remove_hugepage_files(instance);
  return true;
}

long free_hugepage_mb() {
  const long pages = meminfo_value("HugePages_Free");
  const long page_kb = meminfo_value("Hugepagesize");
  return pages < 0 || page_kb <= 0 ? -1 : pages * page_kb / 1024;
}

void require_hugepages() {
  const char* fix =
      "reserve and mount them with 'sudo ./scripts/setup-hugepages.sh' (or: sysctl -w vm.nr_hugepages=512 && "
      "mkdir -p /dev/hugepages && mount -t hugetlbfs nodev /dev/hugepages)";
  if (hugetlbfs_mounts().empty()) throw EnvironmentError(std::string("no hugetlbfs is mounted: ") + fix);
  const long free_pages = meminfo_value("HugePages_Free");
  if (free_pages <= 0) {
    std::ostringstream msg;
    msg << "no free hugepages (HugePages_Total " << meminfo_value("HugePages_Total") << ", free " << free_pages
        << "): " << fix;
    throw EnvironmentError(msg.str());
  }
}

}  // namespace offload::dpdk
