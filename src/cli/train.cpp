// `ppgkd train --data DIR|synthetic --model SPEC|RUNG --out DIR [...]`: supervised training of
// one model per subject-wise fold. With --fold i one fold is trained into OUT; without it every
// fold is trained into OUT/fold-i in turn and OUT/summary.json holds the test metrics. The work is
// in train/ (trainer, folds, model_dir); this file wires options to it.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/train_options.h"
#include "common/atomic_file.h"
#include "common/error.h"
#include "common/run_record.h"
#include "data/cache.h"
#include "eval/estimates.h"
#include "train/folds.h"
#include "train/inference.h"
#include "train/init_from.h"
#include "train/interrupt.h"
#include "train/metrics.h"
#include "train/model_dir.h"
#include "train/trainer.h"

namespace ppgkd::cli {

namespace {

struct TrainOptions {
  std::string data, model, out, cache, inputs = "ppg+acc";
  FoldPlan split;
  int fold = -1;  // -1: all folds
  bool resume = false;
  TrainConfig cfg;
  std::string init;  // --init: a model dir whose weights the run starts from
};

// Trains one fold into `dir` and returns its model.json metrics.
nlohmann::json train_one(const TrainOptions& o, const WindowSet& ws, const CacheInfo& info,
                         const PreprocessConfig& pp, const ModelSpec& spec, const Fold& fold,
                         const std::string& dir) {
  std::vector<std::string> fit, val;
  split_validation(fold.train_subjects, o.cfg.val_fraction, o.cfg.seed, &fit, &val);
  const auto fit_rows = ws.rows_of_subjects(fit), val_rows = ws.rows_of_subjects(val),
             test_rows = ws.rows_of_subjects(fold.test_subjects);
  std::fprintf(stderr, "fold %d/%d: %zu fit / %zu val / %zu test windows, %s (%lld params)\n",
               fold.index + 1, fold.count, fit_rows.size(), val_rows.size(), test_rows.size(),
               spec.str().c_str(), static_cast<long long>(spec.num_params()));
  auto net = init_model(spec, o.cfg.seed);
  nlohmann::json init_json;
  if (!o.init.empty()) {
    const auto init = init_from_model_dir(o.init, *net);
    std::fprintf(
        stderr, "init: %d tensors from %s%s\n", init.tensors_loaded, o.init.c_str(),
        init.head_loaded ? "" : ("; head freshly initialised: " + init.head_reason).c_str());
    init_json = init.to_json();
    std::vector<std::string> seen;  // test subjects the init model trained on
    for (const auto& s : fold.test_subjects)
      if (std::count(init.seen_subjects.begin(), init.seen_subjects.end(), s)) seen.push_back(s);
    if (!seen.empty())
      std::fprintf(stderr,
                   "warning: the init model trained on %zu of this fold's %zu test subjects (%s, "
                   "...): its test metrics are optimistic\n",
                   seen.size(), fold.test_subjects.size(), seen[0].c_str());
    init_json["test_subjects_seen_by_init"] = seen;
  }
  TrainHooks hooks;
  hooks.progress_label = "fold " + std::to_string(fold.index + 1);
  auto res = train_model(*net, ws, fit_rows, val_rows, o.cfg, dir, o.resume, hooks);

  nlohmann::json metrics = {{"best_val_mae_bpm", res.best_val_mae},
                            {"best_epoch", res.best_epoch},
                            {"stopped_early", res.stopped_early},
                            {"train_windows_per_second", res.windows_per_second}};
  if (!test_rows.empty()) {
    const auto bpm = predict_bpm(*net, ws, test_rows, std::max(o.cfg.batch, 256));
    std::vector<WindowEstimate> est(test_rows.size());
    for (size_t i = 0; i < test_rows.size(); ++i) {
      const auto& rec = ws.recordings.at(ws.recording.at(test_rows[i]));
      est[i] = {bpm[i], ws.hr[test_rows[i]], rec.subject, rec.dataset};
    }
    metrics["test"] = to_json(compute_metrics(est));
  }
  ModelRecord rec;
  rec.training = o.cfg.to_json();
  rec.training["threads"] = o.cfg.threads;
  rec.data_root = o.data;
  rec.data_fingerprint = info.fingerprint;
  rec.train_subjects = fit;
  rec.val_subjects = val;
  rec.test_subjects = fold.test_subjects;
  rec.fold = fold.index;
  rec.folds = fold.count;
  rec.split = o.split.kind();
  rec.metrics = metrics;
  rec.history = res.history_json();
  rec.extra = {{"split_seed", o.split.split_seed},
               {"train_only", o.split.train_only},
               {"transition_scale_bpm", transition_scale_of(ws, fold.train_subjects)}};
  if (!init_json.is_null()) rec.extra["init"] = init_json;
  save_model_dir(dir, *net, pp, rec);
  if (metrics.contains("test"))
    std::printf("fold %d: test MAE %.2f BPM (best val MAE %.2f at epoch %d) -> %s\n", fold.index,
                metrics["test"]["mae_bpm"].get<double>(), res.best_val_mae, res.best_epoch + 1,
                dir.c_str());
  else
    std::printf("fold %d: best val MAE %.2f at epoch %d -> %s\n", fold.index, res.best_val_mae,
                res.best_epoch + 1, dir.c_str());
  std::fflush(stdout);
  return metrics;
}

// What can be checked without data: the training config, the preprocessing, the model spec.
ModelSpec check_train(const TrainOptions& o, PreprocessConfig* pp) {
  o.cfg.validate();
  pp->inputs = o.inputs;
  pp->validate();
  const auto spec = ModelSpec::parse(resolve_spec(o.model), pp->channels(), pp->length());
  if (spec.member)  // init_model's refusal, before the data is loaded
    init_model(spec, o.cfg.seed);
  return spec;
}

void run_train(const TrainOptions& o) {
  PreprocessConfig pp;
  const auto spec = check_train(o, &pp);
  install_interrupt_handlers();
  CacheInfo info;
  const WindowSet ws = load_windows(o.data, pp, o.cache, &info);
  const auto folds = make_folds(o.split, ws.subjects());
  if (o.fold >= static_cast<int>(folds.size()))
    throw Error("train", "--fold " + std::to_string(o.fold) + " out of range (0.." +
                             std::to_string(folds.size() - 1) + ")");
  if (o.fold >= 0) {
    train_one(o, ws, info, pp, spec, folds[o.fold], o.out);
    return;
  }
  nlohmann::json per_fold = nlohmann::json::array();
  std::vector<double> maes;
  for (const auto& f : folds) {
    auto m = train_one(o, ws, info, pp, spec, f, o.out + "/fold-" + std::to_string(f.index));
    if (m.contains("test")) maes.push_back(m["test"]["mae_bpm"]);
    per_fold.push_back({{"fold", f.index}, {"test_subjects", f.test_subjects}, {"metrics", m}});
  }
  double mean = 0, sd = 0;
  for (double v : maes) mean += v / maes.size();
  for (double v : maes) sd += (v - mean) * (v - mean) / std::max<size_t>(1, maes.size() - 1);
  nlohmann::json summary = {
      {"spec", spec.str()},       {"data", o.data},          {"data_fingerprint", info.fingerprint},
      {"split", o.split.kind()},  {"folds", folds.size()},   {"training", o.cfg.to_json()},
      {"folds_detail", per_fold}, {"context", run_context()}};
  if (!maes.empty()) {
    summary["test_mae_bpm_mean"] = mean;
    summary["test_mae_bpm_sd"] = std::sqrt(sd);
    std::printf("%zu folds: test MAE %.2f +- %.2f BPM\n", maes.size(), mean, std::sqrt(sd));
  }
  write_file_atomic(o.out + "/summary.json", summary.dump(2) + "\n");
}

// The `train` subcommand and its options, bound to `o`; the caller sets the callback.
CLI::App* add_train_command(CLI::App& app, const std::shared_ptr<TrainOptions>& o) {
  auto* sub = app.add_subcommand("train", "Train a model on subject-wise folds (supervised)");
  sub->add_option("--data", o->data, "Dataset root, or synthetic[:SEED]")->required();
  sub->add_option("--model", o->model, "Model spec or ladder rung (see `ppgkd models`)")
      ->required();
  sub->add_option("--out", o->out, "Output directory (a model dir, or fold-i/ model dirs)")
      ->required();
  sub->add_option("--cache", o->cache, "Window cache directory (none: no cache)");
  sub->add_option("--inputs", o->inputs, "Input channels")
      ->check(CLI::IsMember({"ppg", "ppg+acc"}))
      ->capture_default_str();
  add_fold_options(sub, "Train", o->split, o->fold);
  add_train_config_options(sub, o->cfg);
  sub->add_flag("--resume", o->resume, "Continue from OUT's checkpoints");
  sub->add_option("--init", o->init,
                  "Start from the weights of this model dir (same spec; the head is replaced "
                  "when the class map differs)");
  return sub;
}

}  // namespace

void setup_train(CLI::App& app) {
  auto o = std::make_shared<TrainOptions>();
  add_train_command(app, o)->callback([o] { run_train(*o); });
}

void check_child_command(const std::vector<std::string>& args) {
  CLI::App app{"ppgkd (checking a child's options)"};
  app.require_subcommand(1);
  auto o = std::make_shared<TrainOptions>();
  add_train_command(app, o)->callback([o] {
    PreprocessConfig pp;
    check_train(*o, &pp);
  });
  setup_distill_check(app);
  std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 takes them last first
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    throw Error("child options", e.what());
  }
}

}  // namespace ppgkd::cli
