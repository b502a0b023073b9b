#pragma once
// Memory that a fork()ed child shares with its parent at the same address:
// MAP_SHARED | MAP_ANONYMOUS, no hugepages and no DPDK EAL needed.

#include <cstddef>

namespace offload::microbench {

class SharedMapping {
public:
  // Maps `bytes` (page-aligned, zeroed); throws std::system_error on failure.
  explicit SharedMapping(std::size_t bytes);
  SharedMapping(const SharedMapping&) = delete;
  SharedMapping& operator=(const SharedMapping&) = delete;
  ~SharedMapping();

  [[nodiscard]] void* data() const noexcept { return data_; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }

private:
  void* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace offload::microbench
