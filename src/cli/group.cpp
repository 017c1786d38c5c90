// `ppgkd group --members FILE`: several student runs of one architecture, data and fold trained
// in one process as one grouped network (train/distill_group.h). FILE is JSON,
//   {"members": [["distill", "--data", "D", "--student", "r3", "--strategy", "dkd", ...],
//                ["train", "--data", "D", "--model", "r3", ...], ...]}
// each member being the argument list of the `ppgkd distill` or `ppgkd train` run it replaces
// (with --fold and --out; `train` members are scratch students, written as `ppgkd train` writes
// them). Members may differ in strategy, hyperparameters, seed and teacher; they must share data,
// inputs, cache, split, fold, student, batch and threads. Each member's OUT receives the model
// directory its own run would write; a member that fails writes OUT/group_error.txt instead and
// the others go on (exit status 1 when any member failed). The sweep forms the groups.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/train_options.h"
#include "common/atomic_file.h"
#include "common/error.h"
#include "data/cache.h"
#include "eval/estimates.h"
#include "train/cross_validation.h"
#include "train/distill_group.h"
#include "train/interrupt.h"

namespace ppgkd::cli {

namespace {

// One member's options: the union of `ppgkd train` and `ppgkd distill` options a sweep passes.
struct MemberOptions {
  std::string command, data, model, teacher, strategy = "none", out, cache, inputs = "ppg+acc";
  FoldPlan split;
  int fold = -1;
  bool resume = false;
  TrainConfig cfg;
  double alpha = 0, beta = 0, temperature = 0, lambda = 0, kd_warmup = 0;
  int feature_stage = -1, teacher_stage = -1;
};

MemberOptions parse_member(const std::vector<std::string>& argv, const std::string& where) {
  if (argv.empty() || (argv[0] != "train" && argv[0] != "distill"))
    throw Error(where, "a member is the argument list of `ppgkd train` or `ppgkd distill`");
  MemberOptions o;
  o.command = argv[0];
  CLI::App app{"group member"};
  app.add_option("--data", o.data)->required();
  app.add_option(o.command == "train" ? "--model" : "--student", o.model)->required();
  app.add_option("--out", o.out)->required();
  app.add_option("--cache", o.cache);
  app.add_option("--inputs", o.inputs)->check(CLI::IsMember({"ppg", "ppg+acc"}));
  add_fold_options(&app, "Train", o.split, o.fold);
  add_train_config_options(&app, o.cfg);
  app.add_flag("--resume", o.resume);
  CLI::Option *alpha = nullptr, *beta = nullptr, *temp = nullptr, *lambda = nullptr,
              *warm = nullptr, *fs = nullptr, *ts = nullptr;
  if (o.command == "distill") {
    app.add_option("--teacher", o.teacher);
    app.add_option("--strategy", o.strategy)
        ->check(CLI::IsMember(distill_strategies()))
        ->required();
    alpha = app.add_option("--alpha", o.alpha);
    beta = app.add_option("--beta", o.beta);
    temp = app.add_option("--temperature", o.temperature);
    lambda = app.add_option("--lambda", o.lambda);
    warm = app.add_option("--kd-warmup", o.kd_warmup);
    fs = app.add_option("--feature-stage", o.feature_stage);
    ts = app.add_option("--teacher-stage", o.teacher_stage);
  }
  std::vector<std::string> rest(argv.rbegin(), argv.rend() - 1);  // CLI11 takes them reversed
  try {
    app.parse(rest);
  } catch (const CLI::ParseError& e) {
    throw Error(where, std::string("bad member arguments: ") + e.what());
  }
  if (o.fold < 0) throw Error(where, "a member needs --fold");
  if (o.command == "distill") {  // the strategy's defaults, then the given overrides
    const DistillConfig d = DistillConfig::defaults(o.strategy);
    if (!alpha->count()) o.alpha = d.alpha;
    if (!beta->count()) o.beta = d.beta;
    if (!temp->count()) o.temperature = d.temperature;
    if (!lambda->count()) o.lambda = d.lambda;
    if (!warm->count()) o.kd_warmup = d.warmup_epochs;
    if (!fs->count()) o.feature_stage = d.student_stage;
    if (!ts->count()) o.teacher_stage = d.teacher_stage;
  }
  return o;
}

DistillConfig distill_config_of(const MemberOptions& o) {
  DistillConfig c = DistillConfig::defaults(o.strategy);
  if (o.strategy == "none") return c;
  c.alpha = o.alpha;
  c.beta = o.beta;
  c.temperature = o.temperature;
  c.lambda = o.lambda;
  c.warmup_epochs = o.kd_warmup;
  c.student_stage = o.feature_stage;
  c.teacher_stage = o.teacher_stage;
  c.validate();
  return c;
}

// What members must share, as text for the error message.
std::string shared_of(const MemberOptions& o) {
  return nlohmann::json({{"data", o.data},
                         {"inputs", o.inputs},
                         {"cache", o.cache},
                         {"split", o.split.kind()},
                         {"folds", o.split.folds},
                         {"split_seed", o.split.split_seed},
                         {"train_only", o.split.train_only},
                         {"fold", o.fold},
                         {"student", o.model},
                         {"batch", o.cfg.batch},
                         {"threads", o.cfg.threads}})
      .dump();
}

void run_group(const std::string& members_path) {
  nlohmann::json file;
  try {
    file = nlohmann::json::parse(read_file(members_path));
  } catch (const nlohmann::json::exception& e) {
    throw Error(members_path, std::string("not valid JSON: ") + e.what());
  }
  if (!file.is_object() || !file.contains("members") || !file["members"].is_array() ||
      file["members"].empty())
    throw Error(members_path, "expected {\"members\": [[args...], ...]} with at least one member");
  std::vector<MemberOptions> ms;
  for (size_t i = 0; i < file["members"].size(); ++i) {
    const auto& m = file["members"][i];
    const std::string where = members_path + ": member " + std::to_string(i);
    if (!m.is_array()) throw Error(where, "must be an array of strings");
    std::vector<std::string> argv;
    for (const auto& a : m) {
      if (!a.is_string()) throw Error(where, "must be an array of strings");
      argv.push_back(a);
    }
    ms.push_back(parse_member(argv, where));
    if (shared_of(ms.back()) != shared_of(ms[0]))
      throw Error(where, "cannot share a group with member 0: " + shared_of(ms.back()) + " vs " +
                             shared_of(ms[0]));
  }
  install_interrupt_handlers();
  const MemberOptions& first = ms[0];
  first.cfg.validate();
  PreprocessConfig pp;
  pp.inputs = first.inputs;
  pp.validate();
  const auto spec = ModelSpec::parse(resolve_spec(first.model), pp.channels(), pp.length());
  CacheInfo info;
  const WindowSet ws = load_windows(first.data, pp, first.cache, &info);
  const auto folds = make_folds(first.split, ws.subjects());
  if (first.fold >= static_cast<int>(folds.size()))
    throw Error(members_path, "--fold " + std::to_string(first.fold) + " out of range");
  const Fold& fold = folds[first.fold];
  const DistillData data = cv_data(ws, pp, first.data, info);
  const double transition_scale = transition_scale_of(ws, fold.train_subjects);

  std::vector<DistillJob> jobs;
  for (const auto& o : ms) {
    o.cfg.validate();
    DistillJob job;
    job.student = spec;
    job.train = o.cfg;
    job.distill = distill_config_of(o);
    if (job.distill.needs_teacher()) {
      if (o.teacher.empty())
        throw Error(members_path, "--teacher is required for strategy " + o.strategy);
      job.teacher_dir = teacher_dir_for_fold(o.teacher, fold.index);
    }
    job.fold = fold;
    job.split = o.split.kind();
    job.out_dir = o.out;
    job.resume = o.resume;
    job.cache_dir = o.cache;
    job.progress_label = "";
    job.record_as_train = o.command == "train";
    job.extra = fold_extra(o.split, transition_scale);
    jobs.push_back(job);
  }
  if (ms.size() > 1 && ms[0].resume != ms[1].resume)
    throw Error(members_path, "members must all or none pass --resume");
  std::fprintf(stderr, "group: %zu members of %s (%lld params) on fold %d/%d\n", jobs.size(),
               spec.str().c_str(), static_cast<long long>(spec.num_params()), fold.index + 1,
               fold.count);
  GroupHooks hooks;
  hooks.progress_label = "group of " + std::to_string(jobs.size());
  const auto results = distill_group(data, jobs, hooks);
  size_t failed = 0;
  for (size_t i = 0; i < results.size(); ++i) {
    const auto& r = results[i];
    const auto& o = ms[i];
    if (!r.ok) {
      ++failed;
      write_file_atomic(o.out + "/group_error.txt", r.error + "\n");
      std::printf("member %zu (%s seed %llu): failed: %s\n", i, o.strategy.c_str(),
                  static_cast<unsigned long long>(o.cfg.seed), r.error.c_str());
      continue;
    }
    const auto& m = r.result.metrics;
    if (m.contains("test"))
      std::printf("member %zu (%s seed %llu): test MAE %.2f BPM -> %s\n", i, o.strategy.c_str(),
                  static_cast<unsigned long long>(o.cfg.seed), m["test"]["mae_bpm"].get<double>(),
                  o.out.c_str());
    else
      std::printf("member %zu (%s seed %llu): trained -> %s\n", i, o.strategy.c_str(),
                  static_cast<unsigned long long>(o.cfg.seed), o.out.c_str());
  }
  std::fflush(stdout);
  if (failed)
    throw Error("group", std::to_string(failed) + " of " + std::to_string(results.size()) +
                             " members failed (see their group_error.txt)");
}

}  // namespace

void setup_group(CLI::App& app) {
  auto path = std::make_shared<std::string>();
  auto* sub = app.add_subcommand(
      "group", "Train several students of one architecture and fold as one grouped network");
  sub->add_option("--members", *path, "JSON file: {\"members\": [[train|distill args...], ...]}")
      ->required()
      ->check(CLI::ExistingFile);
  sub->callback([path] { run_group(*path); });
}

}  // namespace ppgkd::cli
