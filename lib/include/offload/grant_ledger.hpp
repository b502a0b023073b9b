#pragma once
// The backend's private record of who holds each request object. Only the
// backend takes objects from the shared pools; it grants them to frontends
// and takes them back. Because this record lives in the backend's own
// memory, nothing a frontend writes to shared memory can change who owns
// what: an object is given back exactly once, whether its frontend returns
// it, unregisters, or is SIGKILLed at any instant.
//
// Objects are named by their index in the sorted list of the request pool's
// object addresses. Pure bookkeeping, no DPDK: unit-tested on its own.

#include <bit>
#include <cstdint>
#include <span>
#include <vector>

namespace offload {

class GrantLedger {
public:
  static constexpr std::uint16_t kNoOwner = 0xFFFF;

  struct Entry {
    std::uint16_t owner = kNoOwner;  // frontend slot, or kNoOwner: in the pool
    std::uint32_t generation = 0;    // that slot's registration
    std::uint64_t payload = 0;       // the payload buffer granted with it
    bool on_device = false;          // accepted, not yet completed
    // Changes whenever the object changes hands or is accepted: a device
    // completion that carries an older ticket belongs to a grant that was
    // taken back meanwhile, and must not touch the object.
    std::uint32_t ticket = 0;
  };

  enum class Verdict {
    Ok,
    NotGranted,  // not granted to this frontend registration: not its to send or return
    OnDevice,    // already accepted and not completed: sent or returned twice
  };

  // `request_objects`: every request pool object's address, sorted; fewer
  // than kNoIndex of them (a mempool holds at most 2^31 objects).
  GrantLedger(std::vector<std::uint64_t> request_objects, std::uint16_t owners);

  // What index_of answers for an address at which no object starts.
  static constexpr std::uint32_t kNoIndex = UINT32_MAX;

  // The index of the object at `address`; kNoIndex if none starts there.
  // With one stride, `address - first` is a multiple of the stride exactly
  // when it names an object. The exact quotient is a multiplication by the
  // inverse of the stride's odd part and a rotation by its power of two;
  // any other offset comes out at least (2^64 - 1) / stride, far above
  // size() (the test compilers use for `x % c == 0`; Granlund & Montgomery
  // 1994). One multiply where a 64-bit `div` was 5 % of the backend's core
  // at 1 KiB. Inline, and a plain integer rather than an optional: GCC kept
  // the optional on the stack as two stores read back by one load, which
  // cannot be forwarded (a third of the backend's admit() at 16 KiB).
  [[nodiscard]] std::uint32_t index_of(std::uint64_t address) const noexcept {
    if (stride_inverse_ == 0) return search(address);
    const std::uint64_t index = std::rotr((address - first_) * stride_inverse_, stride_shift_);
    return index < objects_.size() ? static_cast<std::uint32_t>(index) : kNoIndex;
  }
  [[nodiscard]] std::uint64_t address(std::uint32_t index) const noexcept { return objects_[index]; }
  [[nodiscard]] const Entry& entry(std::uint32_t index) const noexcept { return entries_[index]; }
  [[nodiscard]] std::size_t size() const noexcept { return objects_.size(); }
  // Whether the objects lie at one stride (index_of is then arithmetic).
  [[nodiscard]] bool one_stride() const noexcept { return stride_inverse_ != 0; }
  // Objects `owner` holds: granted and not yet given back.
  [[nodiscard]] std::uint32_t held(std::uint16_t owner) const noexcept { return held_[owner]; }
  [[nodiscard]] std::uint64_t granted_total() const noexcept { return granted_total_; }

  // Records that the object, fresh from the pool, now belongs to (owner,
  // generation) with `payload`. False (and nothing recorded) if the ledger
  // says it is already granted: the pool handed out an object twice.
  bool grant(std::uint32_t index, std::uint16_t owner, std::uint32_t generation, std::uint64_t payload) noexcept;

  // A request arrived on (owner, generation)'s ring. On Ok the object is on
  // the device and `ticket` identifies this acceptance.
  Verdict accept(std::uint32_t index, std::uint16_t owner, std::uint32_t generation, std::uint32_t& ticket) noexcept;

  // The device finished the acceptance `ticket`: true if it is still current
  // (the object was not taken back meanwhile); it is then off the device.
  bool finish(std::uint32_t index, std::uint32_t ticket) noexcept;

  // (owner, generation) returns the object. On Ok it is no longer granted
  // and the caller puts it and `payload` back into the pools.
  Verdict give_back(std::uint32_t index, std::uint16_t owner, std::uint32_t generation,
                    std::uint64_t& payload) noexcept;

  // Takes back everything `owner` holds, wherever it is (its rings, its
  // jobs, the device); `put(index, payload)` for each. Returns the count.
  template <class Put>
  std::uint32_t reclaim(std::uint16_t owner, Put&& put) {
    std::uint32_t n = 0;
    for (std::uint32_t i = 0; i < entries_.size() && held_[owner] != 0; ++i) {
      if (entries_[i].owner != owner) continue;
      const std::uint64_t payload = entries_[i].payload;
      release(i);
      put(i, payload);
      ++n;
    }
    return n;
  }

private:
  [[nodiscard]] std::uint32_t search(std::uint64_t address) const noexcept;
  void release(std::uint32_t index) noexcept;

  std::vector<std::uint64_t> objects_;
  // When the objects lie at one stride from the first (a mempool populated
  // in one piece), an address's index is arithmetic; else a binary search.
  // The backend looks up every ring entry: the search was a tenth of its
  // time at a million requests a second. The stride is kept as its odd
  // part's inverse modulo 2^64 and its power of two (0: no one stride).
  std::uint64_t first_ = 0;
  std::uint64_t stride_inverse_ = 0;
  int stride_shift_ = 0;
  std::vector<Entry> entries_;
  std::vector<std::uint32_t> held_;
  std::uint64_t granted_total_ = 0;
};

}  // namespace offload
