// Checksummed binary cache files, one format for every on-disk cache: the window cache
// (data/cache.h) and the teacher-output cache (train/teacher_cache.h). Each brings its magic,
// version and payload layout; this file owns the header, the checksum, the bounds-checked byte
// reading, the atomic write and the load-or-build rule. No libtorch.
//
// File layout (little-endian): 8-byte magic, u32 format version, the key (16 hex characters),
// u64 payload length, u64 checksum of the payload (hash_words from kWordHashSeed, common/hash.h),
// then the payload.
//
// A file is never trusted: load_or_build_cache rebuilds it when it is absent, stale (another
// version or key) or corrupt (bad magic, truncated, length or checksum mismatch, or a payload its
// parser rejects), says why in CacheStatus::rebuilt_because, and replaces it atomically (temporary
// file, then rename), so concurrent readers never see half a file.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace ppgkd {

constexpr size_t kCacheKeyLen = 16;
constexpr size_t kCacheHeaderLen = 8 + 4 + kCacheKeyLen + 8 + 8;

struct CacheFormat {
  const char* magic;  // exactly 8 characters, e.g. "PPGKDWIN"
  uint32_t version;   // bump when the payload layout changes: old files become stale
  const char* what;   // e.g. "window cache", in messages ("not a ppgkd window cache")
};

// Header + payload of a cache file. Throws Error(format.what, ...) for a key that is not
// kCacheKeyLen characters.
std::string seal_cache(const CacheFormat& format, const std::string& key, std::string_view payload);

// The payload of a cache file's bytes, checked: throws Error(where, "corrupt: ...") for a short
// header, a bad magic, a payload length or checksum that does not match, and Error(where,
// "stale: ...") for another version or key. The view points into `bytes`.
std::string_view open_cache(const CacheFormat& format, const std::string& bytes,
                            const std::string& expected_key, const std::string& where);

// ---------------------------------------------------------------------------- payload bytes

class ByteWriter {
 public:
  template <typename T>
  void put(T v) {
    out_.append(reinterpret_cast<const char*>(&v), sizeof v);
  }
  template <typename T>
  void put_array(const T* p, size_t n) {
    out_.append(reinterpret_cast<const char*>(p), n * sizeof(T));
  }
  template <typename T>
  void put_array(const std::vector<T>& v) {
    put_array(v.data(), v.size());
  }
  void put_string(const std::string& s) {  // u32 length + bytes
    put(static_cast<uint32_t>(s.size()));
    out_.append(s);
  }
  std::string& bytes() { return out_; }

 private:
  std::string out_;
};

// Reads a payload in order; reading past its end throws Error(where, "corrupt: payload
// malformed (WHAT runs past the end)"), so a damaged payload is an error, never a bad read.
class ByteReader {
 public:
  ByteReader(std::string_view bytes, const std::string& where) : b_(bytes), where_(where) {}

  const char* take(size_t count, const char* what) {
    if (count > b_.size() - pos_) past_end(what);
    const char* at = b_.data() + pos_;
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
    if (count > left() / sizeof(T)) past_end(what);
    v->resize(count);
    std::memcpy(v->data(), take(count * sizeof(T), what), count * sizeof(T));
  }
  std::string get_string(const char* what) {
    const uint32_t len = get<uint32_t>(what);
    return std::string(take(len, what), len);
  }
  size_t left() const { return b_.size() - pos_; }
  bool at_end() const { return pos_ == b_.size(); }
  // Error(where, "corrupt: payload malformed (WHAT)").
  [[noreturn]] void malformed(const std::string& what) const;

 private:
  [[noreturn]] void past_end(const char* what) const;

  std::string_view b_;
  size_t pos_ = 0;
  const std::string& where_;
};

// ---------------------------------------------------------------------------- load or build

struct CacheStatus {
  bool hit = false;             // loaded from the file
  std::string rebuilt_because;  // empty on a hit, else "absent", "stale: ..." or "corrupt: ..."
};

// The whole file, or false when it does not exist. Throws Error(path, ...) when it exists but
// cannot be read.
bool read_cache_file(const std::string& path, std::string* bytes);

// One line on stderr, "ppgkd: note: PATH: corrupt: ...; rebuilding it": a damaged file is worth
// knowing about (a stale one is routine and stays quiet).
void report_corrupt_cache(const std::string& path, const CacheStatus& status);

// Writes seal_cache(format, key, payload) to `path` atomically.
void write_cache_file(const std::string& path, const CacheFormat& format, const std::string& key,
                      std::string_view payload);

// parse(payload, path) of the file at `path` when it is a valid `format` file for `key` and
// parse accepts its payload (parse throws Error(path, "corrupt: ...") on damage); otherwise
// build(), written to `path` atomically as seal_cache(format, key, serialise(result)); a corrupt
// file is reported (report_corrupt_cache). `status` may be null.
template <typename T, typename Parse, typename Build, typename Serialise>
T load_or_build_cache(const std::string& path, const CacheFormat& format, const std::string& key,
                      Parse parse, Build build, Serialise serialise, CacheStatus* status) {
  CacheStatus local;
  CacheStatus& st = status ? *status : local;
  st.hit = false;
  {
    std::string bytes;  // released before build(), which may need the memory
    if (!read_cache_file(path, &bytes)) {
      st.rebuilt_because = "absent";
    } else {
      try {
        T value = parse(open_cache(format, bytes, key, path), path);
        st.hit = true;
        st.rebuilt_because.clear();
        return value;
      } catch (const Error& e) {
        st.rebuilt_because = e.problem();  // "stale: ..." or "corrupt: ..."
        if (st.rebuilt_because.rfind("corrupt", 0) == 0) report_corrupt_cache(path, st);
      }
    }
  }
  T value = build();
  write_cache_file(path, format, key, serialise(value));
  return value;
}

}  // namespace ppgkd
