// The sweep's command line under hostile conditions (issue 14), through the test driver with fake
// children: status and recommend read a sweep they cannot write.
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include "common/atomic_file.h"
#include "sweep/store.h"
#include "test_util.h"

namespace ppgkd {
namespace {

namespace fs = std::filesystem;

// Runs the driver through the shell; returns its exit status.
int run_driver(const std::string& args) {
  const int st = std::system((std::string(PPGKD_SWEEP_DRIVER) + " " + args).c_str());
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

std::string sweep_args(const std::string& plan, const std::string& out) {
  return "sweep --plan " + plan + " --out " + out + " --jobs 1 --child-exe " + PPGKD_FAKE_CHILD;
}

void write_plan(const std::string& path, const std::string& students) {
  write_file_atomic(path, R"({"data": "synthetic", "folds": 2, "teachers": ["fake:1000000"],
    "students": {"fake": [)" + students +
                              R"(]},
    "strategies": [{"name": "none"}, {"name": "dkd"}]})");
}

TEST(SweepCliErrors, StatusAndRecommendReadASweepTheyCannotWrite) {
  const auto dir = testing::scratch_dir();
  write_plan(dir + "/plan.json", R"("fake:1000", "fake:3000", "fake:10000")");
  const std::string out = dir + "/out";
  setenv("FAKE_CHILD_SLEEP_MS", "0", 1);
  ASSERT_EQ(run_driver(sweep_args(dir + "/plan.json", out) + " 2>/dev/null"), 0);
  ASSERT_FALSE(fs::exists(out + "/sweep.db-shm")) << "the sweep left its store open";
  // The reader must not be able to write there (root ignores permission bits, nobody does not).
  run_as_reader("--version >/dev/null; touch " + out + "/probe 2>/dev/null", out);
  ASSERT_FALSE(fs::exists(out + "/probe")) << "the reader could write the sweep directory";

  const auto status = run_as_reader("sweep status --out " + out + " 2>&1", out);
  EXPECT_EQ(status.first, 0) << status.second;
  EXPECT_EQ(status.second.rfind("14 runs: 14 done, 0 running, 0 failed, 0 left;", 0), 0u)
      << status.second;
  const auto rec = run_as_reader(
      "recommend --sweep " + out + " --max-bytes 100000 --precision f32 --bootstrap 20 2>&1", out);
  EXPECT_EQ(rec.first, 0) << rec.second;
  EXPECT_NE(rec.second.find("Best measured under 100000 float32 bytes: fake student fake:10000"),
            std::string::npos)
      << rec.second;
  EXPECT_FALSE(fs::exists(out + "/sweep.db-shm"));
}

}  // namespace
}  // namespace ppgkd
