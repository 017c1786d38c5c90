// The sweep as processes: the real command-line code (sweep_cli_main) launching a fake child
// (fake_child.cpp). A sweep killed with SIGKILL part-way and restarted must finish every run
// exactly once; an MPI sweep with 3 ranks must fill the store the same way; the report and the
// recommendation must recover the law the fake child's MAEs follow.
#include <fmt/format.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "analysis/gnuplot.h"
#include "common/atomic_file.h"
#include "sweep/store.h"
#include "test_util.h"

namespace ppgkd {
namespace {

namespace fs = std::filesystem;

// 2 teachers-by-fold runs + 4 sizes x 2 strategies x 2 folds = 18 runs. `extra` adds plan keys.
void write_plan(const std::string& path, const std::string& extra = "") {
  write_file_atomic(path, R"({)" + extra + R"(
    "name": "fake", "data": "synthetic", "folds": 2, "seeds": [1],
    "train": {"epochs": 1},
    "teachers": ["fake:1000000"],
    "students": {"fake": ["fake:1000", "fake:3000", "fake:10000", "fake:30000"]},
    "strategies": [{"name": "none"}, {"name": "dkd", "alpha": 1, "beta": 8}]
  })");
}
constexpr size_t kRuns = 18;

// Runs the driver with `args`; returns the exit status (as from system()).
int run_driver(const std::string& args, const std::string& env = "") {
  const std::string cmd = env + " " + PPGKD_SWEEP_DRIVER + " " + args;
  return std::system(cmd.c_str());
}

std::map<std::string, int> count_lines(const std::string& log, const std::string& word) {
  std::ifstream in(log);
  std::map<std::string, int> n;
  std::string w, key;
  while (in >> w >> key)
    if (w == word) ++n[key];
  return n;
}

// Every run of the plan is done exactly once: the store holds kRuns done rows with distinct keys,
// each run directory has its completion marker, and the fake child finished each key once.
void expect_done_once(const std::string& out, const std::string& log) {
  Store store(out + "/sweep.db");
  const auto c = store.counts();
  EXPECT_EQ(c.done, kRuns);
  EXPECT_EQ(c.total(), kRuns);
  const auto rows = store.runs();
  std::set<std::string> keys;
  for (const auto& r : rows) {
    keys.insert(r.key);
    EXPECT_EQ(r.status, "done") << r.key << ": " << r.error;
    EXPECT_TRUE(fs::exists(out + "/runs/" + r.key + "/sweep_done.json")) << r.key;
  }
  EXPECT_EQ(keys.size(), kRuns);
  const auto finished = count_lines(log, "finish");
  EXPECT_EQ(finished.size(), kRuns);
  for (const auto& [k, n] : finished) {
    EXPECT_EQ(n, 1) << "run " << k << " finished " << n << " times";
    EXPECT_TRUE(keys.count(k)) << k;
  }
  // 2 folds x 4 subjects... each student cell's subject metrics: 2 subjects per run.
  EXPECT_EQ(store.subject_metrics().size(), 2 * kRuns);
}

// What a sweep killed part-way left behind.
struct Killed {
  std::set<std::string> done_before;          // runs the store had recorded as done
  std::map<std::string, int> started_before;  // fake_child "start" lines per run
};

// Runs the driver's sweep of DIR/plan.json into OUT (--jobs 2, fake_child sleeping 300 ms a run,
// logging to LOG) and kills it with SIGKILL once `min_done` runs are done, so others are running.
// Fails (fatally) when the sweep finished before the kill: the test would prove nothing.
void sweep_then_kill9(const std::string& dir, const std::string& out, const std::string& log,
                      size_t min_done, Killed* killed) {
  setenv("FAKE_CHILD_LOG", log.c_str(), 1);
  setenv("FAKE_CHILD_SLEEP_MS", "300", 1);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::execl(PPGKD_SWEEP_DRIVER, PPGKD_SWEEP_DRIVER, "sweep", "--plan", (dir + "/plan.json").c_str(),
            "--out", out.c_str(), "--jobs", "2", "--child-exe", PPGKD_FAKE_CHILD, (char*)nullptr);
    ::_exit(127);
  }
  size_t done = 0;
  for (int i = 0; i < 600 && done < min_done; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (!fs::exists(out + "/sweep.db")) continue;
    try {
      done = Store(out + "/sweep.db").counts().done;
    } catch (const std::exception&) {
    }
  }
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  int ws = 0;
  ASSERT_EQ(::waitpid(pid, &ws, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(ws));
  {
    Store store(out + "/sweep.db");
    const auto c = store.counts();
    ASSERT_GE(c.done, min_done);
    ASSERT_LT(c.done, kRuns) << "the sweep finished before the kill: the test proves nothing";
    for (const auto& r : store.runs())
      if (r.status == "done") killed->done_before.insert(r.key);
  }
  // The killed sweep's children die with it (PR_SET_PDEATHSIG); an orphan would finish by now.
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  killed->started_before = count_lines(log, "start");
}

// Restarts the killed sweep: every run done exactly once, and none done before the kill ran again.
void resume_sweep(const std::string& dir, const std::string& out, const std::string& log,
                  const Killed& killed) {
  ASSERT_EQ(run_driver("sweep --plan " + dir + "/plan.json --out " + out +
                       " --jobs 2 --child-exe " + PPGKD_FAKE_CHILD),
            0);
  expect_done_once(out, log);
  const auto started_after = count_lines(log, "start");
  for (const auto& k : killed.done_before) EXPECT_EQ(started_after.at(k), 1) << k << " ran again";
  EXPECT_GT(started_after.size(), killed.started_before.size());
}

TEST(SweepProcess, ResumesAfterKill9WithoutLosingOrDuplicatingRuns) {
  const auto dir = testing::scratch_dir();
  write_plan(dir + "/plan.json");
  const std::string out = dir + "/out", log = dir + "/child.log";
  Killed killed;
  ASSERT_NO_FATAL_FAILURE(sweep_then_kill9(dir, out, log, 4, &killed));
  ASSERT_NO_FATAL_FAILURE(resume_sweep(dir, out, log, killed));
  const auto started_after = count_lines(log, "start");
  size_t restarted = 0;
  for (const auto& [k, n] : started_after) restarted += n > 1;
  EXPECT_LE(restarted, 2u);  // at most the --jobs 2 runs the kill interrupted
  // A third invocation has nothing to do.
  ASSERT_EQ(run_driver("sweep --plan " + dir + "/plan.json --out " + out +
                       " --jobs 2 --child-exe " + PPGKD_FAKE_CHILD),
            0);
  EXPECT_EQ(count_lines(log, "start"), started_after);
}

// Grouped students (plan key group_size): the same guarantees with a group as the unit of work. The
// 16 students form groups of 2 (one model and fold: scratch + dkd), so a kill -9 lands while
// groups are half done; members finished before the kill are recorded, never rerun.
TEST(SweepProcess, GroupedSweepResumesAfterKill9WithoutLosingOrDuplicatingRuns) {
  const auto dir = testing::scratch_dir();
  write_plan(dir + "/plan.json", R"("group_size": 4,)");
  const std::string out = dir + "/out", log = dir + "/child.log";
  Killed killed;
  // Kill once a student group has a member done (and the store has students running).
  ASSERT_NO_FATAL_FAILURE(sweep_then_kill9(dir, out, log, 5, &killed));
  ASSERT_NO_FATAL_FAILURE(resume_sweep(dir, out, log, killed));
  // Groups were formed: every student ran inside a `group` child, some with 2 members.
  const auto groups = count_lines(log, "group");
  EXPECT_TRUE(groups.count("2")) << "no group of 2 formed";
  size_t members = 0;
  for (const auto& [n, times] : groups) members += std::stoul(n) * times;
  EXPECT_GE(members, kRuns - 2);  // 16 students, some twice (the groups the kill interrupted)
  for (const auto& r : Store(out + "/sweep.db").runs()) {
    if (r.kind == "student") {
      EXPECT_NE(read_file(out + "/logs/" + r.key + ".log").find("trained in a group of"),
                std::string::npos);
    }
  }
}

// A member that fails in a group fails alone: its group's other members are done.
TEST(SweepProcess, FailingGroupMemberDoesNotTakeDownTheOthers) {
  const auto dir = testing::scratch_dir();
  write_file_atomic(dir + "/plan.json", R"({
    "data": "synthetic", "folds": 2, "fold_list": [0], "teachers": ["fake:1000000"],
    "seeds": [1, 2], "group_size": 8,
    "students": {"fake": ["fake:1000"]},
    "strategies": [{"name": "none"}, {"name": "soft"}, {"name": "dkd"}]
  })");
  const std::string out = dir + "/out", log = dir + "/child.log";
  setenv("FAKE_CHILD_LOG", log.c_str(), 1);
  setenv("FAKE_CHILD_SLEEP_MS", "0", 1);
  setenv("FAKE_CHILD_FAIL_STRATEGY", "soft", 1);
  EXPECT_NE(run_driver("sweep --plan " + dir + "/plan.json --out " + out + " --child-exe " +
                       PPGKD_FAKE_CHILD + " 2>/dev/null"),
            0);
  unsetenv("FAKE_CHILD_FAIL_STRATEGY");
  Store store(out + "/sweep.db");
  EXPECT_EQ(store.counts().done, 6u);  // 2 teachers, 2 scratch, 2 dkd
  EXPECT_EQ(store.counts().failed, 2u);
  for (const auto& r : store.runs())
    if (r.status == "failed") {
      EXPECT_EQ(r.strategy, "soft");
      EXPECT_EQ(r.error, "fake_child: member exit 5");
    }
  // The 6 students ran in groups (how many depends on when each teacher finished).
  const auto groups = count_lines(log, "group");
  size_t members = 0;
  for (const auto& [n, times] : groups) members += std::stoul(n) * times;
  EXPECT_EQ(members, 6u);
  // --group-size 1 overrides the plan: one run per process, no group child.
  const auto dir2 = dir + "/single";
  fs::create_directories(dir2);
  ASSERT_EQ(run_driver("sweep --plan " + dir + "/plan.json --out " + dir2 + " --group-size 1" +
                       " --child-exe " + PPGKD_FAKE_CHILD),
            0);
  EXPECT_EQ(count_lines(log, "group"), groups);
}

