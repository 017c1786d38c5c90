// Tests of src/data/cache: the binary format (round trip, every flipped byte and every truncation
// detected), load-or-build with its reasons, cache keys and data fingerprints, and load_windows
// end to end on the synthetic set and (when present) the real IEEE SPC 2015 data.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "common/atomic_file.h"
#include "common/error.h"
#include "data/cache.h"
#include "test_util.h"

namespace ppgkd {
namespace {

namespace fs = std::filesystem;
const std::string kKey = "0123456789abcdef";

// A small window set with distinct values everywhere, built by hand.
WindowSet small_set() {
  WindowSet ws;
  ws.channels = 2;
  ws.length = 5;
  for (int i = 0; i < 3; ++i) {
    for (int v = 0; v < 10; ++v) ws.x.push_back(0.25f * v - i);
    ws.hr.push_back(60.5f + i);
    ws.recording.push_back(i == 2 ? 1 : 0);
    ws.window.push_back(i * 3);
  }
  ws.recordings = {{"spc2015", "DATA_01_TYPE01", "spc2015/01"}, {"bidmc", "bidmc_02", "bidmc/02"}};
  ws.dropped = {{"missing HR", 4}, {"non-finite signal", 1}};
  return ws;
}

void expect_equal(const WindowSet& a, const WindowSet& b) {
  EXPECT_EQ(a.channels, b.channels);
  EXPECT_EQ(a.length, b.length);
  EXPECT_EQ(a.x, b.x);
  EXPECT_EQ(a.hr, b.hr);
  EXPECT_EQ(a.recording, b.recording);
  EXPECT_EQ(a.window, b.window);
  ASSERT_EQ(a.recordings.size(), b.recordings.size());
  for (size_t i = 0; i < a.recordings.size(); ++i) {
    EXPECT_EQ(a.recordings[i].dataset, b.recordings[i].dataset);
    EXPECT_EQ(a.recordings[i].name, b.recordings[i].name);
    EXPECT_EQ(a.recordings[i].subject, b.recordings[i].subject);
  }
  EXPECT_EQ(a.dropped, b.dropped);
}

std::string parse_error(const std::string& bytes, const std::string& key = kKey) {
  try {
    parse_windows(bytes, key, "f.ppgcache");
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

// ---------------------------------------------------------------------------- format

TEST(WindowCacheFormat, RoundTripIsExact) {
  const WindowSet ws = small_set();
  const std::string bytes = serialise_windows(ws, kKey);
  // 44-byte header + payload: 4 + 4 + 8 + 3*10*4 + 3*4 * 3 + 8 + strings + 8 + drops.
  const size_t strings = (4 + 7 + 4 + 14 + 4 + 10) + (4 + 5 + 4 + 8 + 4 + 8);
  const size_t drops = (4 + 10 + 8) + (4 + 17 + 8);
  EXPECT_EQ(bytes.size(), 44 + 16 + 120 + 36 + 8 + strings + 8 + drops);
  EXPECT_EQ(bytes.substr(0, 8), "PPGKDWIN");
  expect_equal(parse_windows(bytes, kKey, "f.ppgcache"), ws);
  expect_equal(
      parse_windows(serialise_windows(WindowSet{1, 200, {}, {}, {}, {}, {}, {}}, kKey), kKey, "f"),
      WindowSet{1, 200, {}, {}, {}, {}, {}, {}});
}

TEST(WindowCacheFormat, EveryFlippedByteIsDetected) {
  const std::string good = serialise_windows(small_set(), kKey);
  for (size_t i = 0; i < good.size(); ++i) {
    std::string bad = good;
    bad[i] = static_cast<char>(bad[i] ^ 0x10);
    EXPECT_NE(parse_error(bad), "no error") << "byte " << i;
  }
  std::string payload_flip = good;
  payload_flip[100] ^= 1;
  EXPECT_EQ(parse_error(payload_flip), "f.ppgcache: corrupt: payload checksum mismatch");
  std::string magic_flip = good;
  magic_flip[0] = 'X';
  EXPECT_EQ(parse_error(magic_flip), "f.ppgcache: corrupt: not a ppgkd window cache (bad magic)");
}

TEST(WindowCacheFormat, EveryTruncationIsDetected) {
  const std::string good = serialise_windows(small_set(), kKey);
  for (size_t n = 0; n < good.size(); ++n) {
    EXPECT_NE(parse_error(good.substr(0, n)), "no error") << n << " bytes";
  }
  EXPECT_EQ(parse_error(good.substr(0, 10)), "f.ppgcache: corrupt: truncated header (10 bytes)");
  EXPECT_EQ(parse_error(good.substr(0, good.size() - 3)),
            "f.ppgcache: corrupt: header says " + std::to_string(good.size() - 44) +
                " payload bytes, file has " + std::to_string(good.size() - 47));
  EXPECT_NE(parse_error(good + "x"), "no error");
}

TEST(WindowCacheFormat, OtherKeyIsStale) {
  const std::string bytes = serialise_windows(small_set(), kKey);
  EXPECT_EQ(parse_error(bytes, "fedcba9876543210"),
            "f.ppgcache: stale: key 0123456789abcdef, expected fedcba9876543210");
}

// ---------------------------------------------------------------------------- load or build

TEST(WindowCache, BuildsOnceThenHitsAndRebuildsWhenDamaged) {
  const std::string path = testing::scratch_dir() + "/w.ppgcache";
  int builds = 0;
  auto build = [&] {
    ++builds;
    return small_set();
  };
  CacheInfo info;
  expect_equal(load_or_build_windows(path, kKey, build, &info), small_set());
  EXPECT_EQ(builds, 1);
  EXPECT_FALSE(info.hit);
  EXPECT_EQ(info.rebuilt_because, "absent");
  ASSERT_TRUE(fs::exists(path));

  expect_equal(load_or_build_windows(path, kKey, build, &info), small_set());
  EXPECT_EQ(builds, 1);
  EXPECT_TRUE(info.hit);
  EXPECT_EQ(info.rebuilt_because, "");

  const std::string good = read_file(path);
  write_file_atomic(path, good.substr(0, good.size() / 2));  // truncated
  expect_equal(load_or_build_windows(path, kKey, build, &info), small_set());
  EXPECT_EQ(builds, 2);
  EXPECT_EQ(info.rebuilt_because.rfind("corrupt: header says", 0), 0u) << info.rebuilt_because;
  EXPECT_EQ(read_file(path), good);  // rewritten whole

  std::string flipped = good;
  flipped[good.size() - 20] ^= 0x01;  // one byte in the payload
  write_file_atomic(path, flipped);
  load_or_build_windows(path, kKey, build, &info);
  EXPECT_EQ(builds, 3);
  EXPECT_EQ(info.rebuilt_because, "corrupt: payload checksum mismatch");

  load_or_build_windows(path, "fedcba9876543210", build, &info);  // same file, other key
  EXPECT_EQ(builds, 4);
  EXPECT_EQ(info.rebuilt_because, "stale: key 0123456789abcdef, expected fedcba9876543210");
}

// ---------------------------------------------------------------------------- keys

TEST(WindowCache, KeyDependsOnFingerprintAndConfig) {
  const PreprocessConfig a;
  PreprocessConfig b;
  b.causal = true;
  PreprocessConfig c;
  c.inputs = "ppg";
  const std::string k = window_cache_key("fp1", a);
  EXPECT_EQ(k.size(), 16u);
  EXPECT_EQ(window_cache_key("fp1", a), k);  // deterministic
  EXPECT_NE(window_cache_key("fp2", a), k);
  EXPECT_NE(window_cache_key("fp1", b), k);
  EXPECT_NE(window_cache_key("fp1", c), k);
}

TEST(WindowCache, FingerprintFollowsTheData) {
  const std::string root = testing::scratch_dir();
  fs::create_directories(root + "/sub");
  write_file_atomic(root + "/a.csv", "1,2,3\n");
  write_file_atomic(root + "/sub/b.mat", "abcd");
  const std::string fp = data_fingerprint(root);
  EXPECT_EQ(fp.size(), 16u);
  EXPECT_EQ(data_fingerprint(root), fp);

  write_file_atomic(root + "/sub/b.mat", "abce");  // same size, one byte changed
  const std::string changed = data_fingerprint(root);
  EXPECT_NE(changed, fp);
  write_file_atomic(root + "/sub/b.mat", "abcd");
  EXPECT_EQ(data_fingerprint(root), fp);  // content, not timestamps

  fs::rename(root + "/sub/b.mat", root + "/sub/c.mat");  // same content, other name
  EXPECT_NE(data_fingerprint(root), fp);
  fs::rename(root + "/sub/c.mat", root + "/sub/b.mat");
  write_file_atomic(root + "/README.md", "notes");  // every file counts
  EXPECT_NE(data_fingerprint(root), fp);

  try {
    data_fingerprint(root + "/missing");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), root + "/missing: data root does not exist");
  }
}

// ---------------------------------------------------------------------------- end to end

TEST(LoadWindows, SyntheticBuildsThenHits) {
  const std::string dir = testing::scratch_dir();
  PreprocessConfig cfg;
  CacheInfo first, second, other;
  const WindowSet a = load_windows("synthetic:7", cfg, dir, &first);
  EXPECT_FALSE(first.hit);
  EXPECT_EQ(first.rebuilt_because, "absent");
  EXPECT_EQ(first.path, dir + "/windows-" + first.key + ".ppgcache");
  EXPECT_GT(a.size(), 0u);
  const WindowSet b = load_windows("synthetic:7", cfg, dir, &second);
  EXPECT_TRUE(second.hit);
  EXPECT_EQ(second.key, first.key);
  expect_equal(a, b);

  load_windows("synthetic:8", cfg, "", &other);  // no cache directory: built, nothing written
  EXPECT_NE(other.key, first.key);
  EXPECT_EQ(other.rebuilt_because, "no cache directory");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);

