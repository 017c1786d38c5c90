// Knowledge distillation of one student on one subject-wise fold: the strategy and its
// hyperparameters, the teacher of the fold (checked never to have seen the fold's test subjects),
// the teacher's outputs cached once per fold (teacher_cache.h), the per-batch loss handed to the
// trainer, and the student's model directory. Not here: option parsing (the CLI), the fold loop,
// validation split, metrics and record fields (cross_validation.h),
// the loss formulas (losses.h), the training loop (trainer.h).
//
// Strategies (s student logits, t teacher logits, y ground truth, all (B, K)):
//   none     CE(y, s): a student from scratch; no teacher.
//   hard     (1 - alpha) CE(y, s) + alpha CE(argmax t, s).
//   soft     (1 - alpha) CE(y, s) + alpha T^2 KL(softmax(t/T) || softmax(s/T)).
//   dkd      CE(y, s) + warmup(epoch) (alpha TCKD + beta NCKD), warmup linear over warmup_epochs.
//   feature  CE(y, s) + lambda MSE(projector(student feature), teacher feature).
// Feature pairs: ResNet stage (C, L) against ResNet stage (C, L) through a 1x1 conv and time
// interpolation; MLP hidden layer (D) against MLP hidden layer (D) through a linear layer; across
// families the (C, L) side is averaged over time to (C) (what a ResNet head sees) and a linear
// layer maps the student's vector onto the teacher's.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "data/preprocess.h"
#include "models/model_spec.h"
#include "train/cross_validation.h"
#include "train/folds.h"
#include "train/losses.h"
#include "train/model_record.h"
#include "train/teacher_cache.h"
#include "train/trainer.h"

namespace ppgkd {

// ------------------------------------------------------------------------------ configuration

// The strategy and every hyperparameter any strategy uses; defaults(strategy) is the one table of
// defaults (placeholders until a validation search replaces them).
struct DistillConfig {
  std::string strategy = "none";  // none | hard | soft | dkd | feature
  double alpha = 0;               // hard: teacher-label weight; soft: KD weight; dkd: TCKD weight
  double beta = 0;                // dkd: NCKD weight
  double temperature = 1;         // soft, dkd
  double lambda = 0;              // feature: hint weight
  double warmup_epochs = 0;       // dkd: epochs over which the KD term ramps up (1-based epochs)
  int student_stage = -1;         // feature: student ResNet stage / MLP hidden layer (-1 = last)
  int teacher_stage = -1;         // feature: teacher stage (-1 = last)

  static DistillConfig defaults(const std::string& strategy);  // throws for an unknown strategy
  bool needs_teacher() const { return strategy != "none"; }
  bool needs_features() const { return strategy == "feature"; }
  // {"strategy": ..., and only the hyperparameters the strategy uses}.
  nlohmann::json to_json() const;
  void validate() const;  // throws Error("distill config", ...)
};

// "none", "hard", "soft", "dkd", "feature".
const std::vector<std::string>& distill_strategies();

// ------------------------------------------------------------------------------ teachers

// The teacher of fold `fold`: `dir` itself when it is a model directory (holds model.json), else
// dir/fold-<fold> when that is one. Throws Error(dir, ...) otherwise.
std::string teacher_dir_for_fold(const std::string& dir, int fold);

// Throws Error(teacher_dir, "...") naming the subjects when the teacher's recorded training
// (fit or validation) subjects include any of `test_subjects`, or when it records none.
void check_teacher_unseen(const std::string& teacher_dir, const ModelRecord& teacher,
                          const std::vector<std::string>& test_subjects);

// ------------------------------------------------------------------------------ the loss

// The BatchLoss of a strategy: looks the batch's rows up in `teacher` (null for "none") and
// applies the loss above. `projector` is used only by "feature" (null otherwise). For "feature",
// student_feature_pool says to average the student's (C, L) feature over time first.
BatchLoss make_distill_loss(const DistillConfig& cfg, std::shared_ptr<const TeacherOutputs> teacher,
                            FeatureProjector projector, bool student_feature_pool);

// ------------------------------------------------------------------------------ one fold

// The windows and what model.json records about them (the cross-validation driver's).
using DistillData = CvData;

struct DistillJob {
  ModelSpec student;
  TrainConfig train;
  DistillConfig distill;
  std::string teacher_dir;  // the fold's teacher model directory; unused for "none"
  Fold fold;
  std::string split = "kfold";  // recorded: "kfold", "loso" or "none"
  std::string out_dir;          // the student's model directory
  bool resume = false;
  std::string cache_dir;  // teacher cache directory; empty: inside the teacher directory
  std::string progress_label = "distill";  // empty: no progress bar
  nlohmann::json extra;                    // merged into the model record's "extra"
  // Strategy "none" only: write model.json as `ppgkd train` does (no distillation keys), for
  // scratch students that a sweep trains in a group (distill_group.h).
  bool record_as_train = false;
};

struct DistillResult {
  nlohmann::json metrics;          // as written to model.json
  TeacherCacheInfo teacher_cache;  // empty for "none"
  double wall_seconds = 0;
};

// Trains the student of one fold and writes its model directory (model.json records the
// strategy, its hyperparameters, the teacher's directory, spec and metrics, the splits, test
// metrics, wall time). Refuses a teacher that saw the fold's test subjects, a teacher whose
// preprocessing differs from the data, and (on resume) a checkpoint of another distillation.
DistillResult distill_fold(const DistillData& data, const DistillJob& job);

// distill_fold in two halves, so a group of students (distill_group.h) runs exactly the same
// steps around its grouped training:
//   prepare_student  splits validation subjects (split_fold), checks the teacher and loads its
//   outputs (once
//                    per cache file when `memo` is given), builds the projector and the loss,
//                    and records the distillation identity in OUT;
//   finish_student   metrics (fold_metrics) and the model directory (fold_record) of the
//                    trained `net`.
struct PreparedStudent {
  FoldRows rows;
  std::shared_ptr<TeacherOutputs> outputs;  // null for "none"
  TeacherCacheInfo teacher_cache;
  FeatureProjector projector = nullptr;  // "feature" only
  bool pool_student = false;
  BatchLoss loss;  // empty for "none": the trainer's cross-entropy
  nlohmann::json teacher_record;
  std::chrono::steady_clock::time_point start;
};
using TeacherOutputsMemo =
    std::map<std::string, std::pair<std::shared_ptr<TeacherOutputs>, TeacherCacheInfo>>;
PreparedStudent prepare_student(const DistillData& data, const DistillJob& job,
                                TeacherOutputsMemo* memo);
DistillResult finish_student(const DistillData& data, const DistillJob& job,
                             const PreparedStudent& prepared, NetImpl& net,
                             const TrainResult& result);

}  // namespace ppgkd
