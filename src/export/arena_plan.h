// Static activation-arena planning from tensor lifetimes, ahead of time, as TFLite Micro's
// greedy_memory_planner: tensors are placed largest first, each at the lowest 4-byte-aligned
// offset where it overlaps no already placed tensor whose lifetime intersects its own. The plan is
// stored in the blob; the runtime's loader re-checks that no two live tensors share bytes. No
// libtorch, no graph types: sizes and lifetimes in, offsets out.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

namespace ppgkd {

struct ArenaPlan {
  std::vector<int64_t> offset;  // per tensor, bytes, multiple of 4
  int64_t size = 0;             // arena bytes: max over tensors of offset + aligned size
};

// bytes[i] > 0 is tensor i's size; life[i] = (first op writing it, last op reading it), both
// inclusive; two tensors may share bytes only when their lifetimes do not intersect.
ArenaPlan plan_arena(const std::vector<int64_t>& bytes,
                     const std::vector<std::pair<int, int>>& life);

// Lower bound on any valid plan: the largest sum of aligned sizes of tensors alive at one op.
int64_t arena_lower_bound(const std::vector<int64_t>& bytes,
                          const std::vector<std::pair<int, int>>& life);

}  // namespace ppgkd
