#pragma once
// What the backend tells DPDK telemetry (/offload/frontends) about one
// attached frontend; one per FrontendSlot. DPDK's telemetry threads read it
// at any moment while other threads write it, so every field is an atomic,
// and each has one writer at a time:
//   - begin(): the register action, while the slot is Registering (the
//     serving loop leaves such a slot alone);
//   - everything else: the serving loop, while the slot is Active.
// The serving loop's updates are a relaxed load and store (it is the only
// writer then), never a locked instruction on the request path
// (single_writer_counter.hpp).

#include <atomic>
#include <cstdint>

#include "offload/protocol.hpp"
#include "offload/single_writer_histogram.hpp"
#include "single_writer_counter.hpp"

namespace offload::backend {

class FrontendStats {
public:
  // A new registration: its identity, every counter back to zero.
  void begin(int pid, std::uint32_t jobs, proto::NotifyMode notify) noexcept {
    pid_.store(pid, std::memory_order_relaxed);
    jobs_.store(jobs, std::memory_order_relaxed);
    notify_.store(notify, std::memory_order_relaxed);
    served_.set(0);
    rejected_.set(0);
    doorbells_rung_.set(0);
    doorbells_spared_.set(0);
    held_buffers_.store(0, std::memory_order_relaxed);
    in_flight_.set(0);
    device_time_.reset();
  }

  // A request served: `device_ns` from its start on the device to its completion.
  void record_served(std::uint64_t device_ns) noexcept {
    served_.add();
    device_time_.record(device_ns);
  }
  void record_rejected(std::uint64_t n) noexcept { rejected_.add(n); }
  // Coalesced mode: a doorbell that was due, rung or spared (the frontend
  // was to look at its ring by itself: proto::kRingNever).
  void record_doorbell(bool rung) noexcept { (rung ? doorbells_rung_ : doorbells_spared_).add(); }
  // What the frontend holds and has on the device, published by the serving
  // loop once per housekeeping period (the ledger and the loop's own count
  // are not for other threads to read).
  void publish_occupancy(std::uint32_t held_buffers, std::uint64_t in_flight) noexcept {
    held_buffers_.store(held_buffers, std::memory_order_relaxed);
    in_flight_.set(in_flight);
  }

  struct Snapshot {
    int pid = 0;
    std::uint32_t jobs = 0;
    proto::NotifyMode notify = proto::NotifyMode::EventFd;
    std::uint64_t served = 0;
    std::uint64_t rejected = 0;
    std::uint64_t doorbells_rung = 0;
    std::uint64_t doorbells_spared = 0;
    std::uint32_t held_buffers = 0;
    std::uint64_t in_flight = 0;
    SingleWriterHistogram::Percentiles device_time;
  };
  // Any thread. The fields are read one by one: requests served meanwhile
  // may be in the percentiles but not yet in `served`.
  [[nodiscard]] Snapshot snapshot() const noexcept {
    Snapshot s;
    s.pid = pid_.load(std::memory_order_relaxed);
    s.jobs = jobs_.load(std::memory_order_relaxed);
    s.notify = notify_.load(std::memory_order_relaxed);
    s.served = served_.load();
    s.rejected = rejected_.load();
    s.doorbells_rung = doorbells_rung_.load();
    s.doorbells_spared = doorbells_spared_.load();
    s.held_buffers = held_buffers_.load(std::memory_order_relaxed);
    s.in_flight = in_flight_.load();
    s.device_time = device_time_.percentiles();
    return s;
  }

private:
  std::atomic<int> pid_{0};
  std::atomic<std::uint32_t> jobs_{0};
  std::atomic<proto::NotifyMode> notify_{proto::NotifyMode::EventFd};
  SingleWriterCounter served_;
  SingleWriterCounter rejected_;
  SingleWriterCounter doorbells_rung_;
  SingleWriterCounter doorbells_spared_;
  std::atomic<std::uint32_t> held_buffers_{0};
  SingleWriterCounter in_flight_;
  SingleWriterHistogram device_time_;
};

}  // namespace offload::backend
