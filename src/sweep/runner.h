// Running a sweep: opening it (plan -> runs -> store, recovery of what an earlier, killed sweep
// left behind), executing its runs as child processes of the ppgkd binary with N parallel jobs
// (teachers before the students that need them), the progress line and `sweep status`.
// A restarted sweep runs only what is missing: done runs are kept, runs whose owner died are
// requeued, and results a killed sweep did not get to record are harvested from their run
// directories. Not here: the MPI scheduler (mpi_runner.h), the store itself (store.h).
//
// Layout of OUT: sweep.db (store), plan.json (the resolved plan), runs/KEY/ (one run directory
// each: model.json, weights, sweep_done.json marker), logs/KEY.log (child stdout and stderr).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sweep/child.h"
#include "sweep/plan.h"
#include "sweep/store.h"

namespace ppgkd {

struct SweepOptions {
  std::string plan_path, out_dir;
  std::string executable;  // the ppgkd binary each run executes (normally /proc/self/exe)
  int jobs = 0;            // parallel child processes; 0: hardware cores
  int shard_index = 0, shard_count = 1;
  bool dry_run = false;
  bool retry_failed = false;   // requeue failed runs first
  double stale_after_s = 600;  // a running run without heartbeat this long is requeued
  double heartbeat_s = 10;
  bool progress = true;  // the progress line on stderr
  bool force = false;    // accept a plan other than the one the sweep directory holds
  // Checks one child's arguments (run_arguments) as the child would, before anything runs;
  // throws Error. Empty: no check.
  std::function<void(const std::vector<std::string>&)> check_child;
  int group_size = 0;  // students trained together per child; 0: the plan's group_size
};

// "i/n" with 0 <= i < n. Throws Error("--shard", "expected i/n with 0 <= i < n, got \"...\"").
void parse_shard(const std::string& text, int* index, int* count);

// An opened sweep: the plan, its runs, the store, and the runs this process is responsible for
// (its shard's runs and the teachers they need, in plan order).
struct SweepSession {
  SweepOptions options;
  SweepPlan plan;
  std::vector<PlannedRun> runs;
  std::unique_ptr<Store> store;
  std::vector<size_t> selected;  // indices into runs
};

// Loads the plan, expands it, checks every run's child arguments (options.check_child), syncs the
// store, requeues stale runs (owner pid dead on this host, or heartbeat older than stale_after_s)
// and harvests finished-but-unrecorded runs. Throws Error(OUT, ...) when OUT holds another plan
// and options.force is not set, before anything is written.
SweepSession open_sweep(const SweepOptions& options);

struct SweepOutcome {
  size_t done = 0, failed = 0;  // over the selected runs, at the end
  size_t executed = 0;          // runs this process executed
};

// Runs the selected runs locally with options.jobs children. On SIGINT/SIGTERM it stops its
// children, requeues their runs and throws Interrupted("sweep", "interrupted; N running runs
// requeued").
SweepOutcome run_sweep_local(const SweepOptions& options);

// Dry run: one line per selected run (index, key, status, command line); touches nothing. Checks
// the runs as open_sweep does.
std::string describe_plan(const SweepOptions& options);

// The `sweep status` text for OUT: counts, ETA, the failed runs and their errors. With json, the
// same facts as one JSON object: {"total", "done", "running", "failed", "left", "mean_run_s",
// "eta_s" (null when unknown), "parallel", "running_runs": [{"key", "kind", "model", "worker",
// "attempts"}], "failed_runs": [{"key", "kind", "model", "error"}]} (error: its first line).
// Throws Error(OUT/sweep.db, "no sweep store (run `ppgkd sweep --plan ... --out ...` first)").
std::string sweep_status(const std::string& out_dir, bool json = false);

// Shared by the local and MPI schedulers: what to run next and the ETA.
// The first selected run that is queued and whose teacher (if any) is done; runs whose teacher
// failed are marked failed on the way. Returns nullptr when none is runnable now.
const PlannedRun* next_runnable(SweepSession& s, const std::map<std::string, std::string>& status);
// "12 done, 2 running, 0 failed, 30 left, ETA 1h02m" over the selected runs.
std::string progress_text(const SweepSession& s, const std::map<std::string, std::string>& status,
                          int parallel);
// Records a finished run (one store transaction) and returns whether it succeeded. A result
// whose model.json the store rejects is recorded as failed with the reason.
bool record_result(Store& store, const PlannedRun& run, const RunResult& result, double wall_s,
                   const std::string& out_dir);
std::string log_path(const std::string& out_dir, const std::string& key);

// A unit of work for one child process: one run (`ppgkd train|distill`), or a group of student
// runs trained as one grouped network (`ppgkd group --members OUT/groups/KEY.json`, where KEY is
// the first member's key; its log is logs/group-KEY.log and each member's log points there).
// Under MPI a unit is what a rank is given.
struct WorkUnit {
  std::vector<const PlannedRun*> runs;  // empty: nothing runnable now
  bool group = false;
  std::vector<std::string> args;  // the child's arguments
  std::string log;                // the child's log file
};
// Claims (in the store, as `worker`) the first runnable run and, when the group size
// (options.group_size, else the plan's) is > 1 and it is a student, the other runnable students
// that share its model, fold and batch, up to the group size; prepares their run directories.
// A group of one is still a group (its member may resume from a group checkpoint).
WorkUnit claim_next_unit(SweepSession& s, std::map<std::string, std::string>& status,
                         const std::string& worker);
// Per-run results of a unit whose child ended with `wait_status` (in the unit's run order).
std::vector<RunResult> collect_unit(const WorkUnit& unit, int wait_status, double wall_s,
                                    const std::string& out_dir);
// Creates a run directory, keeping what an earlier, killed attempt left in it: its checkpoint lets
// the child (run with --resume) continue instead of starting over.
void prepare_run_dir(const std::string& dir);

}  // namespace ppgkd
