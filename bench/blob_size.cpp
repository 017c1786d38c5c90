// blob_size: where each ladder rung's model blob spends its bytes beyond weights and biases, in
// the current format (version 3, docs/FORMAT.md) against version 2 (computed from the same graph
// with version 2's layout: op records of 22/14/8/6/10 bytes plus a 4-byte constant offset each in
// int8, s32 requantisation constants of 8 bytes per channel, 28 per ADD, 8 per pool).
//
//   blob_size [--rungs r1,r2,m1]
//       For each rung a randomly initialised, BN-randomised model is exported in f32 and int8
//       (calibrated on synthetic windows); sizes do not depend on the weights' values.
//         weights  = weight and bias constants, each padded to 4 (export.json weight_bytes);
//         overhead = blob - weights: header + op table + tensor table + table padding + quant
//                    (requantisation, with its padding) + CRC, the issue's "beyond weights and
//                    biases".
//   blob_size --model DIR --data ROOT [--calib N]
//       The accuracy side of the int8 head's quantisation on real windows: the model exported
//       in f32 and in int8 with the output layer per channel and per tensor (calibrated on N
//       windows of DIR's training subjects), run by the edge runtime on the windows of DIR's test
//       subjects (all windows when it has none); reports BPM MAE against the reference, mean and
//       max |BPM - f32 BPM|, max |logit - f32 logit| and argmax agreement with f32.
#include <torch/torch.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "data/cache.h"
#include "export/blob_writer.h"
#include "export/edge_runner.h"
#include "export/exporter.h"
#include "export/graph_eval.h"
#include "export/lower.h"
#include "export/measure.h"
#include "export/quantize.h"
#include "models/model_spec.h"
#include "train/model_dir.h"

namespace {

// n windows of ws (rows evenly spaced over `rows`) as (n, C, L).
torch::Tensor windows_of(const ppgkd::WindowSet& ws, const std::vector<size_t>& rows, int n) {
  n = std::min<int>(n, static_cast<int>(rows.size()));
  const int64_t per = int64_t{ws.channels} * ws.length;
  auto x = torch::empty({n, ws.channels, ws.length});
  for (int i = 0; i < n; ++i) {
    const float* w = ws.window_ptr(rows[static_cast<size_t>(i) * rows.size() / n]);
    std::copy(w, w + per, x.data_ptr<float>() + i * per);
  }
  return x;
}

std::vector<size_t> all_rows(const ppgkd::WindowSet& ws) {
  std::vector<size_t> r(ws.size());
  for (size_t i = 0; i < r.size(); ++i) r[i] = i;
  return r;
}

// Version 2's bytes for the same export: header, op records (+4 per op holding a quant offset in
// int8), activation records, alignment, the same weights, s32 quant constants, CRC.
struct V2Bytes {
  int64_t ops = 0, quant = 0, total = 0;
};
V2Bytes v2_bytes(const ppgkd::ExportResult& r, bool s8) {
  V2Bytes v;
  for (const auto& op : r.graph.ops) {
    switch (op.type) {
      case ppgkd::EdgeOpType::kConv1d:
        v.ops += 22;
        v.quant += s8 ? 8 * op.w_shape[0] : 0;
        break;
      case ppgkd::EdgeOpType::kDense:
        v.ops += 14;
        v.quant += s8 ? 8 * op.w_shape[0] : 0;
        break;
      case ppgkd::EdgeOpType::kAdd:
        v.ops += 8;
        v.quant += s8 ? 28 : 0;
        break;
      case ppgkd::EdgeOpType::kAvgPool:
        v.ops += 10;
        v.quant += s8 ? 8 : 0;
        break;
    }
    v.ops += s8 ? 4 : 0;
  }
  const int64_t tables = 68 + v.ops + static_cast<int64_t>(r.graph.tensors.size()) * (s8 ? 14 : 10);
  v.total = (tables + 3) / 4 * 4 + r.stats.weight_bytes + v.quant + 4;
  return v;
}

int sizes(const std::string& rungs_arg) {
  const std::string rungs = rungs_arg.empty() ? "r1,r2,r3,r4,r5,m1,m2,m3,m4,m5,m6" : rungs_arg;
  const ppgkd::WindowSet ws =
      ppgkd::load_windows("synthetic", ppgkd::PreprocessConfig{}, "", nullptr);
  const torch::Tensor calib = windows_of(ws, all_rows(ws), 32);
  std::printf(
      "| rung | quant | ops | acts | weights B | blob v2 B | blob v3 B | overhead v2 B | "
      "overhead v3 B | v3: header | op table | tensor table | table pad | quant (pad) | CRC | "
      "weight pad |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
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
        const auto& st = r.stats;
        const V2Bytes v2 = v2_bytes(r, s8);
        const int64_t w = st.weight_bytes;
        std::printf(
            "| %s | %s | %lld | %lld | %lld | %lld | %lld | %lld | %lld | %lld | %lld | %lld | "
            "%lld | %lld (%lld) | %lld | %lld |\n",
            rung.name.c_str(), quant, static_cast<long long>(st.num_ops),
            static_cast<long long>(st.num_tensors), static_cast<long long>(w),
            static_cast<long long>(v2.total), static_cast<long long>(st.blob_bytes),
            static_cast<long long>(v2.total - w), static_cast<long long>(st.blob_bytes - w),
            static_cast<long long>(st.header_bytes), static_cast<long long>(st.op_table_bytes),
            static_cast<long long>(st.tensor_table_bytes),
            static_cast<long long>(st.table_pad_bytes), static_cast<long long>(st.quant_bytes),
            static_cast<long long>(st.quant_pad_bytes), static_cast<long long>(st.crc_bytes),
            static_cast<long long>(st.weight_pad_bytes));
        std::fflush(stdout);
      }
    }
  return 0;
}

