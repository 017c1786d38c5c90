// Batched float execution of the edge graph and activation-range calibration (see graph_eval.h).
#include "export/graph_eval.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "common/error.h"

namespace ppgkd {

namespace {

torch::Tensor as_tensor(const std::vector<float>& v, const std::vector<int64_t>& shape) {
  // from_blob does not copy; clone so the tensor owns its memory beyond the graph's lifetime.
  return torch::from_blob(const_cast<float*>(v.data()), shape, torch::kFloat32).clone();
}

}  // namespace

std::vector<torch::Tensor> run_graph(const EdgeGraph& g, const torch::Tensor& x_in) {
  if (x_in.dim() != 3 || x_in.size(1) != g.in_channels || x_in.size(2) != g.length)
    throw Error("edge graph", fmt::format("expected input (B, {}, {}), got {}", g.in_channels,
                                          g.length, c10::str(x_in.sizes())));
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> act(g.tensors.size());
  act[g.input] = x_in.to(torch::kFloat32);
  const int64_t batch = x_in.size(0);
  for (const EdgeOp& op : g.ops) {
    torch::Tensor y;
    const torch::Tensor& a = act.at(op.in0);
    switch (op.type) {
      case EdgeOpType::kConv1d:
        y = torch::conv1d(a, as_tensor(op.weight, op.w_shape), as_tensor(op.bias, {op.w_shape[0]}),
                          op.stride, op.padding, op.dilation);
        break;
      case EdgeOpType::kDense:
        y = torch::addmm(as_tensor(op.bias, {op.w_shape[0]}), a.reshape({batch, -1}),
                         as_tensor(op.weight, op.w_shape).t());
        break;
      case EdgeOpType::kAdd:
        y = a + act.at(op.in1);
        break;
      case EdgeOpType::kAvgPool:
        y = torch::avg_pool1d(a, op.kernel, op.stride);
        break;
    }
    if (op.relu) y = torch::relu(y);
    std::vector<int64_t> shape{batch};
    for (int64_t d : g.tensors.at(op.out)) shape.push_back(d);
    act.at(op.out) = y.reshape(shape);
  }
  return act;
}

// ---------------------------------------------------------------------------- calibration

CalibMethod CalibMethod::parse(const std::string& s) {
  CalibMethod m;
  if (s == "minmax") return m;
  const std::string prefix = "percentile:";
  if (s.rfind(prefix, 0) == 0) {
    try {
      size_t used = 0;
      m.percentile = std::stod(s.substr(prefix.size()), &used);
      if (used == s.size() - prefix.size() && m.percentile > 50.0 && m.percentile <= 100.0) {
        m.name = "percentile";
        return m;
      }
    } catch (const std::exception&) {
    }
  }
  throw Error(
      "calibration",
      fmt::format("unknown method '{}' (expected minmax or percentile:P, 50 < P <= 100)", s));
}

std::string CalibMethod::str() const {
  return name == "minmax" ? name : fmt::format("percentile:{}", percentile);
}

std::vector<ActRange> calibrate_ranges(const EdgeGraph& g, const torch::Tensor& x,
                                       const CalibMethod& method, int batch) {
  if (x.size(0) < 1) throw Error("calibration", "no calibration windows");
  const size_t n_t = g.tensors.size();
  std::vector<ActRange> r(n_t, ActRange{INFINITY, -INFINITY});
  // Percentiles: keep a strided sample of at most ~2^20 values per tensor so memory stays bounded
  // for wide layers; the stride is fixed per tensor so every window contributes alike.
  constexpr int64_t kMaxSample = int64_t{1} << 20;
  std::vector<std::vector<float>> sample(method.name == "minmax" ? 0 : n_t);
  std::vector<int64_t> stride(n_t, 1);
  for (size_t t = 0; t < sample.size(); ++t)
    stride[t] = std::max<int64_t>(
        1, (x.size(0) * g.numel(static_cast<int>(t)) + kMaxSample - 1) / kMaxSample);
  for (int64_t start = 0; start < x.size(0); start += batch) {
    const auto act = run_graph(g, x.slice(0, start, std::min<int64_t>(x.size(0), start + batch)));
    for (size_t t = 0; t < n_t; ++t) {
      r[t].lo = std::min(r[t].lo, act[t].min().item<double>());
      r[t].hi = std::max(r[t].hi, act[t].max().item<double>());
      if (!sample.empty()) {
        auto flat = act[t].reshape({-1}).slice(0, 0, c10::nullopt, stride[t]).contiguous();
        sample[t].insert(sample[t].end(), flat.data_ptr<float>(),
                         flat.data_ptr<float>() + flat.numel());
      }
    }
  }
  for (size_t t = 0; t < sample.size(); ++t) {
    auto& v = sample[t];
    const auto at = [&](double q) {
      const size_t k = static_cast<size_t>(std::llround(q * static_cast<double>(v.size() - 1)));
      std::nth_element(v.begin(), v.begin() + k, v.end());
      return static_cast<double>(v[k]);
    };
    r[t].lo = at(1.0 - method.percentile / 100.0);
    r[t].hi = at(method.percentile / 100.0);
  }
  return r;
}

}  // namespace ppgkd
