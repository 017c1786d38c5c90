// The window cache (see cache.h): keys, the binary format and load-or-build.
#include "data/cache.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/hash.h"

namespace ppgkd {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "the window cache stores host-order numbers and assumes little-endian");

namespace {

namespace fs = std::filesystem;

constexpr char kMagic[8] = {'P', 'P', 'G', 'K', 'D', 'W', 'I', 'N'};
constexpr size_t kKeyLen = 16;
constexpr size_t kHeaderLen = sizeof kMagic + 4 + kKeyLen + 8 + 8;

// ---------------------------------------------------------------------------- byte writing

class Writer {
 public:
  template <typename T>
  void put(T v) {
    out_.append(reinterpret_cast<const char*>(&v), sizeof v);
  }
  template <typename T>
  void put_array(const std::vector<T>& v) {
    out_.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
  }
  void put_string(const std::string& s) {
    put(static_cast<uint32_t>(s.size()));
    out_.append(s);
  }
  std::string& bytes() { return out_; }

 private:
  std::string out_;
};

// ---------------------------------------------------------------------------- byte reading

// Bounds-checked reads over the payload; every failure is a "payload malformed" error.
class Reader {
 public:
  Reader(const char* p, size_t n, const std::string& where) : p_(p), n_(n), where_(where) {}

  const char* take(size_t count, const char* what) {
    if (count > n_ - pos_) {
      throw Error(where_, fmt::format("corrupt: payload malformed ({} runs past the end)", what));
    }
    const char* at = p_ + pos_;
    pos_ += count;
    return at;
  }
  template <typename T>
  T get(const char* what) {
    T v;
    std::memcpy(&v, take(sizeof v, what), sizeof v);
    return v;
  }
  template <typename T>
  void get_array(std::vector<T>* v, uint64_t count, const char* what) {
    if (count > (n_ - pos_) / sizeof(T)) {
      throw Error(where_, fmt::format("corrupt: payload malformed ({} runs past the end)", what));
    }
    v->resize(count);
    std::memcpy(v->data(), take(count * sizeof(T), what), count * sizeof(T));
  }
  std::string get_string(const char* what) {
    const uint32_t len = get<uint32_t>(what);
    return std::string(take(len, what), len);
  }
  bool at_end() const { return pos_ == n_; }

 private:
  const char* p_;
  size_t n_, pos_ = 0;
  const std::string& where_;
};

// The payload checksum: common/hash.h's word-wise hash (the byte-wise FNV-1a is too slow for a
// cache checked on every run).
uint64_t checksum(const char* p, size_t n) {
  return hash_words(p, n, kWordHashSeed);
}

// The header's fields once magic and version have been checked.
struct Header {
  std::string key;
  uint64_t payload_len = 0, payload_sum = 0;
};

Header parse_header(const std::string& bytes, const std::string& where) {
  if (bytes.size() < kHeaderLen) {
    throw Error(where, fmt::format("corrupt: truncated header ({} bytes)", bytes.size()));
  }
  if (std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0) {
    throw Error(where, "corrupt: not a ppgkd window cache (bad magic)");
  }
  size_t at = sizeof kMagic;
  uint32_t version;
  std::memcpy(&version, bytes.data() + at, 4);
  at += 4;
  if (version != kWindowCacheVersion) {
    throw Error(where, fmt::format("stale: cache format version {}, expected {}", version,
                                   kWindowCacheVersion));
  }
  Header h;
  h.key.assign(bytes.data() + at, kKeyLen);
  at += kKeyLen;
  std::memcpy(&h.payload_len, bytes.data() + at, 8);
  std::memcpy(&h.payload_sum, bytes.data() + at + 8, 8);
  return h;
}

}  // namespace

// ---------------------------------------------------------------------------- format

std::string serialise_windows(const WindowSet& ws, const std::string& key) {
  if (key.size() != kKeyLen) {
    throw Error("window cache",
                fmt::format("key must be {} characters (got \"{}\")", kKeyLen, key));
  }
  const size_t n = ws.size(), per = static_cast<size_t>(ws.channels) * ws.length;
  if (ws.x.size() != n * per || ws.recording.size() != n || ws.window.size() != n) {
    throw Error("window cache", "window set arrays disagree in length");
  }
  Writer p;
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
  const std::string& payload = p.bytes();

  Writer f;
  f.bytes().reserve(kHeaderLen + payload.size());
  f.bytes().append(kMagic, sizeof kMagic);
  f.put<uint32_t>(kWindowCacheVersion);
  f.bytes().append(key);
  f.put<uint64_t>(payload.size());
  f.put<uint64_t>(checksum(payload.data(), payload.size()));
  f.bytes().append(payload);
  return std::move(f.bytes());
}

