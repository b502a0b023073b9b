#include "offload/client/backend_link.hpp"

#include <rte_eal.h>
#include <rte_memzone.h>
#include <spdlog/spdlog.h>

#include <unistd.h>

#include <algorithm>
#include <iterator>
#include <fmt/format.h>

#include "offload/dpdk/instance.hpp"
#include "offload/dpdk/mp_request.hpp"
#include "offload/exit_codes.hpp"

namespace offload::client {
namespace {

std::string how_to_start(const std::string& instance) {
  return fmt::format("start it with: offload-backend --instance {} (or ./scripts/run-demo.sh, which starts both)",
                     instance);
}

void require_ok(proto::MpStatus status, const char* what, const std::string& detail = {}) {
  if (status == proto::MpStatus::Ok) return;
  throw EnvironmentError(fmt::format("the backend refused {}: {}{}", what, proto::mp_status_text(status), detail));
}

}  // namespace

void require_live_backend(const std::string& instance, std::chrono::milliseconds ready_bound) {
  const auto no_backend = [&instance] {
    return EnvironmentError(fmt::format("no offload-backend is running for instance '{}' (no live DPDK primary at {}); {}",
                                        instance, dpdk::runtime_dir(instance), how_to_start(instance)));
  };
  if (!dpdk::primary_alive(instance)) throw no_backend();
  if (dpdk::ready_backend_pid(instance) != 0) return;
  // Its DPDK primary runs but it does not serve yet (its rte_mp actions may
  // not exist): registering now would only time out.
  spdlog::info("the backend of instance '{}' is starting: waiting up to {} ms for it to be ready", instance,
               ready_bound.count());
  const auto deadline = std::chrono::steady_clock::now() + ready_bound;
  while (dpdk::ready_backend_pid(instance) == 0) {
    if (!dpdk::primary_alive(instance)) throw no_backend();
    if (std::chrono::steady_clock::now() >= deadline)
      throw EnvironmentError(fmt::format("the backend of instance '{}' has been starting for {} ms and is still not "
                                         "ready (no {}): see its log",
                                         instance, ready_bound.count(), dpdk::ready_file(instance)));
    ::usleep(10'000);
  }
}

proto::StatsReply query_backend_stats() {
  proto::StatsRequest request{proto::make_mp_header()};
  const auto reply = dpdk::mp_request<proto::StatsReply>(proto::kMpStats, request);
  require_ok(static_cast<proto::MpStatus>(reply.status), "the stats request");
  return reply;
}

BackendLink::BackendLink(const std::string& instance, std::uint32_t max_jobs, proto::NotifyMode notify,
                         int doorbell_fd, std::uint16_t protocol_version)
    : instance_(instance) {
  proto::RegisterRequest request{};
  request.header = proto::make_mp_header();
  request.header.version = protocol_version;
  request.pid = static_cast<std::int32_t>(::getpid());
  request.max_jobs = max_jobs;
  request.notify = notify;
  const int fds[1] = {doorbell_fd};
  const auto reply = dpdk::mp_request<proto::RegisterReply>(
      proto::kMpRegister, request, doorbell_fd >= 0 ? std::span<const int>(fds) : std::span<const int>());
  const auto status = static_cast<proto::MpStatus>(reply.status);
  if (status == proto::MpStatus::VersionMismatch)
    throw EnvironmentError(fmt::format("the backend of instance '{}' speaks protocol version {}, this frontend {}: "
                                       "run a frontend and backend built from the same source",
                                       instance, reply.backend_version, protocol_version));
  require_ok(status, "this frontend's registration");
  frontend_id_ = reply.frontend_id;
  generation_ = reply.generation;
  engines_ = reply.engines;
  latency_bound_ns_ = reply.latency_bound_ns;
  buffer_bytes_ = reply.buffer_bytes;
  registered_ = true;

  const std::string names[] = {proto::grant_ring_name(frontend_id_), proto::request_ring_name(frontend_id_),
                               proto::completion_ring_name(frontend_id_), proto::return_ring_name(frontend_id_)};
  rte_ring** rings[] = {&grants_, &requests_, &completions_, &returns_};
  for (std::size_t i = 0; i < std::size(names); ++i) {
    *rings[i] = rte_ring_lookup(names[i].c_str());
    if (*rings[i] == nullptr)
      throw EnvironmentError(fmt::format("instance '{}' lacks the ring {} this frontend needs: is its backend another "
                                         "version?",
                                         instance, names[i]));
  }
  // This frontend's word only, inside the memzone: its id is the backend's
  // reply, checked here rather than trusted.
  if (const rte_memzone* zone = rte_memzone_lookup(proto::kDoorbellsName);
      zone != nullptr && frontend_id_ < proto::kMaxFrontends &&
      zone->len >= sizeof(proto::DoorbellControl) * proto::kMaxFrontends)
    doorbell_control_ = static_cast<proto::DoorbellControl*>(zone->addr) + frontend_id_;
  spdlog::info("registered with the backend of instance '{}' over rte_mp: frontend id {}, generation {}; "
               "requests go on ring {} (capacity {})",
               instance, frontend_id_, generation_, proto::request_ring_name(frontend_id_), reply.queue_depth);
}

BackendLink::~BackendLink() {
  if (!registered_ || !backend_alive()) return;
  proto::UnregisterRequest request{};
  request.header = proto::make_mp_header();
  request.frontend_id = frontend_id_;
  request.generation = generation_;
  try {
    dpdk::mp_request<proto::StatusReply>(proto::kMpUnregister, request, {}, std::chrono::seconds(1));
  } catch (const std::exception& e) {
    spdlog::warn("could not unregister from the backend: {}", e.what());
  }
}

void BackendLink::sync_job_fds(std::uint32_t first_job, std::span<const int> fds) {
  std::size_t messages = 0;
  for (std::size_t done = 0; done < fds.size(); done += proto::kMpMaxFds, ++messages) {
    const auto batch = fds.subspan(done, std::min(proto::kMpMaxFds, fds.size() - done));
    proto::FdSyncRequest request{};
    request.header = proto::make_mp_header();
    request.frontend_id = frontend_id_;
    request.generation = generation_;
    request.first_job = first_job + static_cast<std::uint32_t>(done);
    request.count = static_cast<std::uint16_t>(batch.size());
    const auto reply = dpdk::mp_request<proto::StatusReply>(proto::kMpFdSync, request, batch);
    require_ok(static_cast<proto::MpStatus>(reply.status), "a batch of job eventfds",
               fmt::format(" (jobs {}..{})", request.first_job, request.first_job + request.count - 1));
  }
  spdlog::info("passed {} job eventfd(s) to the backend in {} acknowledged rte_mp message(s) (at most {} fds each)",
               fds.size(), messages, proto::kMpMaxFds);
}

std::uint16_t BackendLink::add_key(std::span<const std::uint8_t> key) {
  proto::AddKeyRequest request{};
  request.header = proto::make_mp_header();
  request.frontend_id = frontend_id_;
  request.generation = generation_;
  request.key_len = static_cast<std::uint16_t>(std::min<std::size_t>(key.size(), UINT16_MAX));
  std::copy_n(key.begin(), std::min(key.size(), sizeof request.key), request.key);
  const auto reply = dpdk::mp_request<proto::AddKeyReply>(proto::kMpAddKey, request);
  std::fill(std::begin(request.key), std::end(request.key), std::uint8_t{0});
  require_ok(static_cast<proto::MpStatus>(reply.status), "this frontend's AES-256 key");
  spdlog::info("registered an AES-256 key with the backend over rte_mp: key id {}", reply.key_id);
  return reply.key_id;
}

void BackendLink::forget_key(std::uint16_t key_id) {
  proto::ForgetKeyRequest request{};
  request.header = proto::make_mp_header();
  request.frontend_id = frontend_id_;
  request.generation = generation_;
  request.key_id = key_id;
  const auto reply = dpdk::mp_request<proto::StatusReply>(proto::kMpForgetKey, request);
  require_ok(static_cast<proto::MpStatus>(reply.status), fmt::format("forgetting key id {}", key_id).c_str());
  spdlog::debug("the backend forgot key id {}", key_id);
}

void* BackendLink::take_grant() {
  if (grant_cache_.empty()) {
    constexpr unsigned kBurst = 32;
    void* burst[kBurst];
    const unsigned n = rte_ring_sc_dequeue_burst(grants_, burst, kBurst, nullptr);
    // Reversed, so that pop_back() takes them in the order they were granted.
    for (unsigned i = n; i > 0; --i) grant_cache_.push_back(burst[i - 1]);
    if (n == 0) return nullptr;
  }
  void* object = grant_cache_.back();
  grant_cache_.pop_back();
  return object;
}

// Enqueues as much of `staged` on `ring` as fits, keeping the rest in order.
static void enqueue_staged(rte_ring* ring, std::vector<void*>& staged) {
  if (staged.empty()) return;
  const unsigned sent =
      rte_ring_sp_enqueue_burst(ring, staged.data(), static_cast<unsigned>(staged.size()), nullptr);
  staged.erase(staged.begin(), staged.begin() + sent);
}

void BackendLink::flush() {
  // Once the backend is stopping its rings are about to be freed: what is
  // staged stays here (the backend takes everything back when it detaches
  // this frontend, or is gone).
  if (backend_stopping_) return;
  enqueue_staged(returns_, staged_returns_);
  enqueue_staged(requests_, staged_requests_);
}

bool BackendLink::backend_alive() const { return rte_eal_primary_proc_alive(nullptr) != 0; }

}  // namespace offload::client
