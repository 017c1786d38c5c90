// Parity of the exported models: the folded float graph against libtorch's eval() forward, the
// edge C runtime (f32) against libtorch on random, synthetic and real windows, int8 against f32
// on a small model trained here, and the export of model directories (files, errors, CLI).
//
// Shapes: N windows, C channels, L = 200 samples, K = 180 classes.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "common/atomic_file.h"
#include "common/error.h"
#include "data/cache.h"
#include "export/edge_runner.h"
#include "export/exporter.h"
#include "export/graph_eval.h"
#include "export/lower.h"
#include "export/measure.h"
#include "test_util.h"

namespace ppgkd {
namespace {

constexpr double kParityTol = 1e-4;  // max |logit difference|, edge f32 vs libtorch

Net random_net(const std::string& spec, int channels, uint64_t seed) {
  torch::manual_seed(seed);
  Net net = make_net(ModelSpec::parse(spec, channels, 200));
  randomise_batchnorm(*net, seed + 1);
  net->eval();
  return net;
}

// (N, C, L) windows standardised per channel, as the preprocessing delivers them.
torch::Tensor random_windows(int64_t n, int64_t c, uint64_t seed) {
  auto gen = at::detail::createCPUGenerator(seed);
  auto x = torch::randn({n, c, 200}, gen).cumsum(2);  // smooth-ish, not white
  return ((x - x.mean(2, true)) / x.std(2, true, true)).contiguous();
}

WindowSet as_windows(const torch::Tensor& x) {
  WindowSet ws;
  ws.channels = static_cast<int>(x.size(1));
  ws.length = static_cast<int>(x.size(2));
  auto c = x.contiguous();
  ws.x.assign(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
  ws.hr.assign(x.size(0), 60.0f);
  return ws;
}

torch::Tensor gather_rows(const WindowSet& ws, const std::vector<size_t>& rows) {
  const int64_t per = int64_t{ws.channels} * ws.length;
  auto x = torch::empty({static_cast<int64_t>(rows.size()), ws.channels, ws.length});
  for (size_t i = 0; i < rows.size(); ++i)
    std::copy(ws.window_ptr(rows[i]), ws.window_ptr(rows[i]) + per, x.data_ptr<float>() + i * per);
  return x;
}

std::vector<size_t> all_rows(const WindowSet& ws) {
  std::vector<size_t> r(ws.size());
  for (size_t i = 0; i < r.size(); ++i) r[i] = i;
  return r;
}

torch::Tensor torch_logits(NetImpl& net, const torch::Tensor& x) {
  torch::NoGradGuard no_grad;
  net.eval();
  return net.forward(x).contiguous();
}

// max |edge f32 logits - libtorch logits| over the windows.
double edge_f32_max_diff(NetImpl& net, const torch::Tensor& x) {
  const ExportResult r = export_net(net, ExportOptions{}, torch::Tensor(), "test");
  EdgeModel edge(r.blob, "test");
  const WindowSet ws = as_windows(x);
  const EdgeOutputs out = run_edge(edge, ws, all_rows(ws));
  const auto ref = torch_logits(net, x);
  const auto got = torch::from_blob(const_cast<float*>(out.logits.data()), ref.sizes());
  return (got - ref).abs().max().item<double>();
}

// ---------------------------------------------------------------------------- folding

TEST(Fold, BatchNormIntoConvolutionByHand) {
  auto conv = torch::nn::Conv1d(torch::nn::Conv1dOptions(1, 1, 3).bias(false));
  auto bn = torch::nn::BatchNorm1d(1);
  {
    torch::NoGradGuard no_grad;
    conv->weight.copy_(torch::tensor({1.0f, 2.0f, 3.0f}).view({1, 1, 3}));
    bn->weight.fill_(2.0), bn->bias.fill_(0.5), bn->running_mean.fill_(1.0);
    bn->running_var.fill_(3.0);
  }
  auto [w, b] = fold_batchnorm(conv->weight, *bn);
  const double s = 2.0 / std::sqrt(3.0 + 1e-5);  // gamma / sqrt(var + eps), eps = 1e-5
  EXPECT_NEAR(w[0][0][0].item<double>(), 1 * s, 1e-6);
  EXPECT_NEAR(w[0][0][2].item<double>(), 3 * s, 1e-6);
  EXPECT_NEAR(b[0].item<double>(), 0.5 - 1.0 * s, 1e-6);
}

TEST(Fold, GraphMacsEqualTheSpecsClosedForm) {
  for (const auto* ladder : {&resnet_ladder(), &mlp_ladder()}) {
    for (const auto& rung : *ladder) {
      const ModelSpec spec = ModelSpec::parse(rung.spec, 4, 200);
      if (spec.num_params() > 300000) continue;  // building the largest is slow and adds nothing
      Net net = make_net(spec);
      EXPECT_EQ(lower_net(*net).macs(), spec.macs()) << rung.name;
    }
  }
}

TEST(Fold, FoldedGraphEqualsLibtorchEval) {
  for (const std::string spec : {"resnet1d:stem=8,stages=8-16-16,blocks=2,k=5",
                                 "resnet1d:stem=4,stages=6,blocks=1,k=3", "mlp:hidden=32-16"}) {
    Net net = random_net(spec, 4, 3);
    const auto x = random_windows(16, 4, 5);
    const auto folded = run_graph(lower_net(*net), x);
    const double diff =
        (folded[lower_net(*net).output] - torch_logits(*net, x)).abs().max().item<double>();
    std::printf("[ fold ] %s: max |folded - eval| = %.3g\n", spec.c_str(), diff);
    EXPECT_LE(diff, kParityTol) << spec;
    // Folding must matter: the BN-randomised network differs from its conv-only twin (the same
    // seed's weights with BatchNorm left at identity statistics) by far more than the tolerance,
    // so a fold that dropped the BatchNorm would fail the check above. The MLP has no BatchNorm:
    // its twin is the same network.
    torch::manual_seed(3);
    Net twin = make_net(ModelSpec::parse(spec, 4, 200));
    twin->eval();
    size_t batchnorms = 0;
    for (const auto& m : net->modules(/*include_self=*/false))
      batchnorms += dynamic_cast<torch::nn::BatchNorm1dImpl*>(m.get()) != nullptr;
    const auto p = net->parameters(), q = twin->parameters();
    ASSERT_EQ(p.size(), q.size()) << spec;
    const auto twin_diff =
        (torch_logits(*net, x) - torch_logits(*twin, x)).abs().max().item<double>();
    std::printf("[ fold ] %s: %zu BatchNorms, max |net - conv-only twin| = %.3g\n", spec.c_str(),
                batchnorms, twin_diff);
    if (spec.rfind("mlp:", 0) == 0) {
      EXPECT_EQ(batchnorms, 0u);
      EXPECT_EQ(twin_diff, 0.0) << spec;
    } else {
      EXPECT_GT(batchnorms, 0u) << spec;
      EXPECT_TRUE(torch::equal(p[0], q[0])) << spec << ": the twin's first weights differ";
      EXPECT_GT(twin_diff, 1000 * kParityTol) << spec;
    }
  }
}

// ---------------------------------------------------------------------------- f32 parity

TEST(ParityF32, EdgeRuntimeMatchesLibtorchOnRandomWindows) {
  struct Case {
    std::string spec;
    int channels;
  };
  for (const Case& c : {Case{"resnet1d:stem=8,stages=8-16-16,blocks=2,k=5", 4},
                        Case{"resnet1d:stem=6,stages=6-8,blocks=1,k=5", 1},
                        Case{"mlp:hidden=64-32", 4}, Case{"mlp:hidden=12", 1}}) {
    Net net = random_net(c.spec, c.channels, 21);
    const double diff = edge_f32_max_diff(*net, random_windows(24, c.channels, 22));
    std::printf("[ parity f32 random ] %s C=%d: max |edge - libtorch| = %.3g\n", c.spec.c_str(),
                c.channels, diff);
    EXPECT_LE(diff, kParityTol) << c.spec;
  }
}

PreprocessConfig default_preprocess() {
  return PreprocessConfig{};
}

TEST(ParityF32, EdgeRuntimeMatchesLibtorchOnSyntheticWindows) {
  const WindowSet ws = load_windows("synthetic", default_preprocess(), "", nullptr);
  ASSERT_GT(ws.size(), 64u);
  std::vector<size_t> rows;
  for (size_t i = 0; i < 64; ++i) rows.push_back(i * ws.size() / 64);
  const auto x = gather_rows(ws, rows);
  for (const std::string spec : {"resnet1d:stem=8,stages=8-16-16,blocks=1,k=5", "mlp:hidden=32"}) {
    Net net = random_net(spec, 4, 31);
    const double diff = edge_f32_max_diff(*net, x);
    std::printf("[ parity f32 synthetic ] %s: max |edge - libtorch| = %.3g\n", spec.c_str(), diff);
    EXPECT_LE(diff, kParityTol) << spec;
  }
}

TEST(ParityF32, EdgeRuntimeMatchesLibtorchOnRealWindows) {
  PPGKD_NEED_REAL_DATA(root);
  const WindowSet ws = load_windows(root + "/ieee_spc2015", default_preprocess(), "", nullptr);
  ASSERT_GT(ws.size(), 100u);
  std::vector<size_t> rows;
  for (size_t i = 0; i < 100; ++i) rows.push_back(i * ws.size() / 100);
  const auto x = gather_rows(ws, rows);
  for (const std::string spec :
       {"resnet1d:stem=16,stages=16-32-64,blocks=1,k=5", "mlp:hidden=64-64"}) {
    Net net = random_net(spec, 4, 41);
    const double diff = edge_f32_max_diff(*net, x);
    std::printf("[ parity f32 ieee_spc2015 ] %s: max |edge - libtorch| = %.3g over %zu windows\n",
                spec.c_str(), diff, rows.size());
    EXPECT_LE(diff, kParityTol) << spec;
  }
}

}  // namespace
}  // namespace ppgkd