TEST(SweepProcess, StatusDryRunAndShards) {
  const auto dir = testing::scratch_dir();
  write_plan(dir + "/plan.json");
  const std::string out = dir + "/out", log = dir + "/child.log";
  setenv("FAKE_CHILD_LOG", log.c_str(), 1);
  setenv("FAKE_CHILD_SLEEP_MS", "0", 1);
  const std::string base =
      "sweep --plan " + dir + "/plan.json --out " + out + " --child-exe " + PPGKD_FAKE_CHILD;
  ASSERT_EQ(run_driver(base + " --dry-run > " + dir + "/dry.txt"), 0);
  const auto dry = read_file(dir + "/dry.txt");
  EXPECT_NE(dry.find("18 runs (2 teachers, 16 students) in shard 0/1 of 18 runs"),
            std::string::npos)
      << dry;
  EXPECT_FALSE(fs::exists(out + "/sweep.db"));
  // Shard 1/2 runs its runs and the teachers they need; shard 0/2 then completes the plan.
  ASSERT_EQ(run_driver(base + " --jobs 2 --shard 1/2 2>/dev/null"), 0);
  {
    Store store(out + "/sweep.db");
    EXPECT_GE(store.counts().done, 9u);
    EXPECT_LT(store.counts().done, kRuns);
  }
  ASSERT_EQ(run_driver(base + " --jobs 2 --shard 0/2 2>/dev/null"), 0);
  expect_done_once(out, log);
  ASSERT_EQ(run_driver("sweep status --out " + out + " > " + dir + "/status.txt"), 0);
  const auto status = read_file(dir + "/status.txt");
  EXPECT_EQ(status.rfind("18 runs: 18 done, 0 running, 0 failed, 0 left;", 0), 0u) << status;
  // --json: the same counts, as the plan fixes them; nothing left, so the ETA is 0.
  ASSERT_EQ(run_driver("sweep status --json --out " + out + " > " + dir + "/status.json"), 0);
  const auto js = nlohmann::json::parse(read_file(dir + "/status.json"));
  EXPECT_EQ(js.at("total").get<size_t>(), kRuns);
  EXPECT_EQ(js.at("done").get<size_t>(), kRuns);
  EXPECT_EQ(js.at("running").get<size_t>(), 0u);
  EXPECT_EQ(js.at("failed").get<size_t>(), 0u);
  EXPECT_EQ(js.at("left").get<size_t>(), 0u);
  EXPECT_EQ(js.at("eta_s").get<double>(), 0.0);
  EXPECT_GT(js.at("mean_run_s").get<double>(), 0.0);
  EXPECT_TRUE(js.at("running_runs").empty());
  EXPECT_TRUE(js.at("failed_runs").empty());
  EXPECT_NE(run_driver("sweep --plan " + dir + "/plan.json --out " + out + " --shard 2/2 2>" + dir +
                       "/err.txt"),
            0);
  EXPECT_EQ(read_file(dir + "/err.txt"),
            "ppgkd: error: --shard: expected i/n with 0 <= i < n, got \"2/2\"\n");
}

