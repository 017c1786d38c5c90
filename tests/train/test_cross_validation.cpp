// The cross-validation driver (train/cross_validation.h): the fold loop, the validation split
// handed to each fold, summary.json (mean and SD of the test MAE against hand-computed values),
// a single fold, a fold out of range; and train_fold end to end, its model.json against the
// driver's summary.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>

#include "common/atomic_file.h"
#include "common/error.h"
#include "test_trainer_data.h"
#include "test_util.h"
#include "train/cross_validation.h"

namespace ppgkd {
namespace {

namespace fs = std::filesystem;

using ppgkd::testing::error_of;

// 6 subjects of 5 windows, 3 folds of 2 test subjects.
struct Fixture {
  WindowSet ws = testing::sinusoid_windows(6, 5, 1, 11);
  CvData data;
  CvPlan plan;
  Fixture() {
    data.ws = &ws;
    data.data_root = "sinusoids";
    data.fingerprint = "f00d";
    plan.command = "train";
    plan.split.folds = 3;
    plan.cfg.val_fraction = 0.25;  // 4 training subjects: 1 held out
    plan.cfg.seed = 3;
    plan.summary = {{"spec", "mlp:hidden=4"}};
  }
};

std::set<size_t> as_set(const std::vector<size_t>& v) {
  return {v.begin(), v.end()};
}

TEST(CrossValidation, EveryFoldThenASummaryOfTheTestMae) {
  Fixture fx;
  fx.plan.out = testing::scratch_dir();
  // Test MAEs 2, 4 and 9 BPM: mean 5; deviations -3, -1, 4; SD sqrt((9 + 1 + 16) / 2) = sqrt(13).
  const double maes[] = {2, 4, 9};
  std::vector<int> seen;
  const auto summary = run_cross_validation(
      fx.data, fx.plan, [&](const Fold& fold, const FoldRows& rows, const std::string& dir) {
        seen.push_back(fold.index);
        EXPECT_EQ(dir, fx.plan.out + "/fold-" + std::to_string(fold.index));
        EXPECT_EQ(fold.count, 3);
        EXPECT_EQ(fold.test_subjects.size(), 2u);
        // The validation split: 1 of the 4 training subjects, fit and val partition them.
        EXPECT_EQ(rows.val.size(), 1u);
        EXPECT_EQ(rows.fit.size(), 3u);
        std::vector<std::string> both = rows.fit;
        both.insert(both.end(), rows.val.begin(), rows.val.end());
        std::sort(both.begin(), both.end());
        EXPECT_EQ(both, fold.train_subjects);
        // Rows: 5 windows per subject, the three parts disjoint.
        EXPECT_EQ(rows.fit_rows.size(), 15u);
        EXPECT_EQ(rows.val_rows.size(), 5u);
        EXPECT_EQ(rows.test_rows.size(), 10u);
        std::set<size_t> all = as_set(rows.fit_rows);
        for (const auto* part : {&rows.val_rows, &rows.test_rows})
          for (size_t r : *part) EXPECT_TRUE(all.insert(r).second) << r;
        for (size_t r : rows.test_rows) {
          const auto& subject = fx.ws.recordings[fx.ws.recording[r]].subject;
          EXPECT_TRUE(std::count(fold.test_subjects.begin(), fold.test_subjects.end(), subject));
        }
        return nlohmann::json{{"test", {{"mae_bpm", maes[fold.index]}}}, {"best_epoch", 0}};
      });
  EXPECT_EQ(seen, std::vector<int>({0, 1, 2}));
  ASSERT_TRUE(summary.has_value());
  EXPECT_EQ(summary->tested_folds, 3u);
  EXPECT_DOUBLE_EQ(summary->test_mae_mean, 5.0);
  EXPECT_DOUBLE_EQ(summary->test_mae_sd, std::sqrt(13.0));

  const auto j = nlohmann::json::parse(read_file(fx.plan.out + "/summary.json"));
  EXPECT_EQ(j.at("spec"), "mlp:hidden=4");
  EXPECT_EQ(j.at("data"), "sinusoids");
  EXPECT_EQ(j.at("data_fingerprint"), "f00d");
  EXPECT_EQ(j.at("split"), "kfold");
  EXPECT_EQ(j.at("folds"), 3);
  EXPECT_EQ(j.at("training"), fx.plan.cfg.to_json());
  EXPECT_TRUE(j.at("context").contains("git_commit"));
  EXPECT_DOUBLE_EQ(j.at("test_mae_bpm_mean").get<double>(), 5.0);
  EXPECT_DOUBLE_EQ(j.at("test_mae_bpm_sd").get<double>(), std::sqrt(13.0));
  ASSERT_EQ(j.at("folds_detail").size(), 3u);
  const auto folds = make_folds(fx.plan.split, fx.ws.subjects());
  for (int i = 0; i < 3; ++i) {
    const auto& d = j.at("folds_detail")[i];
    EXPECT_EQ(d.at("fold"), i);
    EXPECT_EQ(d.at("test_subjects"), nlohmann::json(folds[i].test_subjects));
    EXPECT_EQ(d.at("metrics").at("test").at("mae_bpm"), maes[i]);
  }
}

TEST(CrossValidation, OneFoldGoesIntoOutAndWritesNoSummary) {
  Fixture fx;
  fx.plan.out = testing::scratch_dir() + "/one";
  fx.plan.fold = 1;
  int calls = 0;
  const auto summary = run_cross_validation(
      fx.data, fx.plan, [&](const Fold& fold, const FoldRows&, const std::string& dir) {
        ++calls;
        EXPECT_EQ(fold.index, 1);
        EXPECT_EQ(dir, fx.plan.out);
        return nlohmann::json{{"test", {{"mae_bpm", 1.0}}}};
      });
  EXPECT_EQ(calls, 1);
  EXPECT_FALSE(summary.has_value());
  EXPECT_FALSE(fs::exists(fx.plan.out + "/summary.json"));

  fx.plan.fold = 3;
  fx.plan.command = "distill";
  EXPECT_EQ(error_of([&] {
              run_cross_validation(fx.data, fx.plan,
                                   [](const Fold&, const FoldRows&, const std::string&) {
                                     return nlohmann::json::object();
                                   });
            }),
            "distill: --fold 3 out of range (0..2)");
}

TEST(CrossValidation, FoldsWithoutTestMetricsGiveNoMean) {
  Fixture fx;
  fx.plan.out = testing::scratch_dir();
  const auto summary =
      run_cross_validation(fx.data, fx.plan, [](const Fold&, const FoldRows&, const std::string&) {
        return nlohmann::json{{"best_epoch", 0}};
      });
  ASSERT_TRUE(summary.has_value());
  EXPECT_EQ(summary->tested_folds, 0u);
  const auto j = nlohmann::json::parse(read_file(fx.plan.out + "/summary.json"));
  EXPECT_FALSE(j.contains("test_mae_bpm_mean"));
  EXPECT_FALSE(j.contains("test_mae_bpm_sd"));
  EXPECT_EQ(j.at("folds_detail").size(), 3u);
}

// ------------------------------------------------------------------------------ train_fold

TEST(CrossValidation, TrainFoldWritesTheModelDirTheSummaryDescribes) {
  torch::set_num_threads(1);
  Fixture fx;
  fx.plan.out = testing::scratch_dir();
  fx.plan.cfg.epochs = 1;
  fx.plan.cfg.batch = 8;
  fx.plan.cfg.threads = 1;
  fx.data.preprocess.inputs = "ppg";  // one channel, as the windows
  const auto spec = ModelSpec::parse("mlp:hidden=4", 1, 200);
  std::vector<FoldRows> given;
  run_cross_validation(fx.data, fx.plan,
                       [&](const Fold& fold, const FoldRows& rows, const std::string& dir) {
                         given.push_back(rows);
                         TrainFoldJob job;
                         job.spec = spec;
                         job.cfg = fx.plan.cfg;
                         job.fold = fold;
                         job.split = fx.plan.split.kind();
                         job.out_dir = dir;
                         job.progress_label = "";
                         job.extra = fold_extra(fx.plan.split, 2.5);
                         return train_fold(fx.data, job, rows).metrics;
                       });
  const auto summary = nlohmann::json::parse(read_file(fx.plan.out + "/summary.json"));
  double sum = 0;
  for (int i = 0; i < 3; ++i) {
    const auto m = load_model_dir(fx.plan.out + "/fold-" + std::to_string(i));
    const ModelRecord& r = m.record;
    EXPECT_EQ(r.spec, spec.str());
    EXPECT_EQ(r.split, "kfold");
    EXPECT_EQ(r.fold, i);
    EXPECT_EQ(r.folds, 3);
    EXPECT_EQ(r.train_subjects, given[i].fit);
    EXPECT_EQ(r.val_subjects, given[i].val);
    EXPECT_EQ(r.data_root, "sinusoids");
    EXPECT_EQ(r.data_fingerprint, "f00d");
    EXPECT_EQ(r.training.at("threads"), 1);
    EXPECT_EQ(r.training.at("epochs"), 1);
    EXPECT_EQ(r.extra.at("split_seed"), 1);
    EXPECT_EQ(r.transition_scale_bpm(), 2.5);
    EXPECT_EQ(r.history.size(), 1u);
    EXPECT_EQ(r.metrics.at("test").at("windows"), 10);
    EXPECT_EQ(summary.at("folds_detail")[i].at("metrics"), r.metrics);
    sum += r.metrics.at("test").at("mae_bpm").get<double>();
  }
  EXPECT_DOUBLE_EQ(summary.at("test_mae_bpm_mean").get<double>(), sum / 3);
}

}  // namespace
}  // namespace ppgkd
