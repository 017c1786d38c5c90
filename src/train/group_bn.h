// Batch normalisation, an optional residual add and an optional ReLU as one autograd operation
// over the grouped ResNet's activations (group_net.h): what
//   y = batch_norm(x, weight, bias, running_mean, running_var, train, momentum, eps)
//   y = relu(y + residual)   (the add when residual is defined, the ReLU when relu)
// computes with libtorch's operations, in one pass over the activation to collect the statistics
// and one to write the output (backward: one to reduce, one to write the gradients), instead of
// three to six separate passes and as many temporaries. The students' activations, (B, k*C, L)
// with up to ~10M floats, do not fit in cache, so these passes, not arithmetic, set the time.
//
// Train mode normalises with the batch's mean and biased variance per channel (over B and L) and
// updates running_mean and running_var in place with the unbiased variance, as BatchNorm1d does;
// eval mode normalises with the running statistics. Statistics are summed in double.
//
// Shapes: B batch, Ch channels, L samples.
//   batch_norm_act(x (B, Ch, L), weight (Ch), bias (Ch), running_mean (Ch), running_var (Ch),
//                  residual (B, Ch, L) or undefined) -> (B, Ch, L)
// Gradients flow to x, weight, bias and residual (float32, CPU; inputs are made contiguous;
// running statistics must be contiguous float tensors, they are updated through their storage).
#pragma once

#include <torch/torch.h>

namespace ppgkd {

torch::Tensor batch_norm_act(const torch::Tensor& x, const torch::Tensor& weight,
                             const torch::Tensor& bias, const torch::Tensor& running_mean,
                             const torch::Tensor& running_var, bool train, double momentum,
                             double eps, const torch::Tensor& residual, bool relu);

}  // namespace ppgkd