// One exported variant run over the evaluation windows.
struct Variant {
  std::string name;
  std::string blob;
  ppgkd::EdgeOutputs out;
};

int accuracy(const std::string& model_dir, const std::string& data, int n_calib) {
  torch::set_num_threads(1);
  ppgkd::LoadedModel m = ppgkd::load_model_dir(model_dir);
  const ppgkd::WindowSet ws = ppgkd::load_windows(data, m.preprocess, "", nullptr);
  std::vector<size_t> calib_rows = ws.rows_of_subjects(m.record.train_subjects);
  std::vector<size_t> eval_rows = ws.rows_of_subjects(m.record.test_subjects);
  if (calib_rows.empty()) calib_rows = all_rows(ws);
  if (eval_rows.empty()) eval_rows = all_rows(ws);
  const torch::Tensor calib = windows_of(ws, calib_rows, n_calib);

  const ppgkd::EdgeGraph g = ppgkd::lower_net(*m.net);
  const auto ranges = ppgkd::calibrate_ranges(g, calib, ppgkd::CalibMethod{});
  std::vector<Variant> vs;
  vs.push_back({"f32", ppgkd::write_blob(g, nullptr, 10, nullptr), {}});
  for (const bool per_tensor : {false, true}) {
    ppgkd::QuantizeOptions qo;
    qo.per_tensor_logits = per_tensor;
    const ppgkd::QuantizedGraph q = ppgkd::quantize_graph(g, ranges, qo);
    vs.push_back({per_tensor ? "int8, head per tensor" : "int8, head per channel",
                  ppgkd::write_blob(g, &q, 10, nullptr),
                  {}});
  }
  for (Variant& v : vs) {
    ppgkd::EdgeModel em(v.blob, v.name);
    v.out = ppgkd::run_edge(em, ws, eval_rows);
  }
  const size_t n = eval_rows.size(), k = static_cast<size_t>(g.num_classes);
  std::printf("%s on %s: %zu evaluation windows, %d calibration windows\n\n", model_dir.c_str(),
              data.c_str(), n, static_cast<int>(calib.size(0)));
  std::printf(
      "| variant | blob B | BPM MAE | mean \\|BPM - f32\\| | max \\|BPM - f32\\| | "
      "max \\|logit - f32\\| | argmax = f32 |\n|---|---|---|---|---|---|---|\n");
  const auto& ref = vs[0].out;
  for (const Variant& v : vs) {
    double mae = 0, dmean = 0, dmax = 0, lmax = 0;
    size_t same = 0;
    for (size_t i = 0; i < n; ++i) {
      mae += std::fabs(v.out.bpm[i] - ws.hr[eval_rows[i]]);
      const double d = std::fabs(v.out.bpm[i] - ref.bpm[i]);
      dmean += d;
      dmax = std::max(dmax, d);
      const float* a = v.out.logits.data() + i * k;
      const float* b = ref.logits.data() + i * k;
      for (size_t c = 0; c < k; ++c) lmax = std::max(lmax, std::fabs(double{a[c]} - b[c]));
      same += std::max_element(a, a + k) - a == std::max_element(b, b + k) - b;
    }
    std::printf("| %s | %zu | %.3f | %.3f | %.3f | %.4f | %.2f %% |\n", v.name.c_str(),
                v.blob.size(), mae / n, dmean / n, dmax, lmax, 100.0 * same / n);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Blob bytes beyond weights per ladder rung (format v3 against v2), or the int8 "
      "head's accuracy on real windows"};
  std::string rungs, model_dir, data;
  int n_calib = 512;
  app.add_option("--rungs", rungs, "Comma-separated rung names (default: r1..r5, m1..m6)");
  app.add_option("--model", model_dir, "A trained model directory: measure accuracy instead");
  app.add_option("--data", data, "Data root of the evaluation windows (with --model)");
  app.add_option("--calib", n_calib, "Calibration windows (with --model)")
      ->check(CLI::PositiveNumber);
  CLI11_PARSE(app, argc, argv);
  torch::set_num_threads(1);
  try {
    if (!model_dir.empty()) {
      if (data.empty()) {
        std::fprintf(stderr, "blob_size: error: --model needs --data\n");
        return 2;
      }
      return accuracy(model_dir, data, n_calib);
    }
    return sizes(rungs);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "blob_size: error: %s\n", e.what());
    return 1;
  }
}
