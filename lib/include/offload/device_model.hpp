#pragma once
// The simulated accelerator's timing model, shared by the pthread device and
// the DPDK backend. A request that arrives at t starts on the first free
// engine and completes `service` later, so many requests are in flight at
// once: J jobs with delay D give J/D completions per second, not 1/D.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <queue>
#include <random>
#include <string>
#include <vector>

namespace offload {

enum class DelayDist { Fixed, Uniform, Exponential };

struct DelaySpec {
  DelayDist dist = DelayDist::Fixed;
  double mean_ms = 0.0;  // Fixed: the delay; Exponential: the mean
  double min_ms = 0.0;   // Uniform only
  double max_ms = 0.0;   // Uniform only

  // "fixed 20 ms", "uniform 0-900 ms", "exponential, mean 2 ms"
  [[nodiscard]] std::string describe() const;
  // A service time no request exceeds in practice: the fixed delay, the
  // uniform upper bound, 20x the exponential mean (P = e^-20 per request).
  [[nodiscard]] double latency_bound_ms() const;
};

// The default bound on a run (--timeout-ms 0), from its workload: `requests`
// go through `inflight` jobs onto `engines` engines (0: unlimited), each
// taking at most `latency_bound_ms`, so they pass in ceil(requests /
// parallel) waves. A run given as a duration (requests 0) lasts duration_s
// plus the waves of the requests still in flight when it stops starting new
// ones. Twice the waves, plus 30 s for start-up and scheduling: a run that
// overshoots it is stuck, not slow. Saturates at about 31 years.
std::uint64_t derived_timeout_ms(double latency_bound_ms, std::uint32_t engines, std::uint32_t inflight,
                                 std::uint64_t requests, double duration_s = 0.0);

// Draws service times; deterministic for a given seed.
class DelaySampler {
public:
  DelaySampler(DelaySpec spec, std::uint64_t seed);
  std::uint64_t sample_ns();
  [[nodiscard]] const DelaySpec& spec() const noexcept { return spec_; }

private:
  DelaySpec spec_;
  std::mt19937_64 rng_;
};

// Orders requests by completion time across `engines` parallel engines
// (0 = one engine per request, i.e. unlimited). Single-threaded; callers
// that share it lock around it.
template <class Item>
class DeviceScheduler {
public:
  explicit DeviceScheduler(unsigned engines) {
    for (unsigned i = 0; i < engines; ++i) engine_free_at_.push(0);
  }

  // Returns the completion time of the submitted item.
  std::uint64_t submit(Item item, std::uint64_t arrival_ns, std::uint64_t service_ns) {
    std::uint64_t start = arrival_ns;
    if (!engine_free_at_.empty()) {
      start = std::max(arrival_ns, engine_free_at_.top());
      engine_free_at_.pop();
      engine_free_at_.push(start + service_ns);
    }
    const std::uint64_t due = start + service_ns;
    Entry entry{due, next_seq_++, std::move(item)};
    // Items whose due times never decrease (a fixed delay on unlimited
    // engines, D = 0 among them) queue in submission order, in O(1); the
    // rest go to the heap. The heap alone was about 4 % of the backend's
    // core at D = 0 and 1 KiB.
    if (in_order_.empty() || due >= in_order_.back().due)
      in_order_.push_back(std::move(entry));
    else
      pending_.push(std::move(entry));
    return due;
  }

  [[nodiscard]] bool empty() const noexcept { return in_order_.empty() && pending_.empty(); }
  [[nodiscard]] std::size_t size() const noexcept { return in_order_.size() + pending_.size(); }
  // Precondition: !empty().
  [[nodiscard]] std::uint64_t next_due_ns() const { return next().due; }

  // Hands every item due at `now_ns` (at most `max`) to `sink`, earliest
  // first; items due at the same time leave in submission order.
  template <class Sink>
  std::size_t pop_due(std::uint64_t now_ns, Sink&& sink, std::size_t max = SIZE_MAX) {
    std::size_t n = 0;
    while (n < max && !empty() && next().due <= now_ns) {
      sink(take_next());
      ++n;
    }
    return n;
  }

  // Removes every pending item (for shutdown), handing each to `sink`.
  template <class Sink>
  void drain(Sink&& sink) {
    while (!empty()) sink(take_next());
  }

private:
  struct Entry {
    std::uint64_t due;
    std::uint64_t seq;
    Item item;
  };
  struct Later {
    bool operator()(const Entry& a, const Entry& b) const noexcept {
      return a.due != b.due ? a.due > b.due : a.seq > b.seq;
    }
  };
  // Whether the next item is the in-order lane's head (by due time, then
  // submission; the lane itself is sorted both ways). Precondition: !empty().
  [[nodiscard]] bool next_in_order() const {
    if (pending_.empty()) return true;
    return !in_order_.empty() && !Later{}(in_order_.front(), pending_.top());
  }
  [[nodiscard]] const Entry& next() const { return next_in_order() ? in_order_.front() : pending_.top(); }
  Item take_next() {
    if (next_in_order()) {
      Item item = std::move(in_order_.front().item);
      in_order_.pop_front();
      return item;
    }
    Item item = std::move(const_cast<Entry&>(pending_.top()).item);
    pending_.pop();
    return item;
  }

  std::deque<Entry> in_order_;
  std::priority_queue<Entry, std::vector<Entry>, Later> pending_;
  std::priority_queue<std::uint64_t, std::vector<std::uint64_t>, std::greater<>> engine_free_at_;
  std::uint64_t next_seq_ = 0;
};

}  // namespace offload
