// Distillation: the strategy table, finding and checking a fold's teacher, the teacher-output
// cache (reuse, corruption, staleness), the per-batch losses against hand-written formulas, and
// distill_fold end to end for all five strategies with ResNet and MLP students. Uses a
// hand-built sinusoid WindowSet (test_trainer_data.h), tiny models, one thread, one epoch.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>

#include "common/atomic_file.h"
#include "common/error.h"
#include "epoch_log_check.h"
#include "test_trainer_data.h"
#include "test_util.h"
#include "train/distill.h"
#include "train/inference.h"
#include "train/model_dir.h"

namespace ppgkd {
namespace {

namespace fs = std::filesystem;
using ppgkd::testing::scratch_dir;
using ppgkd::testing::sinusoid_windows;

// Teacher and students of different widths, depths and families: the teacher's last stage is
// (16, 50), the ResNet student's (6, 100), the MLP student's (8).
const char* kTeacherSpec = "resnet1d:stem=8,stages=8-16-16,blocks=1,k=5";
const char* kResnetStudent = "resnet1d:stem=4,stages=4-6,blocks=1,k=3";
const char* kMlpStudent = "mlp:hidden=16-8";
const char* kMlpTeacherSpec = "mlp:hidden=24-12";
const char* kDataKey = "0123456789abcdef";
constexpr int kSubjects = 6, kWindowsPerSubject = 16, kChannels = 4, kFolds = 3;

using ppgkd::testing::error_of;

TrainConfig one_epoch() {
  TrainConfig c;
  c.epochs = 1;
  c.batch = 32;
  c.lr = 5e-3;
  c.patience = 0;
  c.val_fraction = 0.25;
  c.seed = 3;
  c.threads = 1;
  return c;
}

// Writes an (untrained) teacher model dir that records `train_subjects` as its training
// subjects. The mechanics under test do not depend on the teacher being any good.
std::string write_teacher(const std::string& dir, const std::string& spec_str,
                          const std::vector<std::string>& train_subjects, uint64_t seed = 11) {
  PreprocessConfig pp;
  auto net = init_model(ModelSpec::parse(spec_str, pp.channels(), pp.length()), seed);
  ModelRecord rec;
  rec.train_subjects = train_subjects;
  rec.split = "kfold";
  rec.metrics = {{"test", {{"mae_bpm", 12.5}}}};
  save_model_dir(dir, *net, pp, rec);
  return dir;
}

struct Fixture {
  WindowSet ws = sinusoid_windows(kSubjects, kWindowsPerSubject, kChannels, 5);
  std::vector<Fold> folds = kfold_by_subject(ws.subjects(), kFolds, 1);
  DistillData data() const {
    DistillData d;
    d.ws = &ws;
    d.data_root = "hand-built";
    d.data_key = kDataKey;
    d.fingerprint = "fedcba9876543210";
    return d;
  }
  DistillJob job(const std::string& student, const std::string& strategy,
                 const std::string& teacher_dir, const std::string& out) const {
    PreprocessConfig pp;
    DistillJob j;
    j.student = ModelSpec::parse(student, pp.channels(), pp.length());
    j.train = one_epoch();
    j.distill = DistillConfig::defaults(strategy);
    j.teacher_dir = teacher_dir;
    j.fold = folds[0];
    j.out_dir = out;
    j.progress_label = "";
    return j;
  }
};

// ------------------------------------------------------------------------------ configuration

TEST(DistillConfig, DefaultsAndRecordedHyperparameters) {
  const auto hard = DistillConfig::defaults("hard");
  EXPECT_EQ(hard.alpha, 0.5);
  EXPECT_EQ(hard.to_json(), nlohmann::json({{"strategy", "hard"}, {"alpha", 0.5}}));
  EXPECT_EQ(DistillConfig::defaults("soft").to_json(),
            nlohmann::json({{"strategy", "soft"}, {"alpha", 0.9}, {"temperature", 4.0}}));
  EXPECT_EQ(DistillConfig::defaults("dkd").to_json(), nlohmann::json({{"strategy", "dkd"},
                                                                      {"alpha", 1.0},
                                                                      {"beta", 8.0},
                                                                      {"temperature", 4.0},
                                                                      {"warmup_epochs", 1.0}}));
  EXPECT_EQ(DistillConfig::defaults("feature").to_json(), nlohmann::json({{"strategy", "feature"},
                                                                          {"lambda", 1.0},
                                                                          {"student_stage", -1},
                                                                          {"teacher_stage", -1}}));
  EXPECT_EQ(DistillConfig::defaults("none").to_json(), nlohmann::json({{"strategy", "none"}}));
  EXPECT_FALSE(DistillConfig::defaults("none").needs_teacher());
  EXPECT_TRUE(DistillConfig::defaults("feature").needs_features());
  EXPECT_FALSE(DistillConfig::defaults("dkd").needs_features());
}

TEST(DistillConfig, RejectsBadValues) {
  EXPECT_EQ(error_of([] { DistillConfig::defaults("fitnet"); }),
            "distill config: unknown strategy \"fitnet\" (expected none, hard, soft, dkd or "
            "feature)");
  auto soft = DistillConfig::defaults("soft");
  soft.alpha = 1.5;
  EXPECT_EQ(error_of([&] { soft.validate(); }),
            "distill config: alpha must be in [0, 1] for soft, got 1.5");
  auto dkd = DistillConfig::defaults("dkd");
  dkd.temperature = 0;
  EXPECT_EQ(error_of([&] { dkd.validate(); }), "distill config: temperature must be > 0, got 0");
}

// ------------------------------------------------------------------------------ teachers

TEST(Teacher, SingleDirOrFoldOfCrossValidationDir) {
  const auto dir = scratch_dir();
  write_teacher(dir + "/single", kTeacherSpec, {"subj0"});
  write_teacher(dir + "/cv/fold-0", kTeacherSpec, {"subj0"});
  write_teacher(dir + "/cv/fold-1", kTeacherSpec, {"subj1"});
  EXPECT_EQ(teacher_dir_for_fold(dir + "/single", 1), dir + "/single");
  EXPECT_EQ(teacher_dir_for_fold(dir + "/cv", 1), dir + "/cv/fold-1");
  EXPECT_EQ(error_of([&] { teacher_dir_for_fold(dir + "/cv", 2); }),
            dir + "/cv: not a model directory, and has no fold-2/model.json");
}

TEST(Teacher, LeakOfTestSubjectsRefused) {
  ModelRecord info;
  info.train_subjects = {"a", "b", "c"};
  info.val_subjects = {"d"};
  EXPECT_NO_THROW(check_teacher_unseen("T", info, {"e", "f"}));
  EXPECT_EQ(error_of([&] {
              check_teacher_unseen("T", info, {"b", "e", "d"});
            }),
            "T: teacher was trained on test subjects b, d of this fold");
  EXPECT_EQ(error_of([&] { check_teacher_unseen("T", info, {"c"}); }),
            "T: teacher was trained on test subject c of this fold");
  EXPECT_EQ(error_of([&] { check_teacher_unseen("T", ModelRecord{}, {"c"}); }),
            "T: teacher records no training subjects, so it cannot be shown to exclude the test "
            "subjects");
}

TEST(Teacher, DistillFoldRefusesATeacherThatSawTheTestSubjects) {
  Fixture fx;
  const auto dir = scratch_dir();
  // A teacher trained on every subject has seen fold 0's test subjects.
  const auto tdir = write_teacher(dir + "/teacher", kTeacherSpec, fx.ws.subjects());
  const auto& test = fx.folds[0].test_subjects;
  ASSERT_EQ(test.size(), 2u);
  EXPECT_EQ(
      error_of([&] { distill_fold(fx.data(), fx.job(kMlpStudent, "dkd", tdir, dir + "/s")); }),
      tdir + ": teacher was trained on test subjects " + test[0] + ", " + test[1] +
          " of this fold");
  EXPECT_FALSE(fs::exists(dir + "/s/model.json"));
}

// ------------------------------------------------------------------------------ teacher cache

TEST(TeacherCache, ComputedOnceReusedThenRebuiltWhenCorruptOrStale) {
  torch::set_num_threads(1);
  Fixture fx;
  const auto dir = scratch_dir();
  const auto tdir = write_teacher(dir + "/teacher", kTeacherSpec, fx.folds[0].train_subjects);
  auto teacher = load_model_dir(tdir);
  TeacherRequest req;
  req.rows = fx.ws.rows_of_subjects(fx.folds[0].train_subjects);
  req.feature_stage = -1;

  // Reference: the teacher run directly on all rows in one batch (the cache runs batches of 7;
  // eval-mode BatchNorm makes the two agree).
  torch::NoGradGuard no_grad;
  auto direct = teacher.net->forward_with_feature(gather_windows(fx.ws, req.rows), -1);

  TeacherCacheInfo info;
  auto first =
      load_or_compute_teacher_outputs(tdir, *teacher.net, fx.ws, kDataKey, req, "", 7, &info);
  EXPECT_FALSE(info.hit);
  EXPECT_EQ(info.rebuilt_because, "absent");
  EXPECT_EQ(info.teacher_windows, static_cast<int64_t>(req.rows.size()));
  EXPECT_EQ(fs::path(info.path).parent_path(), fs::path(tdir));
  EXPECT_TRUE(torch::allclose(first.logits, direct.logits, 1e-5, 1e-5));
  EXPECT_TRUE(torch::allclose(first.features, direct.feature, 1e-5, 1e-5));
  EXPECT_EQ(first.features.sizes(), torch::IntArrayRef({int64_t(req.rows.size()), 16, 50}));

  auto second =
      load_or_compute_teacher_outputs(tdir, *teacher.net, fx.ws, kDataKey, req, "", 7, &info);
  EXPECT_TRUE(info.hit);
  EXPECT_EQ(info.teacher_windows, 0);  // no teacher forward
  EXPECT_TRUE(torch::equal(second.logits, first.logits));
  EXPECT_TRUE(torch::equal(second.features, first.features));

  // Lookup by WindowSet row, in any order.
  const std::vector<int64_t> pick = {int64_t(req.rows[3]), int64_t(req.rows[0])};
  auto looked = second.logits_of(torch::tensor(pick));
  EXPECT_TRUE(torch::allclose(looked[0], direct.logits[3], 1e-5, 1e-5));
  EXPECT_TRUE(torch::allclose(looked[1], direct.logits[0], 1e-5, 1e-5));
  const auto test_row = fx.ws.rows_of_subjects(fx.folds[0].test_subjects).at(0);
  EXPECT_EQ(error_of([&] { second.logits_of(torch::tensor({int64_t(test_row)})); }),
            "teacher outputs: window row " + std::to_string(test_row) + " was not cached");

  // One flipped byte in the payload: detected, rebuilt, same outputs.
  {
    std::string bytes = read_file(info.path);
    bytes[bytes.size() - 5] ^= 0x40;
    write_file_atomic(info.path, bytes);
  }
  auto third =
      load_or_compute_teacher_outputs(tdir, *teacher.net, fx.ws, kDataKey, req, "", 7, &info);
  EXPECT_FALSE(info.hit);
  EXPECT_EQ(info.rebuilt_because, "corrupt: payload checksum mismatch");
  EXPECT_EQ(info.teacher_windows, static_cast<int64_t>(req.rows.size()));
  EXPECT_TRUE(torch::equal(third.logits, first.logits));

  // Truncated file.
  {
    std::string bytes = read_file(info.path);
    write_file_atomic(info.path, bytes.substr(0, 10));
  }
  load_or_compute_teacher_outputs(tdir, *teacher.net, fx.ws, kDataKey, req, "", 7, &info);
  EXPECT_EQ(info.rebuilt_because, "corrupt: truncated header (10 bytes)");

  // The teacher retrained (other weights) -> same file name, stale key.
  const std::string old_path = info.path, old_key = info.key;
  write_teacher(tdir, kTeacherSpec, fx.folds[0].train_subjects, /*seed=*/12);
  auto retrained = load_model_dir(tdir);
  load_or_compute_teacher_outputs(tdir, *retrained.net, fx.ws, kDataKey, req, "", 7, &info);
  EXPECT_EQ(info.path, old_path);
  EXPECT_NE(info.key, old_key);
  EXPECT_EQ(info.rebuilt_because, "stale: key " + old_key + ", expected " + info.key);

  // Other data -> another file; --cache puts it elsewhere.
  load_or_compute_teacher_outputs(tdir, *retrained.net, fx.ws, "ffffffffffffffff", req,
                                  dir + "/cache", 7, &info);
  EXPECT_NE(info.path, old_path);
  EXPECT_EQ(fs::path(info.path).parent_path(), fs::path(dir + "/cache"));
  EXPECT_EQ(info.rebuilt_because, "absent");
}

TEST(TeacherCache, PooledFeatureIsTheTimeAverage) {
  torch::set_num_threads(1);
  Fixture fx;
  const auto dir = scratch_dir();
  const auto tdir = write_teacher(dir + "/teacher", kTeacherSpec, fx.folds[0].train_subjects);
  auto teacher = load_model_dir(tdir);
  TeacherRequest req;
  req.rows = {0, 5, 9};
  req.feature_stage = -1;
  req.pool_feature = true;
  auto out =
      load_or_compute_teacher_outputs(tdir, *teacher.net, fx.ws, kDataKey, req, "", 64, nullptr);
  torch::NoGradGuard no_grad;
  auto full = teacher.net->forward_with_feature(gather_windows(fx.ws, req.rows), -1).feature;
  ASSERT_EQ(out.features.sizes(), torch::IntArrayRef({3, 16}));
  // Mean over the 50 time steps of channel 2 of the second row, summed by hand.
  double sum = 0;
  for (int64_t t = 0; t < 50; ++t) sum += full[1][2][t].item<double>();
  EXPECT_NEAR(out.features[1][2].item<double>(), sum / 50, 1e-5);
}

// ------------------------------------------------------------------------------ batch losses

// Hand-written reference pieces on (B, K) tensors, in double.
torch::Tensor log_softmax_ref(const torch::Tensor& z) {
  auto zd = z.to(torch::kFloat64);
  return zd - zd.exp().sum(1, true).log();
}
double ce_ref(const torch::Tensor& s, const std::vector<int64_t>& y) {
  auto ls = log_softmax_ref(s);
  double total = 0;
  for (size_t b = 0; b < y.size(); ++b) total -= ls[b][y[b]].item<double>();
  return total / y.size();
}

struct LossCase {
  WindowSet ws = sinusoid_windows(2, 4, kChannels, 9);
  Net student;
  std::shared_ptr<TeacherOutputs> teacher = std::make_shared<TeacherOutputs>();
  std::vector<size_t> rows = {6, 1, 3};  // a batch in shuffled order
  torch::Tensor x, y, row_t, s;
  LossCase() {
    PreprocessConfig pp;
    student = init_model(ModelSpec::parse(kMlpStudent, pp.channels(), pp.length()), 2);
    // Teacher logits of row r: a fixed pattern, r-dependent, so a wrong lookup shows.
    teacher->logits = torch::zeros({int64_t(ws.size()), kNumClasses});
    for (int64_t r = 0; r < int64_t(ws.size()); ++r)
      for (int64_t k = 0; k < kNumClasses; ++k)
        teacher->logits[r][k] = std::sin(0.1 * k * (r + 1)) * 3.0;
    teacher->slot = std::vector<int64_t>(ws.size());
    for (size_t r = 0; r < ws.size(); ++r) teacher->slot[r] = int64_t(r);
    x = gather_windows(ws, rows);
    y = gather_targets(ws, rows);
    row_t = torch::tensor(std::vector<int64_t>(rows.begin(), rows.end()));
    s = student->forward(x).detach();
  }
  torch::Tensor t() const { return teacher->logits.index_select(0, row_t); }
  std::vector<int64_t> labels() const { return {y.data_ptr<int64_t>(), y.data_ptr<int64_t>() + 3}; }
};

TEST(DistillLoss, HardIsCrossEntropyOnTheTeacherArgmaxOfEachRow) {
  LossCase c;
  auto cfg = DistillConfig::defaults("hard");
  cfg.alpha = 0.25;
  auto loss = make_distill_loss(cfg, c.teacher, nullptr, false);
  const double got = loss(*c.student, c.x, c.y, c.row_t, 0).item<double>();
  auto arg = c.t().argmax(1);
  std::vector<int64_t> teacher_labels = {arg[0].item<int64_t>(), arg[1].item<int64_t>(),
                                         arg[2].item<int64_t>()};
  EXPECT_NEAR(got, 0.75 * ce_ref(c.s, c.labels()) + 0.25 * ce_ref(c.s, teacher_labels), 1e-5);
}

TEST(DistillLoss, SoftIsHintonKd) {
  LossCase c;
  auto cfg = DistillConfig::defaults("soft");
  cfg.alpha = 0.9, cfg.temperature = 4.0;
  auto loss = make_distill_loss(cfg, c.teacher, nullptr, false);
  const double got = loss(*c.student, c.x, c.y, c.row_t, 0).item<double>();
  const double T = 4.0;
  auto lpt = log_softmax_ref(c.t() / T), lps = log_softmax_ref(c.s / T);
  const double kl = (lpt.exp() * (lpt - lps)).sum().item<double>() / 3;
  EXPECT_NEAR(got, 0.1 * ce_ref(c.s, c.labels()) + 0.9 * T * T * kl, 1e-4);
}

TEST(DistillLoss, DkdWarmsUpOverEpochsCountedFromOne) {
  LossCase c;
  auto cfg = DistillConfig::defaults("dkd");
  cfg.alpha = 1, cfg.beta = 8, cfg.temperature = 4, cfg.warmup_epochs = 5;
  auto loss = make_distill_loss(cfg, c.teacher, nullptr, false);
  DkdOptions o;
  o.alpha = 1, o.beta = 8, o.temperature = 4, o.warmup_epochs = 5;
  auto parts = dkd_loss(c.s, c.t(), c.y, o, 5.0);
  const double kd = parts.tckd.item<double>() + 8 * parts.nckd.item<double>();
  const double ce = ce_ref(c.s, c.labels());
  // Trainer epoch 0 is the first epoch: 1/5 of the KD term; epoch 4 onwards: all of it.
  EXPECT_NEAR(loss(*c.student, c.x, c.y, c.row_t, 0).item<double>(), ce + kd / 5, 1e-4);
  EXPECT_NEAR(loss(*c.student, c.x, c.y, c.row_t, 2).item<double>(), ce + 3 * kd / 5, 1e-4);
  EXPECT_NEAR(loss(*c.student, c.x, c.y, c.row_t, 7).item<double>(), ce + kd, 1e-4);
}

// ------------------------------------------------------------------------------ end to end

void expect_student_dir(const std::string& out, const std::string& strategy,
                        const std::string& student_spec, const std::string& teacher_dir) {
  auto m = load_model_dir(out);
  EXPECT_EQ(m.net->spec().str(), ModelSpec::parse(student_spec, 4, 200).str());
  const auto info = m.record.to_json();
  EXPECT_EQ(info["training"]["distillation"]["strategy"], strategy);
  EXPECT_EQ(info["extra"]["distillation"]["strategy"], strategy);
  EXPECT_TRUE(info["metrics"].contains("test"));
  EXPECT_GT(info["metrics"]["wall_seconds"].get<double>(), 0);
  EXPECT_EQ(info["split"]["test_subjects"].size(), 2u);
  EXPECT_EQ(info["history"].size(), 1u);
  if (strategy == "none") {
    EXPECT_FALSE(info["extra"].contains("teacher"));
  } else {
    EXPECT_EQ(info["extra"]["teacher"]["dir"], teacher_dir);
    EXPECT_EQ(info["extra"]["teacher"]["spec"], ModelSpec::parse(kTeacherSpec, 4, 200).str());
    EXPECT_EQ(info["extra"]["teacher"]["metrics"]["test"]["mae_bpm"], 12.5);
  }
  // The saved student runs.
  torch::NoGradGuard no_grad;
  EXPECT_EQ(m.net->forward(torch::zeros({2, 4, 200})).sizes(),
            torch::IntArrayRef({2, kNumClasses}));
}

class AllStrategies : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {};

TEST_P(AllStrategies, ProduceALoadableStudentDir) {
  torch::set_num_threads(1);
  const auto& [student, strategy] = GetParam();
  Fixture fx;
  const auto dir = scratch_dir();
  const auto tdir = write_teacher(dir + "/teacher", kTeacherSpec, fx.folds[0].train_subjects);
  const auto res = distill_fold(fx.data(), fx.job(student, strategy, tdir, dir + "/student"));
  expect_student_dir(dir + "/student", strategy, student, tdir);
  EXPECT_TRUE(std::isfinite(res.metrics["test"]["mae_bpm"].get<double>()));
  if (strategy != "none") {
    EXPECT_FALSE(res.teacher_cache.hit);
    EXPECT_EQ(res.teacher_cache.teacher_windows,
              int64_t(fx.ws.rows_of_subjects(fx.folds[0].train_subjects).size()));
  }
}

INSTANTIATE_TEST_SUITE_P(Distill, AllStrategies,
                         ::testing::Combine(::testing::Values(kResnetStudent, kMlpStudent),
                                            ::testing::Values("none", "hard", "soft", "dkd",
                                                              "feature")),
                         [](const auto& info) {
                           return std::string(std::get<0>(info.param)).substr(0, 3) + "_" +
                                  std::get<1>(info.param);
                         });

TEST(DistillFold, SecondStudentReusesTheTeacherCache) {
  torch::set_num_threads(1);
  Fixture fx;
  const auto dir = scratch_dir();
  const auto tdir = write_teacher(dir + "/teacher", kTeacherSpec, fx.folds[0].train_subjects);
  auto first = distill_fold(fx.data(), fx.job(kMlpStudent, "soft", tdir, dir + "/a"));
  EXPECT_FALSE(first.teacher_cache.hit);
  auto job = fx.job(kResnetStudent, "dkd", tdir, dir + "/b");
  job.train.seed = 99;  // another validation split: same fold rows, same cache
  auto second = distill_fold(fx.data(), job);
  EXPECT_TRUE(second.teacher_cache.hit);
  EXPECT_EQ(second.teacher_cache.teacher_windows, 0);
  EXPECT_EQ(second.teacher_cache.path, first.teacher_cache.path);
  const auto rec = load_model_dir(dir + "/b").record;
  EXPECT_EQ(rec.extra["teacher"]["outputs_cache"]["hit"], true);
  // A distilled run writes its epochs.jsonl like a trained one.
  testing::expect_epoch_log_matches(dir + "/b/epochs.jsonl", rec.history, job.train.epochs);
}

TEST(DistillFold, FeatureAcrossShapesAndFamilies) {
  torch::set_num_threads(1);
  Fixture fx;
  const auto dir = scratch_dir();
  // ResNet student stage 0 (4, 200) against ResNet teacher stage 1 (16, 100): other channels
  // and length.
  const auto tdir = write_teacher(dir + "/teacher", kTeacherSpec, fx.folds[0].train_subjects);
  auto job = fx.job(kResnetStudent, "feature", tdir, dir + "/r");
  job.distill.student_stage = 0;
  job.distill.teacher_stage = 1;
  auto res = distill_fold(fx.data(), job);
  EXPECT_EQ(load_model_dir(dir + "/r").record.extra["distillation"]["teacher_stage"], 1);
  EXPECT_TRUE(std::isfinite(res.metrics["test"]["mae_bpm"].get<double>()));

  // ResNet student (6, 100) against an MLP teacher (12): the student is pooled to (6).
  const auto mdir =
      write_teacher(dir + "/mlp-teacher", kMlpTeacherSpec, fx.folds[0].train_subjects);
  distill_fold(fx.data(), fx.job(kResnetStudent, "feature", mdir, dir + "/rm"));
  EXPECT_EQ(load_model_dir(dir + "/rm").record.extra["teacher"]["spec"],
            ModelSpec::parse(kMlpTeacherSpec, 4, 200).str());
}

TEST(DistillFold, ResumeRefusesAnotherStrategy) {
  torch::set_num_threads(1);
  Fixture fx;
  const auto dir = scratch_dir();
  const auto tdir = write_teacher(dir + "/teacher", kTeacherSpec, fx.folds[0].train_subjects);
  distill_fold(fx.data(), fx.job(kMlpStudent, "dkd", tdir, dir + "/s"));
  auto job = fx.job(kMlpStudent, "soft", tdir, dir + "/s");
  job.resume = true;
  EXPECT_EQ(error_of([&] { distill_fold(fx.data(), job); }),
            dir +
                "/s/distill-identity.json: checkpoint belongs to a different distillation: "
                "distillation was {\"alpha\":1.0,\"beta\":8.0,\"strategy\":\"dkd\","
                "\"temperature\":4.0,\"warmup_epochs\":1.0} but is now {\"alpha\":0.9,"
                "\"strategy\":\"soft\",\"temperature\":4.0}");
  // The same distillation resumes (here: already finished) without complaint.
  auto same = fx.job(kMlpStudent, "dkd", tdir, dir + "/s");
  same.resume = true;
  EXPECT_NO_THROW(distill_fold(fx.data(), same));
}

}  // namespace
}  // namespace ppgkd
