#pragma once
// One thread's frontend: each thread that uses the provider registers with
// the backend on first use, with a fixed set of slots ("jobs" to the
// backend), each with an eventfd the backend signals when that slot's
// request is done. Slot 0 serves the thread's synchronous calls; the others
// are leased to ASYNC wait contexts, whose one wait fd is the slot's.

#include <openssl/async.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "offload/aes_gcm.hpp"
#include "offload/client/backend_link.hpp"
#include "offload/protocol.hpp"
#include "offload/unique_fd.hpp"

namespace offload::provider {

class ThreadClient;

struct Slot {
  std::uint32_t id = 0;
  UniqueFd eventfd;
  std::uint32_t seq = 0;
  // Set while a request of this slot is on the backend (monitor: deadlines).
  std::atomic<std::uint64_t> inflight_since_ns{0};
  // The monitor ended the wait: the backend died or the request outlived its bound.
  std::atomic<bool> expired{false};
  // Callback mode: what the monitor calls once the backend signals.
  std::atomic<ASYNC_callback_fn> callback{nullptr};
  std::atomic<void*> callback_arg{nullptr};
  ThreadClient* owner = nullptr;
};

// What a wait context holds of a leased slot (its custom data): released,
// and the client kept alive until then, by the wait context's cleanup.
struct SlotLease {
  std::shared_ptr<ThreadClient> client;
  Slot* slot;
};

class ThreadClient {
public:
  static constexpr std::uint32_t kSlots = 128;

  // `thread`: the thread whose client this is (it may be built on another,
  // off an ASYNC job's stack).
  ThreadClient(const std::string& instance, std::thread::id thread);
  ThreadClient(const ThreadClient&) = delete;
  ThreadClient& operator=(const ThreadClient&) = delete;
  ~ThreadClient();

  // Unique in the process for its lifetime (a pointer could be reused by
  // the next thread's client, whose key ids differ).
  std::uint64_t serial() const noexcept { return serial_; }
  client::BackendLink& link() noexcept { return *link_; }
  // Unregistered (detach()): no request may be made any more.
  [[nodiscard]] bool detached() const noexcept { return link_ == nullptr; }
  Slot& sync_slot() noexcept { return slots_[0]; }
  std::vector<Slot>& slots() noexcept { return slots_; }

  // A free slot for a wait context, or nullptr when all are leased.
  Slot* lease_slot();
  void release_slot(Slot& slot) noexcept;

  // A key as the backend knows it: its id, and which registration into that
  // id (an id is reused once its key is forgotten).
  struct KeyRef {
    std::uint16_t id;
    std::uint32_t epoch;
  };
  // The backend's id for `key`, registered on first use. When this
  // frontend's 64 ids are taken, the least recently used key that no
  // request in flight uses is forgotten first. nullopt when every one is in
  // use by a request in flight.
  std::optional<KeyRef> key_ref(const GcmKey& key);
  // Still the key registered as `ref` (a context's memo of it).
  [[nodiscard]] bool key_current(KeyRef ref) const noexcept {
    return ref.id < keys_.size() && keys_[ref.id].used && keys_[ref.id].epoch == ref.epoch;
  }
  // A request naming key `id` goes to the backend, or came back: a key is
  // forgotten only when none is out.
  void key_request_out(std::uint16_t id) noexcept {
    ++keys_[id].inflight;
    keys_[id].last_use = ++key_clock_;
  }
  void key_request_back(std::uint16_t id) noexcept { --keys_[id].inflight; }

  // Unregisters now (the provider unloads), whoever still holds the client.
  void detach() noexcept;

  // Gives a request object (and its buffer) back to the backend. From
  // another thread than the client's (a cipher context that moved), it is
  // queued for the client's thread, which gives it back at its next request.
  void give_back(void* request);
  // The client's thread: what other threads queued.
  void give_back_queued();

private:
  std::uint64_t serial_;
  std::thread::id thread_;
  std::mutex queued_mutex_;
  std::vector<void*> queued_returns_;
  std::atomic<bool> has_queued_{false};
  std::unique_ptr<client::BackendLink> link_;
  std::vector<Slot> slots_;
  std::mutex free_mutex_;
  std::vector<std::uint32_t> free_slots_;
  struct KeyEntry {
    GcmKey key{};
    bool used = false;
    std::uint32_t epoch = 0;
    std::uint32_t inflight = 0;
    std::uint64_t last_use = 0;
  };
  std::array<KeyEntry, proto::kMaxKeysPerFrontend> keys_{};
  std::uint64_t key_clock_ = 0;
};

}  // namespace offload::provider
