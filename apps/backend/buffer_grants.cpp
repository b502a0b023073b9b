#include "buffer_grants.hpp"

#include <rte_errno.h>
#include <rte_lcore.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <vector>

#include "offload/exit_codes.hpp"

namespace offload::backend {
namespace {

// Objects granted or taken back per ring operation.
constexpr unsigned kGrantBurst = 32;

dpdk::MempoolPtr create_pool(const char* name, std::uint32_t count, std::uint32_t element_size, unsigned flags) {
  const auto fail = [&](const char* step) {
    return EnvironmentError(fmt::format("cannot create mempool {} ({} x {} bytes): {} failed: {}; reserve more "
                                        "hugepages (scripts/setup-hugepages.sh --pages N) or lower --pool-size",
                                        name, count, element_size, step, rte_strerror(rte_errno)));
  };
  // No per-lcore cache: every get and put is counted in the pool at once,
  // so --stats sees exactly what is granted.
  dpdk::MempoolPtr pool(
      rte_mempool_create_empty(name, count, element_size, 0, 0, static_cast<int>(rte_socket_id()), flags));
  if (!pool) throw fail("rte_mempool_create_empty");
  // Single producer, single consumer: only the serving thread uses it.
  if (rte_mempool_set_ops_byname(pool.get(), "ring_sp_sc", nullptr) != 0) throw fail("selecting the ring_sp_sc ops");
  if (rte_mempool_populate_default(pool.get()) < 0) throw fail("rte_mempool_populate_default");
  // Objects start zeroed: magic 0 marks an object that is not granted.
  rte_mempool_obj_iter(
      pool.get(), [](rte_mempool* mp, void*, void* obj, unsigned) { std::memset(obj, 0, mp->elt_size); }, nullptr);
  return pool;
}

std::vector<std::uint64_t> pool_elements(rte_mempool* pool) {
  std::vector<std::uint64_t> addrs;
  addrs.reserve(pool->size);
  rte_mempool_obj_iter(
      pool,
      [](rte_mempool*, void* out, void* obj, unsigned) {
        static_cast<std::vector<std::uint64_t>*>(out)->push_back(reinterpret_cast<std::uint64_t>(obj));
      },
      &addrs);
  std::sort(addrs.begin(), addrs.end());
  return addrs;
}

}  // namespace

BufferGrants::BufferGrants(std::uint32_t pool_size, std::uint32_t buffer_bytes)
    // A payload buffer is handed to the cryptodev by its IOVA, so none may
    // straddle a page boundary. Request objects are only ever read by
    // processors: allowed to straddle, they lie at one stride (the pool in
    // one piece, no gap at each 2 MiB page), and the ledger finds each one's
    // index arithmetically instead of by a search. With the gaps, which
    // runs had depended on where the pool fell, the search was 1-2 % of the
    // backend's core.
    : payload_pool_(create_pool(proto::kPayloadPoolName, pool_size, buffer_bytes, 0)),
      request_pool_(create_pool(proto::kRequestPoolName, pool_size, sizeof(proto::Request),
                                RTE_MEMPOOL_F_NO_IOVA_CONTIG)),
      ledger_(pool_elements(request_pool_.get()), proto::kMaxFrontends) {
  if (!ledger_.one_stride())
    spdlog::debug("the request pool is not at one stride: request lookups search its {} objects", ledger_.size());
}

unsigned BufferGrants::top_up(std::uint16_t owner, std::uint32_t generation, std::uint32_t quota,
                              rte_ring* grants) {
  const std::uint32_t held = ledger_.held(owner);
  if (held >= quota) return 0;
  const unsigned want = std::min({quota - held, kGrantBurst, rte_mempool_avail_count(request_pool()),
                                  rte_mempool_avail_count(payload_pool())});
  if (want == 0) return 0;
  std::array<void*, kGrantBurst> requests{};
  std::array<void*, kGrantBurst> payloads{};
  if (rte_mempool_get_bulk(request_pool(), requests.data(), want) != 0) return 0;
  if (rte_mempool_get_bulk(payload_pool(), payloads.data(), want) != 0) {
    rte_mempool_put_bulk(request_pool(), requests.data(), want);
    return 0;
  }
  unsigned ready = 0;
  for (unsigned i = 0; i < want; ++i) {
    const auto index = index_of(requests[i]);
    const auto payload = reinterpret_cast<std::uint64_t>(payloads[i]);
    if (index == GrantLedger::kNoIndex || !ledger_.grant(index, owner, generation, payload)) {
      // The pool handed out an object the ledger says is granted: a bug.
      // Leave it out of circulation rather than let two owners share it.
      spdlog::error("request buffer {} came out of the pool while granted: not granting it", requests[i]);
      rte_mempool_put(payload_pool(), payloads[i]);
      continue;
    }
    proto::Request& r = request(index);
    // The head only (protocol.hpp): AES-GCM requests write the rest.
    std::memset(&r, 0, proto::kRequestHeadBytes);
    r.version = proto::kVersion;
    r.frontend_id = owner;
    r.generation = generation;
    r.payload_addr = payload;
    proto::magic_ref(r).store(proto::kRequestMagic, std::memory_order_release);
    requests[ready++] = requests[i];
  }
  // Cannot fail: the ring holds kGrantRingSize entries and a frontend never
  // holds more than its max_jobs + kGrantSlack. A frontend that scribbled over its
  // ring's indices only loses these grants: they go straight back.
  if (ready != 0 && rte_ring_sp_enqueue_bulk(grants, requests.data(), ready, nullptr) != ready) {
    spdlog::warn("frontend {}: its grant ring refused {} grant(s); taken back", owner, ready);
    for (unsigned i = 0; i < ready; ++i) {
      const auto index = index_of(requests[i]);
      std::uint64_t payload = 0;
      if (ledger_.give_back(index, owner, generation, payload) == GrantLedger::Verdict::Ok) put_back(index, payload);
    }
    return 0;
  }
  return ready;
}

BufferGrants::Returned BufferGrants::take_returns(std::uint16_t owner, std::uint32_t generation, rte_ring* returns) {
  std::array<void*, kGrantBurst> burst{};
  const unsigned n = rte_ring_sc_dequeue_burst(returns, burst.data(), kGrantBurst, nullptr);
  Returned out;
  for (unsigned i = 0; i < n; ++i) {
    const auto index = index_of(burst[i]);
    std::uint64_t payload = 0;
    const auto verdict = index != GrantLedger::kNoIndex ? ledger_.give_back(index, owner, generation, payload)
                                                        : GrantLedger::Verdict::NotGranted;
    if (verdict != GrantLedger::Verdict::Ok) {
      ++out.refused;
      spdlog::warn("frontend {}: refused a returned buffer ({}): {}", owner, burst[i],
                   verdict == GrantLedger::Verdict::OnDevice ? "the device still holds it" : "it was not granted to it");
      continue;
    }
    put_back(index, payload);
    ++out.taken;
  }
  return out;
}

std::uint32_t BufferGrants::reclaim(std::uint16_t owner) {
  return ledger_.reclaim(owner, [this](std::uint32_t index, std::uint64_t payload) { put_back(index, payload); });
}

void BufferGrants::put_back(std::uint32_t index, std::uint64_t payload) noexcept {
  proto::Request& r = request(index);
  proto::magic_ref(r).store(0, std::memory_order_release);
  rte_mempool_put(request_pool(), &r);
  rte_mempool_put(payload_pool(), reinterpret_cast<void*>(payload));
}

}  // namespace offload::backend
