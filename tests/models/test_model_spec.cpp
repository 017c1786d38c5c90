// Model spec strings and closed-form counts. The counts are checked against hand counts written
// out below, not against the code's own arithmetic.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "common/error.h"
#include "models/model_spec.h"

namespace ppgkd {
namespace {

constexpr int kC = 4, kL = 200;

TEST(ModelSpec, ResNetHandCount) {
  auto m = ModelSpec::parse("resnet1d:stem=8,stages=8-16,blocks=1,k=3", kC, kL);
  // stem:    conv 4*8*3 = 96, BN 2*8 = 16                                          -> 112
  // stage 0: 8->8 stride 1: conv 8*8*3 = 192, BN 16, conv 192, BN 16, no shortcut   -> 416
  // stage 1: 8->16 stride 2: conv 8*16*3 = 384, BN 32, conv 16*16*3 = 768, BN 32,
  //          shortcut conv 8*16 = 128 + BN 32                                       -> 1376
  // head:    16*180 + 180                                                           -> 3060
  EXPECT_EQ(m.num_params(), 112 + 416 + 1376 + 3060);
  // MACs: stem 96*200; stage 0 (192+192)*200; stage 1 at L=100 (384+768+128)*100; head 16*180.
  EXPECT_EQ(m.macs(), 96 * 200 + 384 * 200 + 1280 * 100 + 16 * 180);
  EXPECT_EQ(m.weight_bytes_f32(), 4 * 4964);
  EXPECT_EQ(m.feature_shape(0), (std::vector<int64_t>{8, 200}));
  EXPECT_EQ(m.feature_shape(1), (std::vector<int64_t>{16, 100}));
  EXPECT_EQ(m.feature_shape(-1), (std::vector<int64_t>{16, 100}));
}

TEST(ModelSpec, SpectralHandCount) {
  auto m = ModelSpec::parse("resnet1d:stem=8,stages=8-16,blocks=1,k=3,spectral=4", kC, kL);
  // The time-domain network is ResNetHandCount's: 4964 parameters, 226880 MACs. Spectral branch,
  // N = 4, 7 taps, over F bins:
  //   conv 4->4: 4*4*7 = 112, BN 8; conv 4->4: 112, BN 8; conv 4->1 (1 tap): 4; scale 1 -> 245
  // F: the HR band at fs = 200 / 8 s = 25 Hz and n = 1024 (bin j at j * 25 / 1024 Hz = j * 1.46484
  // BPM): class centres 30.5 BPM = bin 20.82 and 209.5 BPM = bin 143.02, so bins 20..144: F = 125.
  EXPECT_EQ(m.spectral_first_bin(), 20);
  EXPECT_EQ(m.spectral_num_bins(), 125);
  EXPECT_EQ(m.num_params(), 4964 + 245);
  // MACs: (112 + 112 + 4) per bin * 125 bins, plus 2 per class for the interpolation.
  EXPECT_EQ(m.macs(), 226880 + 228 * 125 + 2 * 180);
  EXPECT_EQ(m.weight_bytes_f32(), 4 * 5209);
  // Features are the time-domain ones.
  EXPECT_EQ(m.feature_shape(-1), (std::vector<int64_t>{16, 100}));
  // One channel, N = 16: conv 1*16*7 = 112, BN 32, conv 16*16*7 = 1792, BN 32, 16, scale 1.
  auto p = ModelSpec::parse("resnet1d:stem=8,stages=8-16,blocks=1,k=3,spectral=16", 1, kL);
  auto p0 = ModelSpec::parse("resnet1d:stem=8,stages=8-16,blocks=1,k=3", 1, kL);
  EXPECT_EQ(p.num_params() - p0.num_params(), 112 + 32 + 1792 + 32 + 16 + 1);
  // spectral=0 is the plain network.
  EXPECT_EQ(ModelSpec::parse("resnet1d:stem=8,stages=8-16,k=3,spectral=0", kC, kL).num_params(),
            4964);
}

TEST(ModelSpec, SpectralHarmonicsHandCountAndChecks) {
  // harmonics=1 triples the branch's input channels: conv 12->4 (7 taps) is 336 weights against
  // SpectralHandCount's 112, so 224 more parameters and 224 * 125 bins more MACs.
  auto h =
      ModelSpec::parse("resnet1d:stem=8,stages=8-16,blocks=1,k=3,spectral=4,harmonics=1", kC, kL);
  EXPECT_EQ(h.harmonics, 1);
  EXPECT_EQ(h.spectral_in_channels(), 12);
  EXPECT_EQ(h.num_params(), 4964 + 245 + 224);
  EXPECT_EQ(h.macs(), 226880 + 228 * 125 + 2 * 180 + 224 * 125);
  EXPECT_EQ(h.str(), "resnet1d:stem=8,stages=8-16,blocks=1,k=3,spectral=4,harmonics=1");
  EXPECT_EQ(ModelSpec::parse(h.str(), kC, kL), h);
  // harmonics=ppg adds the two harmonic channels of the PPG alone: conv 6->4 (7 taps) is 168
  // weights, 56 more than the plain branch's 112.
  auto p =
      ModelSpec::parse("resnet1d:stem=8,stages=8-16,blocks=1,k=3,spectral=4,harmonics=ppg", kC, kL);
  EXPECT_EQ(p.harmonics, ModelSpec::kHarmonicsPpg);
  EXPECT_EQ(p.spectral_in_channels(), 6);
  EXPECT_EQ(p.num_params(), 4964 + 245 + 56);
  EXPECT_EQ(p.macs(), 226880 + 228 * 125 + 2 * 180 + 56 * 125);
  EXPECT_EQ(p.str(), "resnet1d:stem=8,stages=8-16,blocks=1,k=3,spectral=4,harmonics=ppg");
  EXPECT_EQ(ModelSpec::parse(p.str(), kC, kL), p);
  EXPECT_NE(p, h);
  // harmonics=0 is the plain branch, and its string omits the key.
  EXPECT_EQ(ModelSpec::parse("resnet1d:stages=8,spectral=4,harmonics=0", kC, kL).str(),
            "resnet1d:stem=16,stages=8,blocks=1,k=5,spectral=4");
  EXPECT_EQ(resolve_spec("r6,spectral=16,harmonics=1"),
            resnet_ladder()[5].spec + ",spectral=16,harmonics=1");
  auto expect_error = [](const std::string& spec, int length, const std::string& want) {
    try {
      ModelSpec::parse(spec, kC, length);
      ADD_FAILURE() << spec;
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()), want);
    }
  };
  expect_error("resnet1d:stages=8,harmonics=1", kL,
               "model spec: 'resnet1d:stages=8,harmonics=1': harmonics needs a spectral branch "
               "(spectral=N)");
  expect_error("resnet1d:stages=8,spectral=4,harmonics=2", kL,
               "model spec: 'resnet1d:stages=8,spectral=4,harmonics=2': harmonics must be 0, 1 or "
               "ppg, got '2'");
  expect_error("mlp:hidden=8,harmonics=1", kL,
               "model spec: 'mlp:hidden=8,harmonics=1': unknown key 'harmonics' for mlp");
  // At 14 Hz (L = 112) the band ends at bin 256, and bin 2 * 256 = 512 is the Nyquist bin: the
  // last length that fits. At L = 111 the band ends at bin 258.
  const auto edge = ModelSpec::parse("resnet1d:stages=8,spectral=4,harmonics=1", kC, 112);
  EXPECT_EQ(2 * (edge.spectral_first_bin() + edge.spectral_num_bins() - 1), 512);
  expect_error("resnet1d:stages=8,spectral=4,harmonics=1", 111,
               "model spec: 'resnet1d:stages=8,spectral=4,harmonics=1': harmonics needs L >= 112 "
               "(8 s windows at 14 Hz or more, so that twice the band fits the spectrum), got "
               "L=111");
}