TEST(SweepProcess, FailedTeacherFailsItsStudentsAndTheSweepSaysSo) {
  const auto dir = testing::scratch_dir();
  write_file_atomic(dir + "/plan.json", R"({
    "data": "synthetic", "folds": 2, "fold_list": [0], "teachers": ["fake:fail"],
    "students": {"fake": ["fake:1000"]}, "strategies": [{"name": "none"}, {"name": "soft"}]
  })");
  const std::string out = dir + "/out";
  setenv("FAKE_CHILD_LOG", (dir + "/child.log").c_str(), 1);
  EXPECT_NE(run_driver("sweep --plan " + dir + "/plan.json --out " + out + " --child-exe " +
                       PPGKD_FAKE_CHILD + " 2>/dev/null"),
            0);
  Store store(out + "/sweep.db");
  EXPECT_EQ(store.counts().done, 1u);    // the scratch student
  EXPECT_EQ(store.counts().failed, 2u);  // the teacher and its soft student
  for (const auto& r : store.runs()) {
    if (r.kind == "teacher") {
      EXPECT_EQ(r.error.substr(0, r.error.find(';')), "exit status 3: fake_child: asked to fail");
    }
    if (r.strategy == "soft") {
      EXPECT_EQ(r.error, "teacher run " + r.teacher_key + " failed");
    }
  }
  // status --json: 3 runs (teacher, scratch, soft); the teacher and the soft student failed,
  // each with the first line of its error.
  ASSERT_EQ(run_driver("sweep status --json --out " + out + " > " + dir + "/status.json"), 0);
  const auto js = nlohmann::json::parse(read_file(dir + "/status.json"));
  EXPECT_EQ(js.at("total").get<size_t>(), 3u);
  EXPECT_EQ(js.at("done").get<size_t>(), 1u);
  EXPECT_EQ(js.at("failed").get<size_t>(), 2u);
  EXPECT_EQ(js.at("running").get<size_t>(), 0u);
  EXPECT_EQ(js.at("left").get<size_t>(), 0u);
  ASSERT_EQ(js.at("failed_runs").size(), 2u);
  std::set<std::string> kinds;
  for (const auto& f : js.at("failed_runs")) {
    const auto kind = f.at("kind").get<std::string>();
    const auto error = f.at("error").get<std::string>();
    kinds.insert(kind);
    EXPECT_EQ(error.find('\n'), std::string::npos) << error;
    if (kind == "teacher") {
      EXPECT_EQ(f.at("model").get<std::string>(), "fake:fail");
      EXPECT_EQ(error.rfind("exit status 3: fake_child: asked to fail", 0), 0u) << error;
    } else {
      EXPECT_EQ(error.rfind("teacher run ", 0), 0u) << error;
    }
  }
  EXPECT_EQ(kinds, (std::set<std::string>{"teacher", "student"}));
}

