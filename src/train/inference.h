// Batched inference over a WindowSet: logits (and optionally one feature stage) for chosen rows,
// under NoGradGuard and eval(), and BPM decoding of the posteriors. Distillation uses run_model to
// compute a teacher's outputs once per fold; evaluation and the trainer's validation use
// predict_bpm. Not here: metrics (metrics.h) or training.
//
// Shapes: N rows, C channels, L samples, K = 180 classes.
#pragma once

#include <torch/torch.h>

#include <vector>

#include "data/dsp/class_map.h"  // kDecodeRadius, decode_posterior_bpm
#include "data/preprocess.h"
#include "models/networks.h"

namespace ppgkd {

// The windows of `rows` as one float tensor (N, C, L). Throws Error on a row out of range.
torch::Tensor gather_windows(const WindowSet& ws, const std::vector<size_t>& rows);
// Class targets of `rows`: (N) int64, class_of(hr).
torch::Tensor gather_targets(const WindowSet& ws, const std::vector<size_t>& rows);

struct ModelOutputs {
  torch::Tensor logits;    // (N, K)
  torch::Tensor features;  // (N, C_s, L_s) or (N, D_s); undefined when feature_stage == kNoFeature
};
// Runs the model over `rows` in batches of `batch`, in eval mode without gradients, and restores
// the module's previous train/eval mode afterwards.
ModelOutputs run_model(NetImpl& net, const WindowSet& ws, const std::vector<size_t>& rows,
                       int batch, int feature_stage = kNoFeature);

// Posterior (N, K) -> BPM per row, with decode_posterior_bpm (data/dsp/class_map.h).
std::vector<double> decode_posteriors(const torch::Tensor& prob, int radius = kDecodeRadius);

// Heart-rate estimates for `rows`: run_model, softmax, decode.
std::vector<double> predict_bpm(NetImpl& net, const WindowSet& ws, const std::vector<size_t>& rows,
                                int batch);

}  // namespace ppgkd
