// Hostile input through the ppgkd binary (issue 14): usage errors exit 2 and a SIGINT exits 130;
// non-finite learning rates are refused and a diverging run stops without saving a model; a
// model.pt that does not match its model.json is one error line in every command; a sweep plan's
// models and child options are checked before anything runs. The binary's path comes from the
// build (PPGKD_BIN).
#include <gtest/gtest.h>
#include <signal.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
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

// ---------------------------------------------------------------------------- sweep plans

}  // namespace
}  // namespace ppgkd
