// Running the exporter's float graph with libtorch ops, batched: the folded-graph side of the
// parity tests (against the module's eval() forward) and the calibrator's source of activation
// ranges. Not the edge runtime (edge_runner.h runs that).
//
// Shapes: B windows, C input channels, L samples, K classes.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "export/graph.h"

namespace ppgkd {

// (B, C, L) -> every activation tensor of the graph, batched: element t has shape
// (B, tensors[t]...). Element graph.output holds the (B, K) logits. Throws Error on a wrong input
// shape.
std::vector<torch::Tensor> run_graph(const EdgeGraph& g, const torch::Tensor& x);

// How ranges are taken from the calibration activations:
//   "minmax"          the observed minimum and maximum (default; nothing saturates on the
//                     calibration windows)
//   "percentile:P"    the (100 - P)th and Pth percentiles of the values, P in (50, 100], e.g.
//                     "percentile:99.99" (outliers saturate, the bulk gets finer steps)
// Throws Error("calibration", ...) for anything else.
struct CalibMethod {
  std::string name = "minmax";
  double percentile = 100.0;
  static CalibMethod parse(const std::string& s);
  std::string str() const;
};

// Runs the graph over x (N, C, L) in batches and returns one range per activation tensor.
std::vector<ActRange> calibrate_ranges(const EdgeGraph& g, const torch::Tensor& x,
                                       const CalibMethod& method, int batch = 256);

}  // namespace ppgkd
