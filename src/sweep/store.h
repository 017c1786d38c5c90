// The sweep's results store: one SQLite file (OUT/sweep.db) holding every run of the plan, its
// status (queued -> running -> done | failed), who runs it (pid, host, heartbeat), and once done
// its metrics (overall, per subject, per dataset), size (parameters, MACs, weight bytes), wall
// time and model.json. Several processes may share it (WAL journal, busy timeout): a run is
// claimed with a conditional UPDATE, so exactly one process gets it, and a finished run is
// recorded in one transaction, so a crash leaves it either running (requeued later) or done.
// Not here: launching runs (runner.h) or analysing results (analysis/).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sweep/plan.h"

namespace ppgkd {

struct RunRow {
  std::string key, kind, model, family, strategy, teacher_key, teacher_model, status;
  size_t index = 0;
  int fold = 0;
  uint64_t seed = 0;
  nlohmann::json config;
  int attempts = 0;
  int64_t pid = 0, child_pid = 0;  // owner (scheduler) process and the child running the run
  std::string host, worker;        // owner's host; where the child runs ("host:pid" or "rank N")
  double started_at = 0, heartbeat = 0, finished_at = 0, wall_s = 0;  // unix seconds
  // Filled when done (from the child's model.json):
  std::string spec, model_family;  // canonical spec and "resnet1d" / "mlp"
  int64_t params = 0, macs = 0, weight_bytes = 0;
  double mae_bpm = 0;         // test MAE (subject-averaged) of the run
  nlohmann::json model_json;  // null unless done
  std::string error;          // why it failed
};

struct SubjectMetric {
  std::string run_key, subject, dataset;
  double mae_bpm = 0;
};

struct StoreCounts {
  size_t queued = 0, running = 0, done = 0, failed = 0;
  size_t total() const { return queued + running + done + failed; }
};

class Store {
 public:
  enum class Access { kReadWrite, kReadOnly };
  // Opens (creating when absent) the store at `path`. Throws Error(path, ...).
  // kReadOnly: opens an existing store for queries only (status, report, recommend), also in a
  // directory this process cannot write; writing through it throws Error.
  explicit Store(const std::string& path, Access access = Access::kReadWrite);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Records the plan as current and inserts its runs as queued (runs already present keep their
  // status and results; their index follows the new plan). One transaction.
  void sync_plan(const std::string& plan_hash, const nlohmann::json& plan,
                 const std::vector<PlannedRun>& runs);
  std::string plan_hash() const;  // "" before the first sync
  nlohmann::json plan() const;    // null before the first sync

  // queued -> running, owned by (pid, host); true when this caller got the run.
  bool claim(const std::string& key, int64_t pid, const std::string& host,
             const std::string& worker, double now);
  void set_child_pid(const std::string& key, int64_t child_pid);
  void heartbeat(const std::vector<std::string>& keys, double now);
  // running -> done with the metrics of `model_json` (the run's model.json), in one transaction.
  // model_json is read as a ModelRecord (train/model_record.h) with its test metrics and a
  // positive size; a missing or mistyped field throws Error(where, "field \"NAME\" ...") and
  // changes nothing.
  void mark_done(const std::string& key, const nlohmann::json& model_json, double wall_s,
                 double now, const std::string& where);
  void mark_failed(const std::string& key, const std::string& error, double wall_s, double now);
  void requeue(const std::string& key);
  // Requeues running runs whose owner is gone: on `host` with a pid for which pid_alive() is
  // false, or (any host) with a heartbeat older than now - stale_after_s. Returns their keys.
  std::vector<std::string> requeue_stale(const std::string& host, double now, double stale_after_s,
                                         const std::function<bool(int64_t)>& pid_alive);
  // failed -> queued (for --retry-failed). Returns how many.
  size_t requeue_failed();

  // Runs of the current plan in plan order (all runs ever stored when all = true).
  std::vector<RunRow> runs(bool all = false) const;
  RunRow run(const std::string& key) const;             // throws Error when absent
  StoreCounts counts() const;                           // over the current plan
  std::map<std::string, std::string> statuses() const;  // key -> status, current plan
  std::vector<SubjectMetric> subject_metrics() const;   // of done runs of the current plan
  // Mean wall time of done runs of the current plan (0 when none).
  double mean_wall_s() const;

  const std::string& path() const { return path_; }

 private:
  void exec(const std::string& sql) const;
  std::string path_;
  sqlite3* db_ = nullptr;
};

// Seconds since the epoch (wall clock) and this machine's host name.
double unix_now();
std::string host_name();

}  // namespace ppgkd
