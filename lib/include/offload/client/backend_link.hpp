#pragma once
// A client's side of the contract with the backend, shared by the frontend
// and the OpenSSL provider: finding it, registering over rte_mp, passing job
// eventfds, registering keys, and its rings.

#include <chrono>
#include <rte_ring.h>

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "offload/protocol.hpp"

namespace offload::client {

// Before any EAL call: throws EnvironmentError naming the instance and how
// to start its backend unless a live primary holds the instance; while that
// backend is still starting (no ready file yet), waits for it, at most
// `ready_bound`.
void require_live_backend(const std::string& instance, std::chrono::milliseconds ready_bound);

// After EAL init: the backend's counters and pool levels (rte_mp request).
proto::StatsReply query_backend_stats();

class BackendLink {
public:
  // Registers this process (rte_mp request, bounded wait) and looks up the
  // pools and this frontend's rings. Throws EnvironmentError on refusal.
  // In coalesced mode `doorbell_fd` (an eventfd) is passed with the
  // registration: the backend signals it once per burst of completions.
  BackendLink(const std::string& instance, std::uint32_t max_jobs, proto::NotifyMode notify, int doorbell_fd = -1,
              std::uint16_t protocol_version = proto::kVersion);
  BackendLink(const BackendLink&) = delete;
  BackendLink& operator=(const BackendLink&) = delete;
  // Unregisters (if the backend still lives) so it frees the slot at once.
  ~BackendLink();

  // Passes the eventfds of jobs first_job.. to the backend, at most 8 per
  // message, each batch acknowledged before the next. Throws on refusal.
  void sync_job_fds(std::uint32_t first_job, std::span<const int> fds);

  // Registers an AES-256 key (rte_mp, acknowledged) and returns its id,
  // which this frontend's requests then carry. Throws EnvironmentError on
  // refusal (e.g. the backend has no crypto device).
  std::uint16_t add_key(std::span<const std::uint8_t> key);
  // Forgets a key (rte_mp, answered once the backend holds nothing of it:
  // the id may then name another key). None of this frontend's requests in
  // flight may use it. Throws EnvironmentError on refusal.
  void forget_key(std::uint16_t key_id);

  [[nodiscard]] bool backend_alive() const;

  // Once a request came back "dropped" the backend is stopping and will
  // free its rings and pools: from then on this frontend leaves them alone.
  void mark_backend_stopping() noexcept { backend_stopping_ = true; }
  [[nodiscard]] bool backend_stopping() const noexcept { return backend_stopping_; }

  std::uint16_t frontend_id() const noexcept { return frontend_id_; }
  std::uint32_t generation() const noexcept { return generation_; }
  // The backend's device, from its register reply: engines (0: unlimited)
  // and a bound on one request's service time.
  std::uint32_t engines() const noexcept { return engines_; }
  double latency_bound_ms() const noexcept { return static_cast<double>(latency_bound_ns_) / 1e6; }
  // The size of every payload buffer (the backend's --buffer-size).
  std::uint32_t buffer_bytes() const noexcept { return buffer_bytes_; }
  // This frontend's four rings (protocol.hpp): it dequeues granted request
  // objects, enqueues requests, dequeues completions, enqueues returns. It
  // never takes from or puts into the backend's pools itself.
  rte_ring* grants() const noexcept { return grants_; }
  rte_ring* requests() const noexcept { return requests_; }
  rte_ring* completions() const noexcept { return completions_; }
  rte_ring* returns() const noexcept { return returns_; }
  const std::string& instance() const noexcept { return instance_; }
  // Coalesced mode: this frontend's say in whether its doorbell rings
  // (protocol.hpp); nullptr from a backend without it (rung always).
  proto::DoorbellControl* doorbell_control() const noexcept { return doorbell_control_; }

  // Batched ring access, for the jobs of this thread. Every ring operation
  // reads an index the backend's core writes (a cache miss across cores,
  // a few hundred nanoseconds here); one per burst instead of one per
  // request cut the frontend's CPU per request. take_grant() refills a
  // local cache from the grant ring in bursts; send() and give_back() stage
  // requests and returned objects, which flush() puts on their rings, one
  // burst each. The event loop flushes before it waits for anything.
  [[nodiscard]] void* take_grant();
  void send(void* request) { staged_requests_.push_back(request); }
  void give_back(void* request) { staged_returns_.push_back(request); }
  void flush();

private:
  std::string instance_;
  std::uint16_t frontend_id_ = 0;
  std::uint32_t generation_ = 0;
  std::uint32_t engines_ = 0;
  std::uint64_t latency_bound_ns_ = 0;
  std::uint32_t buffer_bytes_ = 0;
  bool registered_ = false;
  bool backend_stopping_ = false;
  rte_ring* grants_ = nullptr;
  rte_ring* requests_ = nullptr;
  rte_ring* completions_ = nullptr;
  rte_ring* returns_ = nullptr;
  proto::DoorbellControl* doorbell_control_ = nullptr;
  std::vector<void*> grant_cache_;
  std::vector<void*> staged_requests_;
  std::vector<void*> staged_returns_;
};

}  // namespace offload::client
