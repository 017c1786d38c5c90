// Measured facts about an exported model: sizes (weights f32/int8, blob, planned arena), MACs and
// host latency per window (median over repeated runs) of the C runtime in f32 and int8 and of
// libtorch at batch 1. The edge_latency benchmark prints these for every ladder rung.
// Not here: timing on the microcontroller (edge/tests/run_qemu.sh counts instructions there).
//
// Shapes: N windows, C channels, L samples.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <string>

#include "models/networks.h"

namespace ppgkd {

struct ModelMeasurements {
  std::string spec;
  int64_t params = 0, macs = 0;
  int64_t weight_bytes_f32 = 0, weight_bytes_int8 = 0;  // weight + bias constants in the blob
  int64_t blob_bytes_f32 = 0, blob_bytes_int8 = 0;
  int64_t arena_bytes_f32 = 0, arena_bytes_int8 = 0;
  // Median nanoseconds per window; -1 when not measured.
  double edge_f32_ns = -1, edge_int8_ns = -1, torch_ns = -1;
};

struct MeasureOptions {
  int repeats = 31;        // timed runs per runtime (the median is reported)
  bool time_torch = true;  // libtorch batch-1 forward
  bool time_edge = true;
};

// Exports `net` in f32 and int8 (calibrated on calib (N, C, L)) and times each runtime on the
// first window of calib. libtorch runs with whatever thread count the caller set.
ModelMeasurements measure_net(NetImpl& net, const torch::Tensor& calib, const MeasureOptions& opt);

// Median wall time of fn() in nanoseconds over `repeats` runs after `warmup` untimed runs.
double median_ns(const std::function<void()>& fn, int repeats, int warmup = 2);

// Replaces every BatchNorm's affine parameters and running statistics with random values
// (gamma in [0.5, 1.5], beta ~ N(0, 0.2), mean ~ N(0, 0.5), var in [0.5, 2]) from `seed`, so a
// freshly initialised network folds non-trivially (a default BN is the identity in eval mode).
void randomise_batchnorm(torch::nn::Module& m, uint64_t seed);

}  // namespace ppgkd
