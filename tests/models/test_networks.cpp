// The modules match their specs: parameter counts, output and feature shapes, input checks.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "common/error.h"
#include "models/networks.h"

namespace ppgkd {
namespace {

constexpr int kC = 4, kL = 200, kB = 3, kK = 180;

TEST(Networks, ClosedFormCountMatchesEveryRung) {
  for (const auto* ladder : {&resnet_ladder(), &mlp_ladder()})
    for (const auto& r : *ladder) {
      auto spec = ModelSpec::parse(r.spec, kC, kL);
      auto net = make_net(spec);
      EXPECT_EQ(count_parameters(*net), spec.num_params()) << r.name << " " << r.spec;
    }
  // One channel too, and blocks > 1.
  auto spec = ModelSpec::parse("resnet1d:stem=4,stages=6-8-8,blocks=3,k=7", 1, kL);
  EXPECT_EQ(count_parameters(*make_net(spec)), spec.num_params());
}

TEST(Networks, SpectralBranchCountsAndShapes) {
  torch::manual_seed(1);
  for (int c : {kC, 1}) {
    auto spec = ModelSpec::parse("resnet1d:stem=8,stages=8-16-24,blocks=2,k=5,spectral=16", c, kL);
    auto net = std::dynamic_pointer_cast<ResNet1dImpl>(make_net(spec));
    ASSERT_TRUE(net);
    EXPECT_EQ(count_parameters(*net), spec.num_params()) << c;
    // The interpolation and the window are buffers, not parameters.
    EXPECT_EQ(net->spec_interp.sizes(), (std::vector<int64_t>{spec.spectral_num_bins(), kK}));
    EXPECT_FALSE(net->spec_interp.requires_grad());
    // 15 time-domain BNs (stem; 2 + 2; 3 + 2; 3 + 2) and 2 spectral ones, 3 buffers each, plus
    // spec_window and spec_interp.
    EXPECT_EQ(net->named_buffers().size(), 17u * 3 + 2);
    auto x = torch::randn({kB, c, kL});
    EXPECT_EQ(net->spectrum(x).sizes(), (std::vector<int64_t>{kB, c, spec.spectral_num_bins()}));
    auto out = net->forward_with_feature(x, 1);
    EXPECT_EQ(out.logits.sizes(), (std::vector<int64_t>{kB, kK}));
    EXPECT_EQ(out.feature.sizes(), (std::vector<int64_t>{kB, 16, 100}));  // time domain
    // Gradients reach the branch through the FFT-fed convolutions and the scale.
    out.logits.square().sum().backward();
    EXPECT_TRUE(net->spec_conv1->weight.grad().defined());
    EXPECT_GT(net->spec_conv1->weight.grad().abs().sum().item<double>(), 0.0);
    EXPECT_GT(net->spec_scale.grad().abs().item<double>(), 0.0);
  }
  // spectral=16 on r6 adds exactly the branch; the plain rung builds no branch.
  auto r6 = ModelSpec::parse(resolve_spec("r6"), kC, kL);
  auto r6s = ModelSpec::parse(resolve_spec("r6,spectral=16"), kC, kL);
  EXPECT_EQ(count_parameters(*make_net(r6s)), r6s.num_params());
  EXPECT_EQ(r6s.num_params() - r6.num_params(), 4 * 16 * 7 + 32 + 16 * 16 * 7 + 32 + 16 + 1);
  auto plain = std::dynamic_pointer_cast<ResNet1dImpl>(make_net(r6));
  EXPECT_FALSE(plain->spec_conv1);
  EXPECT_FALSE(plain->spec_interp.defined());
}

// With harmonics=1 the branch's input holds, per channel, the band at f, at 2f and at f/2, each
// divided by the band's peak. Checked against a direct DFT in double precision of the
// Hann-windowed, zero-padded window: |X(k)| = |sum_n x[n] w[n] e^{-2 pi i k n / 1024}|.
// harmonics=1: every channel's spectrum at 2f and f/2; harmonics=ppg: the PPG's (channel 0's)
// alone, in channels C and C + 1.
TEST(Networks, SpectralHarmonicChannelsMatchADirectDft) {
  for (const std::string mode : {"1", "ppg"}) {
    torch::manual_seed(3);
    auto spec =
        ModelSpec::parse("resnet1d:stem=4,stages=4,k=3,spectral=4,harmonics=" + mode, kC, kL);
    const bool all = mode == "1";
    auto net = std::dynamic_pointer_cast<ResNet1dImpl>(make_net(spec));
    ASSERT_TRUE(net);
    EXPECT_EQ(count_parameters(*net), spec.num_params());
    auto x = torch::randn({2, kC, kL});
    const auto got = net->spectrum(x);
    const int first = spec.spectral_first_bin(), nb = spec.spectral_num_bins();
    const int64_t harmonic_rows = all ? kC : 1;
    ASSERT_EQ(got.sizes(), (std::vector<int64_t>{2, kC + 2 * harmonic_rows, nb}));
    const double pi = std::acos(-1.0);
    for (int64_t b : {0, 1})
      for (int ch : {0, 2}) {
        auto dft = [&](int k) {
          double re = 0, im = 0;
          for (int n = 0; n < kL; ++n) {
            const double w = 0.5 - 0.5 * std::cos(2 * pi * n / (kL - 1));  // symmetric Hann
            const double v = x[b][ch][n].item<double>() * w;
            re += v * std::cos(2 * pi * k * n / 1024);
            im -= v * std::sin(2 * pi * k * n / 1024);
          }
          return std::hypot(re, im);
        };
        double peak = 0;
        for (int j = 0; j < nb; ++j) peak = std::max(peak, std::log1p(dft(first + j)));
        for (int j : {0, 1, 37, 62, nb - 1}) {  // odd and even bins, both ends of the band
          const int k = first + j;
          const double own = std::log1p(dft(k)) / peak;
          EXPECT_NEAR(got[b][ch][j].item<double>(), own, 1e-4) << mode << " " << b << " " << ch;
          if (!all && ch != 0) continue;  // harmonics=ppg: no harmonic rows for this channel
          const double twice = std::log1p(dft(2 * k)) / peak;
          const double half = std::log1p(0.5 * (dft(k / 2) + dft((k + 1) / 2))) / peak;
          EXPECT_NEAR(got[b][kC + ch][j].item<double>(), twice, 1e-4)
              << mode << " " << b << " " << ch << " " << j;
          EXPECT_NEAR(got[b][kC + harmonic_rows + ch][j].item<double>(), half, 1e-4)
              << mode << " " << b << " " << ch << " " << j;
        }
      }
    // The branch still trains end to end.
    net->forward(x).square().sum().backward();
    EXPECT_GT(net->spec_conv1->weight.grad().abs().sum().item<double>(), 0.0);
  }
}

// With identity-like weights (every conv passes channel 0's centre tap, BN at its initial running
// statistics is ~identity in eval(), the scale is 1), the spectral logits are the interpolated
// PPG spectrum: a pure sinusoid at f Hz in the PPG channel puts the largest spectral logit on
// class floor(60 f - 30), whatever the accelerometer channels hold.
TEST(Networks, SpectralLogitsPeakAtTheSinusoidsClass) {
  torch::manual_seed(2);
  auto spec = ModelSpec::parse("resnet1d:stem=4,stages=4,k=3,spectral=4", kC, kL);
  auto net = std::dynamic_pointer_cast<ResNet1dImpl>(make_net(spec));
  ASSERT_TRUE(net);
  net->eval();
  {
    torch::NoGradGuard no_grad;
    const int mid = ModelSpec::kSpectralKernel / 2;
    for (auto* conv : {net->spec_conv1.get(), net->spec_conv2.get(), net->spec_out.get()}) {
      conv->weight.zero_();
      conv->weight[0][0][conv->weight.size(2) == 1 ? 0 : mid] = 1.0f;
    }
    net->head->weight.zero_();
    net->head->bias.zero_();
  }
  torch::NoGradGuard no_grad;
  const double pi = std::acos(-1.0);
  auto t = torch::arange(kL, torch::kFloat64) / 25.0;  // s
  int checked = 0;
  // Frequencies across the band, at class centres and off them (but >= 0.2 BPM from a class
  // boundary: the 1024-point grid places the peak within 0.73 BPM of f, and linear interpolation
  // picks the class whose centre is nearest that peak).
  for (double bpm = 31.0; bpm < 209.5; bpm += 2.9) {
    const double frac = bpm - std::floor(bpm);
    if (frac < 0.2 || frac > 0.8) continue;
    const double f = bpm / 60.0;
    auto ppg = torch::sin(2 * pi * f * t + 0.3).to(torch::kFloat32);
    auto x = torch::randn({1, kC, kL});
    x[0][0] = (ppg - ppg.mean()) / ppg.std();
    const auto spectral = net->spectral_logits(x);
    const int want = static_cast<int>(std::floor(60 * f - 30));
    EXPECT_EQ(spectral.argmax(1).item<int64_t>(), want) << f << " Hz";
    // The head is zero here, so forward is the spectral logits alone.
    EXPECT_TRUE(torch::allclose(net->forward(x), spectral));
    ++checked;
  }
  EXPECT_GT(checked, 30);
}

TEST(Networks, ResNetShapes) {
  auto spec = ModelSpec::parse("resnet1d:stem=8,stages=8-16-24,blocks=2,k=5", kC, kL);
  auto net = make_net(spec);
  auto x = torch::randn({kB, kC, kL});
  EXPECT_EQ(net->forward(x).sizes(), (std::vector<int64_t>{kB, kK}));
  for (int s : {0, 1, 2, -1}) {
    auto out = net->forward_with_feature(x, s);
    auto shape = spec.feature_shape(s);
    EXPECT_EQ(out.feature.sizes(), (std::vector<int64_t>{kB, shape[0], shape[1]})) << s;
    EXPECT_EQ(out.logits.sizes(), (std::vector<int64_t>{kB, kK}));
  }
  EXPECT_EQ(spec.feature_shape(2), (std::vector<int64_t>{24, 50}));
  EXPECT_FALSE(net->forward_with_feature(x, kNoFeature).feature.defined());
}

TEST(Networks, MlpShapesAndPenultimateFeature) {
  auto spec = ModelSpec::parse("mlp:hidden=32-16", kC, kL);
  auto net = std::dynamic_pointer_cast<MlpImpl>(make_net(spec));
  ASSERT_TRUE(net);
  net->eval();
  auto x = torch::randn({kB, kC, kL});
  auto out = net->forward_with_feature(x, -1);
  EXPECT_EQ(out.feature.sizes(), (std::vector<int64_t>{kB, 16}));
  // The logits are the head applied to the returned penultimate feature.
  EXPECT_TRUE(torch::allclose(out.logits, net->head(out.feature)));
  EXPECT_EQ(net->forward_with_feature(x, 0).feature.sizes(), (std::vector<int64_t>{kB, 32}));
}

TEST(Networks, WrongInputShapeThrows) {
  auto spec = ModelSpec::parse("resnet1d:stem=4,stages=4,k=3", kC, kL);
  auto net = make_net(spec);
  try {
    net->forward(torch::randn({kB, 1, kL}));
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "resnet1d:stem=4,stages=4,blocks=1,k=3: expected input (B, 4, 200), got [3, 1, 200]");
  }
  try {
    net->forward_with_feature(torch::randn({kB, kC, kL}), 1);
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "resnet1d:stem=4,stages=4,blocks=1,k=3: feature stage 1 out of range (0..0)");
  }
}

}  // namespace
}  // namespace ppgkd
