// The on-disk cache of a teacher's outputs (see teacher_cache.h): keys and paths, the binary
// format, and load-or-compute.
#include "train/teacher_cache.h"

#include <fmt/format.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/hash.h"
#include "train/inference.h"

namespace ppgkd {

namespace fs = std::filesystem;

namespace {

constexpr char kMagic[8] = {'P', 'P', 'G', 'K', 'D', 'T', 'E', 'A'};
constexpr size_t kKeyLen = 16;
constexpr size_t kHeaderLen = sizeof kMagic + 4 + kKeyLen + 8 + 8;
constexpr uint32_t kMaxRank = 4;

// ------------------------------------------------------------------------------ byte helpers

void put_bytes(std::string* out, const void* p, size_t n) {
  out->append(static_cast<const char*>(p), n);
}
template <typename T>
void put(std::string* out, T v) {
  put_bytes(out, &v, sizeof v);
}

// Reads fields in order and throws "corrupt: payload malformed (...)" instead of reading past
// the end.
class Reader {
 public:
  Reader(const char* p, size_t n, const std::string& where) : p_(p), n_(n), where_(where) {}
  template <typename T>
  T get(const char* what) {
    T v;
    take(&v, sizeof v, what);
    return v;
  }
  void take(void* dst, size_t n, const char* what) {
    if (n > n_ - pos_)
      throw Error(where_, fmt::format("corrupt: payload malformed ({} runs past the end)", what));
    std::memcpy(dst, p_ + pos_, n);
    pos_ += n;
  }
  size_t left() const { return n_ - pos_; }

