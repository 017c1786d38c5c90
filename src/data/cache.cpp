// The window cache (see cache.h): keys, the binary format and load-or-build.
#include "data/cache.h"

#include <fmt/format.h>

#include <filesystem>

#include "common/binary_cache.h"
#include "common/error.h"
#include "common/hash.h"

namespace ppgkd {

namespace {

// The payload: i32 C, i32 L, u64 N, f32 x[N*C*L], f32 hr[N], i32 recording[N], i32 window[N],
// u64 R, R x (dataset, name, subject), u64 D, D x (reason, u64 count).
std::string window_payload(const WindowSet& ws) {
  const size_t n = ws.size(), per = static_cast<size_t>(ws.channels) * ws.length;
  if (ws.x.size() != n * per || ws.recording.size() != n || ws.window.size() != n) {
    throw Error("window cache", "window set arrays disagree in length");
  }
  ByteWriter p;
  p.bytes().reserve(64 + ws.x.size() * 4 + n * 12);
  p.put<int32_t>(ws.channels);
  p.put<int32_t>(ws.length);
  p.put<uint64_t>(n);
  p.put_array(ws.x);
  p.put_array(ws.hr);
  p.put_array(ws.recording);
  p.put_array(ws.window);
  p.put<uint64_t>(ws.recordings.size());
  for (const auto& r : ws.recordings) {
    p.put_string(r.dataset);
    p.put_string(r.name);
    p.put_string(r.subject);
  }
  p.put<uint64_t>(ws.dropped.size());
  for (const auto& [reason, count] : ws.dropped) {
    p.put_string(reason);
    p.put<uint64_t>(count);
  }
  return std::move(p.bytes());
}

// The checksum only says the bytes are the ones written; the structure is still checked, as a
// writer bug or a hash collision must not become an out-of-bounds read.
WindowSet parse_window_payload(std::string_view payload, const std::string& where) {
  ByteReader r(payload, where);
  const size_t have = payload.size();
  WindowSet ws;
  ws.channels = r.get<int32_t>("channels");
  ws.length = r.get<int32_t>("length");
  const uint64_t n = r.get<uint64_t>("count");
  if (ws.channels < 1 || ws.channels > 64 || ws.length < 1 || ws.length > (1 << 20)) {
    r.malformed(fmt::format("shape C={}, L={}", ws.channels, ws.length));
  }
  const uint64_t per = static_cast<uint64_t>(ws.channels) * static_cast<uint64_t>(ws.length);
  if (n > have / 4 / per) r.malformed("x runs past the end");
  r.get_array(&ws.x, n * per, "x");
  r.get_array(&ws.hr, n, "hr");
  r.get_array(&ws.recording, n, "recording");
  r.get_array(&ws.window, n, "window");
  const uint64_t n_rec = r.get<uint64_t>("recording count");
  if (n_rec > have) r.malformed("recording count");
  ws.recordings.resize(n_rec);
  for (auto& info : ws.recordings) {
    info.dataset = r.get_string("dataset");
    info.name = r.get_string("name");
    info.subject = r.get_string("subject");
  }
  for (int32_t rec : ws.recording) {
    if (rec < 0 || static_cast<uint64_t>(rec) >= n_rec) {
      r.malformed("recording index out of range");
    }
  }
  const uint64_t n_drop = r.get<uint64_t>("drop count");
  if (n_drop > have) r.malformed("drop count");
  for (uint64_t i = 0; i < n_drop; ++i) {
    std::string reason = r.get_string("drop reason");
    ws.dropped[reason] = r.get<uint64_t>("drop count");
  }
  if (!r.at_end()) r.malformed("trailing bytes");
  return ws;
}

}  // namespace

namespace {

namespace fs = std::filesystem;

const CacheFormat kFormat = {"PPGKDWIN", kWindowCacheVersion, "window cache"};

}  // namespace

// ---------------------------------------------------------------------------- format

std::string serialise_windows(const WindowSet& ws, const std::string& key) {
  return seal_cache(kFormat, key, window_payload(ws));
}

WindowSet parse_windows(const std::string& bytes, const std::string& expected_key,
                        const std::string& where) {
  return parse_window_payload(open_cache(kFormat, bytes, expected_key, where), where);
}

// ---------------------------------------------------------------------------- keys

std::string window_cache_key(const std::string& fingerprint, const PreprocessConfig& cfg) {
  Hasher h;
  h.update("ppgkd window cache ").update(std::to_string(kWindowCacheVersion)).update(" ");
  h.update(fingerprint).update(" ").update(cfg.to_json().dump());
  return h.hex();
}

// ---------------------------------------------------------------------------- load or build

WindowSet load_or_build_windows(const std::string& path, const std::string& key,
                                const std::function<WindowSet()>& build, CacheInfo* info) {
  CacheStatus status;
  WindowSet ws = load_or_build_cache<WindowSet>(path, kFormat, key, parse_window_payload, build,
                                                window_payload, &status);
  if (info) {
    info->key = key;
    info->path = path;
    info->hit = status.hit;
    info->rebuilt_because = status.rebuilt_because;
  }
  return ws;
}

WindowSet load_windows(const std::string& data_root, const PreprocessConfig& cfg,
                       const std::string& cache_dir, CacheInfo* info) {
  cfg.validate();
  const std::string fingerprint = data_fingerprint(data_root);
  const std::string key = window_cache_key(fingerprint, cfg);
  auto build = [&] { return make_windows(load_data(data_root), cfg); };
  if (info) info->fingerprint = fingerprint;
  if (cache_dir.empty()) {
    if (info) {
      info->key = key;
      info->path.clear();
      info->hit = false;
      info->rebuilt_because = "no cache directory";
    }
    return build();
  }
  const std::string path = (fs::path(cache_dir) / ("windows-" + key + ".ppgcache")).string();
  return load_or_build_windows(path, key, build, info);
}

}  // namespace ppgkd
