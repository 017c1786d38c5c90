// blob_size: how much of each ladder rung's model blob is format rather than weights, in the
// current format (version 2, docs/FORMAT.md) and in version 1 (fixed 64-byte records for every op
// and tensor, constants included: 68 + 64 * (ops + tensors) + data bytes, computed from the same
// graph). For each rung a randomly initialised, BN-randomised model is exported in f32 and int8
// (calibrated on synthetic windows); sizes do not depend on the weights' values.
//   weights  = weight and bias constants (with their 4-byte alignment), as export.json's
//              weight_bytes; quant = int8 requantisation constants;
//   overhead = blob - weights (header, records, quant, CRC), the issue's "beyond weights and
//              biases".
//
//   blob_size [--rungs r1,r2,m1]
#include <torch/torch.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "data/cache.h"
#include "export/exporter.h"
#include "export/measure.h"
#include "models/model_spec.h"

namespace {

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

// Version 1's size of the same export: every activation and every constant had a 64-byte record.
int64_t v1_bytes(const ppgkd::ExportResult& r, bool s8) {
  int64_t consts = 0;
  for (const auto& op : r.graph.ops) {
    const bool weighted =
        op.type == ppgkd::EdgeOpType::kConv1d || op.type == ppgkd::EdgeOpType::kDense;
    consts += (weighted ? 2 : 0) + (s8 ? 1 : 0);  // weight, bias; quant (every op here has one)
  }
  const int64_t tensors = static_cast<int64_t>(r.graph.tensors.size()) + consts;
  return 64 + 64 * (static_cast<int64_t>(r.graph.ops.size()) + tensors) + r.stats.weight_bytes +
         r.stats.quant_bytes + 4;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Blob bytes against weight bytes per ladder rung, format version 2 and 1"};
  std::string rungs;
  app.add_option("--rungs", rungs, "Comma-separated rung names (default: r1..r5, m1..m6)");
  CLI11_PARSE(app, argc, argv);
  torch::set_num_threads(1);
  if (rungs.empty()) rungs = "r1,r2,r3,r4,r5,m1,m2,m3,m4,m5,m6";
  const torch::Tensor calib = synthetic_windows(32);
  std::printf(
      "| rung | params | ops | quant | weights B | quant B | blob v1 B | blob v2 B | "
      "overhead v1 B | overhead v2 B | v2 / v1 |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (const auto* ladder : {&ppgkd::resnet_ladder(), &ppgkd::mlp_ladder()})
    for (const auto& rung : *ladder) {
      if (("," + rungs + ",").find("," + rung.name + ",") == std::string::npos) continue;
      const ppgkd::ModelSpec spec = ppgkd::ModelSpec::parse(rung.spec, 4, 200);
      torch::manual_seed(1);
      ppgkd::Net net = ppgkd::make_net(spec);
      ppgkd::randomise_batchnorm(*net, 2);
      net->eval();
      for (const char* quant : {"f32", "int8"}) {
        ppgkd::ExportOptions opt;
        opt.quant = quant;
        const ppgkd::ExportResult r = ppgkd::export_net(*net, opt, calib, rung.name);
        const bool s8 = opt.quant == "int8";
        const int64_t v1 = v1_bytes(r, s8), v2 = r.stats.blob_bytes, w = r.stats.weight_bytes;
        std::printf("| %s | %lld | %lld | %s | %lld | %lld | %lld | %lld | %lld | %lld | %.3f |\n",
                    rung.name.c_str(), static_cast<long long>(spec.num_params()),
                    static_cast<long long>(r.stats.num_ops), quant, static_cast<long long>(w),
                    static_cast<long long>(r.stats.quant_bytes), static_cast<long long>(v1),
                    static_cast<long long>(v2), static_cast<long long>(v1 - w),
                    static_cast<long long>(v2 - w), static_cast<double>(v2) / v1);
        std::fflush(stdout);
      }
    }
  return 0;
}
