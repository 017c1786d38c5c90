// The members' convolutions of a grouped ResNet (group_net.h) as one autograd operation with
// direct loops, for the tiny channel counts of students (3-48 channels, kernels 1-7, 13-200
// samples). It computes what torch::conv1d(x, w.reshape({k*O, C, ks}), {}, stride, ks / 2, 1, k)
// computes, without bias, but much faster at these sizes: libtorch's grouped convolution (oneDNN
// or its im2col + GEMM path) spends its time in per-group set-up and in matrix products with
// inner dimensions of 9-21, while here each output row is a few dozen vectorised multiply-adds
// over the samples. Not here: bias, dilation, other paddings (the students use none of them).
//
// Shapes: B batch, k members, C input and O output channels per member, ks kernel size,
// L input samples, L' = (L + 2*(ks/2) - ks) / stride + 1 output samples.
//   group_conv1d(x (B, k*C, L), w (k, O, C, ks), stride) -> (B, k*O, L')
// Member j's input channels are x[:, j*C:(j+1)*C], its output channels y[:, j*O:(j+1)*O].
// Gradients flow to x and w (float32, CPU, any strides: inputs are made contiguous).
#pragma once

#include <torch/torch.h>

namespace ppgkd {

torch::Tensor group_conv1d(const torch::Tensor& x, const torch::Tensor& w, int64_t stride);

}  // namespace ppgkd
