// `ppgkd export --model DIR --out DIR --quant f32|int8 [--format blob|onnx]
//  [--int8-head per-tensor|per-channel] [--calib-data DIR|synthetic] [--calib-windows N] [--calib
//  minmax|percentile:P] [--cache DIR]
//  [--threads N]`: the edge runtime's artefacts of a trained model (OUT/model.ppgm,
// OUT/model_data.{c,h}, OUT/export.json), or with --format onnx an ONNX model (OUT/model.onnx,
// OUT/onnx.json). All the work is in export/exporter.h and export/onnx_export.h; this file parses
// and prints.
#include <torch/torch.h>

#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "export/exporter.h"
#include "export/onnx_export.h"

namespace ppgkd::cli {

namespace {

struct ExportCliOptions {
  ExportRequest req;
  std::string format = "blob";
  int threads = 1;
};

void run_export_onnx(const ExportRequest& req) {
  const nlohmann::json j = export_model_dir_onnx(req);
  std::printf("exported %s (%s) to %s/model.onnx: %lld B, opset %d, checked\n",
              j["spec"].get<std::string>().c_str(), req.quant.c_str(), req.out_dir.c_str(),
              j["onnx_bytes"].get<long long>(), j["opset"].get<int>());
  if (j.contains("calibration"))
    std::printf(
        "  int8 QDQ calibrated (%s) on %lld windows; edge int8 vs f32 there: max |logit "
        "diff| %.4g\n",
        j["calibration"]["method"].get<std::string>().c_str(),
        j["calibration"]["windows"].get<long long>(),
        j["calibration"]["int8_vs_f32_max_abs_logit_diff"].get<double>());
}

void run_export(const ExportCliOptions& o) {
  torch::set_num_threads(o.threads);
  if (o.format == "onnx") return run_export_onnx(o.req);
  const nlohmann::json j = export_model_dir(o.req);
  std::printf("exported %s (%s) to %s\n", j["spec"].get<std::string>().c_str(), o.req.quant.c_str(),
              o.req.out_dir.c_str());
  std::printf("  blob %lld B (weights %lld B), arena %lld B, %lld MACs/window\n",
              j["blob_bytes"].get<long long>(), j["weight_bytes"].get<long long>(),
              j["arena_bytes"].get<long long>(), j["macs"].get<long long>());
  if (j.contains("calibration")) {
    const auto& c = j["calibration"];
    std::printf("  int8 calibrated (%s) on %lld windows from %s (%s); accumulators fit int32\n",
                c["method"].get<std::string>().c_str(), c["windows"].get<long long>(),
                c["data"]["root"].get<std::string>().c_str(),
                c["data"]["rows_from"].get<std::string>().c_str());
    std::printf("  int8 vs f32 on those windows: max |logit diff| %.4g, BPM MAE %.4g\n",
                c["int8_vs_f32_max_abs_logit_diff"].get<double>(),
                c["int8_vs_f32_bpm_mae"].get<double>());
    if (!c["data"]["fingerprint_matches_training"].get<bool>())
      std::printf("  note: the calibration data's fingerprint differs from the training data's\n");
  }
}

}  // namespace

void setup_export(CLI::App& app) {
  auto opt = std::make_shared<ExportCliOptions>();
  CLI::App* cmd = app.add_subcommand(
      "export", "Export a trained model to the edge C runtime (model.ppgm, model_data.c/.h)");
  cmd->add_option("--model", opt->req.model_dir, "Model directory (model.json + model.pt)")
      ->required()
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--out", opt->req.out_dir, "Output directory (created if absent)")->required();
  cmd->add_option("--quant", opt->req.quant, "Weights and activations: f32 or int8")
      ->check(CLI::IsMember({"f32", "int8"}))
      ->capture_default_str();
  cmd->add_option("--format", opt->format,
                  "blob: the edge runtime's model.ppgm and C arrays; onnx: model.onnx (opset 13, "
                  "int8 as QDQ)")
      ->check(CLI::IsMember({"blob", "onnx"}))
      ->capture_default_str();
  cmd->add_option("--int8-head", opt->req.int8_head,
                  "int8 only: the logits layer's weights with one scale (per-tensor: one "
                  "requantisation entry) or one per class (per-channel: 180 entries)")
      ->check(CLI::IsMember({"per-tensor", "per-channel"}))
      ->capture_default_str();
  cmd->add_option("--calib-data", opt->req.calib_data,
                  "int8 calibration data root, or 'synthetic' (default: the model's training "
                  "data as recorded in model.json)");
  cmd->add_option("--calib-windows", opt->req.calib_windows,
                  "Calibration windows, evenly spaced over the training subjects' windows")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--calib", opt->req.calib_method,
                  "Activation ranges: minmax, or percentile:P (e.g. percentile:99.99)")
      ->capture_default_str();
  cmd->add_option("--cache", opt->req.cache_dir, "Window cache directory (default: no cache)");
  cmd->add_option("--input-rate", opt->req.input_rate_hz,
                  "The sensor's sampling rate in Hz, for the bundle's resampler (default: the "
                  "model's rate, no resampling)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--threads", opt->threads, "libtorch threads")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->callback([opt] { run_export(*opt); });
}

}  // namespace ppgkd::cli
