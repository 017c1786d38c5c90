// GroupAdamW (both kinds) against torch::optim::AdamW in double precision (the oracle: one
// optimiser per member over its slices, two parameter groups as the single trainer forms them:
// weights with the member's decay, vectors without). Members differ in learning rate and decay
// and skip some ticks, so their step counts (bias corrections) differ. Tolerance 1e-5 relative to
// the parameters' scale after 6 ticks: float arithmetic changes the last bits of each update
// (~1e-7 of the learning rate); a wrong bias correction, decay on a vector or on a skipping member,
// or a member's slice offset would change parameters by ~lr = 1e-2, i.e. ~1e-2 of their scale.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "train/group_adamw.h"

namespace ppgkd {
namespace {

void run(GroupAdamWKind kind) {
  const int64_t K = 3;
  torch::manual_seed(3);
  std::map<std::string, torch::Tensor> params = {
      {"conv.weight", torch::randn({K, 4, 3, 5}).requires_grad_(true)},  // decayed
      {"bn.bias", torch::randn({K, 7}).requires_grad_(true)},            // not decayed
      {"head.weight", torch::randn({K, 2, 9}).requires_grad_(true)},     // decayed
  };
  const std::vector<double> lr = {1e-2, 3e-2, 5e-3}, wd = {1e-2, 0.5, 0.0};
  // Oracle: member k's slices in double with its own AdamW.
  std::vector<std::map<std::string, torch::Tensor>> ref(K);
  std::vector<std::unique_ptr<torch::optim::AdamW>> ref_opt;
  for (int64_t k = 0; k < K; ++k) {
    std::vector<torch::Tensor> decay, no_decay;
    for (const auto& [name, p] : params) {
      ref[k][name] = p[k].detach().to(torch::kDouble).requires_grad_(true);
      (p.dim() > 2 ? decay : no_decay).push_back(ref[k][name]);
    }
    std::vector<torch::optim::OptimizerParamGroup> groups;
    groups.emplace_back(decay, std::make_unique<torch::optim::AdamWOptions>(
                                   torch::optim::AdamWOptions(lr[k]).weight_decay(wd[k])));
    groups.emplace_back(no_decay, std::make_unique<torch::optim::AdamWOptions>(
                                      torch::optim::AdamWOptions(lr[k]).weight_decay(0.0)));
    ref_opt.push_back(std::make_unique<torch::optim::AdamW>(std::move(groups)));
  }
  GroupAdamW opt(params, kind);
  std::vector<int64_t> steps(K, 0);
  for (int tick = 0; tick < 6; ++tick) {
    std::vector<bool> stepping(K);
    std::vector<int64_t> step(K);
    for (int64_t k = 0; k < K; ++k) {
      stepping[k] = !(k == 1 && tick % 2 == 1) && !(k == 2 && tick == 0);
      step[k] = steps[k] + 1;
    }
    for (auto& [name, p] : params) {
      auto g = torch::randn(p.sizes());
      p.mutable_grad() = g;
      for (int64_t k = 0; k < K; ++k) ref[k][name].mutable_grad() = g[k].to(torch::kDouble);
    }
    opt.step(params, lr, wd, step, stepping);
    for (int64_t k = 0; k < K; ++k)
      if (stepping[k]) {
        ref_opt[k]->step();
        steps[k] += 1;
      }
  }
  for (const auto& [name, p] : params)
    for (int64_t k = 0; k < K; ++k) {
      const auto& want = ref[k][name];
      const double scale = want.abs().max().item<double>();
      const double err = (p[k].detach().to(torch::kDouble) - want).abs().max().item<double>();
      EXPECT_LE(err, 1e-5 * scale) << name << " member " << k;
    }
}

TEST(GroupAdamW, FusedMatchesTorchAdamWPerMember) {
  run(GroupAdamWKind::kFused);
}

TEST(GroupAdamW, TensorOpsMatchTorchAdamWPerMember) {
  run(GroupAdamWKind::kTensorOps);
}

}  // namespace
}  // namespace ppgkd
