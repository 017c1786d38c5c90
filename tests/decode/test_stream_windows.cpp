// The causal stream windower against the offline path with causal filters (make_windows with
// PreprocessConfig::causal = true): bit-identical windows for any chunking, at 125, 50 and 25 Hz,
// with one PPG channel or the mean of several; and windows released before a change in the input
// do not depend on it.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "common/error.h"
#include "data/preprocess.h"
#include "data/synthetic/synthetic.h"
#include "decode/stream_windows.h"

namespace ppgkd {
namespace {

Recording synthetic_recording(double fs, double duration_s) {
  SyntheticConfig sc;
  sc.subjects = 1;
  sc.recordings_per_subject = 1;
  sc.duration_s = duration_s;
  sc.fs = fs;
  return make_synthetic(sc).at(0);
}

// Feeds the recording in chunks of random size (1..max_chunk samples) and collects the windows.
std::vector<StreamWindow> stream(const Recording& rec, const PreprocessConfig& cfg,
                                 size_t max_chunk, unsigned seed) {
  StreamWindower sw(cfg, rec.fs, static_cast<int>(rec.ppg.size()), !rec.acc.empty());
  std::mt19937 rng(seed);
  std::uniform_int_distribution<size_t> chunk(1, max_chunk);
  std::vector<StreamWindow> out;
  StreamWindow w;
  for (size_t i = 0; i < rec.num_samples();) {
    const size_t n = std::min(chunk(rng), rec.num_samples() - i);
    std::vector<const float*> ppg, acc;
    for (const auto& ch : rec.ppg) ppg.push_back(ch.data() + i);
    for (const auto& ch : rec.acc) acc.push_back(ch.data() + i);
    sw.push(ppg.data(), acc.data(), n);
    while (sw.pop(&w)) out.push_back(w);
    i += n;
  }
  sw.finish();
  while (sw.pop(&w)) out.push_back(w);
  return out;
}

void expect_identical(const Recording& rec, const PreprocessConfig& cfg, size_t max_chunk) {
  const WindowSet ws = make_windows({rec}, cfg);
  const auto got = stream(rec, cfg, max_chunk, 1234);
  ASSERT_EQ(got.size(), ws.size());
  const size_t per = static_cast<size_t>(ws.channels) * ws.length;
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(got[i].index, ws.window[i]);
    EXPECT_DOUBLE_EQ(got[i].t_start_s, 2.0 * ws.window[i]);
    ASSERT_TRUE(got[i].finite);
    ASSERT_EQ(got[i].x.size(), per);
    for (size_t j = 0; j < per; ++j)
      ASSERT_EQ(got[i].x[j], ws.window_ptr(i)[j]) << "window " << i << " value " << j;
  }
}

PreprocessConfig causal_config(const std::string& inputs) {
  PreprocessConfig cfg;
  cfg.causal = true;
  cfg.inputs = inputs;
  return cfg;
}

TEST(StreamWindows, IdenticalToOfflineCausalAt125Hz) {
  expect_identical(synthetic_recording(125, 40), causal_config("ppg+acc"), 300);
}

TEST(StreamWindows, IdenticalToOfflineCausalAt50HzSampleBySample) {
  expect_identical(synthetic_recording(50, 30), causal_config("ppg"), 1);
}

TEST(StreamWindows, IdenticalToOfflineCausalAt25HzAndPpgMean) {
  Recording rec = synthetic_recording(25, 30);
  std::vector<float> second = rec.ppg[0];
  for (size_t i = 0; i < second.size(); ++i) second[i] = 0.5f * second[i] + 0.01f * (i % 7);
  rec.ppg.push_back(second);
  PreprocessConfig cfg = causal_config("ppg+acc");
  cfg.ppg_channel = "mean";
  expect_identical(rec, cfg, 64);
}

TEST(StreamWindows, LongStreamSurvivesBufferTrimming) {
  // 10 minutes at 125 Hz: 75 000 samples, far beyond the trim block.
  expect_identical(synthetic_recording(125, 600), causal_config("ppg+acc"), 2000);
}

TEST(StreamWindows, EarlierWindowsIgnoreLaterSamples) {
  const Recording a = synthetic_recording(125, 40);
  Recording b = a;
  const size_t change = 20 * 125;  // everything from t = 20 s on differs
  for (auto& ch : b.ppg)
    for (size_t i = change; i < ch.size(); ++i) ch[i] = -3 * ch[i] + 1;
  const PreprocessConfig cfg = causal_config("ppg+acc");
  const auto wa = stream(a, cfg, 50, 1), wb = stream(b, cfg, 77, 2);
  // Windows ending at or before 20 s less the resampler's look-ahead (0.4 s): 2k + 8 <= 19.6,
  // k = 0..5. Window 6 ends at 20 s, so its last resampled samples read input up to 20.4 s.
  size_t same = 0;
  for (size_t i = 0; i < wa.size() && wa[i].t_end_s <= 20.0 - 0.4; ++i) {
    EXPECT_EQ(wa[i].x, wb[i].x) << "window " << i;
    ++same;
  }
  EXPECT_EQ(same, 6u);
  EXPECT_NE(wa[6].x, wb[6].x);  // and the change does show up afterwards
}

TEST(StreamWindows, NonFiniteSamplesMarkTheirWindows) {
  Recording rec = synthetic_recording(125, 30);
  rec.ppg[0][13 * 125] = std::nanf("");  // t = 13 s: inside windows k = 3..6 (starts 6..12 s)
  const auto got = stream(rec, causal_config("ppg"), 100, 3);
  for (const auto& w : got) EXPECT_EQ(w.finite, !(w.index >= 3 && w.index <= 6)) << w.index;
}

TEST(StreamWindows, Errors) {
  PreprocessConfig cfg;
  try {
    StreamWindower(cfg, 125, 1, true);
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "stream: streaming needs causal filters (causal = true)");
  }
  cfg.causal = true;
  cfg.ppg_channel = "2";
  try {
    StreamWindower(cfg, 125, 2, true);
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "stream: PPG channel 2 requested but the stream has 2");
  }
}

}  // namespace
}  // namespace ppgkd
