// The export pipeline (see exporter.h).
#include "export/exporter.h"

#include <fmt/format.h>

#include <cmath>
#include <cstring>

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/run_record.h"
#include "data/cache.h"
#include "export/bundle.h"
#include "export/c_writer.h"
#include "export/edge_runner.h"
#include "export/export_input.h"
#include "export/lower.h"
#include "ppgkd_edge_format.h"
#include "train/model_dir.h"

namespace ppgkd {

namespace {

const char* op_name(EdgeOpType t) {
  switch (t) {
    case EdgeOpType::kConv1d:
      return "conv1d";
    case EdgeOpType::kDense:
      return "dense";
    case EdgeOpType::kAdd:
      return "add";
    case EdgeOpType::kAvgPool:
      return "avg_pool1d";
  }
  return "?";
}

// Per-layer quantisation summary, and the accumulator check the runtime repeats at load:
// |acc| <= max|bias| + n * 127 * 255 must fit int32.
nlohmann::json layer_summary(const EdgeGraph& g, const QuantizedGraph* q) {
  nlohmann::json layers = nlohmann::json::array();
  for (size_t j = 0; j < g.ops.size(); ++j) {
    const EdgeOp& op = g.ops[j];
    nlohmann::json l = {{"name", op.name},
                        {"op", op_name(op.type)},
                        {"relu", op.relu},
                        {"out_shape", g.tensors[op.out]}};
    if (!op.w_shape.empty()) l["w_shape"] = op.w_shape;
    if (q) {
      const QuantizedOp& qo = q->ops[j];
      l["in_scale"] = q->act[op.in0].scale;
      l["in_zero_point"] = q->act[op.in0].zero_point;
      l["out_scale"] = q->act[op.out].scale;
      l["out_zero_point"] = q->act[op.out].zero_point;
      if (!qo.w_scale.empty()) {
        l["w_scale_min"] = *std::min_element(qo.w_scale.begin(), qo.w_scale.end());
        l["w_scale_max"] = *std::max_element(qo.w_scale.begin(), qo.w_scale.end());
        l["acc_terms"] = qo.n_terms;
        l["acc_max_abs_bias"] = qo.max_abs_bias;
        l["acc_bound"] = qo.max_abs_bias + qo.n_terms * 127 * 255;
        l["acc_fits_int32"] = qo.acc_fits;
      }
    }
    layers.push_back(std::move(l));
  }
  return layers;
}

}  // namespace

ExportResult export_net(NetImpl& net, const ExportOptions& opt, const torch::Tensor& calib,
                        const std::string& where) {
  if (opt.quant != "f32" && opt.quant != "int8")
    throw Error(where, fmt::format("unknown quantisation '{}' (expected f32 or int8)", opt.quant));
  const bool s8 = opt.quant == "int8";
  // Refused before any work, named by the model (directory) rather than only by its spec.
  if (net.spec().is_ensemble()) throw Error(where, ensemble_refusal(net.spec()));
  if (net.spec().spectral > 0) throw Error(where, spectral_refusal(net.spec()));
  ExportResult r;
  r.graph = lower_net(net);
  if (s8) {
    if (!calib.defined() || calib.dim() != 3 || calib.size(0) < 1)
      throw Error(where, "int8 export needs calibration windows (N, C, L) with N >= 1");
    const auto ranges = calibrate_ranges(r.graph, calib, opt.calib);
    QuantizeOptions qo;
    qo.per_tensor_logits = opt.per_tensor_logits;
    r.quant = quantize_graph(r.graph, ranges, qo);
    for (size_t j = 0; j < r.graph.ops.size(); ++j) {
      const QuantizedOp& q = r.quant.ops[j];
      if (!q.acc_fits)
        throw Error(where, fmt::format("int8 export refused: layer '{}' can overflow its int32 "
                                       "accumulator (max |bias| {} + {} terms x 127 x 255 = {} > "
                                       "2147483647); keep this model in f32",
                                       r.graph.ops[j].name, q.max_abs_bias, q.n_terms,
                                       q.max_abs_bias + q.n_terms * 127 * 255));
    }
  }
  r.blob = write_blob(r.graph, s8 ? &r.quant : nullptr, opt.decode_radius, &r.stats);
  EdgeModel edge(r.blob, where);  // the runtime validates the whole blob, as a device would

  const ModelSpec& spec = net.spec();
  auto& s = r.summary;
  s["quant"] = opt.quant;
  if (s8) s["int8_head"] = opt.per_tensor_logits ? "per-tensor" : "per-channel";
  s["spec"] = spec.str();
  s["params"] = spec.num_params();
  s["macs"] = r.graph.macs();
  s["weight_bytes"] = r.stats.weight_bytes;
  s["quant_bytes"] = r.stats.quant_bytes;
  s["blob_bytes"] = r.stats.blob_bytes;
  s["arena_bytes"] = r.stats.arena_bytes;
  s["arena_lower_bound_bytes"] = r.stats.arena_lower_bound;
  s["ops"] = r.stats.num_ops;
  s["tensors"] = r.stats.num_tensors;
  s["decode_radius"] = opt.decode_radius;
  s["bn_folded"] = spec.family == "resnet1d";
  s["layers"] = layer_summary(r.graph, s8 ? &r.quant : nullptr);
  if (s8) {
    // How far the int8 runtime strays from the folded float graph on the calibration windows.
    torch::NoGradGuard no_grad;
    const auto ref = run_graph(r.graph, calib)[r.graph.output].contiguous();
    const int64_t n = calib.size(0), k = r.graph.num_classes;
    auto x = calib.to(torch::kFloat32).contiguous();
    std::vector<float> y(k);
    double max_diff = 0, bpm_abs = 0;
    for (int64_t i = 0; i < n; ++i) {
      edge.logits(x.data_ptr<float>() + i * x.size(1) * x.size(2), y.data());
      const float* f = ref.data_ptr<float>() + i * k;
      for (int64_t c = 0; c < k; ++c) max_diff = std::max(max_diff, std::fabs(double{y[c]} - f[c]));
      bpm_abs += std::fabs(edge.decode(y.data()) - edge.decode(f));
    }
    s["accumulators_fit_int32"] = true;
    s["calibration"] = {{"method", opt.calib.str()},
                        {"windows", n},
                        {"int8_vs_f32_max_abs_logit_diff", max_diff},
                        {"int8_vs_f32_bpm_mae", bpm_abs / static_cast<double>(n)}};
  }
  return r;
}

torch::Tensor calibration_windows(const std::string& model_dir, const ModelRecord& record,
                                  const std::string& calib_data, int n,
                                  const std::string& cache_dir, nlohmann::json* provenance) {
  const std::string json_path = model_dir + "/model.json";
  if (n < 1) throw Error("export", fmt::format("--calib-windows must be >= 1, got {}", n));
  const std::string& recorded_root = record.data_root;
  const std::string& recorded_fp = record.data_fingerprint;
  const std::string root = calib_data.empty() ? recorded_root : calib_data;
  if (root.empty())
    throw Error(json_path,
                "records no training data root; pass --calib-data DIR (or synthetic) for int8");
  CacheInfo ci;
  const WindowSet ws = load_windows(root, record.preprocess, cache_dir, &ci);
  if (ws.size() == 0) throw Error(root, "no windows to calibrate on");

  // The training subjects only, so the test fold's windows never shape the quantisation.
  const std::vector<std::string>& train = record.train_subjects;
  std::vector<size_t> rows = train.empty() ? std::vector<size_t>{} : ws.rows_of_subjects(train);
  const bool by_subject = !rows.empty();
  if (!by_subject)
    for (size_t i = 0; i < ws.size(); ++i) rows.push_back(i);
  const size_t take = std::min(rows.size(), static_cast<size_t>(n));
  const int64_t per = int64_t{ws.channels} * ws.length;
  auto x = torch::empty({static_cast<int64_t>(take), ws.channels, ws.length});
  for (size_t i = 0; i < take; ++i)  // evenly spaced over the rows: all recordings contribute
    std::memcpy(x.data_ptr<float>() + i * per, ws.window_ptr(rows[i * rows.size() / take]),
                per * sizeof(float));
  if (provenance) {
    *provenance = {
        {"root", root},
        {"fingerprint", ci.fingerprint},
        {"recorded_root", recorded_root},
        {"recorded_fingerprint", recorded_fp},
        {"fingerprint_matches_training", !recorded_fp.empty() && recorded_fp == ci.fingerprint},
        {"rows_from", by_subject ? "training subjects" : "all windows"},
        {"available_windows", rows.size()},
        {"windows", take}};
  }
  return x;
}

namespace {

// The bundle into export.json and the C files, then the four files as one set, swapped in whole:
// a failure part-way leaves the previous export intact.
void write_export_set(const ExportRequest& req, const ExportResult& r, const Bundle& bundle,
                      nlohmann::json* j) {
  (*j)["bundle"] = bundle_json(bundle);
  const std::string prefix = "ppgkd_model";
  write_file_set_atomic(req.out_dir,
                        {{"model.ppgm", r.blob},
                         {"model_data.h", model_data_header(r.blob, r.stats.arena_bytes, prefix,
                                                            bundle_defines(bundle, prefix))},
                         {"model_data.c", model_data_source(r.blob, prefix, "model_data.h",
                                                            bundle_arrays(bundle, prefix))},
                         {"export.json", j->dump(2) + "\n"}});
}

}  // namespace

ExportInput open_export(const ExportRequest& req) {
  if (req.out_dir.empty()) throw Error("export", "no output directory given");
  ExportOptions opt;
  opt.quant = req.quant;
  opt.calib = CalibMethod::parse(req.calib_method);
  if (opt.quant != "f32" && opt.quant != "int8")
    throw Error("export",
                fmt::format("unknown quantisation '{}' (expected f32 or int8)", opt.quant));
  if (req.int8_head != "per-tensor" && req.int8_head != "per-channel")
    throw Error("export", fmt::format("unknown int8 head '{}' (expected per-tensor or per-channel)",
                                      req.int8_head));
  opt.per_tensor_logits = req.int8_head == "per-tensor";
  LoadedModel lm = load_model_dir(req.model_dir);
  // Before the int8 calibration loads any data.
  if (lm.net->spec().is_ensemble()) throw Error(req.model_dir, ensemble_refusal(lm.net->spec()));
  opt.decode_radius = lm.record.decode_radius;
  return {std::move(lm), opt};
}

ExportResult lower_export(const ExportRequest& req, ExportInput& in, nlohmann::json* calibration) {
  torch::Tensor calib;
  if (in.opt.quant == "int8")
    calib = calibration_windows(req.model_dir, in.model.record, req.calib_data, req.calib_windows,
                                req.cache_dir, calibration);
  return export_net(*in.model.net, in.opt, calib, req.model_dir);
}

nlohmann::json export_model_dir(const ExportRequest& req) {
  ExportInput in = open_export(req);
  const ExportOptions& opt = in.opt;
  const Bundle bundle =
      make_bundle(in.model.preprocess, in.model.record, req.input_rate_hz, opt.decode_radius);
  nlohmann::json provenance;
  ExportResult r = lower_export(req, in, &provenance);

  nlohmann::json j = r.summary;
  j["schema"] = 1;
  j["model_dir"] = req.model_dir;
  j["format_version"] = PPGKD_VERSION;
  j["files"] = {"model.ppgm", "model_data.c", "model_data.h"};
  j["c_symbols"] = {{"array", "ppgkd_model_data"},
                    {"bytes", "PPGKD_MODEL_BYTES"},
                    {"arena_bytes", "PPGKD_MODEL_ARENA_BYTES"}};
  if (opt.quant == "int8") j["calibration"]["data"] = provenance;
  j["context"] = run_context();
  write_export_set(req, r, bundle, &j);
  return j;
}

}  // namespace ppgkd
