#pragma once
// The fence between callbacks DPDK runs on its own threads (rte_mp actions,
// telemetry commands) and the backend's stop. Unregistering a callback does
// not wait for one already running, so a callback enters only while the
// fence is open and counts itself while it runs; close() shuts the fence,
// then waits (bounded) for the count to reach zero before anything a
// callback touches may be freed. Sequentially consistent: a callback either
// sees the fence closed or is counted before close() reads the count.

#include <atomic>
#include <chrono>

namespace offload::backend {

class CallbackFence {
public:
  // One callback's passage: entered() says whether it may do its work.
  class Scope {
  public:
    explicit Scope(CallbackFence& fence) noexcept : fence_(fence) {
      fence_.running_.fetch_add(1);
      entered_ = fence_.open_.load();
    }
    ~Scope() { fence_.running_.fetch_sub(1); }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;
    [[nodiscard]] bool entered() const noexcept { return entered_; }

  private:
    CallbackFence& fence_;
    bool entered_ = false;
  };

  void open() noexcept { open_.store(true); }
  // Closes the fence and waits for the callbacks inside. Callbacks never
  // block, so `bound` only bounds a bug: false if one still runs then.
  [[nodiscard]] bool close(std::chrono::milliseconds bound = std::chrono::milliseconds(2000)) noexcept;

private:
  std::atomic<bool> open_{false};
  std::atomic<int> running_{0};
};

}  // namespace offload::backend