TEST(ModelSpec, SpectralInterpolationAlignsBinsWithClasses) {
  auto m = ModelSpec::parse("resnet1d:stages=8,spectral=8", kC, kL);
  const int first = m.spectral_first_bin(), nb = m.spectral_num_bins(), K = 180;
  const std::vector<float> w = m.spectral_interp();
  ASSERT_EQ(w.size(), static_cast<size_t>(nb) * K);
  const double bin_hz = 25.0 / 1024;
  for (int c = 0; c < K; ++c) {
    // Each class reads two neighbouring bins with weights summing to 1, centred on its centre:
    // the weighted bin frequency is exactly (30.5 + c) BPM.
    double sum = 0, bpm = 0;
    int nonzero = 0;
    for (int j = 0; j < nb; ++j) {
      const double v = w[j * K + c];
      sum += v;
      bpm += v * (first + j) * bin_hz * 60;
      nonzero += v != 0;
    }
    EXPECT_NEAR(sum, 1.0, 1e-6) << c;
    EXPECT_NEAR(bpm, 30.5 + c, 1e-4) << c;
    EXPECT_LE(nonzero, 2) << c;
  }
  // A spectrum that is a single peak at bin j (f = j * 25 / 1024 Hz) gives its largest logit to
  // class floor(60 f - 30), for every bin whose frequency is inside 30..210 BPM.
  int checked = 0;
  for (int j = 0; j < nb; ++j) {
    const double f = (first + j) * bin_hz;
    if (60 * f < 30 || 60 * f >= 210) continue;
    const float* row = w.data() + j * K;
    const int argmax = static_cast<int>(std::max_element(row, row + K) - row);
    EXPECT_EQ(argmax, static_cast<int>(std::floor(60 * f - 30))) << "bin " << first + j;
    ++checked;
  }
  EXPECT_EQ(checked, 123);  // bins 21..143; 20 (29.3 BPM) and 144 (210.9 BPM) lie outside
}

