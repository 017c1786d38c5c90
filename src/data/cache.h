// Binary cache of preprocessed windows. The key hashes the content of every data file below the
// root and the preprocessing config; the file carries a magic, version, key and a checksum of its
// payload, so a stale, corrupt or truncated cache is detected and rebuilt, never trusted.
#pragma once

#include <string>

#include "data/preprocess.h"

namespace ppgkd {

struct CacheInfo {
  std::string key;        // hex of the cache key (also the data fingerprint in run records)
  std::string path;       // cache file
  bool hit = false;       // loaded from cache
  std::string rebuilt_because;  // empty on a hit: "absent", "stale", "corrupt: ..."
};

// Returns the windows of every recording under `data_root` (or the synthetic default when
// data_root == "synthetic" or "synthetic:SEED"), from the cache in `cache_dir` when valid.
WindowSet load_windows(const std::string& data_root, const PreprocessConfig& cfg,
                       const std::string& cache_dir, CacheInfo* info);

// Low-level: serialise / parse a WindowSet with the given key (parse throws Error on any damage).
std::string serialise_windows(const WindowSet& ws, const std::string& key);
WindowSet parse_windows(const std::string& bytes, const std::string& expected_key,
                        const std::string& where);

// Data fingerprint: hash of (relative path, content hash) of every file below root.
std::string data_fingerprint(const std::string& data_root);

}  // namespace ppgkd
