// Ensembles: the spec (syntax, round trip, counts = n x the member's closed form for a seed
// ensemble, the members' sum for a mixed one) and the network (softmax of its logits = the
// members' mean posterior, features = the members' mean).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "common/error.h"
#include "models/networks.h"

namespace ppgkd {
namespace {

constexpr int kC = 4, kL = 200, kB = 5, kK = 180;

TEST(EnsembleSpec, RoundTripAndCountsAreNTimesTheMembers) {
  for (const char* member :
       {"resnet1d:stem=8,stages=8-16-24,blocks=2,k=5",
        "resnet1d:stem=4,stages=4-8,blocks=1,k=3,spectral=8", "mlp:hidden=32-16"})
    for (int n : {1, 2, 5}) {
      const std::string s = "ensemble:n=" + std::to_string(n) + ";" + member;
      const auto e = ModelSpec::parse(s, kC, kL);
      const auto m = ModelSpec::parse(member, kC, kL);
      EXPECT_EQ(e.family, "ensemble");
      EXPECT_EQ(e.members(), n);
      ASSERT_EQ(e.member_specs.size(), static_cast<size_t>(n));
      for (const auto& ms : e.member_specs) EXPECT_EQ(*ms, m);
      EXPECT_FALSE(e.is_mixed_ensemble());
      EXPECT_EQ(e.str(), s);
      EXPECT_EQ(ModelSpec::parse(e.str(), kC, kL), e);
      EXPECT_EQ(e.num_params(), n * m.num_params()) << s;
      EXPECT_EQ(e.macs(), n * m.macs()) << s;
      EXPECT_EQ(e.weight_bytes_f32(), n * m.weight_bytes_f32()) << s;
      EXPECT_EQ(e.num_stages(), m.num_stages());
      for (int stage = -1; stage < m.num_stages(); ++stage)
        EXPECT_EQ(e.feature_shape(stage), m.feature_shape(stage)) << s << " " << stage;
      EXPECT_EQ(count_parameters(*make_net(e)), e.num_params()) << s;
    }
  // By the hand count of the MLP (test_model_spec.cpp): 3 x (25632 + 528 + 3060).
  EXPECT_EQ(ModelSpec::parse("ensemble:n=3;mlp:hidden=32-16", kC, kL).num_params(),
            3 * (25632 + 528 + 3060));
  // The member's input shape is the ensemble's; n and the member are part of identity.
  EXPECT_EQ(ModelSpec::parse("ensemble:n=2;mlp:hidden=4", 1, kL).member_specs[1]->in_channels, 1);
  EXPECT_NE(ModelSpec::parse("ensemble:n=2;mlp:hidden=4", kC, kL),
            ModelSpec::parse("ensemble:n=3;mlp:hidden=4", kC, kL));
  EXPECT_NE(ModelSpec::parse("ensemble:n=2;mlp:hidden=4", kC, kL),
            ModelSpec::parse("ensemble:n=2;mlp:hidden=8", kC, kL));
}

TEST(EnsembleSpec, MixedMembersKeepTheirSpecsAndSumTheirCounts) {
  const std::string a = "resnet1d:stem=8,stages=8-16,blocks=1,k=5,spectral=8",
                    b = "resnet1d:stem=8,stages=8-16,blocks=1,k=5,spectral=8,harmonics=1",
                    c = "resnet1d:stem=8,stages=8-16-32,blocks=1,k=5";
  const auto ma = ModelSpec::parse(a, kC, kL), mb = ModelSpec::parse(b, kC, kL),
             mc = ModelSpec::parse(c, kC, kL);
  const std::string s = "ensemble:n=3;" + a + ";" + b + ";" + a;
  const auto e = ModelSpec::parse(s, kC, kL);
  EXPECT_TRUE(e.is_mixed_ensemble());
  ASSERT_EQ(e.member_specs.size(), 3u);
  EXPECT_EQ(*e.member_specs[0], ma);
  EXPECT_EQ(*e.member_specs[1], mb);
  EXPECT_EQ(*e.member_specs[2], ma);
  EXPECT_EQ(e.str(), s);
  EXPECT_EQ(ModelSpec::parse(e.str(), kC, kL), e);
  EXPECT_EQ(e.num_params(), 2 * ma.num_params() + mb.num_params());
  EXPECT_EQ(e.macs(), 2 * ma.macs() + mb.macs());
  EXPECT_EQ(count_parameters(*make_net(e)), e.num_params());
  // The harmonic channels add 2C x N x 7 weights to the branch's first layer alone.
  EXPECT_EQ(mb.num_params() - ma.num_params(), 2 * kC * 8 * 7);
  // One spec listed N times is the seed ensemble, and prints as one.
  const auto same = ModelSpec::parse("ensemble:n=2;" + a + ";" + a, kC, kL);
  EXPECT_FALSE(same.is_mixed_ensemble());
  EXPECT_EQ(same.str(), "ensemble:n=2;" + a);
  EXPECT_EQ(same, ModelSpec::parse("ensemble:n=2;" + a, kC, kL));
  // Order is identity: member i is spec i.
  EXPECT_NE(ModelSpec::parse("ensemble:n=2;" + a + ";" + b, kC, kL),
            ModelSpec::parse("ensemble:n=2;" + b + ";" + a, kC, kL));
  // Features: the stages every member has, refused where the shapes differ.
  const auto deep = ModelSpec::parse("ensemble:n=2;" + a + ";" + c, kC, kL);
  EXPECT_EQ(deep.num_stages(), 2);
  EXPECT_EQ(deep.feature_shape(0), ma.feature_shape(0));
  EXPECT_EQ(deep.feature_shape(-1), ma.feature_shape(1));
  const auto wide = ModelSpec::parse("ensemble:n=2;mlp:hidden=16;mlp:hidden=8-16", kC, kL);
  EXPECT_EQ(wide.num_stages(), 1);
  try {
    wide.feature_shape(0);
    ADD_FAILURE() << "no error for stage 0 of " << wide.str();
  } catch (const Error& err) {
    EXPECT_EQ(std::string(err.what()),
              "model spec: 'ensemble:n=2;mlp:hidden=16;mlp:hidden=8-16': the members' features "
              "at stage 0 differ in shape (16 for member 0, 8 for member 1); their mean needs "
              "one shape");
  }
}

void expect_error(const std::string& spec, const std::string& message) {
  try {
    ModelSpec::parse(spec, kC, kL);
    ADD_FAILURE() << "no error for " << spec;
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), message);
  }
}

