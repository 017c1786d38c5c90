#include <gtest/gtest.h>

#include <filesystem>

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/hash.h"
#include "common/progress.h"
#include "test_util.h"

namespace ppgkd {
namespace {

TEST(Error, MessageNamesWhereAndWhat) {
  Error e("data/x.mat", "missing variable 'sig'");
  EXPECT_STREQ(e.what(), "data/x.mat: missing variable 'sig'");
  EXPECT_EQ(e.where(), "data/x.mat");
  EXPECT_EQ(e.problem(), "missing variable 'sig'");
}

TEST(Hash, Fnv1aKnownVectors) {
  // Published FNV-1a 64-bit test vectors.
  EXPECT_EQ(Hasher().digest(), 0xcbf29ce484222325ull);
  EXPECT_EQ(Hasher().update("a").digest(), 0xaf63dc4c8601ec8cull);
  EXPECT_EQ(Hasher().update("foobar").digest(), 0x85944171f73967e8ull);
  EXPECT_EQ(to_hex(0xabcull), "0000000000000abc");
}

// The word hash by hand: one little-endian word, then one tail byte, each step
// h = (h ^ x) * 0x9E3779B97F4A7C15; h ^= h >> 32 (mod 2^64).
TEST(Hash, WordHashByHand) {
  const uint64_t kMul = 0x9E3779B97F4A7C15ull;
  const char bytes[9] = {1, 0, 0, 0, 0, 0, 0, 0, 2};
  uint64_t h = kWordHashSeed ^ 1;  // the word 0x0000000000000001
  h *= kMul;
  h ^= h >> 32;
  h = (h ^ 2) * kMul;
  h ^= h >> 32;
  EXPECT_EQ(hash_words(bytes, 9, kWordHashSeed), h);
  EXPECT_EQ(hash_words(bytes, 0, 7), 7u);  // nothing to mix
}

// A file is hashed in 1 MiB chunks: the result must not depend on where the chunks end.
TEST(Hash, FileWordHashIsTheHashOfTheWholeFile) {
  const std::string dir = testing::scratch_dir();
  std::string content((1 << 20) * 2 + 13, '\0');
  for (size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>((i * 131 + 7) % 251);
  write_file_atomic(dir + "/f", content);
  EXPECT_EQ(hash_file_words(dir + "/f"), hash_words(content.data(), content.size(), kWordHashSeed));
  content[(1 << 20) + 3] ^= 1;  // one bit, in the second chunk
  write_file_atomic(dir + "/g", content);
  EXPECT_NE(hash_file_words(dir + "/g"), hash_file_words(dir + "/f"));
  EXPECT_THROW(hash_file_words(dir + "/missing"), Error);
}

TEST(AtomicFile, WritesReadsAndLeavesNoTemporary) {
  std::string dir = testing::scratch_dir();
  std::string path = dir + "/sub/out.txt";
  write_file_atomic(path, "hello");
  write_file_atomic(path, "world!");
  EXPECT_EQ(read_file(path), "world!");
  int entries = 0;
  for (auto& e : std::filesystem::directory_iterator(dir + "/sub")) entries += e.exists();
  EXPECT_EQ(entries, 1);
  EXPECT_EQ(hash_file(path), Hasher().update("world!").digest());
}

TEST(AtomicFile, ReadingAMissingFileNamesIt) {
  try {
    read_file("/nonexistent/ppgkd.txt");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "/nonexistent/ppgkd.txt: cannot open file");
  }
}

TEST(Progress, DurationFormat) {
  EXPECT_EQ(format_duration(12.2), "12s");
  EXPECT_EQ(format_duration(185), "3m05s");
  EXPECT_EQ(format_duration(3720), "1h02m");
}

}  // namespace
}  // namespace ppgkd
