#include "thread_client.hpp"

#include <openssl/crypto.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>

#include "offload/protocol.hpp"
#include "process.hpp"

namespace offload::provider {

namespace {
std::atomic<std::uint64_t> g_next_serial{1};
}  // namespace

ThreadClient::ThreadClient(const std::string& instance, std::thread::id thread)
    : serial_(g_next_serial.fetch_add(1, std::memory_order_relaxed)),
      thread_(thread),
      link_(std::make_unique<client::BackendLink>(instance, kSlots, proto::NotifyMode::EventFd)), slots_(kSlots) {
  std::vector<int> fds;
  for (std::uint32_t i = 0; i < kSlots; ++i) {
    slots_[i].id = i;
    slots_[i].owner = this;
    slots_[i].eventfd = make_eventfd();
    fds.push_back(slots_[i].eventfd.get());
  }
  // The backend must hold every slot's fd before a request can name it.
  link_->sync_job_fds(0, fds);
  // Slot 0 is the synchronous one; leased ones are taken from the back.
  for (std::uint32_t i = kSlots - 1; i >= 1; --i) free_slots_.push_back(i);
}

ThreadClient::~ThreadClient() {
  detach();
  for (KeyEntry& e : keys_) OPENSSL_cleanse(e.key.data(), e.key.size());
}

void ThreadClient::detach() noexcept {
  if (Process::forked()) {
    // The parent's registration: not this process's to end.
    (void)link_.release();
    return;
  }
  // ~BackendLink unregisters (an acknowledged rte_mp request, bounded) if
  // the backend still lives; the backend then takes back every buffer. The
  // last holder may be a wait context freed inside a job.
  try {
    off_job_stack([this] { link_.reset(); });
  } catch (...) {
    link_.reset();
  }
}

Slot* ThreadClient::lease_slot() {
  const std::lock_guard lock(free_mutex_);
  if (free_slots_.empty()) return nullptr;
  Slot& slot = slots_[free_slots_.back()];
  free_slots_.pop_back();
  // A signal left over from the slot's last holder would be a spurious wake.
  drain_eventfd(slot.eventfd.get());
  return &slot;
}

void ThreadClient::release_slot(Slot& slot) noexcept {
  slot.callback.store(nullptr, std::memory_order_release);
  const std::lock_guard lock(free_mutex_);
  free_slots_.push_back(slot.id);
}

void ThreadClient::give_back(void* request) {
  if (detached()) return;  // unregistered: the backend took everything back
  if (std::this_thread::get_id() == thread_) {
    link_->give_back(request);
    link_->flush();
    return;
  }
  const std::lock_guard lock(queued_mutex_);
  queued_returns_.push_back(request);
  has_queued_.store(true, std::memory_order_release);
}

void ThreadClient::give_back_queued() {
  if (!has_queued_.load(std::memory_order_acquire) || detached()) return;
  const std::lock_guard lock(queued_mutex_);
  for (void* r : queued_returns_) link_->give_back(r);
  queued_returns_.clear();
  has_queued_.store(false, std::memory_order_release);
  link_->flush();
}

std::optional<ThreadClient::KeyRef> ThreadClient::key_ref(const GcmKey& key) {
  KeyEntry* free_entry = nullptr;
  KeyEntry* idle_lru = nullptr;
  for (KeyEntry& e : keys_) {
    if (!e.used) {
      if (free_entry == nullptr) free_entry = &e;
      continue;
    }
    if (CRYPTO_memcmp(e.key.data(), key.data(), key.size()) == 0) {
      e.last_use = ++key_clock_;
      return KeyRef{static_cast<std::uint16_t>(&e - keys_.data()), e.epoch};
    }
    if (e.inflight == 0 && (idle_lru == nullptr || e.last_use < idle_lru->last_use)) idle_lru = &e;
  }
  if (free_entry == nullptr) {
    // Every id is taken: the least recently used key no request in flight
    // uses makes room (a TLS server's connections each bring their keys).
    if (idle_lru == nullptr) return std::nullopt;
    const auto victim = static_cast<std::uint16_t>(idle_lru - keys_.data());
    off_job_stack([&] { link_->forget_key(victim); });
    OPENSSL_cleanse(idle_lru->key.data(), idle_lru->key.size());
    idle_lru->used = false;
  }
  std::uint16_t id = 0;
  off_job_stack([&] { id = link_->add_key(key); });
  if (id >= keys_.size()) return std::nullopt;  // cannot happen: the backend's ids are ours
  KeyEntry& e = keys_[id];
  e.key = key;
  e.used = true;
  ++e.epoch;
  e.inflight = 0;
  e.last_use = ++key_clock_;
  return KeyRef{id, e.epoch};
}

}  // namespace offload::provider