TEST(ModelSpec, MlpHandCount) {
  auto m = ModelSpec::parse("mlp:hidden=32-16", kC, kL);
  // 800*32 + 32 = 25632; 32*16 + 16 = 528; 16*180 + 180 = 3060
  EXPECT_EQ(m.num_params(), 25632 + 528 + 3060);
  EXPECT_EQ(m.macs(), 800 * 32 + 32 * 16 + 16 * 180);
  EXPECT_EQ(m.feature_shape(-1), (std::vector<int64_t>{16}));
  // One PPG channel: 200 inputs.
  EXPECT_EQ(ModelSpec::parse("mlp:hidden=4", 1, kL).num_params(), 200 * 4 + 4 + 4 * 180 + 180);
}

TEST(ModelSpec, OddLengthsRoundUpWhenHalved) {
  auto m = ModelSpec::parse("resnet1d:stem=4,stages=4-4-4,k=3", kC, 201);
  EXPECT_EQ(m.stage_length(0), 201);
  EXPECT_EQ(m.stage_length(1), 101);
  EXPECT_EQ(m.stage_length(2), 51);
}

TEST(ModelSpec, RoundTrip) {
  for (const auto* ladder : {&resnet_ladder(), &mlp_ladder()})
    for (const auto& r : *ladder) {
      auto m = ModelSpec::parse(r.spec, kC, kL);
      EXPECT_EQ(m.str(), r.spec) << r.name;
      EXPECT_EQ(ModelSpec::parse(m.str(), kC, kL), m) << r.name;
    }
  // Defaults fill in and the canonical form spells them out.
  EXPECT_EQ(ModelSpec::parse("resnet1d:stages=8", kC, kL).str(),
            "resnet1d:stem=16,stages=8,blocks=1,k=5");
  EXPECT_EQ(ModelSpec::parse("resnet1d:k=3,stages=8-8,stem=4,blocks=2", kC, kL).str(),
            "resnet1d:stem=4,stages=8-8,blocks=2,k=3");
  // The spectral key: spelled out when on, omitted when 0 (the plain network's string).
  auto sp = ModelSpec::parse("resnet1d:spectral=16,stages=8", kC, kL);
  EXPECT_EQ(sp.spectral, 16);
  EXPECT_EQ(sp.str(), "resnet1d:stem=16,stages=8,blocks=1,k=5,spectral=16");
  EXPECT_EQ(ModelSpec::parse(sp.str(), kC, kL), sp);
  EXPECT_NE(ModelSpec::parse("resnet1d:stages=8", kC, kL), sp);
  EXPECT_EQ(ModelSpec::parse("resnet1d:stages=8,spectral=0", kC, kL).str(),
            "resnet1d:stem=16,stages=8,blocks=1,k=5");
}

void expect_error(const std::string& spec, const std::string& message) {
  try {
    ModelSpec::parse(spec, kC, kL);
    ADD_FAILURE() << "no error for " << spec;
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), message);
  }
}

