#include "offload/stop_signals.hpp"

#include <pthread.h>

#include <cerrno>
#include <ctime>
#include <system_error>

namespace offload {

StopSignals::StopSignals() {
  sigemptyset(&set_);
  for (const int signo : {SIGINT, SIGTERM, SIGHUP}) {
    struct sigaction current {};
    if (::sigaction(signo, nullptr, &current) == 0 && current.sa_handler == SIG_IGN) continue;
    sigaddset(&set_, signo);
  }
  // A blocked signal whose action is the default one stays pending until
  // sigtimedwait takes it (an ignored one would be discarded at once).
  if (const int rc = ::pthread_sigmask(SIG_BLOCK, &set_, nullptr); rc != 0)
    throw std::system_error(rc, std::generic_category(), "pthread_sigmask(SIG_BLOCK)");
}

int StopSignals::take() noexcept {
  const timespec now{0, 0};
  for (;;) {
    const int signo = ::sigtimedwait(&set_, nullptr, &now);
    if (signo > 0) return signo;
    if (errno != EINTR) return 0;  // EAGAIN: none pending
  }
}

bool StopSignals::watches(int signo) const noexcept { return sigismember(&set_, signo) == 1; }

const char* StopSignals::name(int signo) noexcept {
  switch (signo) {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    case SIGHUP: return "SIGHUP";
    default: return "signal";
  }
}

}  // namespace offload
