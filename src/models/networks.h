// The two model families as libtorch modules: ResNet1D and MLP, built from a ModelSpec, behind one
// polymorphic interface (NetImpl) that training, distillation and export share.
//
// Shapes: B batch, C input channels, L samples (200), K = 180 classes.
//   forward(x)                      (B, C, L) -> (B, K) logits
//   forward_with_feature(x, stage)  logits plus an intermediate activation (feature distillation):
//     ResNet1D  stage s in 0..n_stages-1 (or -1 = last): the output of stage s after its last
//               block's ReLU, (B, C_s, L_s) with C_s = stages[s], L_s = spec.stage_length(s).
//     MLP       stage s in 0..n_hidden-1 (or -1 = last, the penultimate activation): the output
//               of hidden layer s after its ReLU, (B, D_s).
//     stage = kNoFeature returns an undefined feature tensor.
//   ModelSpec::feature_shape(stage) gives the per-window feature shape without building a model.
//
// Parameter names (for BN folding and export), ResNet1D:
//   stem_conv.weight, stem_bn.{weight,bias,running_mean,running_var}
//   s{i}b{j}.{conv1,bn1,conv2,bn2}.*, s{i}b{j}.{down_conv,down_bn}.* (when the shortcut is a conv)
//   head.{weight,bias}
//   spectral branch (spec.spectral > 0 only): spec_conv1.weight, spec_bn1.*, spec_conv2.weight,
//   spec_bn2.*, spec_out.weight, spec_scale (1); buffers spec_window (L), spec_interp (F, K)
// MLP: fc{i}.{weight,bias} for hidden layer i, head.{weight,bias}.
// Ensemble: m{i}.<the member's names> for member i = 0..n-1.
// Convolutions have no bias (BN follows). This file is not the trainer and does no I/O.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <vector>

#include "models/model_spec.h"

namespace ppgkd {

constexpr int kNoFeature = -1000;

struct ModelOutput {
  torch::Tensor logits;   // (B, K)
  torch::Tensor feature;  // see the file comment; undefined when stage == kNoFeature
};

class NetImpl : public torch::nn::Module {
 public:
  explicit NetImpl(ModelSpec spec) : spec_(std::move(spec)) {}
  virtual ~NetImpl() = default;
  // (B, C, L) -> logits (B, K) and the feature of `stage`. Throws Error on a wrong input shape.
  virtual ModelOutput forward_with_feature(const torch::Tensor& x, int stage) = 0;
  // (B, C, L) -> (B, K)
  torch::Tensor forward(const torch::Tensor& x) {
    return forward_with_feature(x, kNoFeature).logits;
  }
  const ModelSpec& spec() const { return spec_; }

 protected:
  void check_input(const torch::Tensor& x) const;

 private:
  ModelSpec spec_;
};
using Net = std::shared_ptr<NetImpl>;

// ------------------------------------------------------------------------------- ResNet1D

// conv(k, stride s) BN ReLU conv(k) BN, plus the shortcut (identity, or 1x1 conv stride s + BN
// when the shape changes), then ReLU. (B, in, L) -> (B, out, (L - 1) / s + 1).
class BasicBlock1dImpl : public torch::nn::Module {
 public:
  BasicBlock1dImpl(int in, int out, int kernel, int stride);
  torch::Tensor forward(const torch::Tensor& x);

