#include "offload/dpdk/telemetry_shutdown.hpp"

#include <rte_log.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string_view>

#include "offload/dpdk/instance.hpp"

namespace fs = std::filesystem;

namespace offload::dpdk {
namespace {

// DPDK names its v2 listener thread so; each client's thread is created by
// it and inherits the name.
constexpr std::string_view kThreadName = "telemetry-v2";

bool bound_to(int fd, const std::string& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) return false;
  sockaddr_un addr{};
  socklen_t len = sizeof addr;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0 || addr.sun_family != AF_UNIX) return false;
  // An accepted connection reports the address of the socket it came through.
  return ::strncmp(addr.sun_path, path.c_str(), sizeof addr.sun_path) == 0;
}

int telemetry_threads() {
  int n = 0;
  std::error_code ec;
  for (const auto& task : fs::directory_iterator("/proc/self/task", ec)) {
    std::ifstream comm(task.path() / "comm");
    std::string name;
    if (std::getline(comm, name) && name == kThreadName) ++n;
  }
  return n;
}

}  // namespace

std::string telemetry_socket_path(const std::string& instance) { return runtime_dir(instance) + "/dpdk_telemetry.v2"; }

bool shut_down_telemetry(const std::string& socket_path, std::chrono::milliseconds bound) {
  if (telemetry_threads() == 0) return true;
  // The listener reports its accept() failing as an error: here it is the point.
  rte_log_set_level_pattern("lib.telemetry", RTE_LOG_CRIT);
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc/self/fd", ec)) {
    const int fd = std::atoi(entry.path().filename().c_str());
    // For reading only: a thread writing a reply finishes it rather than
    // failing with EPIPE (and SIGPIPE, which would end the process).
    if (bound_to(fd, socket_path)) ::shutdown(fd, SHUT_RD);
  }
  const auto deadline = std::chrono::steady_clock::now() + bound;
  while (telemetry_threads() != 0) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    ::usleep(1000);
  }
  return true;
}

}  // namespace offload::dpdk
