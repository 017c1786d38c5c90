// A model directory: everything needed to use a trained model and to know where it came from.
//
//   DIR/model.pt     weights (torch::save format of the module: parameters and BN buffers)
//   DIR/model.json   spec, inputs, preprocessing config, class map, decoding rule, training
//                    config, data fingerprint, subjects of each split, fold, metrics, history,
//                    run context (date, host, git commit)
//   DIR/checkpoint.pt, DIR/best.pt   the trainer's state (kept so --resume can recognise a
//                    finished run)
//
// Loading checks compatibility with the data it is about to see: a model trained on one
// preprocessing must not silently run on another. Not here: training or evaluation.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/preprocess.h"
#include "models/networks.h"
#include "train/model_record.h"

namespace ppgkd {

// ModelRecord (model_record.h) is model.json, typed: callers fill its provenance and results
// (training, data, split, metrics, history, extra); save_model_dir fills the rest.

// Writes model.pt then model.json (both atomically) into `dir`: `record` with the network's
// fields (spec, family, sizes, inputs), the preprocessing, the class map, the decoding rule and
// the run context filled in.
void save_model_dir(const std::string& dir, NetImpl& net, const PreprocessConfig& preprocess,
                    const ModelRecord& record);

struct LoadedModel {
  Net net;                      // in eval mode
  PreprocessConfig preprocess;  // record.preprocess
  ModelRecord record;           // model.json
};

// Reads model.json (ModelRecord::read: every field typed), builds the network from its spec and
// loads model.pt. Throws Error naming the file (and the field) on anything missing or malformed.
LoadedModel load_model_dir(const std::string& dir);

// Throws Error(DIR/model.json, "...") naming the first preprocessing field that differs between
// the model and the data about to be fed to it, e.g.
//   "model expects preprocessing inputs = "ppg+acc" but the data has "ppg"".
// Fields in `ignore` are not compared (e.g. "causal" for a streaming predictor that knowingly
// swaps zero-phase for causal filters).
void check_compatible(const std::string& dir, const LoadedModel& model,
                      const PreprocessConfig& data, const std::vector<std::string>& ignore = {});

}  // namespace ppgkd
