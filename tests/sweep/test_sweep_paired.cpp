// The report's seeds, folds and paired comparisons on a hand-made store: 2 folds (subjects a, b
// in fold 0; c, d in fold 1), 3 seeds, one student model as scratch, soft and DKD. Every MAE is
// exact in binary, so every expected value below is worked out by hand:
//   scratch(subject, seed) = base + s     base a 5, b 7, c 9, d 11; s(seed 1, 2, 3) = 0, .5, -.25
//   dkd  = scratch - delta                delta a 1, b .5, c 2, d 1.5
//   soft = scratch - (delta + e)          e a .5, b -.5, c .25, d -.25
// and DKD's run of fold 1, seed 3 is missing (failed), so the pairing must skip those units.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "analysis/sweep_paired.h"
#include "analysis/sweep_report.h"
#include "common/atomic_file.h"
#include "sweep/run_result.h"
#include "sweep/store.h"
#include "test_util.h"

namespace ppgkd {
namespace {

const std::map<std::string, double> kBase = {{"a", 5}, {"b", 7}, {"c", 9}, {"d", 11}};
const std::map<std::string, double> kDelta = {{"a", 1}, {"b", 0.5}, {"c", 2}, {"d", 1.5}};
const std::map<std::string, double> kE = {{"a", 0.5}, {"b", -0.5}, {"c", 0.25}, {"d", -0.25}};
const std::map<uint64_t, double> kSeedShift = {{1, 0.0}, {2, 0.5}, {3, -0.25}};

double unit_mae(const std::string& strategy, const std::string& subject, uint64_t seed) {
  const double scratch = kBase.at(subject) + kSeedShift.at(seed);
  if (strategy == "dkd") return scratch - kDelta.at(subject);
  if (strategy == "soft") return scratch - (kDelta.at(subject) + kE.at(subject));
  return scratch;
}

void write_fixture(const std::string& dir) {
  Store store(dir + "/sweep.db");
  std::vector<PlannedRun> runs;
  for (const std::string strategy : {"none", "soft", "dkd"})
    for (int fold = 0; fold < 2; ++fold)
      for (uint64_t seed = 1; seed <= 3; ++seed) {
        PlannedRun r;
        r.index = runs.size();
        r.key = "00000000000001" + std::to_string(10 + runs.size());  // 16 digits
        r.kind = "student";
        r.model = "r1";
        r.family = "resnet";
        r.strategy = strategy;
        r.teacher_model = strategy == "none" ? "" : "t1";
        r.fold = fold;
        r.seed = seed;
        r.config = nlohmann::json::object();
        runs.push_back(r);
      }
  store.sync_plan("fixture", nlohmann::json::object(), runs);
  for (const auto& r : runs) {
    if (r.strategy == "dkd" && r.fold == 1 && r.seed == 3) continue;  // never finished
    nlohmann::json subjects = nlohmann::json::object();
    double sum = 0;
    for (const std::string s : {"a", "b", "c", "d"}) {
      if ((s == "a" || s == "b") != (r.fold == 0)) continue;
      subjects["syn/" + s] = unit_mae(r.strategy, s, r.seed);
      sum += unit_mae(r.strategy, s, r.seed) / 2;
    }
    const nlohmann::json mj =
        testing::run_result_json("resnet1d:stem=3,stages=3,blocks=1,k=3", 1000, 10000, 4000,
                                 {{"mae_bpm", sum}, {"subject_mae_bpm", subjects}});
    ASSERT_TRUE(store.claim(r.key, 1, "host", "test", 0.0));
    store.mark_done(r.key, mj, 1.0, 1.0, "test");
  }
}

const SweepCell& cell(const SweepResults& r, const std::string& strategy) {
  for (const auto& c : r.students)
    if (c.strategy == strategy) return c;
  throw std::runtime_error("no cell " + strategy);
}

TEST(SweepSpread, MeanAndSdOverSeedsAndFoldsByHand) {
  const auto dir = testing::scratch_dir();
  write_fixture(dir);
  const auto r = load_sweep_results(dir);
  const auto& s = cell(r, "none");
  // Per-seed MAEs: mean base 8 + s = 8, 8.5, 7.75 (mean 97/12).
  const double m = 24.25 / 3;
  const double sd_seeds =
      std::sqrt(((8 - m) * (8 - m) + (8.5 - m) * (8.5 - m) + (7.75 - m) * (7.75 - m)) / 2);
  EXPECT_NEAR(s.mae_bpm, m, 1e-12);
  EXPECT_EQ(s.seeds, 3u);
  EXPECT_NEAR(s.sd_seeds, sd_seeds, 1e-12);
  // Per-fold MAEs: (5 + 7) / 2 + 1/12 and (9 + 11) / 2 + 1/12: SD = sqrt((2^2 + 2^2) / 1).
  EXPECT_EQ(s.folds, 2u);
  EXPECT_NEAR(s.sd_folds, std::sqrt(8.0), 1e-12);
  EXPECT_EQ(s.unit_mae.size(), 12u);
  // DKD lost fold 1 seed 3: 10 units; seed 3's MAE is then fold 0's subjects only:
  // (5 - 1 + 7 - .5) / 2 - .25 = 5; seeds 1, 2 average all four: 8 - 1.25 + s = 6.75, 7.25.
  const auto& d = cell(r, "dkd");
  EXPECT_EQ(d.unit_mae.size(), 10u);
  const double dm = (6.75 + 7.25 + 5.0) / 3;
  EXPECT_NEAR(
      d.sd_seeds,
      std::sqrt(((6.75 - dm) * (6.75 - dm) + (7.25 - dm) * (7.25 - dm) + (5.0 - dm) * (5.0 - dm)) /
                2),
      1e-12);
}

TEST(SweepPaired, DifferencesPairBySubjectFoldAndSeedWithHolmOverTheFamily) {
  const auto dir = testing::scratch_dir();
  write_fixture(dir);
  const auto r = load_sweep_results(dir);
  const auto p = paired_comparisons(r, 4000, 1);
  ASSERT_EQ(p.size(), 3u);  // dkd - scratch, soft - scratch, dkd - soft
  std::map<std::string, PairedComparison> by;
  for (const auto& c : p) by[c.strategy + "-" + c.baseline] = c;
  ASSERT_EQ(by.size(), 3u);

  // DKD - scratch: subject differences -delta = -1, -.5, -2, -1.5 (every seed alike), mean -1.25;
  // 12 units minus DKD's 2 missing = 10 pairs. All four negative: W+ = 0, exact p = 2/16.
  const auto& ds = by.at("dkd-none");
  EXPECT_EQ(ds.pairs, 10u);
  EXPECT_EQ(ds.subjects, 4u);
  EXPECT_DOUBLE_EQ(ds.mean_diff, -1.25);
  EXPECT_EQ(ds.wilcoxon.n, 4);
  EXPECT_DOUBLE_EQ(ds.wilcoxon.w_plus, 0.0);
  EXPECT_DOUBLE_EQ(ds.wilcoxon.p, 0.125);
  EXPECT_GE(ds.ci.lo, -2.0);  // a bootstrap mean lies within the sample's range
  EXPECT_LE(ds.ci.hi, -0.5);
  EXPECT_TRUE(ds.resolved);
  EXPECT_EQ(ds.teacher_model, "t1");

  // soft - scratch: -(delta + e) = -1.5, 0, -2.25, -1.25. b's zero is dropped: n = 3, W+ = 0,
  // p = 2/8.
  const auto& ss = by.at("soft-none");
  EXPECT_EQ(ss.pairs, 12u);
  EXPECT_DOUBLE_EQ(ss.mean_diff, -5.0 / 4);
  EXPECT_EQ(ss.wilcoxon.n, 3);
  EXPECT_EQ(ss.wilcoxon.zeros, 1);
  EXPECT_DOUBLE_EQ(ss.wilcoxon.p, 0.25);

  // DKD - soft: e = .5, -.5, .25, -.25; mean 0, mid-ranks 3.5, 3.5, 1.5, 1.5, W+ = 5 = n(n+1)/4:
  // p = 1; the CI straddles zero, so it is not resolved.
  const auto& dk = by.at("dkd-soft");
  EXPECT_EQ(dk.pairs, 10u);
  EXPECT_DOUBLE_EQ(dk.mean_diff, 0.0);
  EXPECT_DOUBLE_EQ(dk.wilcoxon.w_plus, 5.0);
  EXPECT_DOUBLE_EQ(dk.wilcoxon.p, 1.0);
  EXPECT_LT(dk.ci.lo, 0.0);
  EXPECT_GT(dk.ci.hi, 0.0);
  EXPECT_FALSE(dk.resolved);

  // Holm over the three: .125 x 3 = .375; .25 x 2 = .5; 1 x 1 = 1.
  EXPECT_DOUBLE_EQ(ds.p_holm, 0.375);
  EXPECT_DOUBLE_EQ(ss.p_holm, 0.5);
  EXPECT_DOUBLE_EQ(dk.p_holm, 1.0);
}

TEST(SweepPaired, TheReportCarriesSpreadAndPairedTables) {
  const auto dir = testing::scratch_dir();
  write_fixture(dir);
  ReportOptions o;
  o.n_boot = 20;
  o.n_boot_paired = 2000;
  o.plots = false;
  const auto md = read_file(write_sweep_report(dir, o));
  // The scratch row: MAE 8.083, SD seeds 0.382, SD folds 2.828, 4 subjects, 3 seeds, 2 folds.
  EXPECT_NE(md.find("| none | - | r1 | 1000 | 8.083 | 0.382 | 2.828 | - | 4 | 3 | 2 | 6 |"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("Resolved: 2 of 3 comparisons (2 with the strategy better, 0 worse)"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| r1 | 1000 | t1 | dkd - soft | 4 | 10 | 0.000 ["), std::string::npos) << md;
  EXPECT_NE(md.find("| 5 | 1 | 1 | no |"), std::string::npos) << md;
  const auto csv = read_file(dir + "/report/paired.csv");
  EXPECT_NE(csv.find("resnet,r1,1000,t1,dkd,none,10,4,-1.250000,"), std::string::npos) << csv;
  EXPECT_NE(csv.find(",4,0,0,0.125,1,0.375,1\n"), std::string::npos) << csv;
}

}  // namespace
}  // namespace ppgkd
