#include "offload/grant_ledger.hpp"

#include <algorithm>

namespace offload {

namespace {

// The inverse of odd `d` modulo 2^64: Newton's iteration doubles the correct
// low bits from the 3 that d * d == 1 (mod 8) gives (3, 6, 12, 24, 48, 96).
std::uint64_t inverse_of_odd(std::uint64_t d) noexcept {
  std::uint64_t x = d;
  for (int i = 0; i < 5; ++i) x *= 2 - d * x;
  return x;
}

}  // namespace

GrantLedger::GrantLedger(std::vector<std::uint64_t> request_objects, std::uint16_t owners)
    : objects_(std::move(request_objects)), entries_(objects_.size()), held_(owners, 0) {
  if (objects_.size() < 2 || objects_[1] <= objects_[0]) return;
  const std::uint64_t stride = objects_[1] - objects_[0];
  for (std::size_t i = 1; i < objects_.size(); ++i)
    if (objects_[i] - objects_[i - 1] != stride) return;
  // index_of's exact division needs size() * stride < 2^64: always so for
  // addresses, checked all the same.
  if (objects_.size() > UINT64_MAX / stride) return;
  first_ = objects_.front();
  stride_shift_ = std::countr_zero(stride);
  stride_inverse_ = inverse_of_odd(stride >> stride_shift_);
}

// Objects not at one stride (a mempool populated in pieces).
std::uint32_t GrantLedger::search(std::uint64_t address) const noexcept {
  const auto it = std::lower_bound(objects_.begin(), objects_.end(), address);
  if (it == objects_.end() || *it != address) return kNoIndex;
  return static_cast<std::uint32_t>(it - objects_.begin());
}

bool GrantLedger::grant(std::uint32_t index, std::uint16_t owner, std::uint32_t generation,
                        std::uint64_t payload) noexcept {
  Entry& e = entries_[index];
  if (e.owner != kNoOwner || owner >= held_.size()) return false;
  e.owner = owner;
  e.generation = generation;
  e.payload = payload;
  e.on_device = false;
  ++e.ticket;
  ++held_[owner];
  ++granted_total_;
  return true;
}

GrantLedger::Verdict GrantLedger::accept(std::uint32_t index, std::uint16_t owner, std::uint32_t generation,
                                         std::uint32_t& ticket) noexcept {
  Entry& e = entries_[index];
  if (e.owner != owner || e.generation != generation) return Verdict::NotGranted;
  if (e.on_device) return Verdict::OnDevice;
  e.on_device = true;
  ticket = ++e.ticket;
  return Verdict::Ok;
}

bool GrantLedger::finish(std::uint32_t index, std::uint32_t ticket) noexcept {
  Entry& e = entries_[index];
  if (e.ticket != ticket || !e.on_device) return false;
  e.on_device = false;
  return true;
}

GrantLedger::Verdict GrantLedger::give_back(std::uint32_t index, std::uint16_t owner, std::uint32_t generation,
                                            std::uint64_t& payload) noexcept {
  const Entry& e = entries_[index];
  if (e.owner != owner || e.generation != generation) return Verdict::NotGranted;
  if (e.on_device) return Verdict::OnDevice;
  payload = e.payload;
  release(index);
  return Verdict::Ok;
}

void GrantLedger::release(std::uint32_t index) noexcept {
  Entry& e = entries_[index];
  --held_[e.owner];
  --granted_total_;
  e.owner = kNoOwner;
  e.on_device = false;
  e.payload = 0;
  ++e.ticket;
}

}  // namespace offload
