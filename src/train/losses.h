// Training losses: cross-entropy and the four knowledge-distillation strategies (hard, soft,
// decoupled, feature), each a pure function of tensors, plus the learned feature projector that
// FitNets-style distillation needs. Not here: the training loop, the optimiser, the teacher.
//
// Shapes: B batch, K classes (180 in ppgkd, but any K >= 2 works), C channels, L samples,
// D features. Logits are (B, K) floating point; targets are (B) int64 class indices in [0, K).
// Every loss returns a 0-dim tensor: the mean over the batch. The teacher is frozen: its logits
// and features are detached here, so no gradient ever reaches it.
//
// The definitions follow the papers exactly (each function says which); shapes are checked once
// on entry and a mismatch throws ppgkd::Error("<loss name>", "...").
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace ppgkd {

// ------------------------------------------------------------------------------ cross-entropy

// CE(y, s) = mean_b [ -log softmax(s_b)[y_b] ].  (B, K), (B) -> ()
torch::Tensor ce_loss(const torch::Tensor& student_logits, const torch::Tensor& targets);

// Cross-entropy against Gaussian-blurred (ordinal) labels: label y's target over the K classes is
//   t_c = (1 - eps) g_c + eps / K,   g_c = exp(-(c - y)^2 / (2 sigma^2)) / sum_j exp(-(j - y)^2 /
//   (2 sigma^2)),
// so a near miss costs less than a far one (sigma in classes: BPM at ppgkd's 1-BPM classes; the
// Gaussian is cut at the ends of the class range and renormalised). The loss is
// mean_b [ -sum_c t_c log softmax(s_b)_c ]. sigma = 0 is the one-hot label: torch's cross-entropy
// with label smoothing eps. sigma >= 0, eps in [0, 1).  (B, K), (B) -> ()
torch::Tensor gaussian_label_ce(const torch::Tensor& logits, const torch::Tensor& targets,
                                double sigma, double smoothing);

// Class weights for a weighted cross-entropy that evens out how often each class is the label:
// w_c proportional to (n_c + 1)^-exponent, n_c the count of class c in targets, scaled so that the
// targets' mean weight is 1. exponent 0 gives ones; exponent in [0, 1].  -> (classes) float
torch::Tensor class_balance_weights(const std::vector<int64_t>& targets, int64_t classes,
                                    double exponent);

// ------------------------------------------------------------------------------ hard KD

// (1 - w) CE(y, s) + w CE(argmax t, s): the teacher's top class as the label. w = 1 is pure hard
// distillation; w in [0, 1].  (B, K), (B, K), (B) -> ()
torch::Tensor hard_kd_loss(const torch::Tensor& student_logits, const torch::Tensor& teacher_logits,
                           const torch::Tensor& targets, double teacher_weight = 1.0);

// ------------------------------------------------------------------------------ soft KD

// Hinton et al. 2015: (1 - alpha) CE(y, s) + alpha T^2 KL(softmax(t/T) || softmax(s/T)), the KL
// summed over classes and averaged over the batch (torch's kl_div 'batchmean'). The T^2 keeps the
// soft gradients' scale independent of T. alpha in [0, 1], T > 0.  (B, K), (B, K), (B) -> ()
torch::Tensor soft_kd_loss(const torch::Tensor& student_logits, const torch::Tensor& teacher_logits,
                           const torch::Tensor& targets, double alpha, double temperature);

// ------------------------------------------------------------------------------ decoupled KD

// Zhao et al., CVPR 2022, with the defaults of their reference code (mdistiller, CIFAR configs).
struct DkdOptions {
  double alpha = 1.0;         // TCKD weight
  double beta = 8.0;          // NCKD weight
  double temperature = 4.0;   // T
  double warmup_epochs = 20;  // the KD part ramps linearly to full weight over these epochs
};

struct DkdLoss {
  torch::Tensor total;  // ce + warmup (alpha tckd + beta nckd): what to backpropagate
  torch::Tensor ce;     // CE(y, s)
  torch::Tensor tckd;   // T^2 KL(b_t || b_s), b = (p_target, 1 - p_target) at temperature T
  torch::Tensor nckd;   // T^2 KL(p~_t || p~_s), p~ = softmax at T over the non-target classes
};

// min(epoch / warmup_epochs, 1); epochs count from 1 as in mdistiller's trainer, so the first
// epoch already carries 1/warmup_epochs of the KD loss. warmup_epochs <= 0 means no warmup.
double dkd_warmup(double epoch, double warmup_epochs);

// CE(y, s) + dkd_warmup(epoch) (alpha TCKD + beta NCKD), batchmean reductions as in mdistiller.
// NCKD is computed on the K - 1 non-target logits alone (the target column removed), which is the
// exact limit of mdistiller's "subtract 1000 from the target logit"; TCKD's log-masses come from
// log-sum-exp rather than log(sum(softmax)), so neither part can produce log(0).
// (B, K), (B, K), (B) -> DkdLoss of () tensors
DkdLoss dkd_loss(const torch::Tensor& student_logits, const torch::Tensor& teacher_logits,
                 const torch::Tensor& targets, const DkdOptions& options, double epoch);

// ------------------------------------------------------------------------------ feature KD

// Maps student features onto the teacher's feature shape (FitNets' regressor). Built from the two
// per-sample shapes (without the batch dimension):
//   (Cs, Ls) -> (Ct, Lt): 1x1 conv1d Cs -> Ct, then linear interpolation in time to Lt when
//                          Ls != Lt (align_corners = false, PyTorch's default);
//   (Ds)     -> (Dt):     a linear layer (MLP penultimate features).
// Its parameters are learned with the student's: add them to the optimiser.
class FeatureProjectorImpl : public torch::nn::Module {
 public:
  FeatureProjectorImpl(std::vector<int64_t> student_shape, std::vector<int64_t> teacher_shape);

  // (B, Cs, Ls) -> (B, Ct, Lt), or (B, Ds) -> (B, Dt).
  torch::Tensor forward(const torch::Tensor& student_feature);

  torch::nn::Conv1d conv = nullptr;    // set for (C, L) features
  torch::nn::Linear linear = nullptr;  // set for (D) features

 private:
  std::vector<int64_t> student_shape_, teacher_shape_;
};
TORCH_MODULE(FeatureProjector);

// Romero et al. 2015 (FitNets) hint loss used jointly with the task loss:
// CE(y, s) + lambda MSE(projector(student_feature), teacher_feature), the MSE being the mean of
// the squared differences over all elements.
// (B, K), (B), (B, Cs, Ls) or (B, Ds), (B, Ct, Lt) or (B, Dt) -> ()
torch::Tensor feature_kd_loss(const torch::Tensor& student_logits, const torch::Tensor& targets,
                              const torch::Tensor& student_feature,
                              const torch::Tensor& teacher_feature, FeatureProjector& projector,
                              double lambda);

}  // namespace ppgkd