TEST(SweepProcess, ReportAndRecommendRecoverTheFakeLaw) {
  const auto dir = testing::scratch_dir();
  write_plan(dir + "/plan.json");
  const std::string out = dir + "/out";
  setenv("FAKE_CHILD_LOG", (dir + "/child.log").c_str(), 1);
  setenv("FAKE_CHILD_SLEEP_MS", "0", 1);
  ASSERT_EQ(run_driver("sweep --plan " + dir + "/plan.json --out " + out + " --jobs 2 " +
                       "--child-exe " + PPGKD_FAKE_CHILD + " 2>/dev/null"),
            0);
  ASSERT_EQ(run_driver("report --sweep " + out + " --bootstrap 50 > /dev/null"), 0);
  const std::string rep = out + "/report";
  for (const char* f : {"report.md", "students.csv", "teachers.csv", "gains.csv",
                        "teacher_effect.csv", "fits.csv", "memory.csv"})
    EXPECT_TRUE(fs::exists(rep + "/" + f)) << f;
  EXPECT_TRUE(is_png_file(rep + "/mae_vs_params_fake.png"));
  EXPECT_TRUE(is_png_file(rep + "/gain_fake.png"));
  // fits.csv: the power law of each curve is the fake child's: a = 20, b = 0.3, c = 2 + shift.
  std::ifstream in(rep + "/fits.csv");
  std::string line;
  int checked = 0;
  std::getline(in, line);
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::stringstream ss(line);
    std::string tok;
    while (std::getline(ss, tok, ',')) f.push_back(tok);
    if (f[3] != "power") continue;
    const double shift = f[1] == "dkd" ? -0.5 : 0.0;
    EXPECT_NEAR(std::stod(f[5]), 20.0, 1e-4) << line;
    EXPECT_NEAR(std::stod(f[8]), 0.3, 1e-6) << line;
    EXPECT_NEAR(std::stod(f[11]), 2.0 + shift, 1e-6) << line;
    EXPECT_NEAR(std::stod(f[14]), 1.0, 1e-9) << line;
    EXPECT_NEAR(std::stod(f[20]), 0.0, 1e-6) << line;  // extrapolation error
    ++checked;
  }
  EXPECT_EQ(checked, 2);
  // gains.csv: DKD beats scratch by exactly 0.5 BPM at every size.
  std::ifstream g(rep + "/gains.csv");
  std::getline(g, line);
  int gains = 0;
  while (std::getline(g, line)) {
    EXPECT_NEAR(std::stod(line.substr(line.rfind(',') + 1)), 0.5, 1e-9) << line;
    ++gains;
  }
  EXPECT_EQ(gains, 4);
  // 12,500 float32 bytes allow fake:3000 (12,000 bytes) but not fake:10000: DKD at 3000 params.
  ASSERT_EQ(run_driver("recommend --sweep " + out + " --max-bytes 12500 --precision f32 " +
                       "--bootstrap 50 > " + dir + "/rec.txt"),
            0);
  const auto rec = read_file(dir + "/rec.txt");
  const double mae = 2.0 + 20.0 * std::pow(3000.0, -0.3) - 0.5;
  EXPECT_EQ(rec.rfind("Best measured under 12500 float32 bytes: fake student fake:3000 "
                      "(fake:3000) with strategy dkd from teacher fake:1000000\n",
                      0),
            0u)
      << rec;
  EXPECT_NE(rec.find(fmt::format("MAE {:.2f} BPM", mae)), std::string::npos) << rec;
  // The law at the budget's 3125 parameters.
  EXPECT_NE(rec.find(fmt::format("at ~3125 params (the most the budget allows for this curve) "
                                 "expected MAE {:.2f} BPM",
                                 2.0 + 20.0 * std::pow(3125.0, -0.3) - 0.5)),
            std::string::npos)
      << rec;
  // --json: the same recommendation, checked against the fake law (not the text).
  ASSERT_EQ(run_driver("recommend --sweep " + out + " --max-bytes 12500 --precision f32 " +
                       "--bootstrap 50 --json > " + dir + "/rec.json"),
            0);
  const auto js = nlohmann::json::parse(read_file(dir + "/rec.json"));
  EXPECT_EQ(js.at("budget").at("max_bytes").get<double>(), 12500.0);
  EXPECT_EQ(js.at("budget").at("precision").get<std::string>(), "f32");
  ASSERT_TRUE(js.at("found").get<bool>());
  const auto& best = js.at("best");
  EXPECT_EQ(best.at("model").get<std::string>(), "fake:3000");
  EXPECT_EQ(best.at("strategy").get<std::string>(), "dkd");
  EXPECT_EQ(best.at("teacher_model").get<std::string>(), "fake:1000000");
  EXPECT_EQ(best.at("params").get<int64_t>(), 3000);
  EXPECT_EQ(best.at("bytes_f32").get<int64_t>(), 12000);
  EXPECT_LE(best.at("bytes_f32").get<int64_t>(), 12500);
  EXPECT_EQ(best.at("folds").get<size_t>(), 2u);
  EXPECT_NEAR(best.at("mae_bpm").get<double>(), mae, 1e-9);
  EXPECT_LE(js.at("mae_ci").at("lo").get<double>(), mae + 1e-9);
  EXPECT_GE(js.at("mae_ci").at("hi").get<double>(), mae - 1e-9);
  // The other strategy's best cell within budget: scratch at 3000 params, 0.5 BPM worse.
  ASSERT_EQ(js.at("alternatives").size(), 1u);
  const auto& alt = js.at("alternatives")[0];
  EXPECT_EQ(alt.at("strategy").get<std::string>(), "none");
  EXPECT_EQ(alt.at("params").get<int64_t>(), 3000);
  EXPECT_NEAR(alt.at("mae_bpm").get<double>(), mae + 0.5, 1e-9);
  const auto& law = js.at("law");
  ASSERT_TRUE(law.is_object()) << js.dump();
  EXPECT_NEAR(law.at("params").get<double>(), 3125.0, 1.0);
  EXPECT_NEAR(law.at("mae_bpm").get<double>(), 2.0 + 20.0 * std::pow(3125.0, -0.3) - 0.5, 1e-4);
  EXPECT_FALSE(law.at("extrapolates").get<bool>());
}

