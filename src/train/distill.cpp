// Distillation of one student on one fold, read top to bottom: the strategy table, finding and
// checking the fold's teacher, the per-batch loss, and distill_fold, which puts them together
// with the trainer and writes the model directory (see distill.h).
//
// Shapes: B batch, K = 180 classes; features (B, C, L) (ResNet) or (B, D) (MLP, or pooled).
#include "train/distill.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>

#include "common/atomic_file.h"
#include "common/error.h"
#include "train/inference.h"
#include "train/metrics.h"
#include "train/model_dir.h"

namespace ppgkd {

namespace fs = std::filesystem;

// ------------------------------------------------------------------------------ configuration

const std::vector<std::string>& distill_strategies() {
  static const std::vector<std::string> s = {"none", "hard", "soft", "dkd", "feature"};
  return s;
}

DistillConfig DistillConfig::defaults(const std::string& strategy) {
  DistillConfig c;
  c.strategy = strategy;
  if (strategy == "none") return c;
  // Chosen by bench/kd_search.sh on the BAMI-2 pool, which is in no test fold (students r3 and m3,
  // teacher r6 + spectral branch trained on SPC 2015 + BAMI-1; docs/RESULTS.md, "Choosing the
  // distillation defaults"): lowest mean MAE over the two students.
  if (strategy == "hard") {
    c.alpha = 0.5;  // half teacher argmax, half ground truth (alpha 1: 8.47 vs 7.58 BPM)
  } else if (strategy == "soft") {
    c.alpha = 0.9;
    c.temperature = 4.0;  // T=2: 6.61 vs 6.27 BPM; alpha 0.5: 6.94
  } else if (strategy == "dkd") {
    // mdistiller's alpha and beta (beta 2: 6.63 vs 6.20 BPM; T=2: 6.32). The KD term ramps up
    // over 1 epoch, about mdistiller's 20 of 240, scaled to our 10-30-epoch runs.
    c.alpha = 1.0;
    c.beta = 8.0;
    c.temperature = 4.0;
    c.warmup_epochs = 1.0;
  } else if (strategy == "feature") {
    c.lambda = 1.0;
  } else {
    throw Error("distill config", fmt::format("unknown strategy \"{}\" (expected none, hard, soft, "
                                              "dkd or feature)",
                                              strategy));
  }
  return c;
}

nlohmann::json DistillConfig::to_json() const {
  nlohmann::json j = {{"strategy", strategy}};
  if (strategy == "hard") j["alpha"] = alpha;
  if (strategy == "soft") j["alpha"] = alpha, j["temperature"] = temperature;
  if (strategy == "dkd") {
    j["alpha"] = alpha;
    j["beta"] = beta;
    j["temperature"] = temperature;
    j["warmup_epochs"] = warmup_epochs;
  }
  if (strategy == "feature") {
    j["lambda"] = lambda;
    j["student_stage"] = student_stage;
    j["teacher_stage"] = teacher_stage;
  }
  return j;
}

void DistillConfig::validate() const {
  auto bad = [](const std::string& what) { throw Error("distill config", what); };
  const auto& all = distill_strategies();
  if (std::find(all.begin(), all.end(), strategy) == all.end())
    bad(fmt::format("unknown strategy \"{}\" (expected none, hard, soft, dkd or feature)",
                    strategy));
  if ((strategy == "hard" || strategy == "soft") && !(alpha >= 0 && alpha <= 1))
    bad(fmt::format("alpha must be in [0, 1] for {}, got {}", strategy, alpha));
  if (strategy == "dkd" && !(alpha >= 0 && beta >= 0))
    bad(fmt::format("alpha and beta must be >= 0 for dkd, got {} and {}", alpha, beta));
  if ((strategy == "soft" || strategy == "dkd") && !(temperature > 0))
    bad(fmt::format("temperature must be > 0, got {}", temperature));
  if (strategy == "dkd" && !(warmup_epochs >= 0))
    bad(fmt::format("warmup epochs must be >= 0, got {}", warmup_epochs));
  if (strategy == "feature" && !(lambda >= 0))
    bad(fmt::format("lambda must be >= 0, got {}", lambda));
}

// ------------------------------------------------------------------------------ teachers

std::string teacher_dir_for_fold(const std::string& dir, int fold) {
  if (fs::is_regular_file(fs::path(dir) / "model.json")) return dir;
  const std::string sub = (fs::path(dir) / fmt::format("fold-{}", fold)).string();
  if (fs::is_regular_file(fs::path(sub) / "model.json")) return sub;
  throw Error(dir, fmt::format("not a model directory, and has no fold-{}/model.json", fold));
}

void check_teacher_unseen(const std::string& teacher_dir, const ModelRecord& teacher,
                          const std::vector<std::string>& test_subjects) {
  if (teacher.train_subjects.empty())
    throw Error(teacher_dir,
                "teacher records no training subjects, so it cannot be shown to "
                "exclude the test subjects");
  std::vector<std::string> seen = teacher.train_subjects;
  seen.insert(seen.end(), teacher.val_subjects.begin(), teacher.val_subjects.end());
  std::vector<std::string> leaked;
  for (const auto& s : test_subjects)
    if (std::find(seen.begin(), seen.end(), s) != seen.end()) leaked.push_back(s);
  if (!leaked.empty())
    throw Error(teacher_dir, fmt::format("teacher was trained on test subject{} {} of this fold",
                                         leaked.size() == 1 ? "" : "s", fmt::join(leaked, ", ")));
}

// ------------------------------------------------------------------------------ the loss

BatchLoss make_distill_loss(const DistillConfig& cfg, std::shared_ptr<const TeacherOutputs> teacher,
                            FeatureProjector projector, bool student_feature_pool) {
  cfg.validate();
  if (cfg.needs_teacher() && !teacher)
    throw Error("distill", "strategy " + cfg.strategy + " needs the teacher's outputs");
  const std::string s = cfg.strategy;
  if (s == "none")
    return [](NetImpl& net, const torch::Tensor& x, const torch::Tensor& y, const torch::Tensor&,
              int) { return ce_loss(net.forward(x), y); };
  if (s == "hard")
    return [cfg, teacher](NetImpl& net, const torch::Tensor& x, const torch::Tensor& y,
                          const torch::Tensor& rows, int) {
      return hard_kd_loss(net.forward(x), teacher->logits_of(rows), y, cfg.alpha);
    };
  if (s == "soft")
    return [cfg, teacher](NetImpl& net, const torch::Tensor& x, const torch::Tensor& y,
                          const torch::Tensor& rows, int) {
      return soft_kd_loss(net.forward(x), teacher->logits_of(rows), y, cfg.alpha, cfg.temperature);
    };
  if (s == "dkd") {
    DkdOptions o;
    o.alpha = cfg.alpha;
    o.beta = cfg.beta;
    o.temperature = cfg.temperature;
    o.warmup_epochs = cfg.warmup_epochs;
    // The trainer counts epochs from 0, dkd_warmup from 1 (mdistiller's convention).
    return [o, teacher](NetImpl& net, const torch::Tensor& x, const torch::Tensor& y,
                        const torch::Tensor& rows, int epoch) {
      return dkd_loss(net.forward(x), teacher->logits_of(rows), y, o, epoch + 1).total;
    };
  }
  if (!projector) throw Error("distill", "feature distillation needs a projector");
  return [cfg, teacher, projector, student_feature_pool](NetImpl& net, const torch::Tensor& x,
                                                         const torch::Tensor& y,
                                                         const torch::Tensor& rows, int) mutable {
    auto out = net.forward_with_feature(x, cfg.student_stage);
    auto f = student_feature_pool && out.feature.dim() == 3 ? out.feature.mean(2) : out.feature;
    return feature_kd_loss(out.logits, y, f, teacher->features_of(rows), projector, cfg.lambda);
  };
}

// ------------------------------------------------------------------------------ one fold

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Per-window shape of a feature after the cross-family pooling rule (distill.h).
std::vector<int64_t> pooled(std::vector<int64_t> shape, bool pool) {
  if (pool && shape.size() == 2) shape.resize(1);
  return shape;
}

// A checkpoint's TrainConfig identity (trainer.cpp) does not know the strategy, so the
// distillation's own identity is kept beside it and compared on resume.
void check_or_write_identity(const std::string& out_dir, const nlohmann::json& identity,
                             bool resume) {
  const std::string path = out_dir + "/distill-identity.json";
  const bool have_checkpoint = fs::exists(out_dir + "/checkpoint.pt");
  if (have_checkpoint && resume && fs::exists(path)) {
    const auto saved = nlohmann::json::parse(read_file(path));
    for (const auto& [key, value] : identity.items())
      if (saved.value(key, nlohmann::json()) != value)
        throw Error(path,
                    fmt::format("checkpoint belongs to a different distillation: {} was {} "
                                "but is now {}",
                                key, saved.value(key, nlohmann::json()).dump(), value.dump()));
    return;
  }
  // Without --resume the trainer refuses the existing checkpoint; leave the identity untouched.
  if (have_checkpoint && !resume) return;
  write_file_atomic(path, identity.dump(2) + "\n");
}

}  // namespace

