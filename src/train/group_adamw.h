// AdamW for the K members of a GroupNet (group_net.h) at once: torch::optim::AdamW's update
// (betas 0.9/0.999, eps 1e-8, no amsgrad, decoupled weight decay) with each member's own learning
// rate, weight decay and step count, on the stacked parameters whose leading dimension is the
// member. Members not stepping this tick keep parameters and moments unchanged. As the single
// trainer, only tensors of dim > 1 in the single model (dim > 2 here) are decayed.
//
// kFused (the default) runs the whole update as one loop per parameter tensor over each stepping
// member's slice (no temporaries, no per-operation dispatch); kTensorOps is the same update as
// ~8 libtorch operations per parameter tensor, kept to measure (bench/group_step.cpp). Both round
// alike up to the order of two float multiplications (tests/train/test_group_adamw.cpp).
#pragma once

#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

namespace ppgkd {

enum class GroupAdamWKind { kFused, kTensorOps };

class GroupAdamW {
 public:
  // Zero moments for every parameter (float, contiguous, leading dimension K).
  explicit GroupAdamW(const std::map<std::string, torch::Tensor>& params,
                      GroupAdamWKind kind = GroupAdamWKind::kFused);
  std::map<std::string, torch::Tensor>& exp_avg() { return m_; }
  std::map<std::string, torch::Tensor>& exp_avg_sq() { return v_; }

  // Per member k: lr[k], wd[k], step[k] (the 1-based step count after this step) and whether it
  // steps. Parameters without a gradient are skipped.
  void step(const std::map<std::string, torch::Tensor>& params, const std::vector<double>& lr,
            const std::vector<double>& wd, const std::vector<int64_t>& step,
            const std::vector<bool>& stepping);

 private:
  GroupAdamWKind kind_;
  std::map<std::string, torch::Tensor> m_, v_;
};

}  // namespace ppgkd
