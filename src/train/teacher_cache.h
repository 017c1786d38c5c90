// A teacher's outputs (logits, and one feature stage when feature distillation needs it) computed
// once for the windows a student trains and validates on, and kept on disk, so a student's
// training cost does not grow with the teacher's size: every batch looks its rows up here instead
// of running the teacher. Not here: the losses (losses.h) or the choice of rows (distill.h).
//
// Shapes: N cached rows, K = 180 classes, B batch; a feature is (N, C_t, L_t) for a ResNet
// teacher, (N, C_t) when pooled over time, or (N, D_t) for an MLP teacher.
//
// The file is keyed by the teacher's weights (content hash of model.pt), its spec, the data key
// (the window cache key: data fingerprint + preprocessing), the rows and the feature request. It
// is a checksummed cache file like the window cache's (common/binary_cache.h: magic "PPGKDTEA",
// format version, key, payload length and checksum): a stale, corrupt or truncated file is
// detected, reported and rebuilt, never trusted. Writes are atomic, so concurrent students of one
// teacher may share it.
//
// Payload (little-endian): u64 N, u64 rows[N], u32 K, f32 logits[N*K], u32 feature rank R
// (0: no feature), u64 dims[R], f32 features[N*prod(dims)].
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "data/preprocess.h"
#include "models/networks.h"

namespace ppgkd {

// 2: the payload checksum is common/hash.h's hash_words (version 1: FNV-1a).
constexpr uint32_t kTeacherCacheVersion = 2;

// What to compute: which rows, and which feature (if any).
struct TeacherRequest {
  std::vector<size_t> rows;        // WindowSet rows (any order, no duplicates)
  int feature_stage = kNoFeature;  // teacher stage (-1 = last), or kNoFeature for logits only
  bool pool_feature = false;       // average a (C, L) feature over time to (C)
};

struct TeacherOutputs {
  torch::Tensor logits;       // (N, K) float32
  torch::Tensor features;     // (N, ...) float32; undefined without a feature request
  std::vector<int64_t> slot;  // per WindowSet row: its index in logits/features, -1 if absent

  // Per-row lookups for a batch: rows (B) int64 WindowSet rows -> (B, K) / (B, ...). Throw
  // Error("teacher outputs", ...) for a row that was not cached.
  torch::Tensor logits_of(const torch::Tensor& rows) const;
  torch::Tensor features_of(const torch::Tensor& rows) const;
};

struct TeacherCacheInfo {
  std::string path;             // cache file
  std::string key;              // 16 hex digits
  bool hit = false;             // loaded from the file
  std::string rebuilt_because;  // empty on a hit, else "absent", "stale: ...", "corrupt: ..."
  int64_t teacher_windows = 0;  // windows the teacher was run on (0 on a hit)
  double seconds = 0;           // wall time of the load or the computation
};

// The cache file for a teacher and request: in `cache_dir` when non-empty (the name then also
// hashes the teacher directory), else inside `teacher_dir`. The name does not depend on the
// teacher's weights, so retraining the teacher makes the file stale (detected) rather than
// orphaned.
std::string teacher_cache_path(const std::string& teacher_dir, const std::string& cache_dir,
                               const std::string& data_key, const TeacherRequest& request);

// The key: teacher weights hash (teacher_dir/model.pt), spec, data key, rows, feature request.
std::string teacher_cache_key(const std::string& teacher_dir, const NetImpl& teacher,
                              const std::string& data_key, const TeacherRequest& request);

// Loads the outputs from teacher_cache_path(...) when valid, else runs `teacher` over the rows of
// `ws` in batches of `batch` and writes the file atomically. `info` may be null.
TeacherOutputs load_or_compute_teacher_outputs(const std::string& teacher_dir, NetImpl& teacher,
                                               const WindowSet& ws, const std::string& data_key,
                                               const TeacherRequest& request,
                                               const std::string& cache_dir, int batch,
                                               TeacherCacheInfo* info);

// Low-level: serialise / parse. parse throws Error(where, "stale: ...") on another key and
// Error(where, "corrupt: ...") on any damage; `ws_size` bounds the stored rows.
std::string serialise_teacher_outputs(const TeacherOutputs& out, const std::vector<size_t>& rows,
                                      const std::string& key);
TeacherOutputs parse_teacher_outputs(const std::string& bytes, const std::string& expected_key,
                                     const std::vector<size_t>& expected_rows, size_t ws_size,
                                     const std::string& where);

}  // namespace ppgkd