TEST(EnsembleSpec, BadSpecsSayWhy) {
  expect_error("ensemble", "model spec: 'ensemble': expected ensemble:n=N;MEMBER_SPEC");
  expect_error("ensemble:n=3", "model spec: 'ensemble:n=3': expected ensemble:n=N;MEMBER_SPEC");
  expect_error("ensemble:mlp:hidden=4",
               "model spec: 'ensemble:mlp:hidden=4': expected ensemble:n=N;MEMBER_SPEC");
  expect_error("ensemble:n=0;mlp:hidden=4",
               "model spec: 'ensemble:n=0;mlp:hidden=4': n must be a positive integer, got '0'");
  expect_error("ensemble:n=2;mlp:hidden=x",
               "model spec: 'mlp:hidden=x': hidden must be a positive integer, got 'x'");
  expect_error("ensemble:n=2;ensemble:n=2;mlp:hidden=4",
               "model spec: 'ensemble:n=2;ensemble:n=2;mlp:hidden=4': an ensemble's members may "
               "not be ensembles");
  expect_error("ensemble:n=3;mlp:hidden=4;mlp:hidden=8",
               "model spec: 'ensemble:n=3;mlp:hidden=4;mlp:hidden=8': n=3 needs one member spec "
               "or 3, got 2");
  expect_error("ensemble:n=2;mlp:hidden=4;ensemble:n=1;mlp:hidden=4",
               "model spec: 'ensemble:n=2;mlp:hidden=4;ensemble:n=1;mlp:hidden=4': an ensemble's "
               "members may not be ensembles");
  expect_error("ensemble:n=2;mlp:hidden=4;",
               "model spec: '': unknown model family '' (expected "
               "resnet1d, mlp or ensemble)");
  // ';' belongs to no other family's syntax.
  expect_error("mlp:hidden=4;mlp:hidden=4",
               "model spec: 'mlp:hidden=4;mlp:hidden=4': hidden must be a positive integer, got "
               "'4;mlp:hidden=4'");
}

// The ensemble's posterior, computed independently of EnsembleImpl: each member's softmax in
// double, averaged.
torch::Tensor mean_posterior(const std::vector<Net>& members, const torch::Tensor& x) {
  torch::Tensor sum = torch::zeros({x.size(0), kK}, torch::kFloat64);
  for (const auto& m : members) sum += torch::softmax(m->forward(x).to(torch::kFloat64), 1);
  return sum / static_cast<double>(members.size());
}

