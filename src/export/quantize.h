// int8 quantisation of an edge graph, all arithmetic on the host in double (CMSIS-NN / TFLite
// scheme); the device only accumulates in int32, requantises, offsets and clamps.
//
//   activations  per tensor, asymmetric: real = scale * (q - zero_point), 256 levels covering the
//                calibrated range widened to include 0 (so zero padding is exact)
//   weights      per output channel, symmetric: scale = max|w| / 127, q in [-127, 127] (-128 is
//                never produced: the runtime rejects it and the accumulator bound assumes 127)
//   bias         int32 at in_scale * w_scale[c]: round(b / (in_scale * w_scale[c]))
//   requant      in_scale * w_scale[c] / out_scale as a multiplier in [2^30, 2^31) with 16
//                significant bits (the blob stores multiplier >> 15 as a u16) and a shift
//   logits       the layer writing the graph output (the 180-class head) uses one weight scale
//                for all rows (per tensor) by default, so it needs one requantisation entry
//                instead of 180; docs/RESULTS.md measures what that costs against per channel
//
// Edge cases: an all-zero weight channel takes w_scale = 1 (its weights are 0 whatever the scale);
// a channel whose weights are so small next to its bias that the int32 bias would leave no room
// for the accumulation gets a larger w_scale, just enough for |bias| + n * 127 * 255 <= 2^31 - 1
// (its weights then round to small integers, which is all the precision they carry next to that
// bias anyway). Not here: choosing ranges (graph_eval.h) or writing the blob.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "export/graph.h"

namespace ppgkd {

struct QParams {
  float scale = 1.0f;  // float, as stored in the blob; host arithmetic uses this exact value
  int32_t zero_point = 0;
};

// The calibrated range [lo, hi] widened to include 0 (and to at least 1e-6), 256 levels.
QParams qparams_from_range(double lo, double hi);

// real >= 0 -> (multiplier, shift) with real ~= multiplier * 2^(shift - 31), multiplier in
// [2^30, 2^31) rounded to 16 significant bits (a multiple of 2^15: TFLite's QuantizeMultiplier
// with a 16-bit mantissa, relative error <= 2^-16, below 0.002 of an int8 step at |y| <= 128).
// real == 0, or real < 2^-32 (every int32 accumulator then requantises to 0 or +-1 anyway) ->
// (0, 0); real >= 2^30 saturates to (65535 << 15, 30).
struct FixedPoint {
  int32_t multiplier = 0;
  int32_t shift = 0;
};
FixedPoint quantize_multiplier(double real);

// One op's int8 constants and its accumulator check.
struct QuantizedOp {
  std::vector<int8_t> weight;  // CONV1D / DENSE, layout as the float weight
  std::vector<int32_t> bias;   // CONV1D / DENSE (C_out)
  // Requantisation: CONV1D / DENSE [multipliers (n), shifts (n)] with n = C_out, or 1 when
  // per_tensor; ADD {left_shift, mult_a, shift_a, mult_b, shift_b, mult_out, shift_out};
  // AVG_POOL1D {multiplier, shift}. Multipliers as quantize_multiplier makes them.
  std::vector<int32_t> quant;
  bool per_tensor = false;      // CONV1D / DENSE: one weight scale for every row
  std::vector<double> w_scale;  // per output channel (all equal when per_tensor)
  int64_t n_terms = 0;          // products per output (C_in * K or N)
  int64_t max_abs_bias = 0;
  bool acc_fits = true;  // ppgkd_s8_accumulator_fits(n_terms, max_abs_bias)
};

struct QuantizedGraph {
  std::vector<QParams> act;  // per activation tensor
  std::vector<QuantizedOp> ops;
};

struct QuantizeOptions {
  bool per_tensor_logits = true;  // the CONV1D / DENSE layer writing the graph output per tensor
};

// Quantises every op from the activation ranges (one per tensor). Accumulator failures are
// recorded per op (acc_fits), not thrown: the exporter reports all of them at once.
QuantizedGraph quantize_graph(const EdgeGraph& g, const std::vector<ActRange>& ranges,
                              const QuantizeOptions& opt = {});

}  // namespace ppgkd
