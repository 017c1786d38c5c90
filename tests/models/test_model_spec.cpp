// Model spec strings and closed-form counts. The counts are checked against hand counts written
// out below, not against the code's own arithmetic.
#include <gtest/gtest.h>

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
               "resnet1d or mlp)");
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
