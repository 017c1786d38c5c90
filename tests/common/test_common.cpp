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
