// The modules match their specs: parameter counts, output and feature shapes, input checks.
#include <gtest/gtest.h>
#include <torch/torch.h>

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
