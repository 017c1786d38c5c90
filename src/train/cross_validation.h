// The cross-validation driver that `ppgkd train` and `ppgkd distill` share: the fold loop (one
// fold into OUT, or every fold into OUT/fold-i), the validation split of each fold, the metrics
// of a trained fold (validation and test), the fields every fold's model.json records, and
// OUT/summary.json. What differs between the commands is one fold's work, handed in as a
// function: train_fold below (supervised) or distill_fold (distill.h). The grouped trainer
// (distill_group.h) reaches the same split, metrics and record through distill.h.
// Not here: option parsing and printing (cli/train.cpp, cli/distill.cpp), the training loop
// (trainer.h), the folds themselves (folds.h).
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "data/cache.h"
#include "data/preprocess.h"
#include "models/model_spec.h"
#include "train/folds.h"
#include "train/init_from.h"
#include "train/model_dir.h"
#include "train/trainer.h"

namespace ppgkd {

// ------------------------------------------------------------------------------ the data

// The windows every fold is cut from, and what model.json records about them.
struct CvData {
  const WindowSet* ws = nullptr;
  PreprocessConfig preprocess;
  std::string data_root;    // recorded
  std::string data_key;     // window cache key (data fingerprint + preprocessing): keys caches
  std::string fingerprint;  // recorded
};

// The CvData of windows loaded through the window cache (load_windows and its CacheInfo).
CvData cv_data(const WindowSet& ws, const PreprocessConfig& preprocess,
               const std::string& data_root, const CacheInfo& info);

// ------------------------------------------------------------------------------ one fold

// A fold after its validation split: the fold's training subjects split into fit and validation
// subjects (split_validation with cfg.val_fraction and cfg.seed), and the window rows of each part
// and of the test subjects.
struct FoldRows {
  std::vector<std::string> fit, val;
  std::vector<size_t> fit_rows, val_rows, test_rows;
};
FoldRows split_fold(const WindowSet& ws, const Fold& fold, const TrainConfig& cfg);

// The metrics of a trained fold as model.json records them: best_val_mae_bpm (null when no
// validation MAE was finite), best_epoch, stopped_early, train_windows_per_second, and "test"
// (metrics.h over the test rows, decoded from `net`) when the fold has test rows.
nlohmann::json fold_metrics(NetImpl& net, const WindowSet& ws, const FoldRows& rows,
                            const TrainResult& result, const TrainConfig& cfg);

// The model record of a trained fold: training config (+ threads), data, subjects of each split,
// fold, `split_kind` (FoldPlan::kind()), metrics, history and `extra`.
ModelRecord fold_record(const CvData& data, const Fold& fold, const std::string& split_kind,
                        const FoldRows& rows, const TrainConfig& cfg, const TrainResult& result,
                        const nlohmann::json& metrics, const nlohmann::json& extra);

// The "extra" every fold's model.json starts from: the split seed, the train-only datasets and
// the transition scale fitted on the fold's training labels (decoders read it back).
nlohmann::json fold_extra(const FoldPlan& plan, double transition_scale_bpm);

// ------------------------------------------------------------------------------ supervised

// `ppgkd train` on one fold: a network from `spec` and `cfg.seed` (optionally warm-started from
// `init_dir`), trained on the fit rows with early stopping on the validation rows, written to
// `out_dir` as a model directory.
struct TrainFoldJob {
  ModelSpec spec;
  TrainConfig cfg;
  Fold fold;
  std::string split = "kfold";  // recorded: FoldPlan::kind()
  std::string out_dir;
  bool resume = false;
  std::string init_dir;                  // empty: fresh weights
  std::string progress_label = "train";  // empty: no progress bar
  nlohmann::json extra;                  // merged into the record's "extra" (fold_extra)
  // Called after the warm start with what was loaded and the fold's test subjects the init model
  // trained on (its test metrics are then optimistic), before training starts.
  std::function<void(const InitRecord&, const std::vector<std::string>& seen_test_subjects)>
      on_init;
};

struct FoldResult {
  nlohmann::json metrics;  // as written to model.json
  double best_val_mae = 0;
  int best_epoch = -1;
};

FoldResult train_fold(const CvData& data, const TrainFoldJob& job, const FoldRows& rows);

// ------------------------------------------------------------------------------ every fold

struct CvPlan {
  std::string command = "train";  // names errors: Error(command, "--fold 9 out of range (0..3)")
  FoldPlan split;
  int fold = -1;  // >= 0: only this fold, into `out`; -1: every fold into out/fold-i
  std::string out;
  TrainConfig cfg;         // its validation split; recorded in summary.json
  nlohmann::json summary;  // the command's own summary.json fields (spec, teacher, ...)
};

// One fold's work: trains (or distils) `fold` into the model directory `dir`, using `rows`
// (split_fold's), and returns its model.json metrics.
using FoldWork =
    std::function<nlohmann::json(const Fold& fold, const FoldRows& rows, const std::string& dir)>;

struct CvSummary {
  size_t tested_folds = 0;                    // folds with test metrics
  double test_mae_mean = 0, test_mae_sd = 0;  // over tested folds (sd with n - 1; 0 for one)
};

// Runs `work` on the selected fold, or on every fold and then writes out/summary.json:
//   the plan's summary fields, data, data_fingerprint, split, folds, training, context,
//   folds_detail [{fold, test_subjects, metrics}], and test_mae_bpm_mean/_sd when any fold was
//   tested.
// Returns the summary for every fold, nothing for a single fold. Throws Error(plan.command, ...)
// for a fold out of range.
std::optional<CvSummary> run_cross_validation(const CvData& data, const CvPlan& plan,
                                              const FoldWork& work);

}  // namespace ppgkd
