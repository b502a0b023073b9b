#include "child_process.hpp"

#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <exception>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>

#include "cpu_affinity.hpp"

namespace offload::microbench {

namespace {

[[noreturn]] void run_child(pid_t parent, int cpu, const std::function<int()>& body) noexcept {
  // A child left busy-polling after its parent died would burn a CPU forever.
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(kChildSetupFailed);
  int code = kChildSetupFailed;
  try {
    pin_to_cpu(cpu);
    code = body();
  } catch (...) {
    code = kChildSetupFailed;
  }
  _exit(code);
}

std::string describe_status(int status) {
  if (WIFEXITED(status)) {
    switch (WEXITSTATUS(status)) {
      case kChildIdleTimeout: return "exited: the parent went quiet for too long";
      case kChildProtocolError: return "exited: it received an unexpected message";
      case kChildSetupFailed: return "exited: its set-up failed";
      default: return "exited with status " + std::to_string(WEXITSTATUS(status));
    }
  }
  if (WIFSIGNALED(status)) return "was killed by signal " + std::to_string(WTERMSIG(status));
  return "ended with wait status " + std::to_string(status);
}

}  // namespace

ChildProcess::ChildProcess(int cpu, const std::function<int()>& body) {
  const pid_t parent = getpid();
  pid_ = fork();
  if (pid_ < 0) throw std::system_error(errno, std::generic_category(), "fork");
  if (pid_ == 0) run_child(parent, cpu, body);
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0) kill_and_reap();
}

void ChildProcess::kill_and_reap() noexcept {
  ::kill(pid_, SIGKILL);
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

void ChildProcess::wait_success(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  for (;;) {
    const pid_t got = waitpid(pid_, &status, WNOHANG);
    if (got == pid_) break;
    if (got < 0 && errno != EINTR) {
      const int err = errno;
      pid_ = -1;
      throw std::system_error(err, std::generic_category(), "waitpid");
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      const pid_t pid = pid_;
      kill_and_reap();
      throw std::runtime_error("child " + std::to_string(pid) + " did not exit within " +
                               std::to_string(timeout.count()) + " ms (killed)");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  const pid_t pid = pid_;
  pid_ = -1;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw std::runtime_error("child " + std::to_string(pid) + " " + describe_status(status));
}

}  // namespace offload::microbench