PreparedStudent prepare_student(const DistillData& data, const DistillJob& job,
                                TeacherOutputsMemo* memo) {
  PreparedStudent p;
  p.start = std::chrono::steady_clock::now();
  if (!data.ws) throw Error("distill", "no windows");
  const WindowSet& ws = *data.ws;
  job.distill.validate();
  job.train.validate();
  const DistillConfig& dc = job.distill;

  p.rows = split_fold(ws, job.fold, job.train);
  const int infer_batch = std::max(job.train.batch, 256);

  // The teacher: checked, run once over the fold's training windows (or loaded from the cache),
  // then released; only its outputs stay in memory (shared through `memo` within a group).
  if (dc.needs_teacher()) {
    const std::string& tdir = job.teacher_dir;
    LoadedModel teacher = load_model_dir(tdir);
    check_compatible(tdir, teacher, data.preprocess);
    check_teacher_unseen(tdir, teacher.record, job.fold.test_subjects);
    const ModelSpec& tspec = teacher.net->spec();
    TeacherRequest req;
    req.rows = ws.rows_of_subjects(job.fold.train_subjects);
    if (dc.needs_features()) {
      auto sshape = job.student.feature_shape(dc.student_stage);
      auto tshape = tspec.feature_shape(dc.teacher_stage);
      req.feature_stage = dc.teacher_stage;
      req.pool_feature = tshape.size() > sshape.size();
      p.pool_student = sshape.size() > tshape.size();
      torch::manual_seed(derive_seed(job.train.seed, 0x70726f6aull));  // "proj"
      p.projector =
          FeatureProjector(pooled(sshape, p.pool_student), pooled(tshape, req.pool_feature));
    }
    torch::set_num_threads(job.train.threads);
    const std::string memo_key = teacher_cache_path(tdir, job.cache_dir, data.data_key, req);
    if (memo && memo->count(memo_key)) {
      std::tie(p.outputs, p.teacher_cache) = memo->at(memo_key);
    } else {
      p.outputs = std::make_shared<TeacherOutputs>(
          load_or_compute_teacher_outputs(tdir, *teacher.net, ws, data.data_key, req, job.cache_dir,
                                          infer_batch, &p.teacher_cache));
      if (memo) (*memo)[memo_key] = {p.outputs, p.teacher_cache};
    }
    p.teacher_record = {{"dir", fs::absolute(tdir).lexically_normal().string()},
                        {"spec", tspec.str()},
                        {"params", tspec.num_params()},
                        {"macs_per_window", tspec.macs()},
                        {"fold", teacher.record.fold},
                        {"metrics", teacher.record.metrics.is_null() ? nlohmann::json::object()
                                                                     : teacher.record.metrics},
                        {"outputs_cache",
                         {{"path", p.teacher_cache.path},
                          {"key", p.teacher_cache.key},
                          {"hit", p.teacher_cache.hit},
                          {"seconds", p.teacher_cache.seconds}}}};
  }

  nlohmann::json identity = {{"distillation", dc.to_json()},
                             {"teacher_outputs_key", p.teacher_cache.key}};
  fs::create_directories(job.out_dir);
  check_or_write_identity(job.out_dir, identity, job.resume);
  // "none" keeps the trainer's own cross-entropy (with its label smoothing), exactly `train`.
  if (dc.needs_teacher()) p.loss = make_distill_loss(dc, p.outputs, p.projector, p.pool_student);
  return p;
}

