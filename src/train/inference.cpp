// Batched inference and decoding (see inference.h).
#include "train/inference.h"

#include <fmt/format.h>

#include <cstring>

#include "common/error.h"
#include "data/dsp/class_map.h"

namespace ppgkd {

torch::Tensor gather_windows(const WindowSet& ws, const std::vector<size_t>& rows) {
  const int64_t per = int64_t{ws.channels} * ws.length;
  auto x = torch::empty({static_cast<int64_t>(rows.size()), ws.channels, ws.length});
  float* dst = x.data_ptr<float>();
  for (size_t i = 0; i < rows.size(); ++i) {
    if (rows[i] >= ws.size())
      throw Error("windows", fmt::format("row {} out of range ({} windows)", rows[i], ws.size()));
    std::memcpy(dst + i * per, ws.window_ptr(rows[i]), per * sizeof(float));
  }
  return x;
}

torch::Tensor gather_targets(const WindowSet& ws, const std::vector<size_t>& rows) {
  auto y = torch::empty({static_cast<int64_t>(rows.size())}, torch::kInt64);
  auto* p = y.data_ptr<int64_t>();
  for (size_t i = 0; i < rows.size(); ++i) p[i] = bpm_to_class(ws.hr.at(rows[i]));
  return y;
}

ModelOutputs run_model(NetImpl& net, const WindowSet& ws, const std::vector<size_t>& rows,
                       int batch, int feature_stage) {
  if (batch <= 0) throw Error("inference", fmt::format("batch must be positive, got {}", batch));
  const auto& spec = net.spec();
  if (ws.channels != spec.in_channels || ws.length != spec.length)
    throw Error(spec.str(), fmt::format("model takes (C={}, L={}) windows but the data has "
                                        "(C={}, L={})",
                                        spec.in_channels, spec.length, ws.channels, ws.length));
  torch::NoGradGuard no_grad;
  const bool was_training = net.is_training();
  net.eval();
  std::vector<torch::Tensor> logits, feats;
  for (size_t start = 0; start < rows.size(); start += batch) {
    std::vector<size_t> chunk(rows.begin() + start,
                              rows.begin() + std::min(rows.size(), start + batch));
    auto out = net.forward_with_feature(gather_windows(ws, chunk), feature_stage);
    logits.push_back(out.logits);
    if (out.feature.defined()) feats.push_back(out.feature);
  }
  net.train(was_training);
  ModelOutputs r;
  r.logits = logits.empty() ? torch::empty({0, kNumClasses}) : torch::cat(logits);
  if (!feats.empty()) r.features = torch::cat(feats);
  return r;
}

std::vector<double> decode_posteriors(const torch::Tensor& prob_in, int radius) {
  auto prob = prob_in.to(torch::kFloat32).contiguous();
  if (prob.dim() != 2 || prob.size(1) != kNumClasses)
    throw Error("decoding", fmt::format("expected posteriors (N, {}), got {}", kNumClasses,
                                        c10::str(prob.sizes())));
  std::vector<double> bpm(prob.size(0));
  const float* p = prob.data_ptr<float>();
  for (int64_t i = 0; i < prob.size(0); ++i)
    bpm[i] = decode_posterior_bpm(p + i * kNumClasses, radius, nullptr);
  return bpm;
}

std::vector<double> predict_bpm(NetImpl& net, const WindowSet& ws, const std::vector<size_t>& rows,
                                int batch) {
  auto out = run_model(net, ws, rows, batch);
  return decode_posteriors(torch::softmax(out.logits, 1));
}

}  // namespace ppgkd
