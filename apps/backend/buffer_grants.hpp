#pragma once
// The request and payload pools, and the backend's grants out of them.
//
// Only the backend's serving thread ever takes from or puts into these
// pools. A frontend receives request objects (each with a payload buffer
// attached) on its own grant ring and hands them back on its own return
// ring. A frontend SIGKILLed at any instant can thus leave only its own
// SP/SC rings half updated, which the backend resets when it detaches it,
// never a ring that other processes share. (When every frontend did its own
// rte_mempool_get/put, one killed inside them left the pool's shared ring
// inconsistent for good: the next frontend could spin forever in
// rte_mempool_get and freeing the pool never returned.)

#include <rte_mempool.h>
#include <rte_ring.h>

#include <cstdint>

#include "offload/dpdk/handles.hpp"
#include "offload/grant_ledger.hpp"
#include "offload/protocol.hpp"

namespace offload::backend {

class BufferGrants {
public:
  // Creates both pools with `pool_size` objects, payload buffers of
  // `buffer_bytes`; throws EnvironmentError saying what to do when hugepage
  // memory is short.
  BufferGrants(std::uint32_t pool_size, std::uint32_t buffer_bytes);

  rte_mempool* payload_pool() const noexcept { return payload_pool_.get(); }
  rte_mempool* request_pool() const noexcept { return request_pool_.get(); }

  // The index of a request pool object, or nullopt for any other address.
  // GrantLedger::kNoIndex if no request object starts at `object`.
  std::uint32_t index_of(const void* object) const noexcept {
    return ledger_.index_of(reinterpret_cast<std::uint64_t>(object));
  }
  proto::Request& request(std::uint32_t index) const noexcept {
    return *reinterpret_cast<proto::Request*>(ledger_.address(index));
  }
  // The payload buffer the backend granted with the request: the only one it
  // writes for it, whatever the request's payload_addr says by now.
  std::uint64_t granted_payload(std::uint32_t index) const noexcept { return ledger_.entry(index).payload; }

  // Grants `owner` (registration `generation`) what it lacks of `quota`
  // objects, at most one burst, as far as the pools have them, onto its
  // grant ring. Returns how many.
  unsigned top_up(std::uint16_t owner, std::uint32_t generation, std::uint32_t quota, rte_ring* grants);

  struct Returned {
    unsigned taken = 0;    // back in the pools
    unsigned refused = 0;  // not granted to this frontend, or still on the device
  };
  // One burst of what `owner` put on its return ring.
  Returned take_returns(std::uint16_t owner, std::uint32_t generation, rte_ring* returns);

  // A request from `owner`: see GrantLedger::accept / finish.
  GrantLedger::Verdict accept(std::uint32_t index, std::uint16_t owner, std::uint32_t generation,
                              std::uint32_t& ticket) noexcept {
    return ledger_.accept(index, owner, generation, ticket);
  }
  bool finish(std::uint32_t index, std::uint32_t ticket) noexcept { return ledger_.finish(index, ticket); }

  // Objects `owner` holds: granted and not yet given back.
  std::uint32_t held(std::uint16_t owner) const noexcept { return ledger_.held(owner); }

  // Everything `owner` holds back into the pools. Returns the count.
  std::uint32_t reclaim(std::uint16_t owner);

private:
  void put_back(std::uint32_t index, std::uint64_t payload) noexcept;

  dpdk::MempoolPtr payload_pool_;
  dpdk::MempoolPtr request_pool_;
  GrantLedger ledger_;
};

}  // namespace offload::backend
