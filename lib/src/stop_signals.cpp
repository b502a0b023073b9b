#include "offload/stop_signals.hpp"

#include <pthread.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace offload {
namespace {

sigset_t stop_set() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  return set;
}

}  // namespace

StopSignals::StopSignals() {
  const sigset_t set = stop_set();
  if (const int rc = pthread_sigmask(SIG_BLOCK, &set, &previous_); rc != 0)
    throw std::system_error(rc, std::generic_category(), "pthread_sigmask");
  fd_ = UniqueFd(::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC));
  if (!fd_) {
    const int err = errno;
    pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
    throw std::system_error(err, std::generic_category(), "signalfd");
  }
}

StopSignals::~StopSignals() {
  // Whatever arrived meanwhile was asking for a stop that is happening:
  // consumed here rather than delivered (and fatal) once unblocked.
  take();
  pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
}

int StopSignals::take() {
  signalfd_siginfo info{};
  while (::read(fd_.get(), &info, sizeof info) == static_cast<ssize_t>(sizeof info))
    if (received_ == 0) received_ = static_cast<int>(info.ssi_signo);
  return received_;
}

}  // namespace offload
