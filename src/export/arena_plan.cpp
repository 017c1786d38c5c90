// Greedy-by-size arena planner (see arena_plan.h).
#include "export/arena_plan.h"

#include <algorithm>
#include <numeric>

#include "common/error.h"

namespace ppgkd {

namespace {
int64_t aligned(int64_t n) {
  return (n + 3) / 4 * 4;
}
bool intersect(const std::pair<int, int>& a, const std::pair<int, int>& b) {
  return a.first <= b.second && b.first <= a.second;
}
}  // namespace

ArenaPlan plan_arena(const std::vector<int64_t>& bytes,
                     const std::vector<std::pair<int, int>>& life) {
  if (bytes.size() != life.size()) throw Error("arena plan", "one lifetime per tensor expected");
  const size_t n = bytes.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return bytes[a] > bytes[b]; });
  ArenaPlan plan;
  plan.offset.assign(n, 0);
  std::vector<size_t> placed;
  for (size_t id : order) {
    const int64_t size = aligned(bytes[id]);
    // Byte ranges of placed tensors alive together with this one, by offset; take the first gap.
    std::vector<std::pair<int64_t, int64_t>> busy;
    for (size_t o : placed)
      if (intersect(life[id], life[o]))
        busy.emplace_back(plan.offset[o], plan.offset[o] + aligned(bytes[o]));
    std::sort(busy.begin(), busy.end());
    int64_t offset = 0;
    for (const auto& [lo, hi] : busy) {
      if (offset + size <= lo) break;
      offset = std::max(offset, hi);
    }
    plan.offset[id] = offset;
    plan.size = std::max(plan.size, offset + size);
    placed.push_back(id);
  }
  return plan;
}

int64_t arena_lower_bound(const std::vector<int64_t>& bytes,
                          const std::vector<std::pair<int, int>>& life) {
  int lo = 0, hi = 0;
  for (const auto& l : life) lo = std::min(lo, l.first), hi = std::max(hi, l.second);
  int64_t best = 0;
  for (int t = lo; t <= hi; ++t) {
    int64_t live = 0;
    for (size_t i = 0; i < bytes.size(); ++i)
      if (life[i].first <= t && t <= life[i].second) live += aligned(bytes[i]);
    best = std::max(best, live);
  }
  return best;
}

}  // namespace ppgkd
