// The cross-validation driver (see cross_validation.h), read top to bottom: one fold's split,
// metrics and record; the supervised fold; the fold loop and summary.json.
#include "train/cross_validation.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/run_record.h"
#include "train/inference.h"
#include "train/metrics.h"

namespace ppgkd {

// ------------------------------------------------------------------------------ one fold

FoldRows split_fold(const WindowSet& ws, const Fold& fold, const TrainConfig& cfg) {
  FoldRows r;
  split_validation(fold.train_subjects, cfg.val_fraction, cfg.seed, &r.fit, &r.val);
  r.fit_rows = ws.rows_of_subjects(r.fit);
  r.val_rows = ws.rows_of_subjects(r.val);
  r.test_rows = ws.rows_of_subjects(fold.test_subjects);
  return r;
}

nlohmann::json fold_metrics(NetImpl& net, const WindowSet& ws, const FoldRows& rows,
                            const TrainResult& res, const TrainConfig& cfg) {
  nlohmann::json m = {{"best_val_mae_bpm", res.best_val_mae},
                      {"best_epoch", res.best_epoch},
                      {"stopped_early", res.stopped_early},
                      {"train_windows_per_second", res.windows_per_second}};
  if (!std::isfinite(res.best_val_mae)) m["best_val_mae_bpm"] = nullptr;
  if (!rows.test_rows.empty()) {
    const auto bpm = predict_bpm(net, ws, rows.test_rows, std::max(cfg.batch, 256));
    std::vector<WindowEstimate> est(rows.test_rows.size());
    for (size_t i = 0; i < rows.test_rows.size(); ++i) {
      const size_t row = rows.test_rows[i];
      const auto& rec = ws.recordings.at(ws.recording.at(row));
      est[i] = {bpm[i], ws.hr[row], rec.subject, rec.dataset};
    }
    m["test"] = to_json(compute_metrics(est));
  }
  return m;
}

CvData cv_data(const WindowSet& ws, const PreprocessConfig& preprocess,
               const std::string& data_root, const CacheInfo& info) {
  CvData data;
  data.ws = &ws;
  data.preprocess = preprocess;
  data.data_root = data_root;
  data.data_key = info.key;
  data.fingerprint = info.fingerprint;
  return data;
}

ModelRecord fold_record(const CvData& data, const Fold& fold, const std::string& split_kind,
                        const FoldRows& rows, const TrainConfig& cfg, const TrainResult& res,
                        const nlohmann::json& metrics, const nlohmann::json& extra) {
  ModelRecord rec;
  rec.training = cfg.to_json();
  rec.training["threads"] = cfg.threads;
  rec.data_root = data.data_root;
  rec.data_fingerprint = data.fingerprint;
  rec.train_subjects = rows.fit;
  rec.val_subjects = rows.val;
  rec.test_subjects = fold.test_subjects;
  rec.fold = fold.index;
  rec.folds = fold.count;
  rec.split = split_kind;
  rec.metrics = metrics;
  rec.history = res.history_json();
  rec.extra = extra.is_null() ? nlohmann::json::object() : extra;
  return rec;
}

nlohmann::json fold_extra(const FoldPlan& plan, double transition_scale_bpm) {
  return {{"split_seed", plan.split_seed},
          {"train_only", plan.train_only},
          {"transition_scale_bpm", transition_scale_bpm}};
}

// ------------------------------------------------------------------------------ supervised

FoldResult train_fold(const CvData& data, const TrainFoldJob& job, const FoldRows& rows) {
  if (!data.ws) throw Error("train", "no windows");
  const WindowSet& ws = *data.ws;
  auto net = init_model(job.spec, job.cfg.seed);
  nlohmann::json extra = job.extra.is_null() ? nlohmann::json::object() : job.extra;
  if (!job.init_dir.empty()) {
    const auto init = init_from_model_dir(job.init_dir, *net);
    std::vector<std::string> seen;  // test subjects the init model trained on
    for (const auto& s : job.fold.test_subjects)
      if (std::count(init.seen_subjects.begin(), init.seen_subjects.end(), s)) seen.push_back(s);
    if (job.on_init) job.on_init(init, seen);
    extra["init"] = init.to_json();
    extra["init"]["test_subjects_seen_by_init"] = seen;
  }
  TrainHooks hooks;
  hooks.progress_label = job.progress_label;
  const auto res =
      train_model(*net, ws, rows.fit_rows, rows.val_rows, job.cfg, job.out_dir, job.resume, hooks);
  FoldResult out;
  out.metrics = fold_metrics(*net, ws, rows, res, job.cfg);
  out.best_val_mae = res.best_val_mae;
  out.best_epoch = res.best_epoch;
  save_model_dir(job.out_dir, *net, data.preprocess,
                 fold_record(data, job.fold, job.split, rows, job.cfg, res, out.metrics, extra));
  return out;
}

// ------------------------------------------------------------------------------ every fold

std::optional<CvSummary> run_cross_validation(const CvData& data, const CvPlan& plan,
                                              const FoldWork& work) {
  if (!data.ws) throw Error(plan.command, "no windows");
  const WindowSet& ws = *data.ws;
  const auto folds = make_folds(plan.split, ws.subjects());
  if (plan.fold >= static_cast<int>(folds.size()))
    throw Error(plan.command, "--fold " + std::to_string(plan.fold) + " out of range (0.." +
                                  std::to_string(folds.size() - 1) + ")");
  if (plan.fold >= 0) {
    const Fold& f = folds[plan.fold];
    work(f, split_fold(ws, f, plan.cfg), plan.out);
    return std::nullopt;
  }
  nlohmann::json per_fold = nlohmann::json::array();
  std::vector<double> maes;
  for (const auto& f : folds) {
    const std::string dir = plan.out + "/fold-" + std::to_string(f.index);
    const auto m = work(f, split_fold(ws, f, plan.cfg), dir);
    if (m.contains("test")) maes.push_back(m["test"]["mae_bpm"]);
    per_fold.push_back({{"fold", f.index}, {"test_subjects", f.test_subjects}, {"metrics", m}});
  }
  CvSummary s;
  s.tested_folds = maes.size();
  double var = 0;
  for (double v : maes) s.test_mae_mean += v / maes.size();
  for (double v : maes)
    var += (v - s.test_mae_mean) * (v - s.test_mae_mean) / std::max<size_t>(1, maes.size() - 1);
  s.test_mae_sd = std::sqrt(var);
  nlohmann::json summary = plan.summary.is_null() ? nlohmann::json::object() : plan.summary;
  summary["data"] = data.data_root;
  summary["data_fingerprint"] = data.fingerprint;
  summary["split"] = plan.split.kind();
  summary["folds"] = folds.size();
  summary["training"] = plan.cfg.to_json();
  summary["folds_detail"] = per_fold;
  summary["context"] = run_context();
  if (!maes.empty()) {
    summary["test_mae_bpm_mean"] = s.test_mae_mean;
    summary["test_mae_bpm_sd"] = s.test_mae_sd;
  }
  write_file_atomic(plan.out + "/summary.json", summary.dump(2) + "\n");
  return s;
}

}  // namespace ppgkd