DistillResult finish_student(const DistillData& data, const DistillJob& job,
                             const PreparedStudent& p, NetImpl& net, const TrainResult& res) {
  const DistillConfig& dc = job.distill;
  const bool as_train = job.record_as_train && !dc.needs_teacher();
  DistillResult result;
  result.teacher_cache = p.teacher_cache;
  nlohmann::json metrics = fold_metrics(net, *data.ws, p.rows, res, job.train);
  result.wall_seconds = seconds_since(p.start);
  if (!as_train) {
    metrics["teacher_outputs_seconds"] = result.teacher_cache.seconds;
    metrics["wall_seconds"] = result.wall_seconds;
  }
  ModelRecord rec =
      fold_record(data, job.fold, job.split, p.rows, job.train, res, metrics, job.extra);
  if (!as_train) {
    rec.training["distillation"] = dc.to_json();
    rec.extra["distillation"] = dc.to_json();
  }
  if (!p.teacher_record.is_null()) rec.extra["teacher"] = p.teacher_record;
  save_model_dir(job.out_dir, net, data.preprocess, rec);
  result.metrics = metrics;
  return result;
}

DistillResult distill_fold(const DistillData& data, const DistillJob& job) {
  const PreparedStudent p = prepare_student(data, job, nullptr);
  auto net = init_model(job.student, job.train.seed);
  TrainHooks hooks;
  hooks.progress_label = job.progress_label;
  hooks.loss = p.loss;
  if (p.projector) hooks.extra_modules.push_back(p.projector.ptr());
  auto res = train_model(*net, *data.ws, p.rows.fit_rows, p.rows.val_rows, job.train, job.out_dir,
                         job.resume, hooks);
  return finish_student(data, job, p, *net, res);
}

}  // namespace ppgkd
