// The sweep's command line under hostile conditions (issue 14), through the test driver with fake
// children: a failed run's line says why the child failed; a sweep directory refuses another plan
// unless --force; status and recommend read a sweep they cannot write; an interrupted sweep exits
// 130.
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

TEST(SweepCliErrors, FailureLineAndStatusShowTheChildsError) {
  const auto dir = testing::scratch_dir();
  write_plan(dir + "/plan.json", R"("fake:1000", "fake:fail")");
  const std::string out = dir + "/out";
  setenv("FAKE_CHILD_SLEEP_MS", "0", 1);
  EXPECT_EQ(run_driver(sweep_args(dir + "/plan.json", out) + " 2>" + dir + "/err.txt"), 1);
  const std::string err = read_file(dir + "/err.txt");
  // 2 folds x 2 strategies of fake:fail, each with a line of its own.
  size_t lines = 0;
  for (size_t at = 0; (at = err.find("fake:fail) failed: exit status 3: fake_child: asked to "
                                     "fail; log ",
                                     at)) != std::string::npos;
       ++at)
    ++lines;
  EXPECT_EQ(lines, 4u) << err;
  ASSERT_EQ(run_driver("sweep status --out " + out + " > " + dir + "/status.txt"), 0);
  const std::string status = read_file(dir + "/status.txt");
  lines = 0;
  for (size_t at = 0;
       (at = status.find(" fake:fail: exit status 3: fake_child: asked to fail; log ", at)) !=
       std::string::npos;
       ++at)
    ++lines;
  EXPECT_EQ(lines, 4u) << status;
}

TEST(SweepCliErrors, AnotherPlanInTheSameDirectoryNeedsForce) {
  const auto dir = testing::scratch_dir();
  write_plan(dir + "/a.json", R"("fake:1000")");
  write_plan(dir + "/b.json", R"("fake:1000", "fake:3000")");
  const std::string out = dir + "/out";
  setenv("FAKE_CHILD_SLEEP_MS", "0", 1);
  ASSERT_EQ(run_driver(sweep_args(dir + "/a.json", out) + " 2>/dev/null"), 0);
  const std::string plan_a = read_file(out + "/plan.json");
  // The same plan again is fine (a resumed sweep).
  ASSERT_EQ(run_driver(sweep_args(dir + "/a.json", out) + " 2>/dev/null"), 0);
  EXPECT_EQ(run_driver(sweep_args(dir + "/b.json", out) + " 2>" + dir + "/err.txt"), 1);
  const std::string err = read_file(dir + "/err.txt");
  EXPECT_EQ(
      err.rfind("ppgkd: error: " + out + ": holds another plan (" + out + "/plan.json, plan ", 0),
      0u)
      << err;
  EXPECT_NE(err.find(") than " + dir + "/b.json (plan "), std::string::npos) << err;
  EXPECT_EQ(read_file(out + "/plan.json"), plan_a);
  EXPECT_EQ(Store(out + "/sweep.db").counts().total(), 6u);  // 2 teachers + 1 x 2 x 2 students
  // --force switches the directory to plan b; the runs the plans share are not run again.
  ASSERT_EQ(run_driver(sweep_args(dir + "/b.json", out) + " --force 2>/dev/null"), 0);
  EXPECT_NE(read_file(out + "/plan.json"), plan_a);
  EXPECT_EQ(Store(out + "/sweep.db").counts().done, 10u);
}

// Runs the driver with `args` as a process that cannot write `dir` (root drops to nobody, whom
// root's files do not let write); returns its exit status and stdout.
std::pair<int, std::string> run_as_reader(const std::string& args, const std::string& dir) {
  const bool root = ::geteuid() == 0;
  if (!root) fs::permissions(dir, fs::perms::owner_write, fs::perm_options::remove);
  int fd[2];
  if (::pipe(fd) != 0) return {-1, ""};
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fd[0]);
    ::dup2(fd[1], 1);
    if (root && (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0))
      ::_exit(126);
    ::execl("/bin/sh", "sh", "-c", (std::string(PPGKD_SWEEP_DRIVER) + " " + args).c_str(),
            (char*)nullptr);
    ::_exit(127);
  }
  ::close(fd[1]);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(fd[0]);
  int st = 0;
  ::waitpid(pid, &st, 0);
  if (!root) fs::permissions(dir, fs::perms::owner_write, fs::perm_options::add);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, out};
}

TEST(SweepCliErrors, StatusAndRecommendReadASweepTheyCannotWrite) {
  const auto dir = testing::scratch_dir();
  write_plan(dir + "/plan.json", R"("fake:1000", "fake:3000", "fake:10000")");
  const std::string out = dir + "/out";
  setenv("FAKE_CHILD_SLEEP_MS", "0", 1);
  ASSERT_EQ(run_driver(sweep_args(dir + "/plan.json", out) + " 2>/dev/null"), 0);
  ASSERT_FALSE(fs::exists(out + "/sweep.db-shm")) << "the sweep left its store open";
  // The reader must not be able to write there (root ignores permission bits, nobody does not).
  const auto probe = run_as_reader("--help >/dev/null && touch " + out + "/probe 2>/dev/null", out);
  ASSERT_FALSE(fs::exists(out + "/probe")) << "the reader could write the sweep directory";
  // 126: root could not become nobody, or nobody cannot reach the driver (a directory above the
  // checkout that others may not search, e.g. one made by mktemp -d). Say so rather than fail.
  if (probe.first == 126)
    GTEST_SKIP() << "cannot run " << PPGKD_SWEEP_DRIVER
                 << " as a reader (nobody): a directory above it is not searchable by others";

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

TEST(SweepCliErrors, InterruptedSweepExits130) {
  const auto dir = testing::scratch_dir();
  write_plan(dir + "/plan.json", R"("fake:1000")");
  const std::string out = dir + "/out", log = dir + "/child.log";
  setenv("FAKE_CHILD_LOG", log.c_str(), 1);
  setenv("FAKE_CHILD_SLEEP_MS", "60000", 1);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const int err = ::open((dir + "/err.txt").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(err, 2);
    ::execl(PPGKD_SWEEP_DRIVER, PPGKD_SWEEP_DRIVER, "sweep", "--plan", (dir + "/plan.json").c_str(),
            "--out", out.c_str(), "--jobs", "1", "--child-exe", PPGKD_FAKE_CHILD, (char*)nullptr);
    ::_exit(127);
  }
  // Interrupt once a child runs.
  for (int i = 0; i < 600 && !fs::exists(log); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_TRUE(fs::exists(log));
  ASSERT_EQ(::kill(pid, SIGINT), 0);
  int st = 0;
  ASSERT_EQ(::waitpid(pid, &st, 0), pid);
  unsetenv("FAKE_CHILD_LOG");
  ASSERT_TRUE(WIFEXITED(st));
  EXPECT_EQ(WEXITSTATUS(st), 130);
  const std::string err = read_file(dir + "/err.txt");
  const std::string want = "ppgkd: error: sweep: interrupted; 1 running runs requeued\n";
  EXPECT_EQ(err.substr(err.size() - std::min(err.size(), want.size())), want) << err;
  EXPECT_EQ(Store(out + "/sweep.db").counts().queued, 6u);
}

}  // namespace
}  // namespace ppgkd
