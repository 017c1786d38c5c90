// Validation report: protocol segment assignment, per-segment and per-subject numbers on a tiny
// hand-built case (values computed by hand in the comments), the Markdown rows, and the gnuplot
// PNGs.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "analysis/gnuplot.h"
#include "analysis/segments.h"
#include "analysis/validate_report.h"
#include "common/atomic_file.h"
#include "common/error.h"
#include "test_util.h"

namespace ppgkd {
namespace {

TEST(Segments, SpcAndBamiProtocols) {
  const Protocol t1 = recording_protocol("spc2015", "DATA_01_TYPE01");
  ASSERT_EQ(t1.name, "spc2015 TYPE01");
  ASSERT_EQ(t1.segments.size(), 6u);
  EXPECT_EQ(segment_index(t1, 0.0), 0);
  EXPECT_EQ(segment_index(t1, 29.999), 0);
  EXPECT_EQ(segment_index(t1, 30.0), 1);  // a segment includes its start
  EXPECT_EQ(segment_index(t1, 150.0), 3);
  EXPECT_EQ(segment_index(t1, 299.9), 5);
  EXPECT_EQ(segment_index(t1, 300.0), -1);
  EXPECT_EQ(segment_label(t1, 2), "3. run 15 km/h");
  EXPECT_EQ(segment_label(t1, -1), "after protocol end");

  const Protocol t2 = recording_protocol("spc2015", "DATA_12_TYPE02");
  EXPECT_EQ(t2.name, "spc2015 TYPE02");
  EXPECT_EQ(t2.segments[1].activity, "run 6 km/h");
  EXPECT_EQ(t2.segments[4].activity, "run 12 km/h");

  const Protocol b = recording_protocol("bami1", "Subject_7");
  ASSERT_EQ(b.segments.size(), 7u);
  // Boundaries 60, 180, 360, 480, 660, 780, 840 s.
  EXPECT_EQ(segment_index(b, 59.9), 0);
  EXPECT_EQ(segment_index(b, 60), 1);
  EXPECT_EQ(segment_index(b, 359.9), 2);
  EXPECT_EQ(segment_index(b, 480), 4);
  EXPECT_EQ(segment_index(b, 779.9), 5);
  EXPECT_EQ(segment_index(b, 839.9), 6);
  EXPECT_EQ(segment_index(b, 840), -1);
  EXPECT_EQ(b.segments[3].activity, "walk 3 km/h");

  const Protocol b2 = recording_protocol("bami2", "BAMI2_3");
  ASSERT_EQ(b2.segments.size(), 7u);
  // Boundaries 60, 180, 300, 420, 540, 660, 720 s.
  EXPECT_EQ(segment_index(b2, 179.9), 1);
  EXPECT_EQ(segment_index(b2, 300), 3);
  EXPECT_EQ(segment_label(b2, 3), "4. run holding the bar");
  EXPECT_EQ(segment_index(b2, 719.9), 6);
  EXPECT_EQ(segment_index(b2, 720), -1);

  // No documented protocol: one segment "all".
  for (const auto& [ds, name] :
       std::vector<std::pair<std::string, std::string>>{{"spc2015", "TEST_S01_T01"},
                                                        {"spc2015", "DATA_S04_T01"},
                                                        {"bidmc", "bidmc_01"},
                                                        {"bami_w", "Subject_1"},
                                                        {"synthetic", "s01_r1"}}) {
    const Protocol p = recording_protocol(ds, name);
    EXPECT_EQ(p.name, ds);
    ASSERT_EQ(p.segments.size(), 1u);
    EXPECT_EQ(segment_index(p, 1e6), 0);
    EXPECT_EQ(segment_label(p, 0), "all");
  }
}

// Six windows, errors e = estimate - reference:
//   spc2015 DATA_01_TYPE01 (subject A): k=0 centre 4 s rest, e=+2 (ref 60); k=12 centre 28 s
//     rest, e=-3 (ref 60); k=13 centre 30 s "run 8 km/h", e=+10 (ref 100); k=148 centre 300 s
//     after the protocol end, e=-10 (ref 100)
//   bami1 Subject_1 (subject B): k=28 centre 60 s "walk 2.5 km/h", e=0 (ref 80)
//   synthetic s01_r1 (subject C): k=5, e=-25 (ref 125)
std::vector<ValidationWindow> hand_case() {
  return {{"spc2015", "DATA_01_TYPE01", "A", 0, 0, 62, 60},
          {"spc2015", "DATA_01_TYPE01", "A", 12, 24, 57, 60},
          {"spc2015", "DATA_01_TYPE01", "A", 13, 26, 110, 100},
          {"spc2015", "DATA_01_TYPE01", "A", 148, 296, 90, 100},
          {"bami1", "Subject_1", "B", 28, 56, 80, 80},
          {"synthetic", "s01_r1", "C", 5, 10, 100, 125}};
}

TEST(ValidateReport, HandComputedNumbers) {
  const ValidationSummary s = summarise_validation(hand_case());
  // Subject MAEs 6.25, 0, 25 -> mean 31.25 / 3.
  EXPECT_NEAR(s.overall.mae_bpm, 31.25 / 3, 1e-12);
  EXPECT_EQ(s.overall.windows, 6u);
  ASSERT_EQ(s.subjects.size(), 3u);
  EXPECT_EQ(s.subjects[0].group, "A");
  EXPECT_NEAR(s.subjects[0].metrics.window_mae_bpm, 6.25, 1e-12);
  // A's MAPE: 100 * (2/60 + 3/60 + 0.1 + 0.1) / 4 = 7.0833...
  EXPECT_NEAR(s.subjects[0].metrics.mape_percent, 100 * (5.0 / 60 + 0.2) / 4, 1e-12);
  EXPECT_TRUE(s.subjects[0].mape_ok);
  EXPECT_FALSE(s.subjects[2].mape_ok);  // C: 20%

  ASSERT_EQ(s.segments.size(), 5u);
  EXPECT_EQ(s.segments[0].group, "spc2015 TYPE01 / 1. rest");
  EXPECT_EQ(s.segments[1].group, "spc2015 TYPE01 / 2. run 8 km/h");
  EXPECT_EQ(s.segments[2].group, "spc2015 TYPE01 / after protocol end");
  EXPECT_EQ(s.segments[3].group, "bami1 / 2. walk 2.5 km/h");
  EXPECT_EQ(s.segments[4].group, "synthetic / all");

  // Rest: e = +2, -3 (refs 60). MAE 2.5, RMSE sqrt(6.5), MAPE 100 * 5/120, bias -0.5,
  // SD sqrt((2.5^2 + 2.5^2) / 1) = sqrt(12.5), within 5 BPM and 10%: both windows.
  const HrMetrics& rest = s.segments[0].metrics;
  EXPECT_EQ(rest.windows, 2u);
  EXPECT_NEAR(rest.window_mae_bpm, 2.5, 1e-12);
  EXPECT_NEAR(rest.rmse_bpm, std::sqrt(6.5), 1e-12);
  EXPECT_NEAR(rest.mape_percent, 100.0 * 5 / 120, 1e-12);
  EXPECT_NEAR(rest.ba_bias_bpm, -0.5, 1e-12);
  EXPECT_NEAR(rest.ba_lower_bpm, -0.5 - 1.96 * std::sqrt(12.5), 1e-12);
  EXPECT_NEAR(rest.ba_upper_bpm, -0.5 + 1.96 * std::sqrt(12.5), 1e-12);
  EXPECT_DOUBLE_EQ(rest.within_5bpm, 1.0);
  EXPECT_DOUBLE_EQ(rest.within_10pct, 1.0);
  EXPECT_TRUE(s.segments[0].mape_ok);
  // Exactly 10% is not below 10%.
  EXPECT_NEAR(s.segments[1].metrics.mape_percent, 10.0, 1e-12);
  EXPECT_FALSE(s.segments[1].mape_ok);
  EXPECT_TRUE(s.segments[3].mape_ok);
  EXPECT_NEAR(s.segments[4].metrics.mape_percent, 20.0, 1e-12);
}

TEST(ValidateReport, MarkdownRowsAndDisclaimer) {
  const ValidationSummary s = summarise_validation(hand_case());
  const std::string md = validation_markdown(s, {{"model", "spectral"}}, {"plots/x.png"});
  // -0.5 -/+ 1.96 * 3.5355 = -7.43 / 6.43; sqrt(6.5) = 2.55; 100 * 5 / 120 = 4.17.
  EXPECT_NE(md.find("| spc2015 TYPE01 / 1. rest | 2 | 2.50 | 2.55 | 4.17 | -0.50 | -7.43 to 6.43 | "
                    "100.0% | 100.0% | yes |"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| spc2015 TYPE01 / 2. run 8 km/h | 1 | 10.00 | 10.00 | 10.00 | 10.00 | n/a "
                    "to n/a | 0.0% | 100.0% | **no** |"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("2 of 5 segments meet MAPE < 10%."), std::string::npos);
  EXPECT_NE(md.find("**not a certification**"), std::string::npos);
  EXPECT_NE(md.find("- model: spectral"), std::string::npos);
  EXPECT_NE(md.find("![plots/x.png](plots/x.png)"), std::string::npos);
}

TEST(ValidateReport, WritesMarkdownJsonAndPngs) {
  const std::string dir = testing::scratch_dir();
  write_validation_report(dir, hand_case(), {{"model", "hand"}});
  EXPECT_TRUE(std::filesystem::is_regular_file(dir + "/report.md"));
  const auto j = nlohmann::json::parse(read_file(dir + "/summary.json"));
  EXPECT_EQ(j["segments"].size(), 5u);
  EXPECT_EQ(j["note"], "not a certification");
  for (const char* png : {"bland_altman.png", "track_spc2015_DATA_01_TYPE01.png",
                          "track_bami1_Subject_1.png", "track_synthetic_s01_r1.png"}) {
    EXPECT_TRUE(is_png_file(dir + "/plots/" + png)) << png;
  }
  EXPECT_FALSE(is_png_file(dir + "/report.md"));
  const std::string md = read_file(dir + "/report.md");
  EXPECT_NE(md.find("![plots/track_bami1_Subject_1.png](plots/track_bami1_Subject_1.png)"),
            std::string::npos);
}

TEST(ValidateReport, GnuplotFailureIsReported) {
  const std::string dir = testing::scratch_dir();
  try {
    run_gnuplot(dir + "/bad.gp", "this is not gnuplot\n", dir + "/bad.png");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              dir + "/bad.gp: gnuplot failed (exit status 1; see " + dir + "/bad.gp.log)");
  }
}

}  // namespace
}  // namespace ppgkd
