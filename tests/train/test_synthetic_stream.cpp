// The synthetic pre-training stream: deterministic from its seed (with or without the background
// generator, and read from any offset), different seeds differ, and its generation rate.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>

#include "common/error.h"
#include "data/synthetic/stream.h"

namespace ppgkd {
namespace {

SyntheticStreamConfig small(uint64_t seed) {
  SyntheticStreamConfig c;
  c.seed = seed;
  c.recordings_per_chunk = 2;
  c.duration_s = 30;  // 12 windows a recording, 24 a chunk
  return c;
}

struct Windows {
  std::vector<float> x, hr;
};
Windows read(SyntheticStream& s, uint64_t first, size_t n) {
  Windows w;
  w.x.resize(n * s.channels() * s.length());
  w.hr.resize(n);
  s.get(first, n, w.x.data(), w.hr.data());
  return w;
}

TEST(SyntheticStream, SameSeedSameWindowsAnyOffsetAnyThreading) {
  PreprocessConfig pp;  // ppg+acc: 4 channels
  SyntheticStream a(small(5), pp, 3), b(small(5), pp, 0);
  ASSERT_EQ(a.windows_per_chunk(), 24u);
  auto wa = read(a, 0, 100);  // crosses chunk boundaries
  auto wb = read(b, 0, 100);
  EXPECT_EQ(wa.x, wb.x);
  EXPECT_EQ(wa.hr, wb.hr);
  // A fresh stream read from an offset (what a resumed run does) gives the same windows.
  SyntheticStream c(small(5), pp, 2);
  auto wc = read(c, 37, 40);
  const size_t row = 4 * 200;
  EXPECT_TRUE(std::equal(wc.x.begin(), wc.x.end(), wa.x.begin() + 37 * row));
  EXPECT_TRUE(std::equal(wc.hr.begin(), wc.hr.end(), wa.hr.begin() + 37));
  // Labels are heart rates and the windows are standardised like any reader's.
  for (float h : wa.hr) EXPECT_TRUE(h >= 50 && h <= 190) << h;
  double mean = 0;
  for (size_t i = 0; i < 200; ++i) mean += wa.x[i] / 200.0;
  EXPECT_NEAR(mean, 0.0, 1e-4);
}

TEST(SyntheticStream, DifferentSeedsDiffer) {
  PreprocessConfig pp;
  pp.inputs = "ppg";
  SyntheticStream a(small(5), pp, 0), b(small(6), pp, 0);
  auto wa = read(a, 0, 48), wb = read(b, 0, 48);
  EXPECT_NE(wa.x, wb.x);
  EXPECT_NE(wa.hr, wb.hr);
  // Chunks of one stream differ from each other too (fresh seeds per chunk).
  EXPECT_FALSE(std::equal(wa.hr.begin(), wa.hr.begin() + 24, wa.hr.begin() + 24));
}

TEST(SyntheticStream, BadConfigRefused) {
  auto c = small(1);
  c.duration_s = 31;  // 125 Hz and 50 Hz still agree (11 windows)...
  c.validate();
  c.rates = {125, 0.5};
  EXPECT_THROW(c.validate(), Error);
  c = small(1);
  c.noise_scale_lo = 0;
  EXPECT_THROW(c.validate(), Error);
}

// Not a pass/fail test: prints the generation rate of the default stream (8 recordings of 120 s a
// chunk, 456 windows) in the synchronous mode, i.e. one core's worth.
TEST(SyntheticStream, GenerationRate) {
  PreprocessConfig pp;
  SyntheticStream s(SyntheticStreamConfig{}, pp, 0);
  const size_t n = 10 * s.windows_per_chunk();
  const auto t0 = std::chrono::steady_clock::now();
  auto w = read(s, 0, n);
  const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("synthetic stream: %zu windows (ppg+acc) in %.2f s = %.0f windows/s on one thread\n",
              n, sec, n / sec);
  EXPECT_EQ(s.stats().windows, n);
  EXPECT_GT(s.stats().windows_per_second(), 0);
}

}  // namespace
}  // namespace ppgkd