TEST(ModelSpec, BadSpecsSayWhy) {
  expect_error("cnn:stages=8",
               "model spec: 'cnn:stages=8': unknown model family 'cnn' (expected "
               "resnet1d, mlp or ensemble)");
  expect_error("resnet1d:stem=8", "model spec: 'resnet1d:stem=8': resnet1d needs stages=");
  expect_error("resnet1d:stages=8-x",
               "model spec: 'resnet1d:stages=8-x': stages must be a positive integer, got 'x'");
  expect_error("resnet1d:stages=8,k=4",
               "model spec: 'resnet1d:stages=8,k=4': k must be odd, got 4");
  expect_error("resnet1d:stages=8,depth=3",
               "model spec: 'resnet1d:stages=8,depth=3': unknown key 'depth' for resnet1d");
  expect_error("mlp:hidden=0",
               "model spec: 'mlp:hidden=0': hidden must be a positive integer, "
               "got '0'");
  expect_error("mlp:hidden=8,hidden=9",
               "model spec: 'mlp:hidden=8,hidden=9': key 'hidden' given "
               "twice");
  expect_error("mlp:hidden", "model spec: 'mlp:hidden': expected key=value, got 'hidden'");
  expect_error("mlp", "model spec: 'mlp': mlp needs hidden=");
  expect_error("resnet1d:stages=8,spectral=-1",
               "model spec: 'resnet1d:stages=8,spectral=-1': spectral must be a non-negative "
               "integer, got '-1'");
  expect_error("mlp:hidden=8,spectral=4",
               "model spec: 'mlp:hidden=8,spectral=4': unknown key 'spectral' for mlp");
  try {  // 8 s at 5 Hz: 209.5 BPM is past the FFT's Nyquist bin
    ModelSpec::parse("resnet1d:stages=8,spectral=4", kC, 40);
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "model spec: 'resnet1d:stages=8,spectral=4': spectral needs 56 <= L <= 1024 (8 s "
              "windows at 7 Hz or more, an FFT of 1024), got L=40");
  }
  const auto low = ModelSpec::parse("resnet1d:stages=8,spectral=4", kC, 56);  // 7 Hz: still fits
  EXPECT_EQ(low.spectral_first_bin() + low.spectral_num_bins(), 512);  // bins up to 511 of 0..512
  EXPECT_THROW(ModelSpec::parse("resnet1d:stages=8,spectral=4", kC, 55), Error);
}

TEST(ModelSpec, Ladders) {
  const auto& r = resnet_ladder();
  const auto& m = mlp_ladder();
  ASSERT_GE(r.size(), 8u);
  ASSERT_GE(m.size(), 6u);
  auto params = [](const LadderRung& rung) {
    return ModelSpec::parse(rung.spec, kC, kL).num_params();
  };
  EXPECT_LT(params(r.front()), 2000);
  EXPECT_GE(params(r.back()), 2000000);
  EXPECT_GE(params(m.back()), 1000000);
  for (const auto* ladder : {&r, &m})
    for (size_t i = 1; i < ladder->size(); ++i) {
      // Strictly growing, and log-spaced: each rung 1.5x to 4x the previous.
      double ratio = double(params((*ladder)[i])) / params((*ladder)[i - 1]);
      EXPECT_GT(ratio, 1.5) << (*ladder)[i].name;
      EXPECT_LT(ratio, 4.0) << (*ladder)[i].name;
    }
  EXPECT_EQ(resolve_spec("r3"), r[2].spec);
  EXPECT_EQ(resolve_spec("m2"), m[1].spec);
  EXPECT_EQ(resolve_spec("mlp:hidden=7"), "mlp:hidden=7");
  // Rung overrides: appended, or replacing the rung's own value.
  EXPECT_EQ(resolve_spec("r6,spectral=16"), r[5].spec + ",spectral=16");
  EXPECT_EQ(resolve_spec("r3,k=5,spectral=8"),
            "resnet1d:stem=4,stages=4-6-8-12-12,blocks=1,k=5,"
            "spectral=8");
  EXPECT_EQ(ModelSpec::parse(resolve_spec("r6,spectral=16"), kC, kL).str(),
            r[5].spec + ",spectral=16");
  try {
    resolve_spec("r99,spectral=4");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("model spec: unknown rung 'r99' (expected", 0), 0u);
  }
  try {
    resolve_spec("r99");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "model spec: unknown rung 'r99' (expected r1..r" +
                                         std::to_string(r.size()) + ", m1..m" +
                                         std::to_string(m.size()) + " or a spec)");
  }
}

}  // namespace
}  // namespace ppgkd
