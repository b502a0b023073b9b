#pragma once
// RAII for the DPDK objects a process owns. Only the primary owns rings and
// mempools (and frees them); a secondary looks them up and borrows them.

#include <rte_eal.h>
#include <rte_memzone.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include <cstdlib>
#include <memory>
#include <span>

namespace offload::dpdk {

struct RingFree {
  void operator()(rte_ring* r) const noexcept { rte_ring_free(r); }
};
using RingPtr = std::unique_ptr<rte_ring, RingFree>;

struct MempoolFree {
  void operator()(rte_mempool* mp) const noexcept { rte_mempool_free(mp); }
};
using MempoolPtr = std::unique_ptr<rte_mempool, MempoolFree>;

struct MemzoneFree {
  void operator()(const rte_memzone* mz) const noexcept { rte_memzone_free(mz); }
};
using MemzonePtr = std::unique_ptr<const rte_memzone, MemzoneFree>;

// The replies of rte_mp_request_sync, whose array the caller must free().
class MpReplies {
public:
  MpReplies() = default;
  MpReplies(const MpReplies&) = delete;
  MpReplies& operator=(const MpReplies&) = delete;
  ~MpReplies() { std::free(reply_.msgs); }
  struct rte_mp_reply* get() noexcept { return &reply_; }
  std::span<const rte_mp_msg> messages() const noexcept {
    return {reply_.msgs, static_cast<std::size_t>(reply_.nb_received)};
  }

private:
  struct rte_mp_reply reply_ {};
};

}  // namespace offload::dpdk
