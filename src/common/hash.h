// Content hashing for cache keys and run keys: 64-bit FNV-1a, streamed. Not cryptographic; it only
// has to notice that a file or a config changed.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ppgkd {

class Hasher {
 public:
  Hasher& update(const void* data, size_t n);
  Hasher& update(std::string_view s) { return update(s.data(), s.size()); }
  uint64_t digest() const { return h_; }
  std::string hex() const;  // 16 lowercase hex digits

 private:
  uint64_t h_ = 14695981039346656037ull;  // FNV offset basis
};

// Hash of a file's bytes; throws Error naming the file when it cannot be read.
uint64_t hash_file(const std::string& path);

std::string to_hex(uint64_t v);

}  // namespace ppgkd