  EXPECT_THROW(load_windows("synthetic:x", cfg, dir, nullptr), Error);
}

TEST(LoadWindows, ACommaSeparatedListPoolsItsSourcesInOrder) {
  PreprocessConfig cfg;
  CacheInfo a_info, b_info, pooled_info;
  const WindowSet a = load_windows("synthetic:7", cfg, "", &a_info);
  const WindowSet b = load_windows("synthetic:8", cfg, "", &b_info);
  const WindowSet pooled = load_windows("synthetic:7,synthetic:8", cfg, "", &pooled_info);
  ASSERT_EQ(pooled.size(), a.size() + b.size());
  EXPECT_EQ(pooled.recordings.size(), a.recordings.size() + b.recordings.size());
  EXPECT_EQ(pooled.hr[a.size()], b.hr[0]);  // b's windows follow a's
  EXPECT_EQ(pooled.recording[a.size()], static_cast<int32_t>(a.recordings.size()));
  EXPECT_NE(pooled_info.fingerprint, a_info.fingerprint);
  EXPECT_NE(pooled_info.fingerprint, b_info.fingerprint);
  try {
    load_windows("synthetic:7,", cfg, "", nullptr);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "synthetic:7,: empty entry in the data list");
  }
}

TEST(LoadWindows, RealSpc2015BuildsThenLoadsFast) {
  PPGKD_NEED_REAL_DATA(root);
  const std::string data = root + "/ieee_spc2015";
  const std::string dir = testing::scratch_dir();
  using clock = std::chrono::steady_clock;
  CacheInfo built, loaded;
  auto t0 = clock::now();
  const WindowSet a = load_windows(data, PreprocessConfig(), dir, &built);
  auto t1 = clock::now();
  const WindowSet b = load_windows(data, PreprocessConfig(), dir, &loaded);
  auto t2 = clock::now();
  EXPECT_FALSE(built.hit);
  EXPECT_TRUE(loaded.hit);
  expect_equal(a, b);
  EXPECT_GT(a.size(), 1000u);
  const double build_ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
  const double load_ms = std::chrono::duration<double, std::milli>(t2 - t1).count();
  std::printf("spc2015: %zu windows, build %.0f ms, cached load %.1f ms\n", a.size(), build_ms,
              load_ms);
  EXPECT_LT(load_ms, 500.0);  // generous bound for a loaded 2-core machine; typical is ~20 ms
}

}  // namespace
}  // namespace ppgkd
