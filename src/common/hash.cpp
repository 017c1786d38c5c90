#include "common/hash.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "common/error.h"

namespace ppgkd {

Hasher& Hasher::update(const void* data, size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < n; ++i) {
    h_ ^= p[i];
    h_ *= 1099511628211ull;  // FNV prime
  }
  return *this;
}

std::string to_hex(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string Hasher::hex() const {
  return to_hex(h_);
}

uint64_t hash_file(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw Error(path, "cannot open file");
  Hasher h;
  std::vector<char> buf(1 << 16);
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), f)) > 0) h.update(buf.data(), n);
  bool bad = std::ferror(f);
  std::fclose(f);
  if (bad) throw Error(path, "read failed");
  return h.digest();
}

uint64_t hash_words(const char* p, size_t n, uint64_t h) {
  constexpr uint64_t kMul = 0x9E3779B97F4A7C15ull;  // odd, so multiplying is invertible mod 2^64
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    h = (h ^ w) * kMul;
    h ^= h >> 32;
  }
  for (; i < n; ++i) {
    h = (h ^ static_cast<unsigned char>(p[i])) * kMul;
    h ^= h >> 32;
  }
  return h;
}

uint64_t hash_file_words(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw Error(path, std::string("cannot open: ") + std::strerror(errno));
  std::vector<char> buf(1 << 20);  // a multiple of 8 bytes: chunks end on word boundaries
  uint64_t h = kWordHashSeed;
  for (;;) {
    size_t got = 0, n;
    while (got < buf.size() && (n = std::fread(buf.data() + got, 1, buf.size() - got, f)) > 0) {
      got += n;
    }
    h = hash_words(buf.data(), got, h);
    if (got < buf.size()) break;
  }
  const bool bad = std::ferror(f);
  std::fclose(f);
  if (bad) throw Error(path, "read failed");
  return h;
}

}  // namespace ppgkd
