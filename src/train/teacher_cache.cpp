// The on-disk cache of a teacher's outputs (see teacher_cache.h): keys and paths, the binary
// format, and load-or-compute.
#include "train/teacher_cache.h"

#include <fmt/format.h>

#include <chrono>
#include <cstring>
#include <filesystem>

#include "common/binary_cache.h"
#include "common/error.h"
#include "common/hash.h"
#include "train/inference.h"

namespace ppgkd {

namespace fs = std::filesystem;

namespace {

constexpr uint32_t kMaxRank = 4;

const CacheFormat kFormat = {"PPGKDTEA", kTeacherCacheVersion, "teacher cache"};

std::vector<int64_t> slots_for(const std::vector<size_t>& rows, size_t ws_size) {
  std::vector<int64_t> slot(ws_size, -1);
  for (size_t i = 0; i < rows.size(); ++i) slot[rows[i]] = static_cast<int64_t>(i);
  return slot;
}

// rows (B) int64 -> their slots (B) int64; throws for an uncached row.
torch::Tensor slots_of(const std::vector<int64_t>& slot, const torch::Tensor& rows) {
  auto r = rows.to(torch::kInt64).contiguous();
  auto out = torch::empty({r.numel()}, torch::kInt64);
  const int64_t* pr = r.data_ptr<int64_t>();
  int64_t* po = out.data_ptr<int64_t>();
  for (int64_t i = 0; i < r.numel(); ++i) {
    const int64_t row = pr[i];
    if (row < 0 || row >= static_cast<int64_t>(slot.size()) || slot[row] < 0)
      throw Error("teacher outputs", fmt::format("window row {} was not cached", row));
    po[i] = slot[row];
  }
  return out;
}

}  // namespace

// ------------------------------------------------------------------------------ lookups

torch::Tensor TeacherOutputs::logits_of(const torch::Tensor& rows) const {
  return logits.index_select(0, slots_of(slot, rows));
}

torch::Tensor TeacherOutputs::features_of(const torch::Tensor& rows) const {
  if (!features.defined()) throw Error("teacher outputs", "no teacher feature was cached");
  return features.index_select(0, slots_of(slot, rows));
}

// ------------------------------------------------------------------------------ keys and paths

namespace {
Hasher& hash_request(Hasher& h, const std::string& data_key, const TeacherRequest& req) {
  h.update("data ").update(data_key);
  h.update(fmt::format(" stage {} pool {} rows {} ", req.feature_stage, req.pool_feature ? 1 : 0,
                       req.rows.size()));
  for (size_t r : req.rows) {
    const uint64_t v = r;
    h.update(&v, sizeof v);
  }
  return h;
}
}  // namespace

std::string teacher_cache_path(const std::string& teacher_dir, const std::string& cache_dir,
                               const std::string& data_key, const TeacherRequest& request) {
  Hasher h;
  if (!cache_dir.empty())
    h.update("teacher ").update(fs::absolute(teacher_dir).lexically_normal().string());
  const std::string name = "teacher-outputs-" + hash_request(h, data_key, request).hex() + ".bin";
  return ((cache_dir.empty() ? fs::path(teacher_dir) : fs::path(cache_dir)) / name).string();
}

std::string teacher_cache_key(const std::string& teacher_dir, const NetImpl& teacher,
                              const std::string& data_key, const TeacherRequest& request) {
  const uint64_t weights = hash_file(teacher_dir + "/model.pt");
  Hasher h;
  h.update(fmt::format("ppgkd teacher cache {} weights {} spec {} ", kTeacherCacheVersion,
                       to_hex(weights), teacher.spec().str()));
  return hash_request(h, data_key, request).hex();
}

// ------------------------------------------------------------------------------ format

namespace {

// The payload: u64 N, u64 rows[N], u32 K, f32 logits[N*K], u32 feature rank R (0: no feature),
// u64 dims[R], f32 features[N*prod(dims)].
std::string teacher_payload(const TeacherOutputs& out, const std::vector<size_t>& rows) {
  const auto logits = out.logits.to(torch::kFloat32).contiguous();
  const int64_t n = static_cast<int64_t>(rows.size());
  if (logits.dim() != 2 || logits.size(0) != n)
    throw Error("teacher cache",
                fmt::format("logits must be ({}, K), got {}", n, c10::str(logits.sizes())));
  torch::Tensor feats;
  if (out.features.defined()) {
    feats = out.features.to(torch::kFloat32).contiguous();
    if (feats.dim() < 2 || feats.dim() > kMaxRank + 1 || feats.size(0) != n)
      throw Error("teacher cache",
                  fmt::format("features must be ({}, ...), got {}", n, c10::str(feats.sizes())));
  }
  ByteWriter p;
  p.bytes().reserve(64 + rows.size() * 8 + logits.numel() * 4 +
                    (feats.defined() ? feats.numel() * 4 : 0));
  p.put<uint64_t>(rows.size());
  for (size_t r : rows) p.put<uint64_t>(r);
  p.put<uint32_t>(static_cast<uint32_t>(logits.size(1)));
  p.put_array(logits.data_ptr<float>(), logits.numel());
  if (feats.defined()) {
    p.put<uint32_t>(static_cast<uint32_t>(feats.dim() - 1));
    for (int64_t d = 1; d < feats.dim(); ++d) p.put<uint64_t>(feats.size(d));
    p.put_array(feats.data_ptr<float>(), feats.numel());
  } else {
    p.put<uint32_t>(0);
  }
  return std::move(p.bytes());
}

// The checksum only says the bytes are the ones written; the structure is still checked so a
// writer bug cannot become an out-of-bounds read.
TeacherOutputs parse_teacher_payload(std::string_view payload,
                                     const std::vector<size_t>& expected_rows, size_t ws_size,
                                     const std::string& where) {
  ByteReader r(payload, where);
  const uint64_t n = r.get<uint64_t>("row count");
  if (n != expected_rows.size())
    throw Error(where,
                fmt::format("corrupt: {} rows cached, {} requested", n, expected_rows.size()));
  std::vector<size_t> rows(n);
  for (auto& row : rows) {
    row = r.get<uint64_t>("rows");
    if (row >= ws_size) r.malformed("row out of range");
  }
  if (rows != expected_rows) throw Error(where, "corrupt: cached rows differ from the request");
  TeacherOutputs out;
  const uint32_t k = r.get<uint32_t>("class count");
  if (k < 1 || (n > 0 && k > r.left() / 4 / n)) r.malformed("logits run past the end");
  out.logits = torch::empty({static_cast<int64_t>(n), static_cast<int64_t>(k)});
  std::memcpy(out.logits.data_ptr<float>(), r.take(n * k * sizeof(float), "logits"),
              n * k * sizeof(float));
  const uint32_t rank = r.get<uint32_t>("feature rank");
  if (rank > kMaxRank) r.malformed("feature rank");
  if (rank > 0) {
    std::vector<int64_t> shape = {static_cast<int64_t>(n)};
    uint64_t per = 1;
    for (uint32_t d = 0; d < rank; ++d) {
      const uint64_t dim = r.get<uint64_t>("feature shape");
      if (dim < 1 || dim > r.left()) r.malformed("feature shape");
      per *= dim;
      if (per > r.left()) r.malformed("feature shape");
      shape.push_back(static_cast<int64_t>(dim));
    }
    if (n > 0 && per > r.left() / 4 / n) r.malformed("features run past the end");
    out.features = torch::empty(shape);
    std::memcpy(out.features.data_ptr<float>(), r.take(n * per * sizeof(float), "features"),
                n * per * sizeof(float));
  }
  if (!r.at_end()) r.malformed("trailing bytes");
  out.slot = slots_for(rows, ws_size);
  return out;
}

}  // namespace

std::string serialise_teacher_outputs(const TeacherOutputs& out, const std::vector<size_t>& rows,
                                      const std::string& key) {
  return seal_cache(kFormat, key, teacher_payload(out, rows));
}

TeacherOutputs parse_teacher_outputs(const std::string& bytes, const std::string& expected_key,
                                     const std::vector<size_t>& expected_rows, size_t ws_size,
                                     const std::string& where) {
  return parse_teacher_payload(open_cache(kFormat, bytes, expected_key, where), expected_rows,
                               ws_size, where);
}

// ------------------------------------------------------------------------------ load or compute

TeacherOutputs load_or_compute_teacher_outputs(const std::string& teacher_dir, NetImpl& teacher,
                                               const WindowSet& ws, const std::string& data_key,
                                               const TeacherRequest& request,
                                               const std::string& cache_dir, int batch,
                                               TeacherCacheInfo* info) {
  TeacherCacheInfo local;
  TeacherCacheInfo& ci = info ? *info : local;
  const auto t0 = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  for (size_t row : request.rows)
    if (row >= ws.size())
      throw Error("teacher outputs",
                  fmt::format("row {} out of range ({} windows)", row, ws.size()));
  ci = TeacherCacheInfo{};
  ci.path = teacher_cache_path(teacher_dir, cache_dir, data_key, request);
  ci.key = teacher_cache_key(teacher_dir, teacher, data_key, request);
  CacheStatus status;
  TeacherOutputs out = load_or_build_cache<TeacherOutputs>(
      ci.path, kFormat, ci.key,
      [&](std::string_view payload, const std::string& where) {
        return parse_teacher_payload(payload, request.rows, ws.size(), where);
      },
      [&] {
        auto run = run_model(teacher, ws, request.rows, batch, request.feature_stage);
        TeacherOutputs computed;
        computed.logits = run.logits.contiguous();
        if (run.features.defined()) {
          // A (C, L) feature averaged over time is what a ResNet head sees after global pooling;
          // it is the one representation of a ResNet teacher an MLP student's vector can be
          // matched to.
          computed.features =
              (request.pool_feature && run.features.dim() == 3 ? run.features.mean(2)
                                                               : run.features)
                  .contiguous();
        }
        computed.slot = slots_for(request.rows, ws.size());
        ci.teacher_windows = static_cast<int64_t>(request.rows.size());
        return computed;
      },
      [&](const TeacherOutputs& o) { return teacher_payload(o, request.rows); }, &status);
  ci.hit = status.hit;
  ci.rebuilt_because = status.rebuilt_because;
  ci.seconds = elapsed();
  return out;
}

}  // namespace ppgkd
