// `ppgkd train --data DIR|synthetic --model SPEC|RUNG --out DIR [...]`: supervised training of
// one model per subject-wise fold. With --fold i one fold is trained into OUT; without it every
// fold is trained into OUT/fold-i in turn and OUT/summary.json holds the test metrics. The work is
// in train/ (cross_validation.h: the fold loop, train_fold); this file parses options and prints.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/train_options.h"
#include "common/error.h"
#include "data/cache.h"
#include "eval/estimates.h"
#include "train/cross_validation.h"
#include "train/interrupt.h"

namespace ppgkd::cli {

namespace {

struct TrainOptions {
  std::string data, model, out, cache, inputs = "ppg+acc", ppg_channel = "0";
  FoldPlan split;
  int fold = -1;  // -1: all folds
  bool resume = false;
  TrainConfig cfg;
  std::string init;  // --init: a model dir whose weights the run starts from
};

// One fold: the line before training, the warm start's note, the result line.
nlohmann::json train_one(const TrainOptions& o, const CvData& data, const ModelSpec& spec,
                         const Fold& fold, const FoldRows& rows, const std::string& dir) {
  std::fprintf(stderr, "fold %d/%d: %zu fit / %zu val / %zu test windows, %s (%lld params)\n",
               fold.index + 1, fold.count, rows.fit_rows.size(), rows.val_rows.size(),
               rows.test_rows.size(), spec.str().c_str(),
               static_cast<long long>(spec.num_params()));
  TrainFoldJob job;
  job.spec = spec;
  job.cfg = o.cfg;
  job.fold = fold;
  job.split = o.split.kind();
  job.out_dir = dir;
  job.resume = o.resume;
  job.init_dir = o.init;
  job.progress_label = "fold " + std::to_string(fold.index + 1);
  job.extra = fold_extra(o.split, transition_scale_of(*data.ws, fold.train_subjects));
  job.on_init = [&](const InitRecord& init, const std::vector<std::string>& seen) {
    std::fprintf(
        stderr, "init: %d tensors from %s%s\n", init.tensors_loaded, o.init.c_str(),
        init.head_loaded ? "" : ("; head freshly initialised: " + init.head_reason).c_str());
    if (!seen.empty())
      std::fprintf(stderr,
                   "warning: the init model trained on %zu of this fold's %zu test subjects (%s, "
                   "...): its test metrics are optimistic\n",
                   seen.size(), fold.test_subjects.size(), seen[0].c_str());
  };
  const auto res = train_fold(data, job, rows);
  const auto& m = res.metrics;
  if (m.contains("test"))
    std::printf("fold %d: test MAE %.2f BPM (best val MAE %.2f at epoch %d) -> %s\n", fold.index,
                m["test"]["mae_bpm"].get<double>(), res.best_val_mae, res.best_epoch + 1,
                dir.c_str());
  else
    std::printf("fold %d: best val MAE %.2f at epoch %d -> %s\n", fold.index, res.best_val_mae,
                res.best_epoch + 1, dir.c_str());
  std::fflush(stdout);
  return m;
}

// What can be checked without data: the training config, the preprocessing, the model spec.
ModelSpec check_train(const TrainOptions& o, PreprocessConfig* pp) {
  o.cfg.validate();
  pp->inputs = o.inputs;
  pp->ppg_channel = o.ppg_channel;
  pp->validate();
  const auto spec = ModelSpec::parse(resolve_spec(o.model), pp->channels(), pp->length());
  if (spec.is_ensemble())  // init_model's refusal, before the data is loaded
    init_model(spec, o.cfg.seed);
  return spec;
}

void run_train(const TrainOptions& o) {
  PreprocessConfig pp;
  const auto spec = check_train(o, &pp);
  install_interrupt_handlers();
  CacheInfo info;
  const WindowSet ws = load_windows(o.data, pp, o.cache, &info);
  const CvData data = cv_data(ws, pp, o.data, info);
  CvPlan plan;
  plan.command = "train";
  plan.split = o.split;
  plan.fold = o.fold;
  plan.out = o.out;
  plan.cfg = o.cfg;
  plan.summary = {{"spec", spec.str()}};
  const auto summary = run_cross_validation(
      data, plan, [&](const Fold& fold, const FoldRows& rows, const std::string& dir) {
        return train_one(o, data, spec, fold, rows, dir);
      });
  if (summary && summary->tested_folds > 0)
    std::printf("%zu folds: test MAE %.2f +- %.2f BPM\n", summary->tested_folds,
                summary->test_mae_mean, summary->test_mae_sd);
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
  sub->add_option("--ppg-channel", o->ppg_channel,
                  "PPG channel of a multi-PPG device: a 0-based index, or mean")
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
