#include "offload/dpdk/instance.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cctype>
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

int count_hugepage_files(std::string_view instance) {
  return for_each_hugepage_file(instance, [](const fs::path&) {});
}

int remove_hugepage_files(std::string_view instance) {
  return for_each_hugepage_file(instance, [](const fs::path& p) {
    std::error_code ec;
    fs::remove(p, ec);
  });
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
