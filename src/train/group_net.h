// K students of one architecture as one grouped network: every parameter and BatchNorm buffer of
// the single model (networks.h) is stacked along a new leading member dimension, and the forward
// pass runs all members at once. ResNet1D convolutions become grouped convolutions over the
// members' channels stacked side by side (group_conv.h's direct loops for small layers; BatchNorm
// over K*C channels is per member because it is per channel); linear layers (the ResNet head, every
// MLP layer) become batched matrix products over the member dimension (baddbmm). Not here:
// training (group_trainer.h).
//
// Shapes: k members in this call (a subset of the K), B batch, C input channels, L samples,
// N = 180 classes. Stacked tensors carry the single model's names and shapes with K in front:
// "stem_conv.weight" (S, C, k) -> (K, S, C, k); "head.weight" (N, D) -> (K, N, D).
//   forward(x (k, B, C, L), members) -> logits (k, B, N), stage features (k, B, C_s, L_s) | (k, B,
//   D_s)
// Member weights move in and out as ordinary networks (put / take), so initialisation and model
// directories are those of single runs. Spectral branches and ensembles are refused.
#pragma once

#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

#include "models/networks.h"

namespace ppgkd {

struct GroupOutput {
  torch::Tensor logits;               // (k, B, N)
  std::vector<torch::Tensor> stages;  // per feature stage s: (k, B, C_s, L_s) or (k, B, D_s)
};

// How a ResNet's grouped convolutions are computed. kMixed (the default): group_conv1d's direct
// loops for layers of at most kDirectMaxChannels input and output channels per member, where they
// are 1.5-3x faster than libtorch's grouped convolution (CPU time, forward + backward, K = 15,
// batch 256), and libtorch's conv1d with groups = K above, where oneDNN's kernels win (4x at 48
// channels). kDirect and kLibtorch use one kind throughout (bench/group_step.cpp compares them).
enum class GroupConv { kMixed, kDirect, kLibtorch };
constexpr int64_t kDirectMaxChannels = 8;

// How a ResNet's BatchNorm, residual add and ReLU are computed: kFused (the default) as one
// batch_norm_act operation each (group_bn.h: two passes over the activation forward, two
// backward), kLibtorch as libtorch's batch_norm, add and relu (kept to measure).
enum class GroupNorm { kFused, kLibtorch };

class GroupNet {
 public:
  // K members of `spec` with zero weights; put() fills them. Throws Error for a spec that cannot
  // be grouped (spectral branch, ensemble) or K < 1.
  GroupNet(const ModelSpec& spec, int members, GroupConv conv = GroupConv::kMixed,
           GroupNorm norm = GroupNorm::kFused);

  const ModelSpec& spec() const { return spec_; }
  int size() const { return members_; }

  // Copies the parameters and buffers of `net` (the same spec) into member slot k, and back.
  void put(int k, NetImpl& net);
  void take(int k, NetImpl& net) const;

  // `members`: sorted distinct slot indices, one per row of x. Train mode uses batch statistics
  // and updates the members' running statistics (as BatchNorm1d in train mode); eval mode uses
  // the running statistics.
  GroupOutput forward(const torch::Tensor& x, const std::vector<int64_t>& members, bool train);

  // The stacked parameters (leaves with requires_grad) by name, and whether AdamW decays them
  // (the single trainer decays tensors of dim > 1 in the single model, i.e. > 2 here).
  const std::map<std::string, torch::Tensor>& parameters() const { return params_; }
  std::map<std::string, torch::Tensor>& buffers() { return buffers_; }

 private:
  struct Ctx;
  torch::Tensor conv(Ctx& c, const torch::Tensor& h, const std::string& name, int stride) const;
  torch::Tensor bn(Ctx& c, const torch::Tensor& h, const std::string& name,
                   const torch::Tensor& residual, bool relu) const;
  torch::Tensor linear(Ctx& c, const torch::Tensor& h, const std::string& name) const;
  torch::Tensor select(Ctx& c, const torch::Tensor& t) const;
  GroupOutput forward_resnet(Ctx& c, const torch::Tensor& x);
  GroupOutput forward_mlp(Ctx& c, const torch::Tensor& x);

  ModelSpec spec_;
  int members_;
  GroupConv conv_kind_;
  GroupNorm norm_kind_;
  std::map<std::string, torch::Tensor> params_, buffers_;
};

}  // namespace ppgkd
