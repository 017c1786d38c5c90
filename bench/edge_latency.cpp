// edge_latency: sizes and host latency of every ladder rung exported to the edge C runtime.
// For each rung (resnet_ladder(), mlp_ladder()) a randomly initialised, BN-randomised model is
// exported in f32 and int8 (calibrated on synthetic windows) and the table gives params, MACs,
// blob and arena bytes, the median time per window of the C runtime (f32, int8) and of libtorch
// at batch 1 (1 thread unless --threads), libtorch's time over the runtime's, and the int8
// speed-up over f32 (all ratios of medians taken in the same run).
// Host numbers only: they rank the runtimes on this CPU, they are not microcontroller timings.
//
//   edge_latency [--threads N] [--rungs r1,r2,m1] [--torch-max-macs N] [--budget-ms MS]
#include <torch/torch.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "data/cache.h"
#include "export/measure.h"
#include "models/model_spec.h"

namespace {

// (N, C, L) synthetic windows, evenly spaced over the generated recordings.
torch::Tensor synthetic_windows(int n) {
  const ppgkd::WindowSet ws =
      ppgkd::load_windows("synthetic", ppgkd::PreprocessConfig{}, "", nullptr);
  const int64_t per = int64_t{ws.channels} * ws.length;
  auto x = torch::empty({n, ws.channels, ws.length});
  for (int i = 0; i < n; ++i) {
    const float* w = ws.window_ptr(static_cast<size_t>(i) * ws.size() / n);
    std::copy(w, w + per, x.data_ptr<float>() + i * per);
  }
  return x;
}

std::string us(double ns) {
  if (ns < 0) return "-";
  char b[32];
  std::snprintf(b, sizeof b, "%.2f", ns / 1000.0);
  return b;
}

std::string ratio(double a, double b) {
  if (a < 0 || b <= 0) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", a / b);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Sizes and host latency of every ladder rung in the edge C runtime vs libtorch"};
  int threads = 1;
  std::string rungs;
  int64_t torch_max_macs = 2'000'000'000;
  double budget_ms = 1500;
  app.add_option("--threads", threads, "libtorch threads")->capture_default_str();
  app.add_option("--rungs", rungs, "Comma-separated rung names (default: all)");
  app.add_option("--torch-max-macs", torch_max_macs,
                 "Skip libtorch timing above this many MACs per window")
      ->capture_default_str();
  app.add_option("--budget-ms", budget_ms, "Approximate timing budget per runtime and rung")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  torch::set_num_threads(threads);

  std::vector<ppgkd::LadderRung> todo;
  for (const auto* ladder : {&ppgkd::resnet_ladder(), &ppgkd::mlp_ladder()})
    for (const auto& r : *ladder)
      if (rungs.empty() || ("," + rungs + ",").find("," + r.name + ",") != std::string::npos)
        todo.push_back(r);

  const torch::Tensor calib = synthetic_windows(64);
  std::printf("edge_latency: median host time per window (us); libtorch %d thread(s), batch 1\n",
              threads);
  std::printf("%-4s %9s %11s %10s %10s %9s %9s %10s %10s %10s %8s %8s %8s\n", "rung", "params",
              "MACs", "blob_f32", "blob_int8", "arena_f32", "arena_i8", "edge_f32", "edge_int8",
              "libtorch", "lt/f32", "lt/int8", "f32/int8");
  for (const auto& r : todo) {
    const ppgkd::ModelSpec spec = ppgkd::ModelSpec::parse(r.spec, 4, 200);
    torch::manual_seed(1);
    ppgkd::Net net = ppgkd::make_net(spec);
    ppgkd::randomise_batchnorm(*net, 2);
    net->eval();
    ppgkd::MeasureOptions opt;
    // Repeats from a rough 1 ns/MAC guess so each runtime stays near the budget.
    opt.repeats =
        std::clamp(static_cast<int>(budget_ms * 1e6 / std::max<int64_t>(1, spec.macs())), 5, 201);
    opt.time_torch = spec.macs() <= torch_max_macs;
    const ppgkd::ModelMeasurements m = ppgkd::measure_net(*net, calib, opt);
    std::printf("%-4s %9lld %11lld %10lld %10lld %9lld %9lld %10s %10s %10s %8s %8s %8s\n",
                r.name.c_str(), static_cast<long long>(m.params), static_cast<long long>(m.macs),
                static_cast<long long>(m.blob_bytes_f32), static_cast<long long>(m.blob_bytes_int8),
                static_cast<long long>(m.arena_bytes_f32),
                static_cast<long long>(m.arena_bytes_int8), us(m.edge_f32_ns).c_str(),
                us(m.edge_int8_ns).c_str(), us(m.torch_ns).c_str(),
                ratio(m.torch_ns, m.edge_f32_ns).c_str(), ratio(m.torch_ns, m.edge_int8_ns).c_str(),
                ratio(m.edge_f32_ns, m.edge_int8_ns).c_str());
    std::fflush(stdout);
  }
  return 0;
}
