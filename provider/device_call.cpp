#include "device_call.hpp"

#include <fmt/format.h>
#include <openssl/async.h>

#include <poll.h>
#include <time.h>

#include <cstring>

#include "offload/client/aead_request.hpp"
#include "offload/clock.hpp"
#include "offload/protocol.hpp"
#include "thread_client.hpp"

namespace offload::provider {
namespace {

// The key under which the provider's wait fd sits in a wait context.
const int kWaitKey = 0;
// A synchronous wait spins this long on the request's status before it
// sleeps on the slot's eventfd (a wake from sleep costs 50-150 us here).
constexpr std::uint64_t kSyncSpinNs = 10'000;
constexpr int kSyncPollMs = 50;

// The wait context's cleanup: the slot goes back to its client.
void release_lease(ASYNC_WAIT_CTX* /*ctx*/, const void* /*key*/, OSSL_ASYNC_FD /*fd*/, void* custom) {
  auto* lease = static_cast<SlotLease*>(custom);
  lease->client->release_slot(*lease->slot);
  delete lease;
}

// How this request's completion reaches its caller.
struct Waiter {
  enum class Kind { Sync, Fd, Callback } kind = Kind::Sync;
  Slot* slot = nullptr;
  ASYNC_WAIT_CTX* ctx = nullptr;
};

Waiter choose_waiter(Process& process, const std::shared_ptr<ThreadClient>& client) {
  const Waiter sync{Waiter::Kind::Sync, &client->sync_slot(), nullptr};
  ASYNC_JOB* job = ASYNC_get_current_job();
  ASYNC_WAIT_CTX* ctx = job != nullptr ? ASYNC_get_wait_ctx(job) : nullptr;
  if (ctx == nullptr) return sync;
  ASYNC_callback_fn callback = nullptr;
  void* callback_arg = nullptr;
  if (ASYNC_WAIT_CTX_get_callback(ctx, &callback, &callback_arg) == 1 && callback != nullptr) {
    // The application's callback instead of a wait fd (as qatprovider
    // does): a slot for this request only, watched by the monitor thread.
    Slot* slot = client->lease_slot();
    if (slot == nullptr) return sync;
    slot->callback_arg.store(callback_arg, std::memory_order_release);
    slot->callback.store(callback, std::memory_order_release);
    process.watch_callback(*slot);
    return {Waiter::Kind::Callback, slot, ctx};
  }
  OSSL_ASYNC_FD fd = OSSL_BAD_ASYNC_FD;
  void* custom = nullptr;
  if (ASYNC_WAIT_CTX_get_fd(ctx, &kWaitKey, &fd, &custom) == 1 && custom != nullptr) {
    auto* lease = static_cast<SlotLease*>(custom);
    // A wait context first used on another thread keeps that thread's slot.
    return lease->client == client ? Waiter{Waiter::Kind::Fd, lease->slot, ctx} : sync;
  }
  // The job's one wait fd, for as long as its wait context lives.
  Slot* slot = client->lease_slot();
  if (slot == nullptr) return sync;
  auto* lease = new SlotLease{client, slot};
  if (ASYNC_WAIT_CTX_set_wait_fd(ctx, &kWaitKey, slot->eventfd.get(), lease, release_lease) != 1) {
    client->release_slot(*slot);
    delete lease;
    return sync;
  }
  return {Waiter::Kind::Fd, slot, ctx};
}

// Ends a callback-mode lease when the request is done, however it ends.
struct CallbackLeaseEnd {
  Process& process;
  ThreadClient& client;
  const Waiter& waiter;
  ~CallbackLeaseEnd() {
    if (waiter.kind != Waiter::Kind::Callback) return;
    process.unwatch_callback(*waiter.slot);
    client.release_slot(*waiter.slot);
  }
};

void nap_us(long us) {
  const timespec t{0, us * 1000};
  ::nanosleep(&t, nullptr);
}

// A granted request object with its payload buffer. No buffer is
// backpressure: a job pauses with ASYNC_STATUS_EAGAIN (its fd made ready
// so that the application comes back to it), the thread naps otherwise.
proto::Request* take_grant(Process& process, ThreadClient& client, const Waiter& w, std::uint64_t deadline,
                           std::string& why) {
  client::BackendLink& link = client.link();
  for (;;) {
    if (void* object = link.take_grant()) return static_cast<proto::Request*>(object);
    if (process.backend_lost() || link.backend_stopping()) {
      why = fmt::format("offload provider: the backend of instance '{}' is gone", process.config().instance);
      return nullptr;
    }
    if (monotonic_ns() >= deadline) {
      why = "offload provider: no buffer was granted within the request's bound";
      return nullptr;
    }
    if (w.kind == Waiter::Kind::Fd) {
      process.counters().eagain_pauses.fetch_add(1, std::memory_order_relaxed);
      ASYNC_WAIT_CTX_set_status(w.ctx, ASYNC_STATUS_EAGAIN);
      signal_eventfd(w.slot->eventfd.get());
      const int paused = ASYNC_pause_job();
      ASYNC_WAIT_CTX_set_status(w.ctx, ASYNC_STATUS_OK);
      drain_eventfd(w.slot->eventfd.get());
      if (paused != 1) {
        why = "offload provider: the ASYNC job could not pause";
        return nullptr;
      }
    } else {
      nap_us(20);
    }
  }
}

// Until the request's status is final. False (why set) when the wait ended
// otherwise: the backend died, the request outlived its bound.
bool await(Process& process, const Waiter& w, proto::Request& r, std::string& why) {
  const auto pending = [&r] {
    return proto::status_ref(r).load(std::memory_order_acquire) == static_cast<std::int32_t>(proto::Status::Pending);
  };
  const auto expired = [&] {
    if (!w.slot->expired.load(std::memory_order_acquire)) return false;
    why = process.backend_lost()
              ? fmt::format("offload provider: the backend of instance '{}' died during the request",
                            process.config().instance)
              : "offload provider: the request outlived its bound (is the backend stuck?)";
    return true;
  };
  const int fd = w.slot->eventfd.get();
  if (w.kind != Waiter::Kind::Sync) {
    while (pending()) {
      if (expired()) return false;
      if (ASYNC_pause_job() != 1) {
        why = "offload provider: the ASYNC job could not pause";
        return false;
      }
      if (w.kind == Waiter::Kind::Fd) drain_eventfd(fd);
    }
    return true;
  }
  process.counters().sync_waits.fetch_add(1, std::memory_order_relaxed);
  for (const std::uint64_t spin_end = monotonic_ns() + kSyncSpinNs; pending() && monotonic_ns() < spin_end;) {
  }
  while (pending()) {
    if (expired()) return false;
    pollfd p{fd, POLLIN, 0};
    ::poll(&p, 1, kSyncPollMs);
    drain_eventfd(fd);
  }
  return true;
}

}  // namespace

void HeldBuffer::hold(std::shared_ptr<ThreadClient> client, void* request, const std::uint8_t* data,
                      std::size_t length) {
  release();
  client_ = std::move(client);
  request_ = request;
  data_ = data;
  length_ = length;
}

void HeldBuffer::release() noexcept {
  if (request_ != nullptr) {
    try {
      client_->give_back(request_);
    } catch (...) {
      // Staging can only fail to allocate: the backend takes the object back
      // when the client unregisters.
    }
  }
  client_.reset();
  request_ = nullptr;
  data_ = nullptr;
  length_ = 0;
}

DeviceResult run_on_device(Process& process, const DeviceMessage& m, SoftwareReason& reason, std::string& why) {
  const bool fallback = process.config().fallback;
  if (process.backend_lost()) {
    reason = SoftwareReason::NoBackend;
    why = fmt::format("offload provider: the backend of instance '{}' is gone", process.config().instance);
    return fallback ? DeviceResult::Software : DeviceResult::Failed;
  }
  auto client = process.thread_client(why);
  if (!client) {
    reason = SoftwareReason::NoBackend;
    return fallback ? DeviceResult::Software : DeviceResult::Failed;
  }
  if (client->detached()) {
    why = "offload provider: unloading";
    return DeviceResult::Failed;
  }
  client::BackendLink& link = client->link();
  client->give_back_queued();
  if (m.in.size() > proto::max_message_bytes(proto::Op::AesGcmEncrypt, link.buffer_bytes())) {
    reason = SoftwareReason::TooLarge;
    return DeviceResult::Software;
  }
  if (m.aad.size() > proto::kMaxAadBytes) {
    reason = SoftwareReason::AadTooLong;
    return DeviceResult::Software;
  }
  std::optional<std::uint16_t> key_id;
  if (m.key_memo != nullptr && m.key_memo->client_serial == client->serial() &&
      client->key_current({m.key_memo->id, m.key_memo->epoch}))
    key_id = m.key_memo->id;
  if (!key_id) {
    std::optional<ThreadClient::KeyRef> ref;
    try {
      ref = client->key_ref(*m.key);
    } catch (const std::exception& e) {
      why = fmt::format("offload provider: {}", e.what());
      return DeviceResult::Failed;
    }
    if (!ref) {
      reason = SoftwareReason::NoKeySlot;
      return DeviceResult::Software;
    }
    key_id = ref->id;
    if (m.key_memo != nullptr) *m.key_memo = KeyIdMemo{client->serial(), ref->id, ref->epoch};
  }

  const Waiter w = choose_waiter(process, client);
  const CallbackLeaseEnd lease_end{process, *client, w};
  Slot& slot = *w.slot;
  slot.expired.store(false, std::memory_order_release);
  const std::uint64_t deadline = monotonic_ns() + process.request_timeout_ns(*client);
  proto::Request* request = take_grant(process, *client, w, deadline, why);
  if (request == nullptr) return DeviceResult::Failed;
  proto::Request& r = *request;
  void* payload = reinterpret_cast<void*>(r.payload_addr);
  const auto give_back = [&] {
    link.give_back(&r);
    link.flush();
  };
  const auto op = m.encrypt ? proto::Op::AesGcmEncrypt : proto::Op::AesGcmDecrypt;
  const char* bad = nullptr;
  if (!proto::copy_payload(payload, proto::max_message_bytes(op, link.buffer_bytes()), m.in))
    bad = "offload provider: the message does not fit the payload buffer";
  else if (!m.encrypt && !client::write_tag_after(payload, link.buffer_bytes(), m.in.size(), *m.tag))
    bad = "offload provider: the message and its tag do not fit the payload buffer";
  else
    bad = client::write_aead_fields(r, *m.iv, *key_id, m.aad);
  if (bad != nullptr) {
    give_back();
    why = bad;
    return DeviceResult::Failed;
  }
  const std::uint32_t seq = ++slot.seq;
  r.job_id = slot.id;
  r.seq = seq;
  r.op = op;
  r.payload_len = static_cast<std::uint32_t>(m.in.size());
  r.status = static_cast<std::int32_t>(proto::Status::Pending);
  r.submit_ns = monotonic_ns();
  slot.inflight_since_ns.store(r.submit_ns, std::memory_order_release);
  client->key_request_out(*key_id);
  link.send(&r);
  link.flush();

  const bool done = await(process, w, r, why);
  slot.inflight_since_ns.store(0, std::memory_order_release);
  // Still out, its key stays registered: the backend may yet use it.
  if (!done) return DeviceResult::Failed;  // the request stays the backend's: it takes it back when we go
  client->key_request_back(*key_id);

  const auto status = static_cast<proto::Status>(proto::status_ref(r).load(std::memory_order_acquire));
  if (!client::response_is_own(r, link.frontend_id(), slot.id, seq)) {
    why = "offload provider: woken with a response that is not its own";
    return DeviceResult::Failed;
  }
  DeviceResult result = DeviceResult::Ok;
  switch (status) {
    case proto::Status::Ok:
      std::memcpy(m.out, payload, m.in.size());
      if (m.encrypt) *m.tag = client::read_tag_after(payload, m.in.size());
      if (m.encrypt && m.hold != nullptr) {
        // Kept, not copied: only a streamed message reads it again.
        m.hold->hold(client, &r, static_cast<const std::uint8_t*>(payload), m.in.size());
        return DeviceResult::Ok;
      }
      break;
    case proto::Status::AuthFailed: result = DeviceResult::AuthFailed; break;
    case proto::Status::Dropped:
      link.mark_backend_stopping();
      why = fmt::format("offload provider: the backend of instance '{}' is stopping", process.config().instance);
      return DeviceResult::Failed;
    default:
      why = fmt::format("offload provider: the backend answered '{}'", proto::status_name(status));
      result = DeviceResult::Failed;
  }
  give_back();
  return result;
}

}  // namespace offload::provider
