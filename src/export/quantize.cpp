// Host-side int8 quantisation (see quantize.h).
#include "export/quantize.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "common/error.h"
#include "ppgkd_edge_ops.h"

namespace ppgkd {

namespace {

constexpr double kInt32Max = 2147483647.0;
constexpr double kMinSpan = 1e-6;
constexpr int kAddLeftShift = 20;  // TFLite's headroom for int8 ADD (255 << 20 < 2^28)
constexpr int kMultiplierDropBits = PPGKD_RQ_MULT_SHIFT;  // the blob stores multiplier >> 15

// Halves away from zero, as TFLite rounds on the host.
int64_t round_away(double x) {
  return static_cast<int64_t>(std::round(x));
}

// Symmetric weights (per output channel, or one scale for all rows when per_tensor), int32 bias
// and requantisation for CONV1D / DENSE.
QuantizedOp quantize_weighted(const EdgeOp& op, double s_in, double s_out, bool per_tensor) {
  QuantizedOp q;
  const int64_t rows = op.w_shape.at(0);
  const int64_t per_row = static_cast<int64_t>(op.weight.size()) / rows;
  q.n_terms = op.terms_per_output();
  q.per_tensor = per_tensor;
  // Room the bias may take so that |bias| + n * 127 * 255 stays in int32 (may be <= 0, in which
  // case no bias can help and the layer fails the accumulator check).
  const double bias_room = kInt32Max - static_cast<double>(q.n_terms) * 127.0 * 255.0;
  q.weight.resize(op.weight.size());
  q.bias.resize(rows);
  q.w_scale.resize(rows);
  // Each row's scale: its largest |w| over 127 (1 for an all-zero row), raised where its bias
  // needs the room.
  double largest = 0;  // per tensor: the largest scale of a row that has weights or was raised
  for (int64_t r = 0; r < rows; ++r) {
    const float* w = op.weight.data() + r * per_row;
    double max_abs = 0;
    for (int64_t i = 0; i < per_row; ++i) max_abs = std::max(max_abs, std::fabs(double{w[i]}));
    double s_w = max_abs > 0 ? max_abs / 127.0 : 1.0;
    const double b = op.bias.at(r);
    bool counts = max_abs > 0;
    if (bias_room >= 1.0 && std::fabs(b) / (s_in * s_w) > bias_room) {
      s_w = std::fabs(b) / (s_in * bias_room);
      counts = true;
    }
    q.w_scale[r] = s_w;
    if (counts) largest = std::max(largest, s_w);
  }
  // Per tensor, the largest row scale serves every row, raised where any bias (an all-zero row's
  // too) needs the room: every row's weights and bias then fit.
  if (per_tensor) {
    if (largest == 0) largest = 1.0;
    for (int64_t r = 0; r < rows && bias_room >= 1.0; ++r)
      largest = std::max(largest, std::fabs(op.bias.at(r)) / (s_in * bias_room));
    std::fill(q.w_scale.begin(), q.w_scale.end(), largest);
  }
  std::vector<int32_t> mult, shift;
  for (int64_t r = 0; r < rows; ++r) {
    const float* w = op.weight.data() + r * per_row;
    const double s_w = q.w_scale[r];
    for (int64_t i = 0; i < per_row; ++i)
      q.weight[r * per_row + i] =
          static_cast<int8_t>(std::clamp<int64_t>(round_away(w[i] / s_w), -127, 127));
    const double bq = std::clamp(op.bias.at(r) / (s_in * s_w), -kInt32Max, kInt32Max);
    q.bias[r] = static_cast<int32_t>(round_away(bq));
    q.max_abs_bias = std::max<int64_t>(q.max_abs_bias, std::llabs(int64_t{q.bias[r]}));
    if (!per_tensor || r == 0) {
      const FixedPoint fp = quantize_multiplier(s_in * s_w / s_out);
      mult.push_back(fp.multiplier);
      shift.push_back(fp.shift);
    }
  }
  q.acc_fits = q.n_terms <= std::numeric_limits<uint32_t>::max() &&
               ppgkd_s8_accumulator_fits(static_cast<uint32_t>(q.n_terms),
                                         static_cast<uint32_t>(q.max_abs_bias)) == 1;
  q.quant = mult;
  q.quant.insert(q.quant.end(), shift.begin(), shift.end());
  return q;
}

}  // namespace

QParams qparams_from_range(double lo, double hi) {
  if (!std::isfinite(lo) || !std::isfinite(hi) || lo > hi)
    throw Error("quantisation", "activation range is not finite or empty");
  lo = std::min(lo, 0.0);
  hi = std::max(hi, 0.0);
  if (hi - lo < kMinSpan) hi = lo + kMinSpan;
  QParams q;
  q.scale = static_cast<float>((hi - lo) / 255.0);
  const int64_t zp = round_away(-128.0 - lo / double{q.scale});
  q.zero_point = static_cast<int32_t>(std::clamp<int64_t>(zp, -128, 127));
  return q;
}

FixedPoint quantize_multiplier(double real) {
  FixedPoint f;
  if (!(real > 0)) return f;  // 0 (and NaN, which callers never pass) -> (0, 0)
  int e = 0;
  const double frac = std::frexp(real, &e);  // real = frac * 2^e, frac in [0.5, 1)
  int64_t m = round_away(frac * 65536.0);    // 16 significant bits
  if (m == (int64_t{1} << 16)) {             // frac rounded up to 1.0
    m /= 2;
    ++e;
  }
  if (e < -31) return f;
  if (e > 30) {
    m = 0xFFFF;
    e = 30;
  }
  f.multiplier = static_cast<int32_t>(m << kMultiplierDropBits);
  f.shift = e;
  return f;
}

QuantizedGraph quantize_graph(const EdgeGraph& g, const std::vector<ActRange>& ranges,
                              const QuantizeOptions& opt) {
  if (ranges.size() != g.tensors.size())
    throw Error("quantisation", "one activation range per tensor expected");
  QuantizedGraph qg;
  for (const ActRange& r : ranges) qg.act.push_back(qparams_from_range(r.lo, r.hi));
  for (const EdgeOp& op : g.ops) {
    const double s_in = qg.act.at(op.in0).scale, s_out = qg.act.at(op.out).scale;
    QuantizedOp q;
    switch (op.type) {
      case EdgeOpType::kConv1d:
      case EdgeOpType::kDense:
        q = quantize_weighted(op, s_in, s_out, opt.per_tensor_logits && op.out == g.output);
        break;
      case EdgeOpType::kAdd: {
        // TFLite's scheme: both inputs to a common scale of twice the larger one, 20 bits of
        // headroom, then to the output scale.
        const double s_b = qg.act.at(op.in1).scale;
        const double common = 2.0 * std::max(s_in, s_b);
        const FixedPoint fa = quantize_multiplier(s_in / common);
        const FixedPoint fb = quantize_multiplier(s_b / common);
        const FixedPoint fo =
            quantize_multiplier(common / (std::ldexp(1.0, kAddLeftShift) * s_out));
        q.quant = {kAddLeftShift, fa.multiplier, fa.shift, fb.multiplier,
                   fb.shift,      fo.multiplier, fo.shift};
        break;
      }
      case EdgeOpType::kAvgPool: {
        const FixedPoint f = quantize_multiplier(s_in / (s_out * op.kernel));
        q.quant = {f.multiplier, f.shift};
        break;
      }
    }
    qg.ops.push_back(std::move(q));
  }
  return qg;
}

}  // namespace ppgkd
