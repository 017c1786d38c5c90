// Binary cache of preprocessed windows. The key hashes the content of every data file below the
// root, the preprocessing config and the cache format version. The file is a checksummed cache
// file (common/binary_cache.h: magic "PPGKDWIN", version, key, payload length and checksum), so a
// stale, corrupt or truncated cache is detected and rebuilt, never trusted. Files are written
// atomically, so concurrent sweep workers can share a cache directory (the last writer wins; both
// wrote the same bytes).
//
// Payload (little-endian): i32 C, i32 L, u64 N, f32 x[N*C*L], f32 hr[N], i32 recording[N],
// i32 window[N], u64 R, R x (3 strings: dataset, name, subject), u64 D, D x (string reason,
// u64 count); a string is u32 length + bytes.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "data/data_spec.h"  // the data specification: data_fingerprint, load_data
#include "data/preprocess.h"

namespace ppgkd {

constexpr uint32_t kWindowCacheVersion = 1;

struct CacheInfo {
  std::string key;          // hex of the cache key (data fingerprint + config + format version)
  std::string fingerprint;  // hex of the data fingerprint alone (for run records)
  std::string path;         // cache file ("" when caching is off)
  bool hit = false;         // loaded from cache
  // Empty on a hit, else why it was built: "absent", "stale: ...", "corrupt: ..." or
  // "no cache directory".
  std::string rebuilt_because;
};

// Returns the windows of every recording under `data_root` (or of make_synthetic with its default
// config when data_root == "synthetic", with seed SEED for "synthetic:SEED"), from the cache in
// `cache_dir` when valid; an empty cache_dir turns caching off. `info` may be null.
// The synthetic fingerprint hashes the SyntheticConfig, not the generator's code: after changing
// the generator, clear the cache.
// data_root may list several roots separated by commas ("a,b"): their recordings are pooled.
WindowSet load_windows(const std::string& data_root, const PreprocessConfig& cfg,
                       const std::string& cache_dir, CacheInfo* info);

// The cache key for a data fingerprint and a config (16 hex digits).
std::string window_cache_key(const std::string& fingerprint, const PreprocessConfig& cfg);

// Loads `path` if it holds a valid cache for `key`, else calls build() and writes its result to
// `path` atomically. Fills info (may be null) with path, hit and rebuilt_because.
WindowSet load_or_build_windows(const std::string& path, const std::string& key,
                                const std::function<WindowSet()>& build, CacheInfo* info);

// Low-level: serialise / parse a WindowSet with the given key. parse throws Error(where, ...) on
// any damage, and on a key other than expected_key.
std::string serialise_windows(const WindowSet& ws, const std::string& key);
WindowSet parse_windows(const std::string& bytes, const std::string& expected_key,
                        const std::string& where);

}  // namespace ppgkd
