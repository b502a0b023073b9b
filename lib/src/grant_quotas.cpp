#include "offload/grant_quotas.hpp"

#include <algorithm>
#include <vector>

namespace offload {
namespace {

// Max-min fair ("water filling"): shares `capacity` among `demands` (0: no
// demand) so that nobody gets more than it asks and whoever gets less than
// it asks gets at least as much as anyone else. Adds the shares to `out`;
// returns what it gave.
std::uint64_t water_fill(std::span<const std::uint32_t> demands, std::uint64_t capacity, std::span<std::uint32_t> out) {
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < demands.size(); ++i)
    if (demands[i] != 0) order.push_back(i);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return demands[a] < demands[b]; });
  std::uint64_t remaining = capacity;
  for (std::size_t k = 0; k < order.size(); ++k) {
    const std::uint64_t left = order.size() - k;
    const std::uint64_t level = remaining / left;
    if (demands[order[k]] <= level) {
      out[order[k]] += demands[order[k]];
      remaining -= demands[order[k]];
      continue;
    }
    // Everyone from here asks for more than an equal share of what is left:
    // each gets that share, and the remainder of the division goes one
    // object each to the first of them.
    std::uint64_t extra = remaining - level * left;
    for (std::size_t j = k; j < order.size(); ++j) {
      const std::uint64_t share = level + (extra != 0 ? 1 : 0);
      if (extra != 0) --extra;
      out[order[j]] += static_cast<std::uint32_t>(share);
    }
    return capacity;
  }
  return capacity - remaining;
}

}  // namespace

void fair_grant_quotas(std::span<const std::uint32_t> jobs, std::uint32_t slack, std::uint32_t pool,
                       std::span<std::uint32_t> quotas) {
  std::fill(quotas.begin(), quotas.end(), 0U);
  const std::uint64_t given = water_fill(jobs, pool, quotas);
  if (given < pool && slack != 0) {
    std::vector<std::uint32_t> slacks(jobs.size(), 0U);
    for (std::size_t i = 0; i < jobs.size(); ++i)
      if (jobs[i] != 0) slacks[i] = slack;
    water_fill(slacks, pool - given, quotas);
  }
  for (std::size_t i = 0; i < jobs.size(); ++i)
    if (jobs[i] != 0 && quotas[i] == 0) quotas[i] = 1;
}

}  // namespace offload
