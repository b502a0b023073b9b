#include "process.hpp"

#include <fmt/format.h>
#include <openssl/async.h>
#include <openssl/provider.h>
#include <rte_eal.h>
#include <spdlog/spdlog.h>

#include <sys/epoll.h>

#include <cstdlib>
#include <exception>
#include <pthread.h>

#include "offload/client/backend_link.hpp"
#include "offload/clock.hpp"
#include "offload/dpdk/instance.hpp"
#include "offload/exit_codes.hpp"
#include "offload/logging.hpp"
#include "thread_client.hpp"

namespace offload::provider {
namespace {

// How often the monitor checks that the backend lives and that no request
// outlived its bound: the bound on noticing either.
constexpr int kMonitorTickMs = 20;
constexpr std::uint64_t kLivenessCheckNs = 50'000'000;
constexpr std::chrono::milliseconds kEalInitBound{10'000};
constexpr std::chrono::milliseconds kEalCleanupBound{8'000};
constexpr std::chrono::milliseconds kBackendReadyBound{5'000};

// The calling thread's client (a thread registers once, on first use).
thread_local std::shared_ptr<ThreadClient> t_client;
thread_local std::string t_client_error;

}  // namespace

const char* software_reason_name(SoftwareReason reason) {
  switch (reason) {
    case SoftwareReason::NoBackend: return "no backend (fallback = yes)";
    case SoftwareReason::AadTooLong: return "AAD over 64 bytes";
    case SoftwareReason::TooLarge: return "longer than a device buffer";
    case SoftwareReason::TagAfterData: return "decryption tag set after the data";
    case SoftwareReason::IvLength: return "IV other than 12 bytes";
    case SoftwareReason::TagLength: return "tag other than 16 bytes";
    case SoftwareReason::Tls12: return "TLS 1.2 record";
    case SoftwareReason::NoKeySlot: return "all 64 key ids held by requests in flight";
    case SoftwareReason::Streamed: return "streamed (continued in software)";
    case SoftwareReason::Count: break;
  }
  return "?";
}

std::uint64_t Counters::software_total() const {
  std::uint64_t total = 0;
  for (const auto& c : software) total += c.load(std::memory_order_relaxed);
  return total;
}

void off_job_stack(const std::function<void()>& work) {
  if (ASYNC_get_current_job() == nullptr) {
    work();
    return;
  }
  std::exception_ptr failure;
  std::thread([&] {
    try {
      work();
    } catch (...) {
      failure = std::current_exception();
    }
  }).join();
  if (failure) std::rethrow_exception(failure);
}

namespace {

// The live Process, for the exit handler below.
std::mutex g_live_mutex;
Process* g_live = nullptr;

// DPDK does not survive fork(): a child inherits the parent's attach (its
// rings, its rte_mp socket, its frontend registrations) but may use none of
// it, nor clean it up (that would unlink the parent's files).
std::atomic<bool> g_forked{false};

// At exit, spdlog's registry (a static constructed after OpenSSL's own exit
// handler was registered) is destroyed before OPENSSL_cleanup() unloads the
// provider: logging from the provider's teardown then was a use after free
// (ASan). Registered after that registry exists, this handler runs before
// its destruction and does the teardown's work while logging still works.
void shut_down_at_exit() {
  const std::lock_guard lock(g_live_mutex);
  if (g_live != nullptr && !g_forked.load()) g_live->shut_down();
}

void note_fork_in_child() { g_forked.store(true); }

}  // namespace

Process::Process(Config config) : config_(std::move(config)) {
  spdlog::drop("offload-provider");  // a provider loaded again after an unload
  setup_logging("offload-provider", config_.log_level);
  software_libctx_ = OSSL_LIB_CTX_new();
  if (software_libctx_ != nullptr) software_provider_ = OSSL_PROVIDER_load(software_libctx_, "default");
  if (software_provider_ != nullptr) software_gcm_ = EVP_CIPHER_fetch(software_libctx_, "AES-256-GCM", nullptr);
  if (software_gcm_ == nullptr) spdlog::error("cannot fetch the default provider's AES-256-GCM: no software path");
  // A thread of its own: DPDK's start-up pins the calling thread to the
  // EAL's core and needs more stack than an ASYNC job has.
  std::thread([this] { attach(); }).join();
  monitor_epoll_ = UniqueFd(::epoll_create1(EPOLL_CLOEXEC));
  monitor_wake_ = make_eventfd();
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = nullptr;
  ::epoll_ctl(monitor_epoll_.get(), EPOLL_CTL_ADD, monitor_wake_.get(), &ev);
  monitor_ = std::thread([this] { monitor(); });
  const std::lock_guard lock(g_live_mutex);
  g_live = this;
  static const bool registered =
      std::atexit(shut_down_at_exit) == 0 && ::pthread_atfork(nullptr, nullptr, note_fork_in_child) == 0;
  (void)registered;
}

void Process::attach() {
  if (!config_.error.empty()) {
    attach_error_ = config_.error;
    spdlog::error("{}", attach_error_);
    return;
  }
  try {
    client::require_live_backend(config_.instance, kBackendReadyBound);
    std::vector<int> dead;
    dpdk::sweep_dead_secondaries(config_.instance, dead);
    eal_ = std::make_unique<dpdk::EalSession>(
        "offload-provider", dpdk::EalConfig{dpdk::ProcessRole::Secondary, config_.instance, config_.lcore, "warning",
                                            {}, kEalInitBound, kEalCleanupBound});
    spdlog::info("attached to the backend of instance '{}' as a DPDK secondary", config_.instance);
  } catch (const std::exception& e) {
    attach_error_ = fmt::format("offload provider: {}", e.what());
    spdlog::log(config_.fallback ? spdlog::level::warn : spdlog::level::err, "{}{}", attach_error_,
                config_.fallback ? " (fallback = yes: AES-256-GCM runs in software)" : "");
  }
}

Process::~Process() {
  {
    const std::lock_guard lock(g_live_mutex);
    g_live = nullptr;
  }
  if (forked()) {
    // The monitor thread and the attach are the parent's.
    if (monitor_.joinable()) monitor_.detach();
    (void)eal_.release();
  }
  shut_down();
  EVP_CIPHER_free(software_gcm_);
  OSSL_PROVIDER_unload(software_provider_);
  OSSL_LIB_CTX_free(software_libctx_);
}

void Process::shut_down() {
  if (forked()) return;
  std::call_once(shut_down_once_, [this] {
    monitor_stop_.store(true, std::memory_order_release);
    signal_eventfd(monitor_wake_.get());
    if (monitor_.joinable()) monitor_.join();
    // Every thread's client unregisters now, before DPDK's clean-up, on a
    // thread of its own (an exit() inside an ASYNC job runs this on its stack).
    std::thread([this] {
      {
        const std::lock_guard lock(clients_mutex_);
        for (auto& weak : clients_)
          if (auto c = weak.lock()) c->detach();
        clients_.clear();
      }
      spdlog::info("{}", summary());
      attach_error_ = "offload provider: unloaded (the application is exiting)";
      eal_.reset();
    }).join();
  });
}

std::string Process::summary() const {
  std::string software;
  for (unsigned i = 0; i < counters_.software.size(); ++i)
    if (const auto n = counters_.software[i].load(std::memory_order_relaxed); n != 0)
      software += fmt::format("{}{} {}", software.empty() ? "" : ", ", n,
                              software_reason_name(static_cast<SoftwareReason>(i)));
  return fmt::format("offload provider, instance '{}': {} message(s) on the device, {} in software{}, {} failed, "
                     "{} auth failure(s), {} EAGAIN pause(s), {} synchronous wait(s)",
                     config_.instance, counters_.device_messages.load(), counters_.software_total(),
                     software.empty() ? "" : " (" + software + ")", counters_.failed_messages.load(),
                     counters_.auth_failures.load(), counters_.eagain_pauses.load(), counters_.sync_waits.load());
}

bool Process::forked() noexcept { return g_forked.load(std::memory_order_relaxed); }

std::shared_ptr<ThreadClient> Process::thread_client(std::string& why) {
  if (forked()) {
    why = fmt::format("offload provider: this process was forked after the provider attached to instance '{}' (in its "
                      "parent); DPDK does not survive fork(): load the provider after the fork",
                      config_.instance);
    return nullptr;
  }
  if (t_client) return t_client;
  if (!t_client_error.empty()) {  // this thread tried and failed: no retry per message
    why = t_client_error;
    return nullptr;
  }
  if (!attached()) {
    why = attach_error_;
    return nullptr;
  }
  if (backend_lost()) {
    why = fmt::format("offload provider: the backend of instance '{}' is gone", config_.instance);
    return nullptr;
  }
  std::shared_ptr<ThreadClient> created;
  try {
    // Into a local: off a job's stack this runs on another thread, whose
    // thread_locals are not this thread's.
    const auto self = std::this_thread::get_id();
    off_job_stack([&] { created = std::make_shared<ThreadClient>(config_.instance, self); });
  } catch (const std::exception& e) {
    t_client_error = fmt::format("offload provider: this thread could not register with the backend of instance "
                                 "'{}': {}",
                                 config_.instance, e.what());
    why = t_client_error;
    return nullptr;
  }
  t_client = std::move(created);
  const std::lock_guard lock(clients_mutex_);
  clients_.push_back(t_client);
  return t_client;
}

std::uint64_t Process::request_timeout_ns(const ThreadClient& client) const noexcept {
  if (config_.timeout_ms != 0) return config_.timeout_ms * 1'000'000ULL;
  // Every slot's request ahead of this one, served by the device's engines
  // (0: unlimited), each at most the latency bound; then a second to spare.
  auto& link = const_cast<ThreadClient&>(client).link();
  const double bound_ms = link.latency_bound_ms();
  const double rounds = link.engines() == 0 ? 1.0 : static_cast<double>(ThreadClient::kSlots) / link.engines() + 1.0;
  return static_cast<std::uint64_t>((2.0 * bound_ms * rounds + 1000.0) * 1e6);
}

void Process::watch_callback(Slot& slot) {
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = &slot;
  ::epoll_ctl(monitor_epoll_.get(), EPOLL_CTL_ADD, slot.eventfd.get(), &ev);
}

void Process::unwatch_callback(Slot& slot) noexcept {
  ::epoll_ctl(monitor_epoll_.get(), EPOLL_CTL_DEL, slot.eventfd.get(), nullptr);
}

// Wakes every waiting request, whatever it waits by: its job finds
// `expired` set and fails the operation.
void Process::end_waits(const char* why) {
  const std::lock_guard lock(clients_mutex_);
  std::size_t woken = 0;
  for (auto& weak : clients_) {
    auto c = weak.lock();
    if (!c) continue;
    for (Slot& slot : c->slots()) {
      if (slot.inflight_since_ns.load(std::memory_order_acquire) == 0) continue;
      slot.expired.store(true, std::memory_order_release);
      ++woken;
      if (ASYNC_callback_fn cb = slot.callback.load(std::memory_order_acquire))
        cb(slot.callback_arg.load(std::memory_order_acquire));
      else
        signal_eventfd(slot.eventfd.get());
    }
  }
  if (woken != 0) spdlog::error("offload provider: {}: failing {} request(s) in flight", why, woken);
}

void Process::monitor() {
  std::uint64_t last_check = monotonic_ns();
  epoll_event events[32];
  while (!monitor_stop_.load(std::memory_order_acquire)) {
    const int n = ::epoll_wait(monitor_epoll_.get(), events, 32, kMonitorTickMs);
    for (int i = 0; i < n; ++i) {
      auto* slot = static_cast<Slot*>(events[i].data.ptr);
      if (slot == nullptr) {
        drain_eventfd(monitor_wake_.get());
        continue;
      }
      // Callback mode: the backend signalled this slot's request.
      if (drain_eventfd(slot->eventfd.get()) <= 0) continue;
      if (ASYNC_callback_fn cb = slot->callback.load(std::memory_order_acquire))
        cb(slot->callback_arg.load(std::memory_order_acquire));
    }
    const std::uint64_t now = monotonic_ns();
    if (now - last_check < kLivenessCheckNs || !attached()) continue;
    last_check = now;
    if (!backend_lost() && rte_eal_primary_proc_alive(nullptr) == 0) {
      backend_lost_.store(true, std::memory_order_release);
      end_waits(fmt::format("the backend of instance '{}' died", config_.instance).c_str());
      continue;
    }
    // Requests past their bound.
    const std::lock_guard lock(clients_mutex_);
    for (auto& weak : clients_) {
      auto c = weak.lock();
      if (!c || c->detached()) continue;
      const std::uint64_t bound = request_timeout_ns(*c);
      for (Slot& slot : c->slots()) {
        const std::uint64_t since = slot.inflight_since_ns.load(std::memory_order_acquire);
        if (since == 0 || since >= now || now - since < bound || slot.expired.load(std::memory_order_acquire)) continue;
        spdlog::error("offload provider: a request of slot {} outlived its bound of {} ms", slot.id, bound / 1'000'000);
        slot.expired.store(true, std::memory_order_release);
        if (ASYNC_callback_fn cb = slot.callback.load(std::memory_order_acquire))
          cb(slot.callback_arg.load(std::memory_order_acquire));
        else
          signal_eventfd(slot.eventfd.get());
      }
    }
  }
}

}  // namespace offload::provider
