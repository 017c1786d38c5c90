// The real `ppgkd` binary: `train`, `distill` and a `group` member write epochs.jsonl as
// model.json's history says and record the same fold extra, and a real sweep (children are `ppgkd
// train|distill` on the synthetic data, tiny models, one thread each) killed with SIGKILL mid-run
// and resumed gives every run the metrics of an uninterrupted sweep of the same plan, bit for bit:
// a child resumes from its last epoch checkpoint and its runs are deterministic from their seed.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cli/cli_run.h"
#include "common/atomic_file.h"
#include "sweep/store.h"
#include "test_util.h"
#include "train/epoch_log_check.h"

namespace ppgkd {
namespace {

namespace fs = std::filesystem;

nlohmann::json json_file(const std::string& path) {
  return nlohmann::json::parse(read_file(path));
}

// The shared window cache of every test here: the synthetic windows are built once.
std::string cache_dir() {
  return (fs::temp_directory_path() / "ppgkd_test_sweep_real_cache").string();
}

// ------------------------------------------------------------------------------ epochs.jsonl

TEST(RealTrain, ThreeEpochsGiveThreeLinesAsModelJsonRecords) {
  const auto dir = testing::scratch_dir();
  const std::vector<std::string> common = {
      "--data",     "synthetic", "--inputs",  "ppg", "--folds", "2",
      "--fold",     "0",         "--epochs",  "3",   "--batch", "256",
      "--patience", "0",         "--threads", "1",   "--cache", cache_dir()};
  // `train`, `distill` and the same distillation as the one member of a `ppgkd group`.
  for (const std::string cmd : {"train", "distill", "group"}) {
    SCOPED_TRACE(cmd);
    const std::string out = dir + "/" + cmd;
    std::vector<std::string> args = {cmd == "group" ? "distill" : cmd};
    if (cmd == "train")
      args.insert(args.end(), {"--model", "mlp:hidden=4"});
    else
      args.insert(args.end(), {"--student", "mlp:hidden=4", "--strategy", "none"});
    args.insert(args.end(), common.begin(), common.end());
    args.insert(args.end(), {"--out", out});
    std::string line;
    if (cmd == "group") {
      nlohmann::json file;
      file["members"] = nlohmann::json::array({nlohmann::json(args)});
      write_file_atomic(dir + "/members.json", file.dump());
      line = "group --members " + dir + "/members.json";
    } else {
      for (const auto& a : args) line += a + " ";
    }
    const auto r = testing::run(line, dir + "/err.txt");
    ASSERT_EQ(r.status, 0) << read_file(dir + "/err.txt");
    const auto mj = json_file(out + "/model.json");
    const auto& history = mj.at("history");
    ASSERT_EQ(history.size(), 3u);
    testing::expect_epoch_log_matches(out + "/epochs.jsonl", history, 3);
    const auto lines = testing::read_epoch_log(out + "/epochs.jsonl");
    ASSERT_EQ(lines.size(), 3u);
    EXPECT_EQ(lines.back().at("val_mae"), history.back().at("val_mae"));
    EXPECT_TRUE(lines.back().at("val_mae").is_number());
    EXPECT_EQ(lines.back().at("best_val_mae"), mj.at("metrics").at("best_val_mae_bpm"));
    // Every command records the fold's extra alike (cross_validation.h's fold_extra).
    const auto extra = mj.at("extra");
    EXPECT_EQ(extra.at("split_seed"), 1);
    EXPECT_TRUE(extra.at("train_only").is_array());
    EXPECT_GT(extra.at("transition_scale_bpm").get<double>(), 0);
    if (cmd != "train") {
      const auto single = json_file(dir + "/train/model.json").at("extra");
      for (const char* key : {"split_seed", "train_only", "transition_scale_bpm"})
        EXPECT_EQ(extra.at(key), single.at(key)) << key;
    }
  }
}

// ------------------------------------------------------------------------------ killed sweep

// 2 teacher runs (one per fold) and 2 scratch students: 4 runs of 3 epochs, one at a time; batches
// of 16 make an epoch long enough (a few hundred ms) for the kill to land inside a run.
void write_plan(const std::string& path) {
  write_file_atomic(path, R"({
    "name": "kill-real", "data": "synthetic", "inputs": "ppg", "cache": ")" +
                              cache_dir() + R"(",
    "folds": 2, "seeds": [3],
    "train": {"epochs": 3, "batch": 16, "patience": 0},
    "teachers": ["resnet1d:stem=8,stages=8-16,blocks=1,k=5"],
    "students": {"resnet": ["resnet1d:stem=4,stages=8,blocks=1,k=5"]},
    "strategies": [{"name": "none"}]
  })");
}
constexpr size_t kRuns = 4;

int sweep(const std::string& plan, const std::string& out, const std::string& err) {
  return testing::run("sweep --plan " + plan + " --out " + out + " --jobs 1", err).status;
}

// A run directory whose child has checkpointed an epoch but not finished: its first line.
std::string mid_run(const std::string& out, std::string* first_line) {
  if (!fs::is_directory(out + "/runs")) return "";
  for (const auto& e : fs::directory_iterator(out + "/runs")) {
    const std::string d = e.path().string();
    if (fs::exists(d + "/model.json") || !fs::exists(d + "/epochs.jsonl")) continue;
    const std::string log = read_file(d + "/epochs.jsonl");
    if (log.find('\n') == std::string::npos) continue;
    *first_line = log.substr(0, log.find('\n'));
    return e.path().filename().string();
  }
  return "";
}

TEST(RealSweep, KilledMidRunAndResumedEqualsAnUninterruptedSweep) {
  const auto dir = testing::scratch_dir();
  const std::string plan = dir + "/plan.json", ref = dir + "/ref", cut = dir + "/cut";
  write_plan(plan);
  ASSERT_EQ(sweep(plan, ref, dir + "/ref.err"), 0) << read_file(dir + "/ref.err");

  // Kill the second sweep once a run is done and another has checkpointed its first epoch.
  const pid_t pid =
      testing::spawn({"sweep", "--plan", plan, "--out", cut, "--jobs", "1"}, dir + "/cut.err");
  ASSERT_GT(pid, 0);
  std::string killed_key, killed_first_line;
  for (int i = 0; i < 6000 && killed_key.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    size_t done = 0;
    try {
      if (fs::exists(cut + "/sweep.db")) done = Store(cut + "/sweep.db").counts().done;
    } catch (const std::exception&) {
    }
    if (done >= 1) killed_key = mid_run(cut, &killed_first_line);
  }
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  EXPECT_EQ(testing::wait_exit(pid), -1);
  ASSERT_FALSE(killed_key.empty()) << "no run was caught mid-way: " << read_file(dir + "/cut.err");
  {
    Store store(cut + "/sweep.db");
    ASSERT_LT(store.counts().done, kRuns) << "the sweep finished before the kill";
  }
  ASSERT_EQ(sweep(plan, cut, dir + "/cut2.err"), 0) << read_file(dir + "/cut2.err");

  // The same runs, done, with the same results.
  Store a(ref + "/sweep.db"), b(cut + "/sweep.db");
  ASSERT_EQ(a.counts().done, kRuns);
  ASSERT_EQ(b.counts().done, kRuns);
  std::set<std::string> keys;
  for (const auto& ra : a.runs()) {
    SCOPED_TRACE(ra.key + " (" + ra.kind + " " + ra.model + " fold " + std::to_string(ra.fold) +
                 ")");
    keys.insert(ra.key);
    const auto rb = b.run(ra.key);
    EXPECT_EQ(rb.status, "done");
    EXPECT_EQ(rb.mae_bpm, ra.mae_bpm);
    EXPECT_EQ(rb.params, ra.params);
    const auto ja = json_file(ref + "/runs/" + ra.key + "/model.json");
    const auto jb = json_file(cut + "/runs/" + ra.key + "/model.json");
    EXPECT_EQ(jb.at("metrics").at("test"), ja.at("metrics").at("test"));
    EXPECT_EQ(jb.at("metrics").at("best_val_mae_bpm"), ja.at("metrics").at("best_val_mae_bpm"));
    EXPECT_EQ(jb.at("metrics").at("best_epoch"), ja.at("metrics").at("best_epoch"));
    ASSERT_EQ(jb.at("history").size(), 3u);
    for (size_t e = 0; e < 3; ++e)
      for (const char* key : {"train_loss", "val_mae", "lr"})
        EXPECT_EQ(jb["history"][e][key], ja["history"][e][key]) << "epoch " << e << " " << key;
    // Each epoch listed once, as the run's history says.
    testing::expect_epoch_log_matches(cut + "/runs/" + ra.key + "/epochs.jsonl", jb["history"], 3);
  }
  EXPECT_EQ(keys.size(), kRuns);
  // The killed run continued from its checkpoint: its first epoch (wall time included) is the
  // killed attempt's, not a rerun's.
  const auto lines = testing::read_epoch_log(cut + "/runs/" + killed_key + "/epochs.jsonl");
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines[0], nlohmann::json::parse(killed_first_line));
}

}  // namespace
}  // namespace ppgkd
