// `ppgkd export`: a trained network to the edge runtime's artefacts.
//
//   export_net        network (+ calibration windows for int8) -> blob, stats, summary (memory)
//   export_model_dir  model directory -> OUT/model.ppgm, OUT/model_data.{c,h}, OUT/export.json,
//                     each written atomically
//
// Pipeline: lower (fold BN, fuse ReLU; lower.h) -> [int8: calibrate ranges on windows
// (graph_eval.h), quantise on the host (quantize.h), refuse a layer whose int32 accumulator could
// overflow] -> plan the arena and write the blob (blob_writer.h) -> load it back into the C
// runtime (which validates everything) -> C arrays (c_writer.h).
//
// Calibration windows come from the model's training data: model.json records the data root,
// its fingerprint and the training subjects; the windows are rebuilt with the model's own
// preprocessing, restricted to the training subjects (never the test fold), and N of them are
// taken evenly spaced. --calib-data overrides the root ("synthetic" for the generator).
//
// Shapes: N windows, C channels, L samples.
#pragma once

#include <torch/torch.h>

#include <nlohmann/json.hpp>
#include <string>

#include "data/preprocess.h"
#include "export/blob_writer.h"
#include "export/graph.h"
#include "export/graph_eval.h"
#include "export/quantize.h"
#include "models/networks.h"
#include "train/model_record.h"

namespace ppgkd {

struct ExportOptions {
  std::string quant = "f32";      // "f32" or "int8"
  CalibMethod calib;              // int8 only
  int decode_radius = 10;         // bins either side of the argmax for the on-device decoder
  bool per_tensor_logits = true;  // int8: the layer writing the logits with one weight scale
};

struct ExportResult {
  EdgeGraph graph;       // folded float graph
  QuantizedGraph quant;  // int8 only (empty for f32)
  std::string blob;      // model.ppgm bytes, accepted by the edge runtime
  BlobStats stats;
  nlohmann::json summary;  // sizes, MACs, quantisation per layer (export.json without provenance)
};

// Exports `net` (its eval() behaviour). calib (N, C, L) is used for int8 only and must then hold
// at least one window. Throws Error(where, ...) when a layer's accumulator bound fails
// ("int8 export refused: layer '...' ..."), or when the runtime rejects the blob.
ExportResult export_net(NetImpl& net, const ExportOptions& opt, const torch::Tensor& calib,
                        const std::string& where);

struct ExportRequest {
  std::string model_dir;
  std::string out_dir;
  std::string quant = "f32";
  std::string calib_data;  // "" = the root recorded in model.json; a directory; "synthetic"
  int calib_windows = 512;
  std::string calib_method = "minmax";
  std::string cache_dir;                 // window cache ("" = none)
  double input_rate_hz = 0;              // the sensor's rate for the bundle (0 = the model's rate)
  std::string int8_head = "per-tensor";  // int8 logits layer: "per-tensor" or "per-channel"
};

// Loads the model directory, exports it, writes the four files into out_dir as one set (a failure
// part-way leaves the previous set intact) and returns the export.json content, which includes
// the bundle (bundle.h: preprocessing and decoding; model_data.h carries it too). Throws Error
// naming the offending path.
nlohmann::json export_model_dir(const ExportRequest& req);

// The calibration windows for a model directory, (N, C, L) with N <= n (fewer when the data has
// fewer training windows); `provenance` (may be null) gets root, fingerprints and counts.
// The rows come from `record`'s training subjects in `calib_data` (default: its recorded root).
torch::Tensor calibration_windows(const std::string& model_dir, const ModelRecord& record,
                                  const std::string& calib_data, int n,
                                  const std::string& cache_dir, nlohmann::json* provenance);

}  // namespace ppgkd
