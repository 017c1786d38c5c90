// Hostile input through the ppgkd binary (issue 14): usage errors exit 2 and a SIGINT exits 130;
// non-finite learning rates are refused and a diverging run stops without saving a model; a
// model.pt that does not match its model.json, or a model.json field of the wrong type, is one
// error line in every command; a sweep plan's models and child options are checked before
// anything runs. The binary's path comes from the build (PPGKD_BIN).
#include <gtest/gtest.h>
#include <signal.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <functional>
#include <sstream>
#include <thread>

#include "cli_run.h"
#include "common/atomic_file.h"
#include "data/synthetic/synthetic.h"
#include "test_util.h"
#include "train/model_dir.h"

namespace ppgkd {
namespace {

namespace fs = std::filesystem;
using testing::run;

size_t lines_of(const std::string& s) {
  return static_cast<size_t>(std::count(s.begin(), s.end(), '\n'));
}

// One fold of the synthetic data, and a fast run of a tiny MLP on it.
const std::string kFold = " --data synthetic --folds 4 --fold 0 --threads 1";
const std::string kTinyRun = kFold + " --epochs 1 --model mlp:hidden=8";

// ---------------------------------------------------------------------------- exit codes

TEST(CliExitCodes, UsageErrorsExitTwoHelpAndVersionZero) {
  const std::string dir = testing::scratch_dir();
  const std::string err = dir + "/err.txt";
  write_file_atomic(dir + "/plan.json", "{}");
  const std::vector<std::pair<std::string, int>> cases = {
      {"", 2},                                                        // no subcommand
      {"frobnicate", 2},                                              // unknown subcommand
      {"train --bogus 1" + kTinyRun + " --out " + dir + "/m", 2},     // unknown option
      {"eval --data synthetic", 2},                                   // a required option missing
      {"train" + kTinyRun + " --out " + dir + "/m --batch many", 2},  // not a number
      {"train" + kTinyRun + " --out " + dir + "/m --folds 0", 2},     // out of range
      {"predict --model " + dir + "/absent --input x.csv --fs 125", 2},  // not a directory
      {"sweep --plan " + dir + "/plan.json", 2},  // --out missing (checked in the callback)
      {"--help", 0},
      {"train --help", 0},
      {"--version", 0}};
  for (const auto& [args, want] : cases) {
    const auto r = run(args, err);
    EXPECT_EQ(r.status, want) << "ppgkd " << args << "\n" << read_file(err);
  }
  EXPECT_FALSE(fs::exists(dir + "/m"));
}

TEST(CliExitCodes, InterruptedTrainingExits130AndKeepsItsCheckpoint) {
  const std::string dir = testing::scratch_dir();
  const std::string err = dir + "/err.txt", out = dir + "/m";
  const pid_t pid =
      testing::spawn({"train", "--data", "synthetic", "--folds", "4", "--fold", "0", "--threads",
                      "1", "--model", "mlp:hidden=8", "--epochs", "100000", "--out", out},
                     err);
  ASSERT_GT(pid, 0);
  // The first epoch's checkpoint shows the trainer (and its signal handler) is running.
  for (int i = 0; i < 1200 && !fs::exists(out + "/checkpoint.pt"); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const bool started = fs::exists(out + "/checkpoint.pt");
  ::kill(pid, started ? SIGINT : SIGKILL);
  const int status = testing::wait_exit(pid);
  ASSERT_TRUE(started) << "no checkpoint after 120 s: " << read_file(err);
  EXPECT_EQ(status, 130) << read_file(err);
  const std::string e = read_file(err);
  const std::string prefix = "ppgkd: error: " + out + "/checkpoint.pt: interrupted at epoch ";
  ASSERT_NE(e.find(prefix), std::string::npos) << e;
  EXPECT_EQ(e.substr(e.size() - 41), "checkpoint saved, continue with --resume\n") << e;
  EXPECT_FALSE(fs::exists(out + "/model.json"));
}

// ---------------------------------------------------------------------------- divergence

TEST(CliTrain, NonFiniteRatesAreRefusedByEveryTrainingCommand) {
  const std::string dir = testing::scratch_dir();
  const std::string err = dir + "/err.txt";
  const std::vector<std::string> commands = {
      "train" + kTinyRun, "distill --strategy none --student mlp:hidden=8" + kFold,
      "pretrain --data synthetic --model mlp:hidden=8 --threads 1"};
  for (const auto& cmd : commands)
    for (const char* value : {"inf", "-inf", "nan"}) {
      auto r = run(cmd + " --out " + dir + "/m --lr=" + value, err);
      EXPECT_EQ(r.status, 1) << cmd << " --lr " << value;
      EXPECT_EQ(read_file(err), std::string("ppgkd: error: train config: lr must be finite and > "
                                            "0, got ") +
                                    value + "\n")
          << cmd;
      r = run(cmd + " --out " + dir + "/m --wd=" + value, err);
      EXPECT_EQ(r.status, 1) << cmd << " --wd " << value;
      EXPECT_EQ(read_file(err), std::string("ppgkd: error: train config: weight_decay must be "
                                            "finite and >= 0, got ") +
                                    value + "\n")
          << cmd;
    }
  EXPECT_FALSE(fs::exists(dir + "/m/model.json"));
}

// The tiny run with extra flags into DIR/m: its model.json, or null (and a failure) when it fails.
nlohmann::json tiny_model_record(const std::string& dir, const std::string& flags) {
  const auto r = run("train" + kTinyRun + " " + flags + " --out " + dir + "/m", dir + "/err.txt");
  EXPECT_EQ(r.status, 0) << flags << ": " << read_file(dir + "/err.txt");
  if (r.status != 0) return nullptr;
  return nlohmann::json::parse(read_file(dir + "/m/model.json"));
}

TEST(CliTrain, PpgChannelIsRecordedOrRefusedBeforeTraining) {
  const std::string dir = testing::scratch_dir();
  const std::string err = dir + "/err.txt";
  const auto record = tiny_model_record(dir, "--ppg-channel mean");
  ASSERT_FALSE(record.is_null());
  EXPECT_EQ(record["preprocess"]["ppg_channel"], "mean");
  // The synthetic recordings have one PPG channel: index 1 names the recording.
  auto r = run("train" + kTinyRun + " --ppg-channel 1 --out " + dir + "/one", err);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(read_file(err).find("PPG channel 1 requested but the recording has 1"),
            std::string::npos)
      << read_file(err);
  EXPECT_FALSE(fs::exists(dir + "/one/model.json"));
  r = run("train" + kTinyRun + " --ppg-channel left --out " + dir + "/bad", err);
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(read_file(err),
            "ppgkd: error: preprocess config: ppg_channel must be \"mean\" or a channel index >= 0 "
            "(got \"left\")\n");
  EXPECT_FALSE(fs::exists(dir + "/bad"));
}

// A training option with a range: `flag ok` is recorded in model.json as training.`key`, and
// `flag bad` is a usage error (exit 2) naming the flag that writes nothing. Returns the scratch
// dir, whose m/ holds the model trained with `ok`.
std::string expect_recorded_and_range_checked(const std::string& flag, double ok,
                                              const std::string& key, const std::string& bad) {
  const std::string dir = testing::scratch_dir();
  const auto record = tiny_model_record(dir, flag + " " + nlohmann::json(ok).dump());
  EXPECT_FALSE(record.is_null()) << flag;
  if (!record.is_null()) {
    EXPECT_EQ(record["training"][key], ok) << flag;
  }
  const auto r =
      run("train" + kTinyRun + " " + flag + " " + bad + " --out " + dir + "/bad", dir + "/err.txt");
  EXPECT_EQ(r.status, 2) << read_file(dir + "/err.txt");
  EXPECT_NE(read_file(dir + "/err.txt").find(flag), std::string::npos) << flag;
  EXPECT_FALSE(fs::exists(dir + "/bad")) << flag;
  return dir;
}

// Distillation has its own loss: an option that shapes the supervised cross-entropy would be
// silently ignored there, so it is refused with `message`, and nothing is written.
void expect_refused_by_distill(const std::string& dir, const std::string& option,
                               const std::string& message) {
  const std::string err = dir + "/distill_err.txt";
  const auto r =
      run("distill --strategy soft --teacher " + dir + "/m --student mlp:hidden=8 --epochs 1" +
              kFold + " " + option + " --out " + dir + "/kd",
          err);
  EXPECT_EQ(r.status, 1) << option;
  EXPECT_NE(read_file(err).find(message), std::string::npos) << read_file(err);
  EXPECT_FALSE(fs::exists(dir + "/kd/model.json")) << option;
}

TEST(CliTrain, HrBalanceIsRecordedAndRefusedWhereItCannotApply) {
  const std::string dir = expect_recorded_and_range_checked("--hr-balance", 0.5, "hr_balance", "2");
  expect_refused_by_distill(dir, "--hr-balance 0.5",
                            "hr_balance weights the supervised cross-entropy only");
}

TEST(CliTrain, HarmonicAugmentIsRecordedAndRangeChecked) {
  expect_recorded_and_range_checked("--harmonic-augment", 0.25, "harmonic_prob", "1.5");
}

TEST(CliTrain, LabelSigmaIsRecordedAndRefusedWhereItCannotApply) {
  const std::string dir =
      expect_recorded_and_range_checked("--label-sigma", 2.5, "label_sigma", "40");
  expect_refused_by_distill(dir, "--label-sigma 2",
                            "label_sigma shapes the supervised cross-entropy only; this run has "
                            "its own loss (distillation, or self-supervised pre-training)");
  // Self-supervised pre-training has its own loss too; supervised pre-training takes the labels.
  const std::string pre =
      "pretrain --data synthetic --model mlp:hidden=8 --threads 1 --steps 2 "
      "--label-sigma 2 --out " +
      dir;
  auto r = run(pre + "/ssl --ssl-weight 0.5", dir + "/pre_err.txt");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(read_file(dir + "/pre_err.txt")
                .find("label_sigma shapes the supervised cross-entropy only; this run has its "
                      "own loss (distillation, or self-supervised pre-training)"),
            std::string::npos)
      << read_file(dir + "/pre_err.txt");
  EXPECT_FALSE(fs::exists(dir + "/ssl/model.json"));
  r = run(pre + "/sup", dir + "/pre_err.txt");
  ASSERT_EQ(r.status, 0) << read_file(dir + "/pre_err.txt");
  EXPECT_EQ(nlohmann::json::parse(read_file(dir + "/sup/model.json"))["training"]["label_sigma"],
            2.0);
}

TEST(CliTrain, DivergingRunStopsWithAnErrorAndSavesNoModel) {
  const std::string dir = testing::scratch_dir();
  const std::string err = dir + "/err.txt", out = dir + "/m";
  // lr 1e30 is finite, so it is accepted, and blows the weights up within the first epoch.
  auto r = run("train" + kTinyRun + " --lr 1e30 --out " + out, err);
  EXPECT_EQ(r.status, 1);
  const std::string e = read_file(err);
  const std::string prefix = "ppgkd: error: " + out + "/checkpoint.pt: training diverged: ";
  // The last line says so.
  ASSERT_GE(e.size(), 2u);
  const size_t last = e.rfind('\n', e.size() - 2) + 1;  // npos + 1 = 0: a single line
  EXPECT_EQ(e.compare(last, prefix.size(), prefix), 0) << e;
  EXPECT_EQ(e.substr(e.size() - 53), "no checkpoint had been saved (a lower --lr may help)\n") << e;
  EXPECT_FALSE(fs::exists(out + "/model.json"));
  EXPECT_FALSE(fs::exists(out + "/model.pt"));
  EXPECT_FALSE(fs::exists(out + "/checkpoint.pt"));
}

// ---------------------------------------------------------------------------- model files

// model.json says mlp:hidden=16; model.pt holds the weights of mlp:hidden=32.
std::string mismatched_model_dir(const std::string& dir) {
  PreprocessConfig pp;
  ModelRecord rec;
  rec.train_subjects = {"synthetic/s01"};
  torch::manual_seed(1);
  save_model_dir(dir, *make_net(ModelSpec::parse("mlp:hidden=16", pp.channels(), pp.length())), pp,
                 rec);
  save_model_dir(dir + "-other",
                 *make_net(ModelSpec::parse("mlp:hidden=32", pp.channels(), pp.length())), pp, rec);
  fs::copy_file(dir + "-other/model.pt", dir + "/model.pt", fs::copy_options::overwrite_existing);
  return dir;
}

TEST(CliModelDir, WeightsThatDoNotMatchModelJsonAreOneLineInEveryCommand) {
  const std::string dir = testing::scratch_dir();
  const std::string err = dir + "/err.txt";
  const std::string bad = mismatched_model_dir(dir + "/bad"), good = dir + "/bad-other";
  SyntheticConfig sc;
  sc.subjects = 1;
  sc.duration_s = 20;
  const Recording rec = make_synthetic(sc).at(0);
  std::string csv = "ppg\n";
  for (float v : rec.ppg[0]) csv += std::to_string(v) + "\n";
  write_file_atomic(dir + "/a.csv", csv);

  const std::string exact = "ppgkd: error: " + bad + "/model.pt: does not fit the network of " +
                            bad + "/model.json (spec mlp:hidden=16): tensor ";
  const std::string shapes = " is (32x800) in the file, (16x800) in the network\n";
  const std::vector<std::string> commands = {
      "eval --model " + bad + " --data synthetic --subjects synthetic/s01",
      "predict --model " + bad + " --input " + dir + "/a.csv --fs 125",
      "predict --model " + bad + " --input " + dir + "/a.csv --fs 125 --stream",
      "validate --model " + bad + " --data synthetic --subjects synthetic/s01 --out " + dir + "/v",
      "export --model " + bad + " --out " + dir + "/e",
      "ensemble --members " + good + "," + bad + " --out " + dir + "/ens",
      "distill --teacher " + bad + " --strategy soft --student mlp:hidden=8" + kFold +
          " --epochs 1 --out " + dir + "/d"};
  for (const auto& cmd : commands) {
    const auto r = run(cmd, err);
    const std::string e = read_file(err);
    EXPECT_EQ(r.status, 1) << cmd;
    // The error is the last line (distill reports its fold first), and the only one.
    ASSERT_GE(lines_of(e), 1u) << cmd;
    const std::string last = e.substr(e.rfind('\n', e.size() - 2) + 1);  // npos + 1 = 0
    EXPECT_EQ(e.find("ppgkd: error: "), e.size() - last.size()) << cmd << "\n" << e;
    EXPECT_EQ(last.rfind(exact, 0), 0u) << cmd << "\n" << e;
    ASSERT_GE(last.size(), shapes.size()) << cmd << "\n" << e;
    EXPECT_EQ(last.substr(last.size() - shapes.size()), shapes) << cmd << "\n" << e;
  }
  // --init reads the weights tensor by tensor: the same facts in its own words, after the fold
  // line.
  auto last_line = [](const std::string& e) { return e.substr(e.rfind('\n', e.size() - 2) + 1); };
  const auto r = run(
      "train" + kFold + " --model mlp:hidden=32 --epochs 1 --init " + bad + " --out " + dir + "/t",
      err);
  const std::string e = read_file(err);
  EXPECT_EQ(r.status, 1);
  ASSERT_GE(e.size(), 2u);
  EXPECT_EQ(e.find("ppgkd: error: "), e.size() - last_line(e).size()) << e;
  EXPECT_EQ(
      last_line(e).rfind("ppgkd: error: " + bad + "/model.json: init model is mlp:hidden=16", 0),
      0u)
      << e;
  const auto r16 = run("train" + kFold + " --model mlp:hidden=16 --epochs 1 " + "--init " + bad +
                           " --out " + dir + "/t16",
                       err);
  const std::string e16 = read_file(err);
  EXPECT_EQ(r16.status, 1);
  ASSERT_GE(e16.size(), 2u);
  EXPECT_EQ(e16.find("ppgkd: error: "), e16.size() - last_line(e16).size()) << e16;
  EXPECT_EQ(last_line(e16).rfind("ppgkd: error: " + bad + "/model.pt: tensor ", 0), 0u) << e16;
  EXPECT_NE(e16.find(" is (32x800) but the model needs (16x800)\n"), std::string::npos) << e16;
}

// A model.json whose "spec" is a number, or that lacks "inputs", is one line naming the file and
// the field in every command that reads model directories (ModelRecord).
TEST(CliModelDir, AModelJsonFieldOfTheWrongTypeIsNamedInEveryCommand) {
  const std::string dir = testing::scratch_dir();
  const std::string err = dir + "/err.txt";
  PreprocessConfig pp;
  ModelRecord rec;
  rec.train_subjects = {"synthetic/s01"};
  torch::manual_seed(1);
  const std::string good = dir + "/good", bad = dir + "/bad", bare = dir + "/bare";
  for (const auto& d : {good, bad, bare})
    save_model_dir(d, *make_net(ModelSpec::parse("mlp:hidden=8", pp.channels(), pp.length())), pp,
                   rec);
  auto edit = [](const std::string& path, const std::function<void(nlohmann::json&)>& f) {
    auto j = nlohmann::json::parse(read_file(path));
    f(j);
    write_file_atomic(path, j.dump(2) + "\n");
  };
  edit(bad + "/model.json", [](nlohmann::json& j) { j["spec"] = 7; });
  edit(bare + "/model.json", [](nlohmann::json& j) { j.erase("inputs"); });
  SyntheticConfig sc;  // a recording longer than one window, so only the model can be wrong
  sc.subjects = 1;
  sc.duration_s = 20;
  std::string csv = "ppg\n";
  const Recording recording = make_synthetic(sc).at(0);
  for (float v : recording.ppg[0]) csv += std::to_string(v) + "\n";
  write_file_atomic(dir + "/a.csv", csv);

  auto commands = [&](const std::string& m) {
    return std::vector<std::string>{
        "eval --model " + m + " --data synthetic --subjects synthetic/s01",
        "predict --model " + m + " --input " + dir + "/a.csv --fs 125",
        "predict --model " + m + " --input " + dir + "/a.csv --fs 125 --stream",
        "validate --model " + m + " --data synthetic --subjects synthetic/s01 --out " + dir + "/v",
        "export --model " + m + " --out " + dir + "/e",
        "ensemble --members " + good + "," + m + " --out " + dir + "/ens",
        "distill --teacher " + m + " --strategy soft --student mlp:hidden=8" + kFold +
            " --epochs 1 --out " + dir + "/d",
        "train" + kTinyRun + " --init " + m + " --out " + dir + "/t"};
  };
  const std::pair<std::string, std::string> cases[] = {{bad, "field \"spec\" must be a string"},
                                                       {bare, "field \"inputs\" is missing"}};
  for (const auto& [m, what] : cases)
    for (const auto& cmd : commands(m)) {
      const auto r = run(cmd, err);
      const std::string e = read_file(err);
      EXPECT_EQ(r.status, 1) << cmd << "\n" << e;
      // The error is the last line (train and distill report their fold first), and the only one.
      ASSERT_GE(lines_of(e), 1u) << cmd;
      const std::string last = e.substr(e.rfind('\n', e.size() - 2) + 1);
      EXPECT_EQ(e.find("ppgkd: error: "), e.size() - last.size()) << cmd << "\n" << e;
      EXPECT_EQ(last, "ppgkd: error: " + m + "/model.json: " + what + "\n") << cmd;
    }
  EXPECT_FALSE(fs::exists(dir + "/e/model.ppgm"));
  EXPECT_FALSE(fs::exists(dir + "/ens/model.json"));
  EXPECT_FALSE(fs::exists(dir + "/d/model.json"));
  EXPECT_FALSE(fs::exists(dir + "/t/model.json"));
}

// ---------------------------------------------------------------------------- command-line values

// Issue 14: a negative fold, split seed or seed is a usage error with a short message, not a
// 309-digit range or a seed wrapped to 2^64-1.
TEST(CliOptions, NegativeFoldsAndSeedsAreUsageErrors) {
  const std::string dir = testing::scratch_dir();
  const std::string err = dir + "/err.txt";
  const std::string base = " --data synthetic --folds 4 --threads 1 --epochs 1 --out " + dir + "/m";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"train --model mlp:hidden=8 --fold -1" + base,
       "--fold: must be a non-negative integer, "
       "got -1\n"},
      {"train --model mlp:hidden=8 --fold 0 --split-seed -1" + base,
       "--split-seed: must be a non-negative integer, got -1\n"},
      {"train --model mlp:hidden=8 --fold 0 --seed -1" + base,
       "--seed: must be a non-negative integer, got -1\n"},
      {"train --model mlp:hidden=8 --fold 1.5" + base,
       "--fold: must be a non-negative integer, got 1.5\n"},
      {"distill --strategy none --student mlp:hidden=8 --fold -3" + base,
       "--fold: must be a non-negative integer, got -3\n"}};
  for (const auto& [args, first] : cases) {
    const auto r = run(args, err);
    const std::string e = read_file(err);
    EXPECT_EQ(r.status, 2) << args << "\n" << e;
    EXPECT_EQ(e.substr(0, e.find('\n') + 1), first) << args;
    EXPECT_LT(e.size(), 120u) << e;
  }
  EXPECT_FALSE(fs::exists(dir + "/m"));
}

// A model that predict can open (untrained: these tests check the input, not the estimate).
std::string untrained_model(const std::string& dir) {
  PreprocessConfig pp;
  ModelRecord rec;
  rec.train_subjects = {"synthetic/s01"};
  torch::manual_seed(1);
  save_model_dir(dir, *make_net(ModelSpec::parse("mlp:hidden=8", pp.channels(), pp.length())), pp,
                 rec);
  return dir;
}

// A one-column CSV at 125 Hz: `n` samples, the first `n_nan` of them missing.
std::string ppg_csv(size_t n, size_t n_nan) {
  std::string csv = "ppg\n";
  for (size_t i = 0; i < n; ++i)
    csv += i < n_nan ? "nan\n" : std::to_string(std::sin(2 * M_PI * 1.5 * i / 125.0)) + "\n";
  return csv;
}

// Issue 14: an input shorter than one window, or an absurd --fs, is an error, not an exit 0 with
// only a header; a stream with --out leaves the file as it was.
TEST(CliPredict, ShortInputAndAbsurdRatesAreErrors) {
  const std::string dir = testing::scratch_dir();
  const std::string err = dir + "/err.txt", out = dir + "/track.csv";
  const std::string m = untrained_model(dir + "/m");
  write_file_atomic(dir + "/short.csv", ppg_csv(999, 0));  // 7.99 s at 125 Hz
  write_file_atomic(dir + "/ok.csv", ppg_csv(2500, 0));    // 20 s: windows at 0, 2, ..., 12 s
  const std::string predict = "predict --model " + m + " --input ";

  auto r = run(predict + dir + "/short.csv --fs 125", err);
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(read_file(err), "ppgkd: error: " + dir +
                                "/short.csv: shorter than one window: 999 samples at 125 Hz (a "
                                "window is 8 s)\n");
  write_file_atomic(out, "old\n");
  r = run(predict + dir + "/short.csv --fs 125 --stream --out " + out, err);
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(read_file(err), "ppgkd: error: " + dir +
                                "/short.csv: input ended before one full window (a window is 8 "
                                "s)\n");
  EXPECT_EQ(read_file(out), "old\n");

  for (const std::string fs_arg : {"0.001", "1e9", "0", "-125", "9.99", "10001", "fast"}) {
    r = run(predict + dir + "/ok.csv --fs=" + fs_arg, err);
    const std::string e = read_file(err);
    EXPECT_EQ(r.status, 2) << fs_arg << "\n" << e;
    EXPECT_EQ(r.out, "") << fs_arg;
    const std::string want = fs_arg == "fast"
                                 ? "--fs: must be a number of Hz, got fast\n"
                                 : "--fs: must be between 10 and 10000 Hz, got " + fs_arg + "\n";
    EXPECT_EQ(e.substr(0, e.find('\n') + 1), want) << e;
  }
  // The ends of the range are accepted (at 10 kHz the 2500 samples are then too short).
  for (const std::string fs_arg : {"10", "125"}) {
    r = run(predict + dir + "/ok.csv --fs " + fs_arg, err);
    EXPECT_EQ(r.status, 0) << fs_arg << "\n" << read_file(err);
  }
  r = run(predict + dir + "/ok.csv --fs 10000", err);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(read_file(err).find("shorter than one window: 2500 samples at 10000 Hz"),
            std::string::npos)
      << read_file(err);
  r = run(predict + dir + "/ok.csv --fs 125", err);
  EXPECT_EQ(lines_of(r.out), 1u + 7u) << r.out;
}

// Issue 14: in the stream, tracked_bpm is nan until the first window with finite input (the
// filter's prior is no estimate; it read 35.5, the lowest class).
TEST(CliPredict, StreamTrackedBpmIsNanBeforeTheFirstValidWindow) {
  const std::string dir = testing::scratch_dir();
  const std::string err = dir + "/err.txt";
  const std::string m = untrained_model(dir + "/m");
  write_file_atomic(dir + "/late.csv", ppg_csv(125 * 30, 125 * 12));  // the first 12 s missing
  const auto r =
      run("predict --model " + m + " --input " + dir + "/late.csv --fs 125 --stream", err);
  ASSERT_EQ(r.status, 0) << read_file(err);
  std::istringstream in(r.out);
  std::string line;
  std::getline(in, line);
  ASSERT_EQ(line, "t_s,hr_bpm,confidence,tracked_bpm");
  size_t before = 0, after = 0;
  bool valid_seen = false;
  while (std::getline(in, line)) {
    const auto c1 = line.find(','), c3 = line.rfind(',');
    const std::string hr = line.substr(c1 + 1, line.find(',', c1 + 1) - c1 - 1);
    const std::string tracked = line.substr(c3 + 1);
    valid_seen = valid_seen || hr != "nan";
    if (valid_seen) {
      EXPECT_NE(tracked, "nan") << line;
      ++after;
    } else {
      EXPECT_EQ(tracked, "nan") << line;
      ++before;
    }
  }
  EXPECT_GE(before, 3u) << r.out;  // windows ending at 8, 10, 12 s (and later ones touching NaN)
  EXPECT_GE(after, 3u) << r.out;
}

// ---------------------------------------------------------------------------- sweep plans

TEST(CliSweep, PlansAreCheckedBeforeAnythingRuns) {
  const std::string dir = testing::scratch_dir();
  const std::string err = dir + "/err.txt", out = dir + "/out";
  auto plan = [&](const std::string& name, const std::string& extra) {
    const std::string path = dir + "/" + name + ".json";
    write_file_atomic(path, R"({"data": "synthetic", "folds": 2, "fold_list": [0],
      "teachers": ["mlp:hidden=16"], "students": {"mlp": ["mlp:hidden=4"]},
      "strategies": [{"name": "none"}, {"name": "soft"}])" +
                                extra + "}");
    return path;
  };
  // The good plan: a dry run lists 3 runs.
  auto r = run("sweep --dry-run --plan " + plan("good", "") + " --out " + out, err);
  ASSERT_EQ(r.status, 0) << read_file(err);
  EXPECT_NE(r.out.find("3 runs (1 teachers, 2 students)"), std::string::npos) << r.out;

