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

// Bulk hashing a word at a time, for payload checksums and file contents: the byte-wise FNV-1a
// above runs at ~0.7 GB/s, and caches are checked on every run. Each step h = mix((h ^ w) * odd)
// is a bijection of h for a fixed word, so changing any one word (hence any one byte) always
// changes the result; the xor-shift carries high bits into low ones, which a bare multiply never
// does (two sign-bit flips in a row would otherwise cancel). Continue a hash by passing its value
// as `h`; start from kWordHashSeed.
constexpr uint64_t kWordHashSeed = 0x243F6A8885A308D3ull;
uint64_t hash_words(const char* p, size_t n, uint64_t h);
// hash_words of a file's bytes from kWordHashSeed (streamed, so the words line up as if the file
// were hashed in one piece); throws Error naming the file when it cannot be read.
uint64_t hash_file_words(const std::string& path);

std::string to_hex(uint64_t v);

}  // namespace ppgkd
