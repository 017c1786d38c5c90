// Lowering a trained network to the edge graph: BatchNorm folded into the convolution before it
// (the residual shortcut's 1x1 conv + BN too), ReLUs fused into the op that produces their input,
// global average pooling as AVG_POOL1D with kernel = L. Folding uses the running statistics, i.e.
// the network's eval() behaviour:
//   s = gamma / sqrt(running_var + eps),  w' = w * s (per output channel),  b' = beta - mean * s.
// Arithmetic in double, stored as float. Not here: quantisation (quantize.h) or file formats.
#pragma once

#include "export/graph.h"
#include "models/networks.h"

namespace ppgkd {

// The edge graph of a ResNet1D or MLP (models/networks.h). Throws Error(spec, ...) for a module
// of another kind, and for a ResNet1D with a spectral branch (spec.spectral > 0): the C runtime
// has no FFT op, so such teachers are distilled, not exported (message: spectral_refusal); and for
// a seed ensemble, which is several networks (message: ensemble_refusal).
EdgeGraph lower_net(NetImpl& net);
std::string spectral_refusal(const ModelSpec& spec);
std::string ensemble_refusal(const ModelSpec& spec);

// One BatchNorm folded into a bias-free convolution: weight (C_out, C_in, K) -> folded weight
// (same shape) and bias (C_out), as float tensors.
std::pair<torch::Tensor, torch::Tensor> fold_batchnorm(const torch::Tensor& conv_weight,
                                                       torch::nn::BatchNorm1dImpl& bn);

}  // namespace ppgkd