 private:
  const char* p_;
  size_t n_, pos_ = 0;
  const std::string& where_;
};

uint64_t payload_sum(const char* p, size_t n) {
  return Hasher().update(p, n).digest();
}

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

bool read_if_exists(const std::string& path, std::string* out) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return false;
  *out = read_file(path);
  return true;
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

std::string serialise_teacher_outputs(const TeacherOutputs& out, const std::vector<size_t>& rows,
                                      const std::string& key) {
  if (key.size() != kKeyLen)
    throw Error("teacher cache",
                fmt::format("key must be {} characters (got \"{}\")", kKeyLen, key));
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
  std::string payload;
  payload.reserve(64 + rows.size() * 8 + logits.numel() * 4 +
                  (feats.defined() ? feats.numel() * 4 : 0));
  put<uint64_t>(&payload, rows.size());
  for (size_t r : rows) put<uint64_t>(&payload, r);
  put<uint32_t>(&payload, static_cast<uint32_t>(logits.size(1)));
  put_bytes(&payload, logits.data_ptr<float>(), logits.numel() * sizeof(float));
  if (feats.defined()) {
    put<uint32_t>(&payload, static_cast<uint32_t>(feats.dim() - 1));
    for (int64_t d = 1; d < feats.dim(); ++d) put<uint64_t>(&payload, feats.size(d));
    put_bytes(&payload, feats.data_ptr<float>(), feats.numel() * sizeof(float));
  } else {
    put<uint32_t>(&payload, 0);
  }
  std::string file;
  file.reserve(kHeaderLen + payload.size());
  put_bytes(&file, kMagic, sizeof kMagic);
  put<uint32_t>(&file, kTeacherCacheVersion);
  file += key;
  put<uint64_t>(&file, payload.size());
  put<uint64_t>(&file, payload_sum(payload.data(), payload.size()));
  file += payload;
  return file;
}

TeacherOutputs parse_teacher_outputs(const std::string& bytes, const std::string& expected_key,
                                     const std::vector<size_t>& expected_rows, size_t ws_size,
                                     const std::string& where) {
  if (bytes.size() < kHeaderLen)
    throw Error(where, fmt::format("corrupt: truncated header ({} bytes)", bytes.size()));
  if (std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0)
    throw Error(where, "corrupt: not a ppgkd teacher cache (bad magic)");
  Reader h(bytes.data(), kHeaderLen, where);
  char magic[sizeof kMagic];
  h.take(magic, sizeof magic, "magic");
  const uint32_t version = h.get<uint32_t>("version");
  if (version != kTeacherCacheVersion)
    throw Error(where, fmt::format("stale: cache format version {}, expected {}", version,
                                   kTeacherCacheVersion));
  std::string key(kKeyLen, ' ');
  h.take(key.data(), kKeyLen, "key");
  if (key != expected_key) throw Error(where, "stale: key " + key + ", expected " + expected_key);
  const uint64_t len = h.get<uint64_t>("length"), sum = h.get<uint64_t>("checksum");
  const size_t have = bytes.size() - kHeaderLen;
  if (len != have)
    throw Error(where,
                fmt::format("corrupt: header says {} payload bytes, file has {}", len, have));
  const char* payload = bytes.data() + kHeaderLen;
  if (payload_sum(payload, have) != sum) throw Error(where, "corrupt: payload checksum mismatch");

  // The checksum only says the bytes are the ones written; the structure is still checked so a
  // writer bug cannot become an out-of-bounds read.
  Reader r(payload, have, where);
  const uint64_t n = r.get<uint64_t>("row count");
  if (n != expected_rows.size())
    throw Error(where,
                fmt::format("corrupt: {} rows cached, {} requested", n, expected_rows.size()));
  std::vector<size_t> rows(n);
  for (auto& row : rows) {
    row = r.get<uint64_t>("rows");
    if (row >= ws_size) throw Error(where, "corrupt: payload malformed (row out of range)");
  }
  if (rows != expected_rows) throw Error(where, "corrupt: cached rows differ from the request");
  TeacherOutputs out;
  const uint32_t k = r.get<uint32_t>("class count");
  if (k < 1 || (n > 0 && k > r.left() / 4 / n))
    throw Error(where, "corrupt: payload malformed (logits run past the end)");
  out.logits = torch::empty({static_cast<int64_t>(n), static_cast<int64_t>(k)});
  r.take(out.logits.data_ptr<float>(), n * k * sizeof(float), "logits");
  const uint32_t rank = r.get<uint32_t>("feature rank");
  if (rank > kMaxRank) throw Error(where, "corrupt: payload malformed (feature rank)");
  if (rank > 0) {
    std::vector<int64_t> shape = {static_cast<int64_t>(n)};
    uint64_t per = 1;
    for (uint32_t d = 0; d < rank; ++d) {
      const uint64_t dim = r.get<uint64_t>("feature shape");
      if (dim < 1 || dim > r.left())
        throw Error(where, "corrupt: payload malformed (feature shape)");
      per *= dim;
      if (per > r.left()) throw Error(where, "corrupt: payload malformed (feature shape)");
      shape.push_back(static_cast<int64_t>(dim));
    }
    if (n > 0 && per > r.left() / 4 / n)
      throw Error(where, "corrupt: payload malformed (features run past the end)");
    out.features = torch::empty(shape);
    r.take(out.features.data_ptr<float>(), n * per * sizeof(float), "features");
  }
  if (r.left() != 0) throw Error(where, "corrupt: payload malformed (trailing bytes)");
  out.slot = slots_for(rows, ws_size);
  return out;
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
  std::string bytes;
  if (!read_if_exists(ci.path, &bytes)) {
    ci.rebuilt_because = "absent";
  } else {
    try {
      auto out = parse_teacher_outputs(bytes, ci.key, request.rows, ws.size(), ci.path);
      ci.hit = true;
      ci.seconds = elapsed();
      return out;
    } catch (const Error& e) {
      ci.rebuilt_because = e.problem();
    }
  }
  bytes.clear();
  bytes.shrink_to_fit();

  auto run = run_model(teacher, ws, request.rows, batch, request.feature_stage);
  TeacherOutputs out;
  out.logits = run.logits.contiguous();
  if (run.features.defined()) {
    // A (C, L) feature averaged over time is what a ResNet head sees after global pooling; it is
    // the one representation of a ResNet teacher an MLP student's vector can be matched to.
    out.features =
        (request.pool_feature && run.features.dim() == 3 ? run.features.mean(2) : run.features)
            .contiguous();
  }
  out.slot = slots_for(request.rows, ws.size());
  ci.teacher_windows = static_cast<int64_t>(request.rows.size());
  write_file_atomic(ci.path, serialise_teacher_outputs(out, request.rows, ci.key));
  ci.seconds = elapsed();
  return out;
}

}  // namespace ppgkd
