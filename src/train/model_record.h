// model.json, typed in both directions: ModelRecord::to_json writes what a model directory records
// (model_dir.h), ModelRecord::from_json reads it back and checks every field's type, so a reader
// never meets a string where it expects a number. A field of the wrong type or a missing required
// field is one Error naming the file and the field:
//   run/model.json: field "spec" must be a string
//   run/model.json: field "split.fold" must be an integer
//   run/model.json: field "inputs.channels" is missing
// Required: schema (== kModelDirSchema), spec, inputs.channels, inputs.length, preprocess,
// classes.count. Every other field may be absent and then keeps the default below.
// Plain C++ (JSON and structs, no libtorch), so torch-free code can read model directories. Not
// here: the weights, building the network, or whether the spec parses (model_dir.h does that).
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/preprocess.h"

namespace ppgkd {

constexpr int kModelDirSchema = 1;

// metrics.test as a sweep records it: the test MAE (mean over test subjects) and its parts.
struct RecordedTest {
  double mae_bpm = 0;                             // metrics.test.mae_bpm
  std::map<std::string, double> subject_mae_bpm;  // metrics.test.subject_mae_bpm
  std::map<std::string, double> dataset_mae_bpm;  // metrics.test.dataset_mae_bpm (may be absent)
};

struct ModelRecord {
  int schema = kModelDirSchema;
  // ---- the network (save_model_dir fills these from the net it saves)
  std::string spec;    // canonical model spec, e.g. "resnet1d:w=16,d=2,k=7"
  std::string family;  // "resnet1d", "mlp", ...
  int64_t params = 0, macs_per_window = 0, weight_bytes_f32 = 0;
  std::string inputs;            // inputs.name: "ppg" or "ppg+acc"
  int channels = 0, length = 0;  // inputs.channels, inputs.length: the (C, L) of a window
  PreprocessConfig preprocess;
  // classes: class c covers [min_bpm + c * bin_bpm, ...) BPM.
  int class_count = 0;
  double class_min_bpm = 0, class_bin_bpm = 0;
  std::string class_rule;
  // decoding: posterior-weighted mean within +-radius bins of the argmax.
  std::string decode_rule;
  int decode_radius = 10;
  // ---- provenance and results (the caller of save_model_dir fills these)
  nlohmann::json training;  // TrainConfig::to_json() (+ threads), or a distillation's config
  std::string data_root;
  std::string data_fingerprint;  // CacheInfo::fingerprint
  std::vector<std::string> train_subjects, val_subjects, test_subjects;
  int fold = -1, folds = 0;  // -1: no fold (all data)
  std::string split;         // "kfold", "loso", "ldo", ...; written as "none" when empty
  nlohmann::json metrics;    // e.g. {"test": to_json(HrMetrics), "best_val_mae_bpm": ...}
  nlohmann::json history;    // TrainResult::history_json()
  nlohmann::json extra;      // anything else (teacher, distillation, init, ...); null: not written
  nlohmann::json context;    // run_context() at save time

  // model.json as written (keys sorted; nulls replaced: metrics {}, history [], training {}).
  nlohmann::json to_json() const;
  // Throws Error(where, "field \"NAME\" ...") for a missing required field or a field of the
  // wrong type, Error(where, "schema N is not supported ...") for another schema.
  static ModelRecord from_json(const nlohmann::json& j, const std::string& where);
  // Reads and parses `path` (a model.json); Error(path, ...) when unreadable or not JSON.
  static ModelRecord read(const std::string& path);

  // metrics.test of a finished run. Throws Error(where, "field \"metrics.test.mae_bpm\" is
  // missing") or "... must be a number" for a missing or mistyped field (mae_bpm and
  // subject_mae_bpm are required, dataset_mae_bpm is optional).
  RecordedTest test_metrics(const std::string& where) const;

  // extra.transition_scale_bpm when it is a positive number, else 0 (not recorded).
  double transition_scale_bpm() const;
};

}  // namespace ppgkd
