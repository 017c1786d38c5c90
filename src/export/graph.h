// The exporter's intermediate representation: a model lowered to the edge runtime's op set
// (CONV1D, DENSE, ADD, AVG_POOL1D, each with an optional fused ReLU) with BatchNorm already folded
// into the convolutions, weights in float and PyTorch layouts. The blob writer serialises it, the
// calibrator runs it, the quantiser turns it into int8. No libtorch here (lower.h builds it from a
// network, graph_eval.h runs it).
//
// Activation tensors are indexed by id; shapes are per window: (C, L) for sequences, (N) for
// vectors. Tensor 0 is the (C_in, L) input.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace ppgkd {

enum class EdgeOpType { kConv1d, kDense, kAdd, kAvgPool };

struct EdgeOp {
  EdgeOpType type = EdgeOpType::kConv1d;
  std::string name;   // source layer, e.g. "s1b0.conv1+bn1" (messages and export.json)
  bool relu = false;  // fused ReLU on the output
  int in0 = -1, in1 = -1, out = -1;  // activation tensor ids; in1 only for kAdd
  // kConv1d: (C_out, C_in, K); kDense: (M, N). Empty for kAdd and kAvgPool.
  std::vector<int64_t> w_shape;
  std::vector<float> weight;                  // row-major in w_shape
  std::vector<float> bias;                    // (C_out) or (M)
  int stride = 1, padding = 0, dilation = 1;  // kConv1d; stride also kAvgPool
  int kernel = 0;                             // kAvgPool window

  int64_t out_channels() const { return w_shape.empty() ? 0 : w_shape[0]; }
  // Products summed per output: C_in * K (conv) or N (dense); 0 for other ops.
  int64_t terms_per_output() const;
};

// Activation range of one tensor over calibration windows (graph_eval.h computes them).
struct ActRange {
  double lo = 0, hi = 0;
};

struct EdgeGraph {
  int in_channels = 0, length = 0, num_classes = 0;
  std::vector<std::vector<int64_t>> tensors;  // activation shapes, per window
  std::vector<EdgeOp> ops;                    // execution order
  int input = 0, output = -1;

  int64_t numel(int tensor) const;
  int64_t macs() const;          // multiply-accumulates per window (conv and dense)
  int64_t weight_count() const;  // weights + biases
  // Lifetime of every activation tensor in op indices, as the runtime's loader defines it:
  // first = the op writing it (-1 for the input), second = the last op reading it (num_ops for
  // the output).
  std::vector<std::pair<int, int>> lifetimes() const;
};

}  // namespace ppgkd
