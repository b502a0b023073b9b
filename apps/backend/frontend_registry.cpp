#include "frontend_registry.hpp"

#include "callback_fence.hpp"

#include <rte_eal.h>
#include <rte_mempool.h>
#include <spdlog/spdlog.h>

#include <unistd.h>

#include <atomic>
#include <bit>
#include <chrono>
#include <cstdlib>
#include <cstring>

#include "offload/clock.hpp"
#include "offload/dpdk/instance.hpp"
#include "offload/unique_fd.hpp"

namespace offload::backend {
namespace {

// rte_mp actions are plain function pointers: they reach the installed
// registry through these, set once before the actions are registered.
struct Installed : FrontendRegistry::Params {
  FrontendRegistry* registry = nullptr;
};
Installed g_installed;

// rte_mp actions run on DPDK's rte_mp thread: the fence (callback_fence.hpp)
// keeps the backend's stop from freeing what one still uses (pools,
// counters, the wakeup fd).
CallbackFence g_fence;

template <class Reply>
void reply(const rte_mp_msg* request, const void* peer, const Reply& body) {
  rte_mp_msg msg{};
  std::memcpy(msg.name, request->name, sizeof msg.name);  // a reply reuses the request's name
  static_assert(sizeof(Reply) <= sizeof msg.param);
  std::memcpy(msg.param, &body, sizeof body);
  msg.len_param = sizeof body;
  if (rte_mp_reply(&msg, static_cast<const char*>(peer)) != 0)
    spdlog::warn("rte_mp: cannot reply to {} from {}", request->name, static_cast<const char*>(peer));
}

// Every fd an rte_mp message carries is ours once it arrives, accepted or not.
void close_received_fds(const rte_mp_msg* msg, int from = 0) {
  for (int i = from; i < msg->num_fds; ++i) ::close(msg->fds[i]);
}

// The reply of an action that arrived while the backend stops.
template <class Reply>
int refuse_stopping(const rte_mp_msg* msg, const void* peer) {
  close_received_fds(msg);
  Reply out{};
  out.status = static_cast<std::int32_t>(proto::MpStatus::Stopping);
  reply(msg, peer, out);
  return 0;
}

int on_register(const rte_mp_msg* msg, const void* peer) {
  const CallbackFence::Scope scope(g_fence);
  if (!scope.entered()) return refuse_stopping<proto::RegisterReply>(msg, peer);
  auto parsed = proto::parse_register(msg->param, static_cast<std::size_t>(msg->len_param),
                                      static_cast<std::size_t>(msg->num_fds));
  // Coalesced mode's doorbell is kept by the slot below; any other fd goes.
  const bool keeps_doorbell = parsed.status == proto::MpStatus::Ok && parsed.value.notify == proto::NotifyMode::Coalesced;
  close_received_fds(msg, keeps_doorbell ? 1 : 0);
  proto::RegisterReply out{};
  out.backend_version = proto::kVersion;
  out.queue_depth = g_installed.queue_depth;
  out.engines = g_installed.engines;
  out.latency_bound_ns = g_installed.latency_bound_ns;
  out.buffer_bytes = g_installed.buffer_bytes;
  const int sender = peer_pid(static_cast<const char*>(peer));
  if (parsed.status == proto::MpStatus::Ok && sender != 0 && sender != parsed.value.pid)
    parsed.status = proto::MpStatus::BadMessage;  // it claims to be another process
  if (parsed.status != proto::MpStatus::Ok) {
    if (keeps_doorbell) ::close(msg->fds[0]);
    out.status = static_cast<std::int32_t>(parsed.status);
    spdlog::warn("refused a frontend registration from {}: {}", static_cast<const char*>(peer),
                 proto::mp_status_text(parsed.status));
    reply(msg, peer, out);
    return 0;
  }
  for (std::uint16_t id = 0; id < proto::kMaxFrontends; ++id) {
    FrontendSlot& slot = g_installed.registry->slot(id);
    SlotState expected = SlotState::Free;
    if (!slot.state.compare_exchange_strong(expected, SlotState::Registering, std::memory_order_acq_rel)) continue;
    slot.pid = parsed.value.pid;
    slot.max_jobs = parsed.value.max_jobs;
    slot.notify = parsed.value.notify;
    slot.stats.begin(slot.pid, slot.max_jobs, slot.notify);
    // Nothing else touches a Registering slot; an fd a dead frontend's late
    // message left behind is closed here rather than leaked.
    for (auto& fd : slot.job_fds)
      if (const int stale = fd.exchange(-1, std::memory_order_relaxed); stale >= 0) ::close(stale);
    slot.fds_registered.store(0, std::memory_order_relaxed);
    slot.keys_used.store(0, std::memory_order_relaxed);
    slot.keys_to_forget.store(0, std::memory_order_relaxed);
    if (const int stale = slot.doorbell_fd.exchange(keeps_doorbell ? msg->fds[0] : -1); stale >= 0) ::close(stale);
    // Rung until it says otherwise, whatever the last frontend here left.
    if (slot.doorbell_control != nullptr)
      proto::ring_ref(*slot.doorbell_control).store(proto::kRingAlways, std::memory_order_relaxed);
    const std::uint32_t generation = slot.generation.fetch_add(1, std::memory_order_relaxed) + 1;
    slot.state.store(SlotState::Active, std::memory_order_release);
    out.status = static_cast<std::int32_t>(proto::MpStatus::Ok);
    out.frontend_id = id;
    out.generation = generation;
    spdlog::info("frontend {} registered: pid {}, {} job(s), notify {}, generation {}", id, slot.pid, slot.max_jobs,
                 proto::notify_mode_name(slot.notify), generation);
    reply(msg, peer, out);
    signal_eventfd(g_installed.wakeup_fd);
    return 0;
  }
  if (keeps_doorbell) ::close(msg->fds[0]);
  out.status = static_cast<std::int32_t>(proto::MpStatus::NoFreeSlot);
  spdlog::warn("refused frontend pid {}: all {} frontend slots are taken", parsed.value.pid, proto::kMaxFrontends);
  reply(msg, peer, out);
  return 0;
}

// The slot a control message names, if it is Active, of that generation and
// owned by the sending process; else the status to refuse with.
proto::MpStatus find_owned_slot(std::uint16_t id, std::uint32_t generation, const void* peer, FrontendSlot*& out) {
  if (id >= proto::kMaxFrontends) return proto::MpStatus::UnknownFrontend;
  FrontendSlot& slot = g_installed.registry->slot(id);
  if (slot.state.load(std::memory_order_acquire) != SlotState::Active ||
      slot.generation.load(std::memory_order_relaxed) != generation)
    return proto::MpStatus::UnknownFrontend;
  const int sender = peer_pid(static_cast<const char*>(peer));
  if (sender != 0 && sender != slot.pid) return proto::MpStatus::UnknownFrontend;
  out = &slot;
  return proto::MpStatus::Ok;
}

int on_fd_sync(const rte_mp_msg* msg, const void* peer) {
  const CallbackFence::Scope scope(g_fence);
  if (!scope.entered()) return refuse_stopping<proto::StatusReply>(msg, peer);
  auto parsed = proto::parse_fd_sync(msg->param, static_cast<std::size_t>(msg->len_param),
                                     static_cast<std::size_t>(msg->num_fds));
  proto::StatusReply out{static_cast<std::int32_t>(parsed.status)};
  FrontendSlot* slot = nullptr;
  if (parsed.status == proto::MpStatus::Ok)
    parsed.status = find_owned_slot(parsed.value.frontend_id, parsed.value.generation, peer, slot);
  if (parsed.status == proto::MpStatus::Ok && parsed.value.first_job + parsed.value.count > slot->max_jobs)
    parsed.status = proto::MpStatus::BadJobRange;
  if (parsed.status == proto::MpStatus::Ok) {
    // All or nothing: a job whose fd is already set keeps it (the serving
    // loop may be writing to it), and the whole batch is refused.
    for (std::uint16_t i = 0; i < parsed.value.count; ++i)
      if (slot->job_fds[parsed.value.first_job + i].load(std::memory_order_relaxed) >= 0)
        parsed.status = proto::MpStatus::AlreadyRegistered;
  }
  if (parsed.status != proto::MpStatus::Ok) {
    close_received_fds(msg);
    out.status = static_cast<std::int32_t>(parsed.status);
    spdlog::warn("refused an fd-sync batch from {}: {}", static_cast<const char*>(peer),
                 proto::mp_status_text(parsed.status));
    reply(msg, peer, out);
    return 0;
  }
  for (std::uint16_t i = 0; i < parsed.value.count; ++i)
    slot->job_fds[parsed.value.first_job + i].store(msg->fds[i], std::memory_order_release);
  const auto total = slot->fds_registered.fetch_add(parsed.value.count, std::memory_order_relaxed) + parsed.value.count;
  spdlog::debug("frontend {}: eventfds of jobs {}..{} received ({} of {})", parsed.value.frontend_id,
                parsed.value.first_job, parsed.value.first_job + parsed.value.count - 1, total, slot->max_jobs);
  if (total == slot->max_jobs)
    spdlog::info("frontend {}: all {} job eventfds received over rte_mp", parsed.value.frontend_id, total);
  out.status = static_cast<std::int32_t>(proto::MpStatus::Ok);
  reply(msg, peer, out);
  return 0;
}

int on_unregister(const rte_mp_msg* msg, const void* peer) {
  const CallbackFence::Scope scope(g_fence);
  if (!scope.entered()) return refuse_stopping<proto::StatusReply>(msg, peer);
  auto parsed = proto::parse_unregister(msg->param, static_cast<std::size_t>(msg->len_param),
                                        static_cast<std::size_t>(msg->num_fds));
  close_received_fds(msg);
  FrontendSlot* slot = nullptr;
  if (parsed.status == proto::MpStatus::Ok)
    parsed.status = find_owned_slot(parsed.value.frontend_id, parsed.value.generation, peer, slot);
  if (parsed.status == proto::MpStatus::Ok) {
    // The serving loop closes the fds and frees the slot: it may be using them.
    SlotState expected = SlotState::Active;
    slot->state.compare_exchange_strong(expected, SlotState::Closing, std::memory_order_acq_rel);
    spdlog::info("frontend {} unregistered", parsed.value.frontend_id);
  }
  reply(msg, peer, proto::StatusReply{static_cast<std::int32_t>(parsed.status)});
  return 0;
}

int on_stats(const rte_mp_msg* msg, const void* peer) {
  const CallbackFence::Scope scope(g_fence);
  if (!scope.entered()) return refuse_stopping<proto::StatsReply>(msg, peer);
  auto parsed = proto::parse_stats(msg->param, static_cast<std::size_t>(msg->len_param),
                                   static_cast<std::size_t>(msg->num_fds));
  close_received_fds(msg);
  proto::StatsReply out{};
  if (parsed.status == proto::MpStatus::Ok) out = g_installed.registry->stats();
  out.status = static_cast<std::int32_t>(parsed.status);
  reply(msg, peer, out);
  return 0;
}

int on_add_key(const rte_mp_msg* msg, const void* peer) {
  const CallbackFence::Scope scope(g_fence);
  if (!scope.entered()) return refuse_stopping<proto::AddKeyReply>(msg, peer);
  auto parsed = proto::parse_add_key(msg->param, static_cast<std::size_t>(msg->len_param),
                                     static_cast<std::size_t>(msg->num_fds));
  close_received_fds(msg);
  FrontendSlot* slot = nullptr;
  if (parsed.status == proto::MpStatus::Ok && !g_installed.crypto_device) parsed.status = proto::MpStatus::NoCryptoDevice;
  if (parsed.status == proto::MpStatus::Ok)
    parsed.status = find_owned_slot(parsed.value.frontend_id, parsed.value.generation, peer, slot);
  proto::AddKeyReply out{};
  if (parsed.status == proto::MpStatus::Ok) {
    // The lowest free id. One frontend's messages arrive one at a time
    // (each waits for its reply), so the claim is only against a slot
    // reused meanwhile.
    static_assert(proto::kMaxKeysPerFrontend == 64, "one bit of keys_used per key id");
    std::uint64_t used = slot->keys_used.load(std::memory_order_acquire);
    unsigned id = 0;
    do {
      id = static_cast<unsigned>(std::countr_one(used));
    } while (id < proto::kMaxKeysPerFrontend &&
             !slot->keys_used.compare_exchange_weak(used, used | (std::uint64_t{1} << id), std::memory_order_acq_rel));
    if (id >= proto::kMaxKeysPerFrontend) {
      parsed.status = proto::MpStatus::TooManyKeys;
    } else {
      RegisteredKey& key = slot->keys[id];
      std::memcpy(key.bytes.data(), parsed.value.key, key.bytes.size());
      key.generation.store(parsed.value.generation, std::memory_order_release);
      out.key_id = static_cast<std::uint16_t>(id);
      spdlog::info("frontend {}: registered AES-256 key {}", parsed.value.frontend_id, id);
    }
  }
  // The key's bytes are not needed in the message any more.
  std::memset(&parsed.value.key, 0, sizeof parsed.value.key);
  if (parsed.status != proto::MpStatus::Ok)
    spdlog::warn("refused a key from {}: {}", static_cast<const char*>(peer), proto::mp_status_text(parsed.status));
  out.status = static_cast<std::int32_t>(parsed.status);
  reply(msg, peer, out);
  return 0;
}

// How long a forget-key action waits for the serving loop to have drained
// the device of the key (it does so at its next turn: microseconds, or the
// time the cryptodev takes to finish what it holds).
constexpr auto kForgetBound = std::chrono::milliseconds(1000);

int on_forget_key(const rte_mp_msg* msg, const void* peer) {
  const CallbackFence::Scope scope(g_fence);
  if (!scope.entered()) return refuse_stopping<proto::StatusReply>(msg, peer);
  auto parsed = proto::parse_forget_key(msg->param, static_cast<std::size_t>(msg->len_param),
                                        static_cast<std::size_t>(msg->num_fds));
  close_received_fds(msg);
  FrontendSlot* slot = nullptr;
  if (parsed.status == proto::MpStatus::Ok)
    parsed.status = find_owned_slot(parsed.value.frontend_id, parsed.value.generation, peer, slot);
  const std::uint64_t bit = std::uint64_t{1} << (parsed.value.key_id % proto::kMaxKeysPerFrontend);
  if (parsed.status == proto::MpStatus::Ok) {
    RegisteredKey& key = slot->keys[parsed.value.key_id];
    if ((slot->keys_used.load(std::memory_order_acquire) & bit) == 0 ||
        key.generation.load(std::memory_order_acquire) != parsed.value.generation) {
      parsed.status = proto::MpStatus::BadKey;  // not registered (or already forgotten)
    } else {
      // From now on a request naming it is refused ("key id not
      // registered"); the serving loop drains what the device holds.
      key.generation.store(0, std::memory_order_release);
      slot->keys_to_forget.fetch_or(bit, std::memory_order_acq_rel);
      const auto deadline = std::chrono::steady_clock::now() + kForgetBound;
      while ((slot->keys_to_forget.load(std::memory_order_acquire) & bit) != 0) {
        if (std::chrono::steady_clock::now() >= deadline) {
          parsed.status = proto::MpStatus::Stopping;  // the serving loop is not serving
          break;
        }
        ::usleep(50);
      }
      // Kept when the device could not be drained (forget_keys).
      if (parsed.status == proto::MpStatus::Ok && (slot->keys_used.load(std::memory_order_acquire) & bit) != 0)
        parsed.status = proto::MpStatus::Stopping;
    }
  }
  if (parsed.status != proto::MpStatus::Ok)
    spdlog::warn("refused to forget a key for {}: {}", static_cast<const char*>(peer),
                 proto::mp_status_text(parsed.status));
  else
    spdlog::info("frontend {}: forgot AES-256 key {}", parsed.value.frontend_id, parsed.value.key_id);
  reply(msg, peer, proto::StatusReply{static_cast<std::int32_t>(parsed.status)});
  return 0;
}

struct Action {
  const char* name;
  rte_mp_t handler;
};
constexpr Action kActions[] = {
    {proto::kMpRegister, on_register},
    {proto::kMpFdSync, on_fd_sync},
    {proto::kMpUnregister, on_unregister},
    {proto::kMpStats, on_stats},
    {proto::kMpAddKey, on_add_key},
    {proto::kMpForgetKey, on_forget_key},
};

}  // namespace

FrontendRegistry::FrontendRegistry() {
  for (auto& slot : slots_)
    for (auto& fd : slot.job_fds) fd.store(-1, std::memory_order_relaxed);
}

void FrontendRegistry::install(const Params& params) {
  g_installed.registry = this;
  static_cast<Params&>(g_installed) = params;
  g_fence.open();
  for (const auto& action : kActions) {
    if (rte_mp_action_register(action.name, action.handler) != 0) {
      uninstall();
      throw std::runtime_error(std::string("cannot register the rte_mp action ") + action.name);
    }
  }
}

void FrontendRegistry::uninstall() noexcept {
  // Closed first: from now on an action that arrives answers "stopping".
  if (!g_fence.close()) spdlog::error("an rte_mp action is still running 2 s into the stop: continuing without it");
  for (const auto& action : kActions) rte_mp_action_unregister(action.name);
}

void FrontendRegistry::release(FrontendSlot& slot) noexcept {
  for (auto& fd : slot.job_fds) {
    const int old = fd.exchange(-1, std::memory_order_acq_rel);
    if (old >= 0) ::close(old);
  }
  if (const int doorbell = slot.doorbell_fd.exchange(-1, std::memory_order_acq_rel); doorbell >= 0) ::close(doorbell);
  slot.unsignalled = 0;
  if (slot.pidfd >= 0) ::close(slot.pidfd);
  slot.pidfd = -1;
  slot.inflight = 0;
  slot.fds_registered.store(0, std::memory_order_relaxed);
  for (RegisteredKey& key : slot.keys) {
    key.generation.store(0, std::memory_order_relaxed);
    key.bytes.fill(0);  // no key outlives its frontend's registration
  }
  slot.keys_used.store(0, std::memory_order_relaxed);
  slot.keys_to_forget.store(0, std::memory_order_relaxed);
  // A new generation, so completions still queued for the old one are
  // recognised and dropped rather than signalled to a stranger.
  slot.generation.fetch_add(1, std::memory_order_relaxed);
  slot.state.store(SlotState::Free, std::memory_order_release);
}

proto::StatsReply FrontendRegistry::stats() const noexcept {
  const Installed& in = g_installed;
  proto::StatsReply out{};
  out.status = static_cast<std::int32_t>(proto::MpStatus::Ok);
  out.frontends = active_count();
  out.payload_pool_size = in.payload_pool->size;
  out.payload_pool_available = rte_mempool_avail_count(in.payload_pool);
  out.request_pool_size = in.request_pool->size;
  out.request_pool_available = rte_mempool_avail_count(in.request_pool);
  out.inflight = in.counters->inflight.load();
  out.served = in.counters->served.load();
  out.rejected = in.counters->rejected.load();
  out.crypto_sessions = in.counters->crypto_sessions.load();
  out.uptime_ms = (monotonic_ns() - in.started_ns) / 1'000'000;
  return out;
}

std::uint32_t FrontendRegistry::active_count() const noexcept {
  std::uint32_t n = 0;
  for (const auto& slot : slots_)
    if (slot.state.load(std::memory_order_acquire) == SlotState::Active) ++n;
  return n;
}

std::uint32_t FrontendRegistry::attached_count() const noexcept {
  std::uint32_t n = 0;
  for (const auto& slot : slots_)
    if (slot.state.load(std::memory_order_acquire) != SlotState::Free) ++n;
  return n;
}

int peer_pid(std::string_view peer) noexcept {
  const auto slash = peer.rfind('/');
  return dpdk::runtime_file_pid(slash == std::string_view::npos ? peer : peer.substr(slash + 1));
}

}  // namespace offload::backend