TEST(SweepProcess, MpiSweepWithThreeRanksFillsTheStore) {
  const std::string mpiexec = PPGKD_MPIEXEC;
  if (mpiexec.empty()) GTEST_SKIP() << "built without MPI";
  const auto dir = testing::scratch_dir();
  write_plan(dir + "/plan.json");
  const std::string out = dir + "/out", log = dir + "/child.log";
  setenv("FAKE_CHILD_LOG", log.c_str(), 1);
  setenv("FAKE_CHILD_SLEEP_MS", "50", 1);
  const std::string cmd = mpiexec + " --allow-run-as-root --oversubscribe -np 3 " +
                          PPGKD_SWEEP_DRIVER + " sweep --plan " + dir + "/plan.json --out " + out +
                          " --child-exe " + PPGKD_FAKE_CHILD + " 2>" + dir + "/mpi.err";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << read_file(dir + "/mpi.err");
  expect_done_once(out, log);
  std::set<std::string> workers;
  for (const auto& r : Store(out + "/sweep.db").runs()) workers.insert(r.worker);
  EXPECT_TRUE(workers.count("rank 1") || workers.count("rank 2"));
  EXPECT_FALSE(workers.count("rank 0"));  // rank 0 only schedules
}

}  // namespace
}  // namespace ppgkd
