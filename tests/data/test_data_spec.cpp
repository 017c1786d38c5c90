// The data specification (--data): entries and their errors, the fingerprint rules (a list of one
// is its entry, the default synthetic seed is 42, lists keep their order) and loading in order.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "common/atomic_file.h"
#include "common/error.h"
#include "data/data_spec.h"
#include "data/synthetic/synthetic.h"
#include "test_util.h"

namespace ppgkd {
namespace {

namespace fs = std::filesystem;

std::string error_of(const std::string& data) {
  try {
    parse_data_spec(data);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(DataSpec, ParsesFoldersSyntheticAndLists) {
  const auto one = parse_data_spec("/some/folder");
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].kind, DataSource::Kind::kFolder);
  EXPECT_EQ(one[0].text, "/some/folder");

  const auto list = parse_data_spec("synthetic,synthetic:7,rel/dir,synthetic:9999999999999999999");
  ASSERT_EQ(list.size(), 4u);
  EXPECT_EQ(list[0].kind, DataSource::Kind::kSynthetic);
  EXPECT_EQ(list[0].synthetic.seed, SyntheticConfig{}.seed);
  EXPECT_EQ(list[1].kind, DataSource::Kind::kSynthetic);
  EXPECT_EQ(list[1].synthetic.seed, 7u);
  EXPECT_EQ(list[2].kind, DataSource::Kind::kFolder);
  EXPECT_EQ(list[2].text, "rel/dir");
  EXPECT_EQ(list[3].synthetic.seed, 9999999999999999999ull);  // 19 digits, the most allowed
  // A folder whose name merely starts with "synthetic" is a folder.
  EXPECT_EQ(parse_data_spec("synthetic_data")[0].kind, DataSource::Kind::kFolder);
}

TEST(DataSpec, RefusesBadEntriesNamingThem) {
  EXPECT_EQ(error_of(""), "data: the data specification is empty");
  EXPECT_EQ(error_of("a,,b"), "a,,b: empty entry in the data list");
  EXPECT_EQ(error_of(",a"), ",a: empty entry in the data list");
  EXPECT_EQ(error_of("a,"), "a,: empty entry in the data list");
  EXPECT_EQ(error_of("synthetic:"), "synthetic:: synthetic seed must be a non-negative integer");
  EXPECT_EQ(error_of("d,synthetic:-1"),
            "synthetic:-1: synthetic seed must be a non-negative integer");
  EXPECT_EQ(error_of("synthetic:1x"),
            "synthetic:1x: synthetic seed must be a non-negative integer");
  EXPECT_EQ(error_of("synthetic:12345678901234567890"),  // 20 digits
            "synthetic:12345678901234567890: synthetic seed must be a non-negative integer");
}

TEST(DataSpec, FingerprintRules) {
  const std::string s42 = data_fingerprint("synthetic:42");
  EXPECT_EQ(s42.size(), 16u);
  EXPECT_EQ(data_fingerprint("synthetic"), s42);  // 42 is the generator's default seed
  EXPECT_NE(data_fingerprint("synthetic:43"), s42);

  const std::string root = testing::scratch_dir();
  write_file_atomic(root + "/a.csv", "1,2,3\n");
  const std::string folder = data_fingerprint(root);
  EXPECT_EQ(folder.size(), 16u);
  EXPECT_NE(folder, s42);

  // A list hashes its entries in order; its fingerprint is none of its entries'.
  const std::string ab = data_fingerprint(root + ",synthetic:42");
  EXPECT_EQ(ab.size(), 16u);
  EXPECT_NE(ab, folder);
  EXPECT_NE(ab, s42);
  EXPECT_NE(data_fingerprint("synthetic:42," + root), ab);
  EXPECT_EQ(data_fingerprint(root + ",synthetic"), ab);  // entries compare by meaning, not text

  EXPECT_THROW(data_fingerprint(root + "/missing,synthetic"), Error);
  EXPECT_THROW(data_fingerprint("synthetic:x"), Error);
}

TEST(DataSpec, LoadsEntriesInOrder) {
  SyntheticConfig c3, c4;
  c3.seed = 3;
  c4.seed = 4;
  const std::vector<Recording> a = make_synthetic(c3);
  const std::vector<Recording> b = make_synthetic(c4);
  const std::vector<Recording> both = load_data("synthetic:3,synthetic:4");
  ASSERT_EQ(both.size(), a.size() + b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(both[i].name, a[i].name);
    EXPECT_EQ(both[i].ppg, a[i].ppg);
  }
  for (size_t i = 0; i < b.size(); ++i) EXPECT_EQ(both[a.size() + i].ppg, b[i].ppg);
  EXPECT_NE(a[0].ppg, b[0].ppg);  // the seeds differ, so the order is visible
}

}  // namespace
}  // namespace ppgkd