  const std::string bad_model = plan("r99", R"(, "teachers": ["r99"])");
  const std::string bad_epochs = plan("epochs", R"(, "train": {"epochs": -1})");
  const std::string bad_option = plan("option", R"(, "train": {"frobnicate": 1})");
  const std::string bad_param =
      plan("param", R"(, "strategies": [{"name": "none"}, {"name": "soft", "alpha": "x"}])");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {bad_model, "teacher r99 (run 0, fold 0, seed 1): "},
      {bad_epochs,
       "teacher mlp:hidden=16 (run 0, fold 0, seed 1): train config: epochs must be "
       ">= 1, got -1\n"},
      {bad_option, "teacher mlp:hidden=16 (run 0, fold 0, seed 1): child options: "},
      {bad_param, "student mlp:hidden=4 with soft (run 2, fold 0, seed 1): child options: "}};
  for (const auto& [path, what] : cases) {
    for (const std::string mode : {"--dry-run", "--jobs 1"}) {
      r = run("sweep " + mode + " --plan " + path + " --out " + out, err);
      const std::string e = read_file(err);
      EXPECT_EQ(r.status, 1) << path << " " << mode << "\n" << e;
      EXPECT_EQ(lines_of(e), 1u) << e;
      EXPECT_EQ(e.rfind("ppgkd: error: " + path + ": " + what, 0), 0u) << e;
      EXPECT_FALSE(fs::exists(out)) << "a refused plan must leave nothing behind";
    }
  }
  r = run("sweep --dry-run --plan " + bad_option + " --out " + out, err);
  EXPECT_NE(read_file(err).find("frobnicate"), std::string::npos) << read_file(err);
  r = run("sweep --dry-run --plan " + bad_model + " --out " + out, err);
  EXPECT_NE(read_file(err).find("r99"), std::string::npos) << read_file(err);
}

}  // namespace
}  // namespace ppgkd
