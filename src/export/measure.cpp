// Size and latency measurements of exported models (see measure.h).
#include "export/measure.h"

#include <algorithm>
#include <chrono>
#include <vector>

#include "export/edge_runner.h"
#include "export/exporter.h"

namespace ppgkd {

double median_ns(const std::function<void()>& fn, int repeats, int warmup) {
  for (int i = 0; i < warmup; ++i) fn();
  std::vector<double> t;
  for (int i = 0; i < std::max(1, repeats); ++i) {
    const auto a = std::chrono::steady_clock::now();
    fn();
    const auto b = std::chrono::steady_clock::now();
    t.push_back(std::chrono::duration<double, std::nano>(b - a).count());
  }
  std::nth_element(t.begin(), t.begin() + t.size() / 2, t.end());
  return t[t.size() / 2];
}

ModelMeasurements measure_net(NetImpl& net, const torch::Tensor& calib, const MeasureOptions& opt) {
  ModelMeasurements m;
  m.spec = net.spec().str();
  m.params = net.spec().num_params();
  ExportOptions eo;
  const ExportResult f32 = export_net(net, eo, calib, m.spec);
  eo.quant = "int8";
  const ExportResult s8 = export_net(net, eo, calib, m.spec);
  m.macs = f32.graph.macs();
  m.weight_bytes_f32 = f32.stats.weight_bytes;
  m.weight_bytes_int8 = s8.stats.weight_bytes;
  m.blob_bytes_f32 = f32.stats.blob_bytes;
  m.blob_bytes_int8 = s8.stats.blob_bytes;
  m.arena_bytes_f32 = f32.stats.arena_bytes;
  m.arena_bytes_int8 = s8.stats.arena_bytes;

  const auto x = calib.slice(0, 0, 1).to(torch::kFloat32).contiguous();  // (1, C, L)
  const float* window = x.data_ptr<float>();
  if (opt.time_edge) {
    std::vector<float> logits(f32.graph.num_classes);
    EdgeModel ef(f32.blob, m.spec), es(s8.blob, m.spec);
    m.edge_f32_ns = median_ns([&] { ef.logits(window, logits.data()); }, opt.repeats);
    m.edge_int8_ns = median_ns([&] { es.logits(window, logits.data()); }, opt.repeats);
  }
  if (opt.time_torch) {
    torch::NoGradGuard no_grad;
    const bool was_training = net.is_training();
    net.eval();
    m.torch_ns = median_ns([&] { net.forward(x); }, opt.repeats);
    net.train(was_training);
  }
  return m;
}

void randomise_batchnorm(torch::nn::Module& m, uint64_t seed) {
  torch::NoGradGuard no_grad;
  auto gen = at::detail::createCPUGenerator(seed);
  for (auto& mod : m.modules(/*include_self=*/true)) {
    auto* bn = dynamic_cast<torch::nn::BatchNorm1dImpl*>(mod.get());
    if (!bn) continue;
    const int64_t c = bn->running_mean.size(0);
    bn->weight.copy_(torch::rand({c}, gen) + 0.5);
    bn->bias.copy_(torch::randn({c}, gen) * 0.2);
    bn->running_mean.copy_(torch::randn({c}, gen) * 0.5);
    bn->running_var.copy_(torch::rand({c}, gen) * 1.5 + 0.5);
  }
}

}  // namespace ppgkd