TEST(EnsembleNet, SoftmaxIsTheMembersMeanPosterior) {
  torch::manual_seed(7);
  for (const char* member : {"mlp:hidden=16", "resnet1d:stem=4,stages=4-8,blocks=1,k=3"}) {
    const auto e = ModelSpec::parse(std::string("ensemble:n=3;") + member, kC, kL);
    std::vector<Net> members;
    for (int i = 0; i < 3; ++i) {
      members.push_back(make_net(*e.member_specs[i]));
      members.back()->eval();
    }
    auto net = std::make_shared<EnsembleImpl>(e, members);
    net->eval();
    // Parameter names are the members' under m{i}.
    const auto params = net->named_parameters();
    for (int i = 0; i < 3; ++i)
      for (const auto& p : members[i]->named_parameters()) {
        const std::string name = "m" + std::to_string(i) + "." + p.key();
        ASSERT_TRUE(params.contains(name)) << name;
        EXPECT_TRUE(params[name].is_same(p.value())) << name;
      }
    torch::NoGradGuard no_grad;
    for (double scale : {1.0, 30.0}) {  // 30: large logits, where a naive log(mean(exp)) fails
      const auto x = torch::randn({kB, kC, kL}) * scale;
      const auto logits = net->forward(x);
      ASSERT_EQ(logits.sizes(), (std::vector<int64_t>{kB, kK}));
      ASSERT_TRUE(torch::isfinite(logits).all().item<bool>());
      const auto want = mean_posterior(members, x);
      const auto got = torch::softmax(logits.to(torch::kFloat64), 1);
      EXPECT_LT((got - want).abs().max().item<double>(), 1e-6) << member << " x" << scale;
      // The logits are already normalised: exp sums to 1.
      EXPECT_LT((logits.to(torch::kFloat64).exp().sum(1) - 1).abs().max().item<double>(), 1e-5);
    }
    // Features: the members' mean, in the member's shape.
    const auto x = torch::randn({kB, kC, kL});
    for (int stage = -1; stage < e.num_stages(); ++stage) {
      const auto f = net->forward_with_feature(x, stage).feature;
      auto want = torch::zeros_like(f);
      for (const auto& m : members) want += m->forward_with_feature(x, stage).feature;
      want /= 3.0;
      std::vector<int64_t> shape = {kB};
      for (auto d : e.feature_shape(stage)) shape.push_back(d);
      EXPECT_EQ(f.sizes(), shape);
      EXPECT_LT((f - want).abs().max().item<float>(), 1e-5) << member << " stage " << stage;
    }
    EXPECT_FALSE(net->forward_with_feature(x, kNoFeature).feature.defined());
    EXPECT_THROW(net->forward_with_feature(x, e.num_stages()), Error);
    EXPECT_THROW(net->forward(torch::randn({kB, 1, kL})), Error);
  }
}

TEST(EnsembleNet, OneMemberIsTheMembersLogSoftmax) {
  torch::manual_seed(3);
  const auto e = ModelSpec::parse("ensemble:n=1;resnet1d:stem=4,stages=4-8,k=3", kC, kL);
  auto net = make_net(e);  // built by the factory, its member m0
  net->eval();
  auto* ens = dynamic_cast<EnsembleImpl*>(net.get());
  ASSERT_NE(ens, nullptr);
  ASSERT_EQ(ens->nets.size(), 1u);
  torch::NoGradGuard no_grad;
  const auto x = torch::randn({kB, kC, kL});
  const auto want = torch::log_softmax(ens->nets[0]->forward(x), 1);
  EXPECT_LT((net->forward(x) - want).abs().max().item<float>(), 1e-6);
}

TEST(EnsembleNet, MembersMustMatchTheSpec) {
  const auto e = ModelSpec::parse("ensemble:n=2;mlp:hidden=4", kC, kL);
  const auto other = make_net(ModelSpec::parse("mlp:hidden=8", kC, kL));
  const auto same = make_net(*e.member_specs[0]);
  EXPECT_THROW(EnsembleImpl(e, {same}), Error);
  try {
    EnsembleImpl(e, {same, other});
    ADD_FAILURE();
  } catch (const Error& err) {
    EXPECT_EQ(std::string(err.what()),
              "ensemble:n=2;mlp:hidden=4: member 1 is mlp:hidden=8, not mlp:hidden=4");
  }
}

// A mixed ensemble's posterior is its members' mean too, and its features at the stages they
// share are their mean (stage -1 is the ensemble's last stage, not each member's).
TEST(EnsembleNet, MixedMembersAverageTheirPosteriorsAndSharedFeatures) {
  torch::manual_seed(11);
  const auto e = ModelSpec::parse(
      "ensemble:n=2;resnet1d:stem=4,stages=4-8,k=3;resnet1d:stem=6,stages=4-8-8,k=5", kC, kL);
  auto net = make_net(e);
  net->eval();
  auto* ens = dynamic_cast<EnsembleImpl*>(net.get());
  ASSERT_NE(ens, nullptr);
  ASSERT_EQ(ens->nets.size(), 2u);
  EXPECT_EQ(ens->nets[1]->spec(), *e.member_specs[1]);
  torch::NoGradGuard no_grad;
  const auto x = torch::randn({kB, kC, kL});
  const auto want = mean_posterior(ens->nets, x);
  const auto got = torch::softmax(net->forward(x).to(torch::kFloat64), 1);
  EXPECT_LT((got - want).abs().max().item<double>(), 1e-6);
  ASSERT_EQ(e.num_stages(), 2);
  const auto last = net->forward_with_feature(x, -1).feature;
  const auto mean = 0.5 * (ens->nets[0]->forward_with_feature(x, 1).feature +
                           ens->nets[1]->forward_with_feature(x, 1).feature);
  EXPECT_EQ(last.sizes(), (std::vector<int64_t>{kB, 8, 100}));
  EXPECT_LT((last - mean).abs().max().item<float>(), 1e-5);
  EXPECT_THROW(net->forward_with_feature(x, 2), Error);
}

}  // namespace
}  // namespace ppgkd
