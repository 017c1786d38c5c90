// `ppgkd export --format onnx`: a student as an ONNX model (opset 13) that other tools read.
//
//   onnx_model         lowered graph (+ its int8 quantisation) -> serialised ONNX ModelProto
//   check_onnx_model   ONNX's own checker plus strict shape inference, as onnx.checker's
//                      full_check does
//   export_model_dir_onnx  model directory -> OUT/model.onnx and OUT/onnx.json, both atomic
//
// The ONNX graph is the edge graph (lower.h), not the training module: BatchNorm is folded into
// the convolutions and ReLUs sit after the op they were fused into, so f32 ONNX computes what
// the f32 blob computes. int8 is QDQ: every activation tensor t of the edge graph becomes
// QuantizeLinear -> DequantizeLinear with t's calibrated (scale, zero_point); weights are int8
// initialisers behind a per-channel DequantizeLinear (axis 0, zero point 0) and biases int32
// behind one with scale in_scale * w_scale[c]. The constants are quantize.h's, the same the
// int8 blob carries, so a runtime that fuses the QDQ pattern into integer kernels differs from
// the edge runtime only in how it rounds the requantisation (float against fixed point).
//
// Input "window" (N, C, L) float, per-window standardised as the model's preprocessing
// delivers it; output "logits" (N, K) float (K = 180 classes, class c covers [30+c, 31+c) BPM).
// N is a symbolic dimension. Not here: the blob or the C arrays (exporter.h).
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "export/exporter.h"
#include "export/graph.h"
#include "export/quantize.h"

namespace ppgkd {

constexpr int kOnnxOpset = 13;

// Serialised ModelProto of g; q null for f32, else g's quantisation (one QParams per tensor,
// one QuantizedOp per op). metadata goes into metadata_props as key/value strings.
std::string onnx_model(const EdgeGraph& g, const QuantizedGraph* q,
                       const std::map<std::string, std::string>& metadata);

// Runs ONNX's checker and strict shape inference on serialised model bytes. Throws
// Error(where, "ONNX checker: <what it found>").
void check_onnx_model(const std::string& bytes, const std::string& where);

// Loads the model directory, exports it as export_net does (the same lowering, calibration and
// quantisation as the blob), writes OUT/model.onnx (checked first) and OUT/onnx.json, and
// returns the JSON. Spectral-branch models and ensembles are refused with lower.h's messages.
nlohmann::json export_model_dir_onnx(const ExportRequest& req);

}  // namespace ppgkd
