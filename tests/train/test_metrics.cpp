// Tests for the heart-rate metrics against values computed by hand in the comments.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "common/error.h"
#include "train/metrics.h"

namespace ppgkd {
namespace {

constexpr double kTol = 1e-12;

// Two subjects, five windows (estimate, reference):
//   subject "A" (dataset "d1"): (62, 60) (78, 80) (91, 90)   errors +2 -2 +1
//   subject "B" (dataset "d2"): (100, 104) (105, 95)         errors -4 +10
std::vector<WindowEstimate> two_subjects() {
  return {{62, 60, "A", "d1"},
          {78, 80, "A", "d1"},
          {91, 90, "A", "d1"},
          {100, 104, "B", "d2"},
          {105, 95, "B", "d2"}};
}

// ------------------------------------------------------------------------------ hand example

TEST(Metrics, TwoSubjectsByHand) {
  const HrMetrics m = compute_metrics(two_subjects());
  EXPECT_EQ(m.windows, 5u);
  EXPECT_EQ(m.subjects, 2u);
  // MAE_A = (2 + 2 + 1) / 3 = 5/3; MAE_B = (4 + 10) / 2 = 7; primary MAE = (5/3 + 7) / 2 = 13/3.
  EXPECT_NEAR(m.subject_mae_bpm.at("A"), 5.0 / 3.0, kTol);
  EXPECT_NEAR(m.subject_mae_bpm.at("B"), 7.0, kTol);
  EXPECT_NEAR(m.mae_bpm, 13.0 / 3.0, kTol);
  // Pooled window MAE = 19 / 5 = 3.8 (differs from the subject-averaged 13/3).
  EXPECT_NEAR(m.window_mae_bpm, 3.8, kTol);
  // RMSE = sqrt((4 + 4 + 1 + 16 + 100) / 5) = sqrt(25) = 5.
  EXPECT_NEAR(m.rmse_bpm, 5.0, kTol);
  // |e| <= 5 for four of five windows (the 10 BPM error fails).
  EXPECT_NEAR(m.within_5bpm, 0.8, kTol);
  // |e|/ref: 2/60, 2/80, 1/90, 4/104, 10/95 (10.5%, the only one above 10%).
  EXPECT_NEAR(m.mape_percent, 100.0 * (2.0 / 60 + 2.0 / 80 + 1.0 / 90 + 4.0 / 104 + 10.0 / 95) / 5,
              kTol);
  EXPECT_NEAR(m.within_10pct, 0.8, kTol);
  // Pearson r: estimate mean 436/5 = 87.2, reference mean 429/5 = 85.8;
  // deviations e: -25.2 -9.2 3.8 12.8 17.8, r: -25.8 -5.8 4.2 18.2 9.2;
  // sum de*dr = 1116.2, sum de^2 = 1214.8, sum dr^2 = 1132.8.
  EXPECT_NEAR(m.pearson_r, 1116.2 / std::sqrt(1214.8 * 1132.8), 1e-12);
  // Bland–Altman: differences 2 -2 1 -4 10, bias 7/5 = 1.4; squared deviations
  // 0.36 + 11.56 + 0.16 + 29.16 + 73.96 = 115.2, sample variance 115.2 / 4 = 28.8.
  EXPECT_NEAR(m.ba_bias_bpm, 1.4, kTol);
  EXPECT_NEAR(m.ba_sd_bpm, std::sqrt(28.8), kTol);
  EXPECT_NEAR(m.ba_lower_bpm, 1.4 - 1.96 * std::sqrt(28.8), kTol);
  EXPECT_NEAR(m.ba_upper_bpm, 1.4 + 1.96 * std::sqrt(28.8), kTol);
  // One subject per dataset here: the dataset MAE is that subject's.
  EXPECT_NEAR(m.dataset_mae_bpm.at("d1"), 5.0 / 3.0, kTol);
  EXPECT_NEAR(m.dataset_mae_bpm.at("d2"), 7.0, kTol);
}

TEST(Metrics, DatasetMaeAveragesSubjectsNotWindows) {
  // Dataset "d1": subject P with one window (|e| = 1), subject Q with three (|e| = 3 each):
  // subject-averaged (1 + 3) / 2 = 2, whereas pooling windows would give 10 / 4 = 2.5.
  // Dataset "d2": subject R with |e| = 6 -> 6. Overall: (1 + 3 + 6) / 3 = 10/3.
  const std::vector<WindowEstimate> w = {{81, 80, "P", "d1"},
                                         {73, 70, "Q", "d1"},
                                         {67, 70, "Q", "d1"},
                                         {73, 70, "Q", "d1"},
                                         {94, 100, "R", "d2"}};
  const HrMetrics m = compute_metrics(w);
  EXPECT_NEAR(m.dataset_mae_bpm.at("d1"), 2.0, kTol);
  EXPECT_NEAR(m.dataset_mae_bpm.at("d2"), 6.0, kTol);
  EXPECT_NEAR(m.mae_bpm, 10.0 / 3.0, kTol);
  EXPECT_NEAR(m.window_mae_bpm, 16.0 / 5.0, kTol);
  EXPECT_EQ(m.subjects, 3u);
}

// ------------------------------------------------------------------------------ Pearson r

std::vector<WindowEstimate> from_pairs(const std::vector<double>& est,
                                       const std::vector<double>& ref) {
  std::vector<WindowEstimate> w;
  for (size_t i = 0; i < est.size(); ++i) w.push_back({est[i], ref[i], "S", "d"});
  return w;
}

TEST(Metrics, PearsonPerfectlyCorrelated) {
  // estimate = 2 * reference + 3 exactly: r = +1.
  const std::vector<double> ref = {55, 63, 71, 98, 120, 150};
  std::vector<double> est;
  for (double r : ref) est.push_back(2 * r + 3);
  EXPECT_NEAR(compute_metrics(from_pairs(est, ref)).pearson_r, 1.0, 1e-12);
}

TEST(Metrics, PearsonPerfectlyAntiCorrelated) {
  // estimate = 220 - reference exactly: r = -1.
  const std::vector<double> ref = {55, 63, 71, 98, 120, 150};
  std::vector<double> est;
  for (double r : ref) est.push_back(220 - r);
  EXPECT_NEAR(compute_metrics(from_pairs(est, ref)).pearson_r, -1.0, 1e-12);
}

TEST(Metrics, PearsonUndefinedForConstantEstimatesIsNullInJson) {
  const HrMetrics m = compute_metrics(from_pairs({80, 80, 80}, {70, 80, 90}));
  EXPECT_TRUE(std::isnan(m.pearson_r));
  EXPECT_TRUE(to_json(m)["pearson_r"].is_null());
}

// ------------------------------------------------------------------------------ Bland–Altman

TEST(Metrics, BlandAltmanKnownSet) {
  // Differences 1 2 3 4: bias 2.5, deviations -1.5 -0.5 0.5 1.5, sum of squares 5,
  // sample SD sqrt(5/3); limits 2.5 -/+ 1.96 sqrt(5/3) = 0.0302... and 4.9698...
  const HrMetrics m = compute_metrics(from_pairs({61, 72, 83, 94}, {60, 70, 80, 90}));
  EXPECT_NEAR(m.ba_bias_bpm, 2.5, kTol);
  EXPECT_NEAR(m.ba_sd_bpm, std::sqrt(5.0 / 3.0), kTol);
  EXPECT_NEAR(m.ba_lower_bpm, 2.5 - 1.96 * std::sqrt(5.0 / 3.0), kTol);
  EXPECT_NEAR(m.ba_upper_bpm, 2.5 + 1.96 * std::sqrt(5.0 / 3.0), kTol);
}

TEST(Metrics, SingleWindowHasUndefinedSpread) {
  const HrMetrics m = compute_metrics(from_pairs({63}, {60}));
  EXPECT_NEAR(m.mae_bpm, 3.0, kTol);
  EXPECT_NEAR(m.ba_bias_bpm, 3.0, kTol);
  EXPECT_TRUE(std::isnan(m.ba_sd_bpm));
  EXPECT_TRUE(std::isnan(m.pearson_r));
  EXPECT_TRUE(to_json(m)["bland_altman"]["lower_bpm"].is_null());
}

// ------------------------------------------------------------------------------ JSON

TEST(Metrics, JsonCarriesEveryMetric) {
  const HrMetrics m = compute_metrics(two_subjects());
  const nlohmann::json j = m;  // through the ADL to_json
  EXPECT_EQ(j["windows"].get<int>(), 5);
  EXPECT_EQ(j["subjects"].get<int>(), 2);
  EXPECT_NEAR(j["mae_bpm"].get<double>(), 13.0 / 3.0, kTol);
  EXPECT_NEAR(j["window_mae_bpm"].get<double>(), 3.8, kTol);
  EXPECT_NEAR(j["rmse_bpm"].get<double>(), 5.0, kTol);
  EXPECT_NEAR(j["within_5bpm"].get<double>(), 0.8, kTol);
  EXPECT_NEAR(j["within_10pct"].get<double>(), 0.8, kTol);
  EXPECT_NEAR(j["mape_percent"].get<double>(), m.mape_percent, 0.0);
  EXPECT_NEAR(j["pearson_r"].get<double>(), m.pearson_r, 0.0);
  EXPECT_NEAR(j["bland_altman"]["bias_bpm"].get<double>(), 1.4, kTol);
  EXPECT_NEAR(j["bland_altman"]["sd_bpm"].get<double>(), std::sqrt(28.8), kTol);
  EXPECT_NEAR(j["bland_altman"]["lower_bpm"].get<double>(), m.ba_lower_bpm, 0.0);
  EXPECT_NEAR(j["bland_altman"]["upper_bpm"].get<double>(), m.ba_upper_bpm, 0.0);
  EXPECT_NEAR(j["subject_mae_bpm"]["B"].get<double>(), 7.0, kTol);
  EXPECT_NEAR(j["dataset_mae_bpm"]["d1"].get<double>(), 5.0 / 3.0, kTol);
  // Round trip through text: NaN-free JSON parses back to the same document.
  EXPECT_EQ(nlohmann::json::parse(j.dump()), j);
}

// ------------------------------------------------------------------------------ errors

void expect_error(const std::vector<WindowEstimate>& w, const std::string& message) {
  try {
    compute_metrics(w);
    FAIL() << "expected ppgkd::Error: " << message;
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), message);
  }
}

TEST(Metrics, RejectsBadInput) {
  expect_error({}, "metrics: no windows to evaluate");
  expect_error({{60, 60, "A", "d"}, {60, 0, "B", "d"}},
               "metrics: window 1 (subject B): reference heart rate must be positive, got 0");
  expect_error({{NAN, 60, "A", "d"}}, "metrics: window 0 (subject A): non-finite estimate nan");
}

}  // namespace
}  // namespace ppgkd