WindowSet parse_windows(const std::string& bytes, const std::string& expected_key,
                        const std::string& where) {
  const Header h = parse_header(bytes, where);
  if (h.key != expected_key) {
    throw Error(where, "stale: key " + h.key + ", expected " + expected_key);
  }
  const size_t have = bytes.size() - kHeaderLen;
  if (h.payload_len != have) {
    throw Error(where, fmt::format("corrupt: header says {} payload bytes, file has {}",
                                   h.payload_len, have));
  }
  const char* payload = bytes.data() + kHeaderLen;
  if (checksum(payload, have) != h.payload_sum) {
    throw Error(where, "corrupt: payload checksum mismatch");
  }

  // The checksum only says the bytes are the ones written; the structure is still checked, as a
  // writer bug or a hash collision must not become an out-of-bounds read.
  Reader r(payload, have, where);
  WindowSet ws;
  ws.channels = r.get<int32_t>("channels");
  ws.length = r.get<int32_t>("length");
  const uint64_t n = r.get<uint64_t>("count");
  if (ws.channels < 1 || ws.channels > 64 || ws.length < 1 || ws.length > (1 << 20)) {
    throw Error(where, fmt::format("corrupt: payload malformed (shape C={}, L={})", ws.channels,
                                   ws.length));
  }
  const uint64_t per = static_cast<uint64_t>(ws.channels) * static_cast<uint64_t>(ws.length);
  if (n > have / 4 / per) throw Error(where, "corrupt: payload malformed (x runs past the end)");
  r.get_array(&ws.x, n * per, "x");
  r.get_array(&ws.hr, n, "hr");
  r.get_array(&ws.recording, n, "recording");
  r.get_array(&ws.window, n, "window");
  const uint64_t n_rec = r.get<uint64_t>("recording count");
  if (n_rec > have) throw Error(where, "corrupt: payload malformed (recording count)");
  ws.recordings.resize(n_rec);
  for (auto& info : ws.recordings) {
    info.dataset = r.get_string("dataset");
    info.name = r.get_string("name");
    info.subject = r.get_string("subject");
  }
  for (int32_t rec : ws.recording) {
    if (rec < 0 || static_cast<uint64_t>(rec) >= n_rec) {
      throw Error(where, "corrupt: payload malformed (recording index out of range)");
    }
  }
  const uint64_t n_drop = r.get<uint64_t>("drop count");
  if (n_drop > have) throw Error(where, "corrupt: payload malformed (drop count)");
  for (uint64_t i = 0; i < n_drop; ++i) {
    std::string reason = r.get_string("drop reason");
    ws.dropped[reason] = r.get<uint64_t>("drop count");
  }
  if (!r.at_end()) throw Error(where, "corrupt: payload malformed (trailing bytes)");
  return ws;
}

// ---------------------------------------------------------------------------- keys

std::string window_cache_key(const std::string& fingerprint, const PreprocessConfig& cfg) {
  Hasher h;
  h.update("ppgkd window cache ").update(std::to_string(kWindowCacheVersion)).update(" ");
  h.update(fingerprint).update(" ").update(cfg.to_json().dump());
  return h.hex();
}

// ---------------------------------------------------------------------------- load or build

namespace {

// The whole file in one read (the cache is loaded on every run, so no stream copies), or
// false when it does not exist.
bool read_whole(const std::string& path, std::string* out) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) {
    if (errno == ENOENT) return false;
    throw Error(path, std::string("cannot open: ") + std::strerror(errno));
  }
  struct stat st;
  if (::fstat(::fileno(f), &st) != 0) {
    std::fclose(f);
    throw Error(path, "cannot stat");
  }
  out->resize(static_cast<size_t>(st.st_size));
  const size_t got = std::fread(out->data(), 1, out->size(), f);
  std::fclose(f);
  out->resize(got);
  return true;
}

}  // namespace

WindowSet load_or_build_windows(const std::string& path, const std::string& key,
                                const std::function<WindowSet()>& build, CacheInfo* info) {
  CacheInfo local;
  CacheInfo& ci = info ? *info : local;
  ci.key = key;
  ci.path = path;
  ci.hit = false;
  std::string bytes;
  if (!read_whole(path, &bytes)) {
    ci.rebuilt_because = "absent";
  } else {
    try {
      WindowSet ws = parse_windows(bytes, key, path);
      ci.hit = true;
      ci.rebuilt_because.clear();
      return ws;
    } catch (const Error& e) {
      ci.rebuilt_because = e.problem();  // "stale: ..." or "corrupt: ..."
    }
  }
  WindowSet ws = build();
  write_file_atomic(path, serialise_windows(ws, key));
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
