// What every export format (blob, ONNX) starts from: the request checked and the model directory
// loaded, with the models no format can hold refused before any calibration data is read.
#pragma once

#include <nlohmann/json.hpp>

#include "export/exporter.h"
#include "train/model_dir.h"

namespace ppgkd {

struct ExportInput {
  LoadedModel model;
  ExportOptions opt;  // quantisation, calibration method and the model's decode radius
};

ExportInput open_export(const ExportRequest& req);

// The blob pipeline's lowering (folded batch norm; for int8, calibrated on the request's data,
// whose provenance goes to *calibration).
ExportResult lower_export(const ExportRequest& req, ExportInput& in, nlohmann::json* calibration);

}  // namespace ppgkd
