// Checksummed binary cache files (see binary_cache.h): the header, reading and writing.
#include "common/binary_cache.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>

#include "common/atomic_file.h"
#include "common/hash.h"

namespace ppgkd {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "cache files store host-order numbers and assume little-endian");

namespace {

uint64_t checksum(std::string_view payload) {
  return hash_words(payload.data(), payload.size(), kWordHashSeed);
}

}  // namespace

// ---------------------------------------------------------------------------- header

std::string seal_cache(const CacheFormat& format, const std::string& key,
                       std::string_view payload) {
  if (key.size() != kCacheKeyLen)
    throw Error(format.what,
                fmt::format("key must be {} characters (got \"{}\")", kCacheKeyLen, key));
  ByteWriter f;
  f.bytes().reserve(kCacheHeaderLen + payload.size());
  f.bytes().append(format.magic, 8);
  f.put<uint32_t>(format.version);
  f.bytes().append(key);
  f.put<uint64_t>(payload.size());
  f.put<uint64_t>(checksum(payload));
  f.bytes().append(payload);
  return std::move(f.bytes());
}

std::string_view open_cache(const CacheFormat& format, const std::string& bytes,
                            const std::string& expected_key, const std::string& where) {
  if (bytes.size() < kCacheHeaderLen)
    throw Error(where, fmt::format("corrupt: truncated header ({} bytes)", bytes.size()));
  if (std::memcmp(bytes.data(), format.magic, 8) != 0)
    throw Error(where, fmt::format("corrupt: not a ppgkd {} (bad magic)", format.what));
  ByteReader h(std::string_view(bytes).substr(8, kCacheHeaderLen - 8), where);
  const uint32_t version = h.get<uint32_t>("version");
  if (version != format.version)
    throw Error(
        where, fmt::format("stale: cache format version {}, expected {}", version, format.version));
  const std::string key(h.take(kCacheKeyLen, "key"), kCacheKeyLen);
  if (key != expected_key) throw Error(where, "stale: key " + key + ", expected " + expected_key);
  const uint64_t length = h.get<uint64_t>("payload length");
  const uint64_t sum = h.get<uint64_t>("checksum");
  const std::string_view payload = std::string_view(bytes).substr(kCacheHeaderLen);
  if (length != payload.size())
    throw Error(where, fmt::format("corrupt: header says {} payload bytes, file has {}", length,
                                   payload.size()));
  if (checksum(payload) != sum) throw Error(where, "corrupt: payload checksum mismatch");
  return payload;
}

// ---------------------------------------------------------------------------- payload bytes

void ByteReader::malformed(const std::string& what) const {
  throw Error(where_, "corrupt: payload malformed (" + what + ")");
}

void ByteReader::past_end(const char* what) const {
  malformed(std::string(what) + " runs past the end");
}

// ---------------------------------------------------------------------------- files

// The whole file in one read (caches are loaded on every run, so no stream copies).
bool read_cache_file(const std::string& path, std::string* bytes) {
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
  bytes->resize(static_cast<size_t>(st.st_size));
  const size_t got = std::fread(bytes->data(), 1, bytes->size(), f);
  const bool bad = std::ferror(f);
  std::fclose(f);
  if (bad) throw Error(path, "read failed");
  bytes->resize(got);
  return true;
}

void report_corrupt_cache(const std::string& path, const CacheStatus& status) {
  std::fprintf(stderr, "ppgkd: note: %s: %s; rebuilding it\n", path.c_str(),
               status.rebuilt_because.c_str());
}

void write_cache_file(const std::string& path, const CacheFormat& format, const std::string& key,
                      std::string_view payload) {
  write_file_atomic(path, seal_cache(format, key, payload));
}

}  // namespace ppgkd
