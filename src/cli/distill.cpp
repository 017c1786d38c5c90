// `ppgkd distill --teacher DIR --student SPEC|RUNG --strategy none|hard|soft|dkd|feature
// --data DIR --out DIR [...]`: one student per subject-wise fold, trained from the teacher of that
// fold (TEACHER/fold-i, or TEACHER itself when it is a single model directory). With --fold i one
// fold goes into OUT; without it every fold goes into OUT/fold-i and OUT/summary.json holds the
// test metrics. Folds and training options mirror `ppgkd train` (train.cpp) so a student and its
// teacher share folds. The work is in train/ (cross_validation.h: the fold loop; distill.h: one
// fold); this file parses options and prints.
#include "train/distill.h"

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

struct DistillOptions {
  std::string teacher, student, strategy, data, out, cache, inputs = "ppg+acc";
  FoldPlan split;
  int fold = -1;  // -1: all folds
  bool resume = false;
  TrainConfig cfg;
  // Overrides of the strategy's defaults (DistillConfig::defaults), applied when given.
  double alpha = 0, beta = 0, temperature = 0, lambda = 0, kd_warmup = 0;
  int feature_stage = -1, teacher_stage = -1;
  CLI::App* app = nullptr;
  bool given(const char* name) const { return app->get_option(name)->count() > 0; }
};

DistillConfig distill_config(const DistillOptions& o) {
  DistillConfig c = DistillConfig::defaults(o.strategy);
  if (o.given("--alpha")) c.alpha = o.alpha;
  if (o.given("--beta")) c.beta = o.beta;
  if (o.given("--temperature")) c.temperature = o.temperature;
  if (o.given("--lambda")) c.lambda = o.lambda;
  if (o.given("--kd-warmup")) c.warmup_epochs = o.kd_warmup;
  if (o.given("--feature-stage")) c.student_stage = o.feature_stage;
  if (o.given("--teacher-stage")) c.teacher_stage = o.teacher_stage;
  c.validate();
  return c;
}

// Folds come from make_folds (train/folds.h), the rule `ppgkd train` uses, so OUT/fold-i and
// TEACHER/fold-i hold the same test subjects for the same fold options (the leak check enforces
// it either way).
nlohmann::json distill_one(const DistillOptions& o, const CvData& data, const DistillConfig& dc,
                           const ModelSpec& spec, const Fold& fold, const std::string& dir) {
  DistillJob job;
  job.student = spec;
  job.train = o.cfg;
  job.distill = dc;
  if (dc.needs_teacher()) job.teacher_dir = teacher_dir_for_fold(o.teacher, fold.index);
  job.fold = fold;
  job.split = o.split.kind();
  job.out_dir = dir;
  job.resume = o.resume;
  job.cache_dir = o.cache;
  job.progress_label = "fold " + std::to_string(fold.index + 1) + " " + dc.strategy;
  job.extra = fold_extra(o.split, transition_scale_of(*data.ws, fold.train_subjects));
  std::fprintf(stderr, "fold %d/%d: %s student %s (%lld params)%s%s\n", fold.index + 1, fold.count,
               dc.strategy.c_str(), spec.str().c_str(), static_cast<long long>(spec.num_params()),
               dc.needs_teacher() ? " from " : "", job.teacher_dir.c_str());
  const auto res = distill_fold(data, job);
  if (dc.needs_teacher()) {
    const auto& tc = res.teacher_cache;
    std::fprintf(stderr, "teacher outputs: %s (%s, %.1f s)\n", tc.path.c_str(),
                 tc.hit ? "cached" : ("computed: " + tc.rebuilt_because).c_str(), tc.seconds);
  }
  const auto& m = res.metrics;
  if (m.contains("test"))
    std::printf("fold %d: %s test MAE %.2f BPM in %.1f s -> %s\n", fold.index, dc.strategy.c_str(),
                m["test"]["mae_bpm"].get<double>(), res.wall_seconds, dir.c_str());
  else
    std::printf("fold %d: %s trained in %.1f s -> %s\n", fold.index, dc.strategy.c_str(),
                res.wall_seconds, dir.c_str());
  std::fflush(stdout);
  return m;
}

// What can be checked without data or teacher: the configs, the preprocessing, the student spec.
ModelSpec check_distill(const DistillOptions& o, DistillConfig* dc, PreprocessConfig* pp) {
  o.cfg.validate();
  *dc = distill_config(o);
  if (dc->needs_teacher() && o.teacher.empty())
    throw Error("distill", "--teacher is required for strategy " + dc->strategy);
  pp->inputs = o.inputs;
  pp->validate();
  return ModelSpec::parse(resolve_spec(o.student), pp->channels(), pp->length());
}

