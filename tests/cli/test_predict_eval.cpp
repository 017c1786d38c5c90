// End-to-end tests of `ppgkd predict`, `ppgkd eval` and `ppgkd validate`, run as a child process
// against a tiny untrained model directory (plumbing, not accuracy) and the spectral baseline on
// the synthetic data. The binary's path comes from the build (PPGKD_BIN).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "analysis/gnuplot.h"
#include "baseline/spectral.h"
#include "cli_run.h"
#include "common/atomic_file.h"
#include "data/dsp/class_map.h"
#include "data/synthetic/synthetic.h"
#include "decode/temporal.h"
#include "test_util.h"
#include "train/model_dir.h"

namespace ppgkd {
namespace {

using testing::run;

// An untrained 4-channel MLP saved as a model directory; fold: train s01, test s02.
// inputs = "ppg": a 1-channel model instead.
std::string make_model_dir(const std::string& dir, bool with_fold,
                           const std::string& inputs = "ppg+acc") {
  torch::manual_seed(1);
  PreprocessConfig pp;
  pp.inputs = inputs;
  auto net = make_net(ModelSpec::parse("mlp:hidden=16", pp.channels(), pp.length()));
  ModelRecord rec;
  if (with_fold) {
    rec.train_subjects = {"synthetic/s01"};
    rec.test_subjects = {"synthetic/s02"};
    rec.split = "kfold";
    rec.fold = 0;
    rec.folds = 2;
  }
  save_model_dir(dir, *net, pp, rec);
  return dir;
}

Recording synthetic_recording(double duration_s) {
  SyntheticConfig sc;
  sc.subjects = 1;
  sc.recordings_per_subject = 1;
  sc.duration_s = duration_s;
  return make_synthetic(sc).at(0);
}

void write_csv(const Recording& rec, const std::string& path) {
  std::string s = "ppg,acc_x,acc_y,acc_z\n";
  char line[128];
  for (size_t i = 0; i < rec.num_samples(); ++i) {
    std::snprintf(line, sizeof line, "%.9g,%.9g,%.9g,%.9g\n", rec.ppg[0][i], rec.acc[0][i],
                  rec.acc[1][i], rec.acc[2][i]);
    s += line;
  }
  write_file_atomic(path, s);
}

std::vector<std::vector<std::string>> read_csv(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::stringstream ls(line);
    std::string x;
    while (std::getline(ls, x, ',')) f.push_back(x);
    rows.push_back(f);
  }
  return rows;
}

TEST(CliPredict, StreamMatchesOfflineCausalAndIgnoresTheFuture) {
  const std::string dir = testing::scratch_dir();
  const std::string model = make_model_dir(dir + "/model", false);
  const Recording rec = synthetic_recording(40);
  write_csv(rec, dir + "/a.csv");
  const std::string err = dir + "/err.txt";

  auto off = run("predict --model " + model + " --input " + dir + "/a.csv --fs 125 --causal", err);
  ASSERT_EQ(off.status, 0) << read_file(err);
  auto st = run("predict --model " + model + " --input " + dir + "/a.csv --fs 125 --stream", err);
  ASSERT_EQ(st.status, 0) << read_file(err);
  const auto o = read_csv(off.out), s = read_csv(st.out);
  ASSERT_EQ(o[0], (std::vector<std::string>{"t_s", "hr_bpm", "confidence"}));
  ASSERT_EQ(s[0], (std::vector<std::string>{"t_s", "hr_bpm", "confidence", "tracked_bpm"}));
  // (40 s - 8 s) / 2 s + 1 = 17 windows.
  ASSERT_EQ(o.size(), 18u);
  ASSERT_EQ(s.size(), o.size());
  for (size_t i = 1; i < o.size(); ++i) {
    EXPECT_NEAR(std::stod(s[i][0]) - 8.0, std::stod(o[i][0]), 1e-9);  // stream: end; offline: start
    // The windows are bit-identical; batch 1 vs batched inference may differ in the last float
    // bits, far below the printed 0.001 BPM.
    EXPECT_NEAR(std::stod(s[i][1]), std::stod(o[i][1]), 0.0011) << "window " << i - 1;
    EXPECT_NEAR(std::stod(s[i][2]), std::stod(o[i][2]), 0.00011) << "window " << i - 1;
  }

  // The zero-phase offline path (the default) differs: the test above is not vacuous.
  auto zp = run("predict --model " + model + " --input " + dir + "/a.csv --fs 125", err);
  ASSERT_EQ(zp.status, 0);
  EXPECT_NE(zp.out, off.out);

  // Change everything from 20 s on: rows of windows ending by 19.6 s (k = 0..5) are unchanged.
  Recording b = rec;
  for (size_t i = 20 * 125; i < b.num_samples(); ++i) b.ppg[0][i] = -2 * b.ppg[0][i] + 3;
  write_csv(b, dir + "/b.csv");
  auto sb = run("predict --model " + model + " --input " + dir + "/b.csv --fs 125 --stream", err);
  ASSERT_EQ(sb.status, 0);
  const auto s2 = read_csv(sb.out);
  for (size_t i = 1; i <= 6; ++i) EXPECT_EQ(s2[i], s[i]) << "row " << i;
  bool later_differs = false;
  for (size_t i = 7; i < s.size(); ++i) later_differs = later_differs || s2[i] != s[i];
  EXPECT_TRUE(later_differs);

  // A pipe on stdin gives the same rows as the file.
  auto piped =
      run("predict --model " + model + " --input - --fs 125 --stream < " + dir + "/a.csv", err);
  ASSERT_EQ(piped.status, 0) << read_file(err);
  EXPECT_EQ(piped.out, st.out);
}

// --jump reaches both trackers: the streamed tracked_bpm equals the causal offline online-filter
// column with the same jump, and differs from the tracks without it; out of range is a usage
// error naming the flag.
TEST(CliPredict, JumpReachesTheStreamAndTheOfflineTracker) {
  const std::string dir = testing::scratch_dir();
  const std::string model = make_model_dir(dir + "/model", false);
  write_csv(synthetic_recording(60), dir + "/a.csv");
  const std::string err = dir + "/err.txt";
  const std::string base = "predict --model " + model + " --input " + dir + "/a.csv --fs 125 ";
  auto tracked = [&](const std::string& flags) {
    const auto r = run(base + flags, err);
    EXPECT_EQ(r.status, 0) << flags << ": " << read_file(err);
    std::vector<double> t;
    const auto rows = read_csv(r.out);
    for (size_t i = 1; i < rows.size(); ++i) t.push_back(std::stod(rows[i].back()));
    return t;
  };
  const auto stream = tracked("--stream --jump 0.3");
  const auto offline = tracked("--causal --decode online --jump 0.3");
  ASSERT_EQ(stream.size(), offline.size());
  ASSERT_FALSE(stream.empty());
  for (size_t i = 0; i < stream.size(); ++i) EXPECT_NEAR(stream[i], offline[i], 0.0011) << i;
  EXPECT_NE(tracked("--stream"), stream);
  const auto r = run(base + "--stream --jump 2", err);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(read_file(err).find("--jump"), std::string::npos);
}

// --acc-aware: offline (causal) and streaming give the same cadences (the windows are
// bit-identical) and the same rows; a PPG-only model gets the same cadences from its ppg+acc
// twin windowing; depth 0 leaves hr_bpm as without the flag.
TEST(CliPredict, AccAwareStreamMatchesOfflineAndDepthZeroIsPlain) {
  const std::string dir = testing::scratch_dir();
  const std::string model = make_model_dir(dir + "/model", false);
  const std::string ppg_model = make_model_dir(dir + "/ppg_model", false, "ppg");
  write_csv(synthetic_recording(40), dir + "/a.csv");
  const std::string err = dir + "/err.txt";
  const std::string in = " --input " + dir + "/a.csv --fs 125 ";
  const std::string acc = " --acc-aware --acc-min-share 0 --acc-depth 0.9 --acc-width 3 ";

  auto off = run("predict --model " + model + in + "--causal --decode online" + acc, err);
  ASSERT_EQ(off.status, 0) << read_file(err);
  auto st = run("predict --model " + model + in + "--stream" + acc, err);
  ASSERT_EQ(st.status, 0) << read_file(err);
  auto ppg = run("predict --model " + ppg_model + in + "--stream" + acc, err);
  ASSERT_EQ(ppg.status, 0) << read_file(err);
  const auto o = read_csv(off.out), s = read_csv(st.out), q = read_csv(ppg.out);
  const std::vector<std::string> header = {"t_s", "hr_bpm", "confidence", "tracked_bpm",
                                           "cadence_bpm"};
  ASSERT_EQ(o[0], header);
  ASSERT_EQ(s[0], header);
  ASSERT_EQ(q[0], header);
  ASSERT_EQ(o.size(), 18u);
  ASSERT_EQ(s.size(), o.size());
  ASSERT_EQ(q.size(), o.size());
  for (size_t i = 1; i < o.size(); ++i) {
    EXPECT_EQ(s[i][4], o[i][4]) << "window " << i - 1;
    EXPECT_EQ(q[i][4], o[i][4]) << "window " << i - 1;
    EXPECT_GT(std::stod(o[i][4]), 30.0);  // min share 0: every window with acc power has one
    EXPECT_NEAR(std::stod(s[i][1]), std::stod(o[i][1]), 0.0011) << "window " << i - 1;
    EXPECT_NEAR(std::stod(s[i][3]), std::stod(o[i][3]), 0.0011) << "window " << i - 1;
  }

  auto plain = run("predict --model " + model + in + "--causal", err);
  ASSERT_EQ(plain.status, 0) << read_file(err);
  auto zero = run("predict --model " + model + in + "--causal --acc-aware --acc-depth 0", err);
  ASSERT_EQ(zero.status, 0) << read_file(err);
  const auto p = read_csv(plain.out), z = read_csv(zero.out);
  ASSERT_EQ(z.size(), p.size());
  bool penalty_changes_something = false;
  for (size_t i = 1; i < p.size(); ++i) {
    EXPECT_EQ(std::vector<std::string>(z[i].begin(), z[i].begin() + 3), p[i]);
    penalty_changes_something = penalty_changes_something || o[i][2] != p[i][2];
  }
  EXPECT_TRUE(penalty_changes_something);

  auto bad = run("predict --model " + model + in + "--acc-aware --acc-depth 1", err);
  EXPECT_NE(bad.status, 0);
}

TEST(CliPredict, Errors) {
  const std::string dir = testing::scratch_dir();
  const std::string model = make_model_dir(dir + "/model", false);
  write_file_atomic(dir + "/x.csv", "ppg,acc_x\n1,2\n");
  const std::string err = dir + "/err.txt";
  auto r = run("predict --model " + model + " --input " + dir + "/x.csv --stream", err);
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(read_file(err),
            "ppgkd: error: " + dir + "/x.csv: a CSV input needs its sampling rate (--fs HZ)\n");
  r = run("predict --model " + model + " --input " + dir + "/x.csv --fs 125 --stream", err);
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(read_file(err), "ppgkd: error: " + dir +
                                "/x.csv: CSV has some but not all of the columns acc_x, acc_y, "
                                "acc_z\n");
}

// Samples 1000-3000 (8 s to 24 s at 125 Hz) missing: windows 1-12 touch them and have no heart
// rate, offline (--causal, and with a tracker) as when streaming; the other windows have one, and
// before the gap offline and streaming agree as on clean input.
TEST(CliPredict, WindowsOverMissingSamplesHaveNoHeartRate) {
  const std::string dir = testing::scratch_dir();
  const std::string model = make_model_dir(dir + "/model", false);
  const Recording rec = synthetic_recording(60);
  write_csv(rec, dir + "/a.csv");
  std::string csv = read_file(dir + "/a.csv"), holed;
  std::istringstream in(csv);
  std::string line;
  for (int row = -1; std::getline(in, line); ++row)
    holed += (row >= 1000 && row <= 3000 ? "nan,nan,nan,nan" : line) + "\n";
  write_file_atomic(dir + "/holed.csv", holed);
  const std::string err = dir + "/err.txt";
  const std::string in_args = " --input " + dir + "/holed.csv --fs 125 ";
  auto off = run("predict --model " + model + in_args + "--causal", err);
  ASSERT_EQ(off.status, 0) << read_file(err);
  auto track = run("predict --model " + model + in_args + "--causal --decode offline", err);
  ASSERT_EQ(track.status, 0) << read_file(err);
  auto st = run("predict --model " + model + in_args + "--stream", err);
  ASSERT_EQ(st.status, 0) << read_file(err);
  const auto o = read_csv(off.out), t = read_csv(track.out), s = read_csv(st.out);
  // (60 s - 8 s) / 2 s + 1 = 27 windows; window k covers samples [250k, 250k + 1000).
  ASSERT_EQ(o.size(), 28u) << off.out;
  ASSERT_EQ(t.size(), 28u) << track.out;
  ASSERT_EQ(s.size(), 28u) << st.out;
  for (int k = 0; k < 27; ++k) {
    const bool missing = 250 * k <= 3000 && 250 * k + 999 >= 1000;
    const auto &ro = o[k + 1], &rt = t[k + 1], &rs = s[k + 1];
    EXPECT_EQ(std::stod(ro[0]), 2.0 * k);
    EXPECT_EQ(ro[1] == "nan", missing) << "offline window " << k << ": " << ro[1];
    EXPECT_EQ(rt[1] == "nan", missing) << "tracked window " << k << ": " << rt[1];
    EXPECT_EQ(rs[1] == "nan", missing) << "stream window " << k << ": " << rs[1];
    if (missing) {
      EXPECT_EQ(ro[2], "0.0000");
      EXPECT_EQ(rt[3], "nan");
    } else {
      EXPECT_GE(std::stod(ro[1]), 30.0);
      EXPECT_GE(std::stod(rt[3]), 30.0);
    }
  }
}

// --stream --out FILE: everything is checked before FILE is touched, and FILE is replaced only by
// a stream that ran to its end.
TEST(CliPredict, StreamOutFileIsReplacedOnlyByAFinishedStream) {
  const std::string dir = testing::scratch_dir();
  const std::string model = make_model_dir(dir + "/model", false);
  write_csv(synthetic_recording(20), dir + "/a.csv");
  const std::string a = read_file(dir + "/a.csv");
  write_file_atomic(dir + "/nofs.csv", a);
  write_file_atomic(dir + "/noppg.csv", "pleth\n1\n");
  // A bad number in row 2000 (after the first windows were written).
  std::string bad = a;
  size_t at = 0;
  for (int row = 0; row <= 2000; ++row) at = bad.find('\n', at) + 1;
  bad.insert(at, "oops,0,0,0\n");
  write_file_atomic(dir + "/late.csv", bad);
  const std::string out = dir + "/rows.csv", err = dir + "/err.txt";
  const std::string kept = "rows of an earlier run\n";
  write_file_atomic(out, kept);
  const std::string base = "predict --model " + model + " --stream --out " + out + " --input ";
  const std::vector<std::pair<std::string, std::string>> failing = {
      {dir + "/nofs.csv", dir + "/nofs.csv: a CSV input needs its sampling rate (--fs HZ)"},
      {dir + "/noppg.csv --fs 125", dir + "/noppg.csv:1: missing column 'ppg' (columns: pleth)"},
      {dir + "/absent.csv --fs 125", dir + "/absent.csv: no such file"},
      {dir + "/late.csv --fs 125", dir + "/late.csv:2002: column 'ppg': 'oops' is not a number"}};
  for (const auto& [args, what] : failing) {
    auto r = run(base + args, err);
    EXPECT_EQ(r.status, 1) << args;
    EXPECT_EQ(read_file(err), "ppgkd: error: " + what + "\n");
    EXPECT_EQ(read_file(out), kept) << args;
  }
  auto good = run(base + dir + "/a.csv --fs 125", err);
  ASSERT_EQ(good.status, 0) << read_file(err);
  auto to_stdout =
      run("predict --model " + model + " --stream --fs 125 --input " + dir + "/a.csv", err);
  ASSERT_EQ(to_stdout.status, 0);
  EXPECT_EQ(read_file(out), to_stdout.out);
  EXPECT_EQ(read_csv(to_stdout.out).size(), 8u);  // header + (20 - 8) / 2 + 1 windows
  size_t files = 0;                               // no temporary file is left behind
  for (const auto& f : std::filesystem::directory_iterator(dir))
    files += f.path().filename().string().rfind("rows.csv", 0) == 0;
  EXPECT_EQ(files, 1u);
}

// Stdin without newlines (issue 14, defect 11): a line is read up to 1 MiB, then refused, instead
// of growing without limit; the header line and a sample line alike.
TEST(CliPredict, StdinLinesAreBounded) {
  const std::string dir = testing::scratch_dir();
  const std::string model = make_model_dir(dir + "/model", false);
  const std::string err = dir + "/err.txt";
  const std::string base = "predict --model " + model + " --stream --fs 125 --input - < ";
  auto r = run(base + "/dev/zero", err);
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(read_file(err), "ppgkd: error: stdin:1: line longer than 1048576 bytes\n");
  write_file_atomic(dir + "/long.csv", "ppg\n1\n" + std::string((1 << 20) + 1, '2') + "\n3\n");
  r = run(base + dir + "/long.csv", err);
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(read_file(err), "ppgkd: error: stdin:3: line longer than 1048576 bytes\n");
  EXPECT_EQ(r.out, "t_s,hr_bpm,confidence,tracked_bpm\n");  // the header, no rows
}

TEST(CliEval, SpectralOnSyntheticMatchesDirectComputation) {
  const std::string dir = testing::scratch_dir();
  const std::string err = dir + "/err.txt";
  auto r =
      run("eval --model spectral --data synthetic --subjects synthetic/s01,synthetic/s02", err);
  ASSERT_EQ(r.status, 0) << read_file(err);
  const auto j = nlohmann::json::parse(r.out);
  // Independent aggregation: per-subject mean |e| of spectral_hr, then the mean over subjects.
  std::map<std::string, std::pair<double, size_t>> per;
  size_t windows = 0;
  for (const Recording& rec : make_synthetic(SyntheticConfig{})) {
    if (rec.subject != "synthetic/s01" && rec.subject != "synthetic/s02") continue;
    const auto bpm = spectral_hr(rec);
    for (size_t i = 0; i < bpm.size(); ++i) {
      per[rec.subject].first += std::fabs(bpm[i] - rec.windows[i].hr_bpm);
      per[rec.subject].second += 1;
      ++windows;
    }
  }
  const double mae = 0.5 * (per["synthetic/s01"].first / per["synthetic/s01"].second +
                            per["synthetic/s02"].first / per["synthetic/s02"].second);
  EXPECT_EQ(j["windows"].get<size_t>(), windows);
  EXPECT_NEAR(j["metrics"]["mae_bpm"].get<double>(), mae, 1e-9);
  EXPECT_EQ(j["metrics"]["subject_mae_bpm"].size(), 2u);
  EXPECT_TRUE(j["metrics"].contains("pearson_r"));
  EXPECT_TRUE(j["metrics"].contains("within_5bpm"));
  EXPECT_TRUE(j["metrics"]["dataset_mae_bpm"].contains("synthetic"));
}

TEST(CliEval, ModelHeldOutLabellingAndDecoders) {
  const std::string dir = testing::scratch_dir();
  const std::string model = make_model_dir(dir + "/model", true);
  const std::string err = dir + "/err.txt";
  auto own = run("eval --model " + model + " --data synthetic --subjects synthetic/s01", err);
  ASSERT_EQ(own.status, 0) << read_file(err);
  auto j = nlohmann::json::parse(own.out);
  EXPECT_FALSE(j["held_out"].get<bool>());
  EXPECT_EQ(j["subjects_seen_in_training"], nlohmann::json::array({"synthetic/s01"}));
  EXPECT_EQ(j["warning"],
            "1 of 1 evaluated subjects were in this model's training data: these "
            "numbers are NOT held-out");

  auto test = run("eval --model " + model + " --data synthetic --fold-test --decode offline", err);
  ASSERT_EQ(test.status, 0) << read_file(err);
  j = nlohmann::json::parse(test.out);
  EXPECT_TRUE(j["held_out"].get<bool>());
  EXPECT_EQ(j["subjects"], nlohmann::json::array({"synthetic/s02"}));
  EXPECT_EQ(j["transition_scale_source"], "fitted on the training subjects' labels");
  EXPECT_GT(j["windows"].get<int>(), 0);

  // A model without a fold cannot --fold-test.
  const std::string plain = make_model_dir(dir + "/plain", false);
  auto bad = run("eval --model " + plain + " --data synthetic --fold-test", err);
  EXPECT_EQ(bad.status, 1);
  EXPECT_EQ(read_file(err), "ppgkd: error: " + plain +
                                "/model.json: records no test subjects (trained on all data); "
                                "--fold-test needs a model trained on a cross-validation fold\n");
  // Accelerometer-aware decoding is recorded in "about".
  auto acc = run("eval --model " + model +
                     " --data synthetic --fold-test --decode viterbi --acc-aware --acc-min-share 0",
                 err);
  ASSERT_EQ(acc.status, 0) << read_file(err);
  j = nlohmann::json::parse(acc.out);
  EXPECT_TRUE(j["acc_aware"]["enabled"].get<bool>());
  EXPECT_EQ(j["acc_aware"]["min_share"].get<double>(), 0.0);
  EXPECT_EQ(j["acc_aware"]["cadence_from"], "the model's input windows");
  EXPECT_EQ(j["acc_aware"]["windows_with_cadence"].get<int>(), j["windows"].get<int>());
  EXPECT_FALSE(nlohmann::json::parse(test.out)["acc_aware"]["enabled"].get<bool>());
  auto spectral_acc = run("eval --model spectral --data synthetic --acc-aware", err);
  EXPECT_EQ(spectral_acc.status, 1);
  EXPECT_EQ(read_file(err),
            "ppgkd: error: spectral: --acc-aware needs class posteriors (the spectral tracker "
            "has none)\n");

  auto unknown = run("eval --model spectral --data synthetic --subjects nobody", err);
  EXPECT_EQ(unknown.status, 1);
  EXPECT_EQ(read_file(err), "ppgkd: error: synthetic: subject 'nobody' is not in the data\n");
}

// The per-window decode smooths the posterior by kPosteriorSmoothBpm unless --window-smooth says
// otherwise, and the HMM decoders take --jump; both are recorded, and out-of-range values are
// usage errors naming the flag. --jump 1 makes every step stand alone, so the online decoder then
// gives the per-window estimate of the unsmoothed posterior (untempered: --temperature 1; the
// default, kDefaultEmissionTemperature, is recorded).
TEST(CliEval, WindowSmoothingAndJumpAreRecordedAndRangeChecked) {
  const std::string dir = testing::scratch_dir();
  const std::string model = make_model_dir(dir + "/model", true);
  const std::string err = dir + "/err.txt";
  const std::string base = "eval --model " + model + " --data synthetic --fold-test";
  auto eval = [&](const std::string& flags) {
    const auto r = run(base + " " + flags, err);
    EXPECT_EQ(r.status, 0) << flags << ": " << read_file(err);
    return r.status == 0 ? nlohmann::json::parse(r.out) : nlohmann::json();
  };
  const auto smoothed = eval("");
  EXPECT_EQ(smoothed["window_smooth_bpm"].get<double>(), kPosteriorSmoothBpm);
  EXPECT_EQ(eval("--window-smooth 3")["metrics"], smoothed["metrics"]);
  const auto raw = eval("--window-smooth 0");
  EXPECT_EQ(raw["window_smooth_bpm"].get<double>(), 0.0);
  const auto online = eval("--decode online --jump 1 --temperature 1");
  EXPECT_EQ(online["jump"].get<double>(), 1.0);
  EXPECT_NEAR(online["metrics"]["mae_bpm"].get<double>(), raw["metrics"]["mae_bpm"].get<double>(),
              1e-6);
  const auto plain_online = eval("--decode online");
  EXPECT_EQ(plain_online["jump"].get<double>(), 0.0);
  EXPECT_EQ(plain_online["temperature"].get<double>(), kDefaultEmissionTemperature);
  for (const std::string bad : {"--window-smooth 31", "--window-smooth -1", "--jump 1.5"}) {
    const auto r = run(base + " " + bad, err);
    EXPECT_EQ(r.status, 2) << bad;
    EXPECT_NE(read_file(err).find(bad.substr(0, bad.find(' '))), std::string::npos) << bad;
  }
}

TEST(CliTrain, RecordsTheTransitionScaleOfItsTrainingLabelsAndDecodersUseIt) {
  const std::string dir = testing::scratch_dir();
  const std::string err = dir + "/err.txt";
  auto trained =
      run("train --data synthetic --model mlp:hidden=8 --epochs 1 --folds 4 --fold 0 "
          "--threads 1 --out " +
              dir + "/m",
          err);
  ASSERT_EQ(trained.status, 0) << read_file(err);
  const auto info = nlohmann::json::parse(read_file(dir + "/m/model.json"));
  std::set<std::string> train;
  for (const char* key : {"train_subjects", "val_subjects"})
    for (const auto& s : info["split"][key]) train.insert(s.get<std::string>());
  ASSERT_FALSE(train.empty());
  // Independently: the mean |HR(k+1) - HR(k)| over consecutive labelled windows of the training
  // subjects' recordings, straight from the generator's labels.
  double sum = 0;
  int pairs = 0;
  for (const Recording& rec : make_synthetic(SyntheticConfig{})) {
    if (!train.count(rec.subject)) continue;
    for (size_t i = 1; i < rec.windows.size(); ++i) {
      if (rec.windows[i].index != rec.windows[i - 1].index + 1) continue;
      sum += std::fabs(rec.windows[i].hr_bpm - rec.windows[i - 1].hr_bpm);
      ++pairs;
    }
  }
  ASSERT_GT(pairs, 0);
  // Windows carry their labels as float: agreement to float precision (~1e-7 relative).
  EXPECT_NEAR(info["extra"]["transition_scale_bpm"].get<double>(), sum / pairs, 1e-6);

  // Data without the model's training subjects: the recorded scale, else the default.
  PreprocessConfig pp;
  ModelRecord rec;
  rec.train_subjects = {"bami1/01"};
  rec.extra = {{"transition_scale_bpm", 2.5}};
  torch::manual_seed(1);
  save_model_dir(dir + "/recorded",
                 *make_net(ModelSpec::parse("mlp:hidden=16", pp.channels(), pp.length())), pp, rec);
  auto recorded = run("eval --model " + dir + "/recorded --data synthetic --decode online", err);
  ASSERT_EQ(recorded.status, 0) << read_file(err);
  auto j = nlohmann::json::parse(recorded.out);
  EXPECT_EQ(j["transition_scale_bpm"].get<double>(), 2.5);
  EXPECT_EQ(j["transition_scale_source"],
            "recorded with the model (fitted on its training labels) (the model's training "
            "subjects are not in this data)");
  const std::string plain = make_model_dir(dir + "/plain", false);
  auto fallback = run("eval --model " + plain + " --data synthetic --decode online", err);
  ASSERT_EQ(fallback.status, 0) << read_file(err);
  j = nlohmann::json::parse(fallback.out);
  EXPECT_EQ(j["transition_scale_bpm"].get<double>(), 1.33);
  EXPECT_EQ(j["transition_scale_source"],
            "default (the model records no scale) (the model's training subjects are not in "
            "this data)");
}

TEST(CliValidate, SpectralReportOnSynthetic) {
  const std::string dir = testing::scratch_dir();
  const std::string err = dir + "/err.txt";
  auto r = run("validate --model spectral --data synthetic --subjects synthetic/s03 --out " + dir +
                   "/report",
               err);
  ASSERT_EQ(r.status, 0) << read_file(err);
  const std::string md = read_file(dir + "/report/report.md");
  EXPECT_NE(md.find("synthetic / all"), std::string::npos);
  EXPECT_NE(md.find("**not a certification**"), std::string::npos);
  EXPECT_TRUE(is_png_file(dir + "/report/plots/bland_altman.png"));
  EXPECT_TRUE(is_png_file(dir + "/report/plots/track_synthetic_s03_r1.png"));
}

}  // namespace
}  // namespace ppgkd
