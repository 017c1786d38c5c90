// `ppgkd sweep --plan P --out DIR [--jobs N] [--shard i/n] [--dry-run]` and
// `ppgkd sweep status --out DIR [--json]`: the capacity x strategy sweep, each run a child process
// of this binary; under mpirun, rank 0 schedules and the other ranks execute. The work is in
// sweep/.
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <memory>

#include "cli/commands.h"
#include "common/error.h"
#include "sweep/mpi_runner.h"
#include "sweep/runner.h"

namespace ppgkd::cli {

namespace {

struct SweepCliOptions {
  SweepOptions run;
  std::string shard = "0/1";
  std::string status_out;
  bool status_json = false;
};

std::string self_executable() {
  char buf[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) throw Error("/proc/self/exe", "cannot find this program's path");
  return std::string(buf, static_cast<size_t>(n));
}

void run_sweep_cli(SweepCliOptions o) {
  parse_shard(o.shard, &o.run.shard_index, &o.run.shard_count);
  if (o.run.executable.empty()) {  // the children are this binary: check their options now
    o.run.executable = self_executable();
    o.run.check_child = check_child_command;
  }
  if (o.run.dry_run) {
    std::fputs(describe_plan(o.run).c_str(), stdout);
    return;
  }
  SweepOutcome out = under_mpirun() ? run_sweep_mpi(o.run) : run_sweep_local(o.run);
  if (out.failed > 0)
    throw Error("sweep", std::to_string(out.failed) +
                             " run(s) failed (see `ppgkd sweep status --out " + o.run.out_dir +
                             "`)");
}

}  // namespace

void setup_sweep(CLI::App& app) {
  auto o = std::make_shared<SweepCliOptions>();
  auto* sub = app.add_subcommand("sweep", "Run a capacity x strategy sweep (resumable, parallel)");
  sub->require_subcommand(0, 1);
  sub->add_option("--plan", o->run.plan_path, "Plan file (JSON or TOML)")->check(CLI::ExistingFile);
  sub->add_option("--out", o->run.out_dir, "Sweep directory (store, runs, logs)");
  sub->add_option("--jobs", o->run.jobs, "Parallel runs (0: one per core); each uses 1 thread")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  sub->add_option("--shard", o->shard, "Run only the runs whose index mod n == i (i/n)")
      ->capture_default_str();
  sub->add_option("--group-size", o->run.group_size,
                  "Students of one model and fold trained together in one process (caps the "
                  "plan's group_size; 1: one run per process)")
      ->check(CLI::PositiveNumber);
  sub->add_flag("--dry-run", o->run.dry_run, "List the runs and their commands; run nothing");
  sub->add_flag("--retry-failed", o->run.retry_failed, "Requeue failed runs first");
  sub->add_flag("--force", o->run.force,
                "Switch a sweep directory that holds another plan to this one");
  sub->add_option("--stale-after", o->run.stale_after_s,
                  "Seconds without heartbeat after which a running run is requeued")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  sub->add_option("--child-exe", o->run.executable,
                  "Program each run executes (default: this ppgkd binary)")
      ->check(CLI::ExistingFile);
  auto* status = sub->add_subcommand("status", "Done/running/failed/left runs with an ETA");
  status->add_option("--out", o->status_out, "Sweep directory")->required();
  status->add_flag("--json", o->status_json, "Print JSON instead of text");
  status->callback(
      [o] { std::fputs(sweep_status(o->status_out, o->status_json).c_str(), stdout); });
  sub->callback([o, sub, status] {
    if (status->parsed()) return;
    if (o->run.plan_path.empty() || o->run.out_dir.empty())
      throw CLI::RequiredError("--plan and --out");
    run_sweep_cli(*o);
  });
}

}  // namespace ppgkd::cli