void run_distill(const DistillOptions& o) {
  DistillConfig dc;
  PreprocessConfig pp;
  const auto spec = check_distill(o, &dc, &pp);
  install_interrupt_handlers();
  CacheInfo info;
  const WindowSet ws = load_windows(o.data, pp, o.cache, &info);
  const CvData data = cv_data(ws, pp, o.data, info);
  CvPlan plan;
  plan.command = "distill";
  plan.split = o.split;
  plan.fold = o.fold;
  plan.out = o.out;
  plan.cfg = o.cfg;
  plan.summary = {{"spec", spec.str()}, {"teacher", o.teacher}, {"distillation", dc.to_json()}};
  // distill_fold splits the fold's validation subjects itself (split_fold, as the driver does).
  const auto summary = run_cross_validation(
      data, plan, [&](const Fold& fold, const FoldRows&, const std::string& dir) {
        return distill_one(o, data, dc, spec, fold, dir);
      });
  if (summary && summary->tested_folds > 0)
    std::printf("%zu folds: %s test MAE %.2f +- %.2f BPM\n", summary->tested_folds,
                dc.strategy.c_str(), summary->test_mae_mean, summary->test_mae_sd);
}

// The `distill` subcommand and its options, bound to `o`; the caller sets the callback.
CLI::App* add_distill_command(CLI::App& app, const std::shared_ptr<DistillOptions>& o) {
  auto* sub = app.add_subcommand("distill",
                                 "Train a student from a teacher (knowledge "
                                 "distillation) on subject-wise folds");
  o->app = sub;
  sub->add_option("--teacher", o->teacher,
                  "Teacher model dir, or a cross-validation dir with fold-i/ model dirs "
                  "(not needed for --strategy none)");
  sub->add_option("--student", o->student, "Student model spec or ladder rung")->required();
  sub->add_option("--strategy", o->strategy, "Distillation strategy (none: from scratch)")
      ->check(CLI::IsMember(distill_strategies()))
      ->required();
  sub->add_option("--data", o->data, "Dataset root, or synthetic[:SEED]")->required();
  sub->add_option("--out", o->out, "Output directory (a model dir, or fold-i/ model dirs)")
      ->required();
  sub->add_option("--cache", o->cache,
                  "Cache directory for windows and teacher outputs (none: windows uncached, "
                  "teacher outputs kept in the teacher's dir)");
  sub->add_option("--inputs", o->inputs, "Input channels")
      ->check(CLI::IsMember({"ppg", "ppg+acc"}))
      ->capture_default_str();
  // Strategy hyperparameters; each defaults to the strategy's entry in DistillConfig::defaults.
  sub->add_option("--alpha", o->alpha,
                  "hard: teacher-label weight (0.5); soft: KD weight (0.9); dkd: TCKD weight (1)");
  sub->add_option("--beta", o->beta, "dkd: NCKD weight (8)");
  sub->add_option("--temperature", o->temperature, "soft, dkd: temperature (4)");
  sub->add_option("--lambda", o->lambda, "feature: hint-loss weight (1)");
  sub->add_option("--kd-warmup", o->kd_warmup,
                  "dkd: epochs over which the KD term ramps up linearly (1)");
  sub->add_option("--feature-stage", o->feature_stage,
                  "feature: student ResNet stage / MLP hidden layer, -1 = last (-1)");
  sub->add_option("--teacher-stage", o->teacher_stage,
                  "feature: teacher ResNet stage / MLP hidden layer, -1 = last (-1)");
  // Folds and training: as `ppgkd train`.
  add_fold_options(sub, "Distil", o->split, o->fold);
  add_train_config_options(sub, o->cfg);
  sub->add_flag("--resume", o->resume, "Continue from OUT's checkpoints");
  return sub;
}

}  // namespace

void setup_distill(CLI::App& app) {
  auto o = std::make_shared<DistillOptions>();
  add_distill_command(app, o)->callback([o] { run_distill(*o); });
}

void setup_distill_check(CLI::App& app) {
  auto o = std::make_shared<DistillOptions>();
  add_distill_command(app, o)->callback([o] {
    DistillConfig dc;
    PreprocessConfig pp;
    check_distill(*o, &dc, &pp);
  });
}

}  // namespace ppgkd::cli