  torch::nn::Conv1d conv1{nullptr}, conv2{nullptr}, down_conv{nullptr};
  torch::nn::BatchNorm1d bn1{nullptr}, bn2{nullptr}, down_bn{nullptr};  // down_* may be null
};
TORCH_MODULE(BasicBlock1d);

// With spec.spectral = N > 0 a spectral branch runs beside the time-domain network (issue 11:
// wrist-PPG models lock onto the motion cadence; the PPG and acc spectra side by side let the
// branch learn to cancel PPG peaks that coincide with acc peaks):
//   spectrum(x)         (B, C, L) -> (B, C, F): |rfft(x * Hann, n = 1024)| over the bins of
//                       ModelSpec::spectral_first_bin() .. + F - 1 (the HR band), log1p, divided
//                       by its maximum over the F bins per window and channel (a flat channel
//                       stays zero); with harmonics=1, (B, 3C, F): channels C..2C-1 hold each
//                       channel's spectrum at twice the bin's frequency and 2C..3C-1 at half of
//                       it, log1p, divided by the same per-channel maximum over the band;
//                       with harmonics=ppg, (B, C + 2, F): channel C holds the PPG's (channel
//                       0's) spectrum at twice the bin's frequency and C + 1 at half of it
//   spectral_logits(x)  (B, C, L) -> (B, K): conv C->N (3C->N) + BN + ReLU, conv N->N + BN +
//                       ReLU ("same" padding over frequency), conv N->1, then the fixed
//                       interpolation onto the class centres (spec_interp; see
//                       ModelSpec::spectral_interp for the exact class <-> frequency
//                       alignment), times spec_scale (initially 1)
// forward adds spectral_logits to the head's logits. Features stay the time-domain stages'.
class ResNet1dImpl : public NetImpl {
 public:
  explicit ResNet1dImpl(const ModelSpec& spec);
  ModelOutput forward_with_feature(const torch::Tensor& x, int stage) override;
  torch::Tensor spectrum(const torch::Tensor& x);         // spectral > 0 only
  torch::Tensor spectral_logits(const torch::Tensor& x);  // spectral > 0 only

  torch::nn::Conv1d stem_conv{nullptr};
  torch::nn::BatchNorm1d stem_bn{nullptr};
  std::vector<std::vector<BasicBlock1d>> blocks;  // [stage][block]
  torch::nn::Linear head{nullptr};
  // Spectral branch; null / undefined when spec.spectral == 0.
  torch::nn::Conv1d spec_conv1{nullptr}, spec_conv2{nullptr}, spec_out{nullptr};
  torch::nn::BatchNorm1d spec_bn1{nullptr}, spec_bn2{nullptr};
  torch::Tensor spec_scale;   // parameter (1)
  torch::Tensor spec_window;  // buffer (L), symmetric Hann
  torch::Tensor spec_interp;  // buffer (F, K)
};
TORCH_MODULE(ResNet1d);

// ------------------------------------------------------------------------------- MLP

// Flatten (B, C*L) -> [linear, ReLU] per hidden width -> linear to K. No BN or dropout: inputs are
// already standardised per window, and keeping the layers plain keeps export trivial; capacity is
// controlled by the ladder and weight decay.
class MlpImpl : public NetImpl {
 public:
  explicit MlpImpl(const ModelSpec& spec);
  ModelOutput forward_with_feature(const torch::Tensor& x, int stage) override;

  std::vector<torch::nn::Linear> fc;
  torch::nn::Linear head{nullptr};
};
TORCH_MODULE(Mlp);

// ------------------------------------------------------------------------------- ensemble

// An ensemble (spec "ensemble:n=N;MEMBER", or one spec per member): N networks, submodules
// m0..m{N-1} of the member specs in order (so parameter names are m{i}.<member names>).
//   logits   log(mean_i softmax(member_i logits)) = logsumexp_i(log_softmax_i) - log N, (B, K):
//            softmax of the ensemble's logits is the members' mean posterior (and the logits are
//            already normalised log-probabilities)
//   feature  the mean of the members' features of that stage (spec.feature_shape refuses a stage
//            where their shapes differ); stage -1 is the ensemble's last (num_stages() - 1)
class EnsembleImpl : public NetImpl {
 public:
  // N freshly built members (make_net of each member spec, in order m0, m1, ...).
  explicit EnsembleImpl(const ModelSpec& spec);
  // The given members: spec.members of them, member i of spec.member_specs[i].
  EnsembleImpl(const ModelSpec& spec, std::vector<Net> members);
  ModelOutput forward_with_feature(const torch::Tensor& x, int stage) override;

  std::vector<Net> nets;
};
TORCH_MODULE(Ensemble);

// ------------------------------------------------------------------------------- factory

// Builds the network a spec names, with libtorch's default initialisation drawn from the global
// torch generator (seed it first with torch::manual_seed for reproducible weights).
Net make_net(const ModelSpec& spec);

// Total element count of the module's parameters (buffers excluded).
int64_t count_parameters(torch::nn::Module& m);

}  // namespace ppgkd
