#include "sweep/runner.h"

#include <fmt/format.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <thread>

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/progress.h"
#include "common/run_record.h"

namespace ppgkd {

namespace fs = std::filesystem;

// ============================================================================ options, paths

void parse_shard(const std::string& text, int* index, int* count) {
  auto bad = [&] { return Error("--shard", "expected i/n with 0 <= i < n, got \"" + text + "\""); };
  auto slash = text.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == text.size()) throw bad();
  try {
    size_t used = 0;
    int i = std::stoi(text.substr(0, slash), &used);
    if (used != slash) throw bad();
    int n = std::stoi(text.substr(slash + 1), &used);
    if (used != text.size() - slash - 1 || n < 1 || i < 0 || i >= n) throw bad();
    *index = i;
    *count = n;
  } catch (const std::logic_error&) {
    throw bad();
  }
}

std::string log_path(const std::string& out_dir, const std::string& key) {
  return out_dir + "/logs/" + key + ".log";
}

void prepare_run_dir(const std::string& dir) {
  fs::create_directories(dir);
}

// ============================================================================ opening a sweep

namespace {

// Every run's child command line, checked by the caller's check_child before anything runs: a
// bad model or option fails the plan now, naming the run, not one child at a time later.
void check_runs(const SweepOptions& o, const std::vector<PlannedRun>& runs) {
  if (!o.check_child) return;
  for (const auto& r : runs) {
    try {
      o.check_child(run_arguments(r, o.out_dir));
    } catch (const Error& e) {
      throw Error(o.plan_path, fmt::format("{} {}{} (run {}, fold {}, seed {}): {}", r.kind,
                                           r.model, r.strategy.empty() ? "" : " with " + r.strategy,
                                           r.index, r.fold, r.seed, e.what()));
    }
  }
}

}  // namespace

SweepSession open_sweep(const SweepOptions& o) {
  SweepSession s;
  s.options = o;
  s.plan = SweepPlan::load(o.plan_path);
  s.runs = expand_plan(s.plan, plan_data_fingerprint(s.plan), git_commit());
  check_runs(o, s.runs);
  const std::string db = o.out_dir + "/sweep.db";
  if (!o.force && fs::exists(db)) {
    const std::string held = Store(db, Store::Access::kReadOnly).plan_hash();
    if (!held.empty() && held != s.plan.hash())
      throw Error(o.out_dir,
                  fmt::format("holds another plan ({}, plan {}) than {} (plan {}); "
                              "use another directory, or --force to switch it to this "
                              "plan (runs the two share keep their results)",
                              o.out_dir + "/plan.json", held, o.plan_path, s.plan.hash()));
  }
  fs::create_directories(o.out_dir + "/runs");
  fs::create_directories(o.out_dir + "/logs");
  write_file_atomic(o.out_dir + "/plan.json", s.plan.to_json().dump(2) + "\n");
  s.store = std::make_unique<Store>(db);
  s.store->sync_plan(s.plan.hash(), s.plan.to_json(), s.runs);
  // Recovery. Our own pid cannot own a run yet: a row carrying it is a dead predecessor's.
  const int64_t me = ::getpid();
  auto alive = [me](int64_t pid) { return pid != me && pid_alive(pid); };
  const auto stale = s.store->requeue_stale(host_name(), unix_now(), o.stale_after_s, alive);
  if (!stale.empty())
    std::fprintf(stderr, "sweep: requeued %zu run(s) whose owner stopped\n", stale.size());
  if (o.retry_failed) {
    size_t n = s.store->requeue_failed();
    if (n) std::fprintf(stderr, "sweep: requeued %zu failed run(s)\n", n);
  }
  // Results a killed sweep did not get to record.
  const auto status = s.store->statuses();
  for (const auto& r : s.runs) {
    if (status.at(r.key) != "queued") continue;
    const auto dir = run_directory(o.out_dir, r.key);
    auto res = harvest_run(dir);
    if (!res.ok) continue;
    if (!s.store->claim(r.key, me, host_name(), "harvest", unix_now())) continue;
    record_result(*s.store, r, res, 0.0, o.out_dir);
    std::fprintf(stderr, "sweep: recorded the finished run %s found in %s\n", r.key.c_str(),
                 dir.c_str());
  }
  // This process's runs: its shard, plus the teachers they need (claimed like any other run, so
  // a teacher needed by several shards still runs once).
  std::set<size_t> sel;
  std::map<std::string, size_t> by_key;
  for (const auto& r : s.runs) by_key[r.key] = r.index;
  for (const auto& r : s.runs)
    if (static_cast<int>(r.index % o.shard_count) == o.shard_index) {
      sel.insert(r.index);
      if (!r.teacher_key.empty()) sel.insert(by_key.at(r.teacher_key));
    }
  s.selected.assign(sel.begin(), sel.end());
  return s;
}

// ============================================================================ scheduling helpers

const PlannedRun* next_runnable(SweepSession& s, const std::map<std::string, std::string>& status) {
  for (size_t i : s.selected) {
    const auto& r = s.runs[i];
    if (status.at(r.key) != "queued") continue;
    if (!r.teacher_key.empty()) {
      const auto& ts = status.at(r.teacher_key);
      if (ts == "failed") {
        if (s.store->claim(r.key, ::getpid(), host_name(), "", unix_now()))
          s.store->mark_failed(r.key, "teacher run " + r.teacher_key + " failed", 0, unix_now());
        continue;
      }
      if (ts != "done") continue;
    }
    return &r;
  }
  return nullptr;
}

std::string progress_text(const SweepSession& s, const std::map<std::string, std::string>& status,
                          int parallel) {
  size_t done = 0, running = 0, failed = 0, left = 0;
  for (size_t i : s.selected) {
    const auto& st = status.at(s.runs[i].key);
    if (st == "done")
      ++done;
    else if (st == "running")
      ++running;
    else if (st == "failed")
      ++failed;
    else
      ++left;
  }
  std::string eta = "?";
  const double mean = s.store->mean_wall_s();
  if (left + running == 0)
    eta = "0s";
  else if (mean > 0)  // a running run is on average half done
    eta = format_duration(mean * (left + 0.5 * running) / std::max(1, parallel));
  return fmt::format("{} done, {} running, {} failed, {} left, ETA {}", done, running, failed, left,
                     eta);
}

namespace {

std::string arg_value(const std::vector<std::string>& args, const std::string& flag) {
  for (size_t i = 0; i + 1 < args.size(); ++i)
    if (args[i] == flag) return args[i + 1];
  return "";
}

// Runs that may train in one grouped network: students of one model, fold and batch (data,
// inputs, cache and split are the plan's, shared by all runs).
bool groupable(const PlannedRun& a, const PlannedRun& b) {
  return a.kind == "student" && b.kind == "student" && a.model == b.model && a.fold == b.fold &&
         arg_value(a.args, "--batch") == arg_value(b.args, "--batch");
}

}  // namespace

WorkUnit claim_next_unit(SweepSession& s, std::map<std::string, std::string>& status,
                         const std::string& worker) {
  WorkUnit u;
  const int64_t me = ::getpid();
  const std::string host = host_name();
  const PlannedRun* first = nullptr;
  while ((first = next_runnable(s, status))) {
    if (s.store->claim(first->key, me, host, worker, unix_now())) break;
    status = s.store->statuses();  // another process took it
  }
  if (!first) return u;
  status[first->key] = "running";
  u.runs.push_back(first);
  const int cap = s.options.group_size > 0 ? s.options.group_size : s.plan.group_size;
  u.group = cap > 1 && first->kind == "student";
  for (size_t i : s.selected) {
    if (!u.group || static_cast<int>(u.runs.size()) >= cap) break;
    const auto& r = s.runs[i];
    if (!groupable(*first, r) || status.at(r.key) != "queued") continue;
    if (!r.teacher_key.empty() && status.at(r.teacher_key) != "done") continue;
    if (!s.store->claim(r.key, me, host, worker, unix_now())) continue;
    status[r.key] = "running";
    u.runs.push_back(&r);
  }
  const auto& out = s.options.out_dir;
  for (const auto* r : u.runs) {
    const auto dir = run_directory(out, r->key);
    prepare_run_dir(dir);
    fs::remove(dir + "/group_error.txt");  // an earlier attempt's
  }
  if (!u.group) {
    u.args = run_arguments(*first, out);
    u.log = log_path(out, first->key);
    return u;
  }
  nlohmann::json members = nlohmann::json::array();
  for (const auto* r : u.runs) members.push_back(run_arguments(*r, out));
  fs::create_directories(out + "/groups");
  const std::string file = out + "/groups/" + first->key + ".json";
  write_file_atomic(file, nlohmann::json({{"members", members}}).dump(2) + "\n");
  u.args = {"group", "--members", file};
  u.log = log_path(out, "group-" + first->key);
  for (const auto* r : u.runs) {
    FILE* f = std::fopen(log_path(out, r->key).c_str(), "a");
    if (!f) continue;
    std::fprintf(f, "trained in a group of %zu: log %s\n", u.runs.size(), u.log.c_str());
    std::fclose(f);
  }
  return u;
}

std::vector<RunResult> collect_unit(const WorkUnit& unit, int wait_status, double wall_s,
                                    const std::string& out_dir) {
  std::vector<RunResult> res;
  for (const auto* r : unit.runs) {
    const auto dir = run_directory(out_dir, r->key);
    res.push_back(unit.group ? collect_group_member(dir, wait_status, wall_s, unit.log)
                             : collect_run(dir, wait_status, wall_s, unit.log));
  }
  return res;
}

bool record_result(Store& store, const PlannedRun& run, const RunResult& result, double wall_s,
                   const std::string& out_dir) {
  if (!result.ok) {
    store.mark_failed(run.key, result.error, wall_s, unix_now());
    return false;
  }
  try {
    store.mark_done(run.key, result.model_json, wall_s, unix_now(),
                    run_directory(out_dir, run.key) + "/model.json");
    return true;
  } catch (const Error& e) {
    store.mark_failed(run.key, e.what(), wall_s, unix_now());
    return false;
  }
}

// ============================================================================ the local runner

namespace {

std::atomic<int> g_signal{0};
extern "C" void ppgkd_sweep_on_signal(int sig) {
  g_signal = sig;
}

struct Running {
  WorkUnit unit;
  std::chrono::steady_clock::time_point start;
};

bool all_finished(const SweepSession& s, const std::map<std::string, std::string>& status) {
  for (size_t i : s.selected) {
    const auto& st = status.at(s.runs[i].key);
    if (st != "done" && st != "failed") return false;
  }
  return true;
}

}  // namespace

SweepOutcome run_sweep_local(const SweepOptions& options) {
  auto s = open_sweep(options);
  const int jobs =
      options.jobs > 0 ? options.jobs : std::max(1u, std::thread::hardware_concurrency());
  const std::string host = host_name();
  const int64_t me = ::getpid();
  g_signal = 0;
  struct sigaction sa = {}, old_int = {}, old_term = {};
  sa.sa_handler = ppgkd_sweep_on_signal;
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);

  std::map<pid_t, Running> running;
  SweepOutcome out;
  auto status = s.store->statuses();
  std::string last_line;
  auto last_heartbeat = std::chrono::steady_clock::now(), last_draw = last_heartbeat,
       last_stale_check = last_heartbeat;
  const bool tty = ::isatty(2);
  while (true) {
    // Reap finished children.
    int ws = 0;
    pid_t pid;
    bool changed = false;
    while ((pid = ::waitpid(-1, &ws, WNOHANG)) > 0) {
      auto it = running.find(pid);
      if (it == running.end()) continue;
      const auto& unit = it->second.unit;
      const double wall =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - it->second.start)
              .count();
      const auto results = collect_unit(unit, ws, wall, options.out_dir);
      for (size_t i = 0; i < unit.runs.size(); ++i) {
        const auto& r = *unit.runs[i];
        const auto& res = results[i];
        // A group's wall time is shared by its members.
        const double w = wall / static_cast<double>(unit.runs.size());
        if (!record_result(*s.store, r, res, w, options.out_dir))
          std::fprintf(
              stderr, "%ssweep: run %s (%s %s) failed: %s\n", tty ? "\r\033[K" : "", r.key.c_str(),
              r.kind.c_str(), r.model.c_str(),
              res.ok ? "bad model.json" : res.error.substr(0, res.error.find('\n')).c_str());
        ++out.executed;
      }
      running.erase(it);
      changed = true;
    }
    if (g_signal) break;
    status = s.store->statuses();
    // Launch what is runnable.
    while (static_cast<int>(running.size()) < jobs) {
      WorkUnit unit = claim_next_unit(s, status, host + ":" + std::to_string(me));
      if (unit.runs.empty()) break;
      const pid_t child = spawn_child(options.executable, unit.args, unit.log);
      for (const auto* r : unit.runs) s.store->set_child_pid(r->key, child);
      running[child] = {std::move(unit), std::chrono::steady_clock::now()};
      changed = true;
    }
    status = s.store->statuses();
    if (running.empty() && all_finished(s, status)) break;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_heartbeat > std::chrono::duration<double>(options.heartbeat_s)) {
      std::vector<std::string> keys;
      for (const auto& [p, r] : running)
        for (const auto* run : r.unit.runs) keys.push_back(run->key);
      s.store->heartbeat(keys, unix_now());
      last_heartbeat = now;
    }
    // Runs other processes own may have died with them.
    if (now - last_stale_check > std::chrono::seconds(30)) {
      auto alive = [&](int64_t p) { return p == me || pid_alive(p); };
      s.store->requeue_stale(host, unix_now(), options.stale_after_s, alive);
      last_stale_check = now;
    }
    if (options.progress && (changed || now - last_draw > std::chrono::seconds(5))) {
      const auto line = "sweep: " + progress_text(s, status, jobs);
      if (tty)
        std::fprintf(stderr, "\r\033[K%s", line.c_str());
      else if (line != last_line)
        std::fprintf(stderr, "%s\n", line.c_str());
      last_line = line;
      last_draw = now;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
  if (g_signal) {
    // Stop the children (their trainers checkpoint on SIGTERM), wait, and requeue their runs.
    for (const auto& [p, r] : running) ::kill(-p, SIGTERM);
    for (const auto& [p, r] : running) {
      int ws;
      ::waitpid(p, &ws, 0);
      for (const auto* run : r.unit.runs) s.store->requeue(run->key);
    }
    throw Interrupted("sweep", fmt::format("interrupted; {} running runs requeued", running.size()),
                      g_signal);
  }
  status = s.store->statuses();
  for (size_t i : s.selected) {
    const auto& st = status.at(s.runs[i].key);
    out.done += st == "done";
    out.failed += st == "failed";
  }
  if (options.progress)
    std::fprintf(stderr, "%ssweep: %s\n", tty ? "\r\033[K" : "",
                 progress_text(s, status, jobs).c_str());
  return out;
}

// ============================================================================ dry run and status

namespace {

std::string shell_join(const std::string& exe, const std::vector<std::string>& args) {
  std::string out = exe;
  for (const auto& a : args) {
    bool plain = !a.empty() && a.find_first_of(" \t\"'$\\;&|<>*?") == std::string::npos;
    out += " " + (plain ? a : "'" + a + "'");
  }
  return out;
}

}  // namespace

std::string describe_plan(const SweepOptions& o) {
  const auto plan = SweepPlan::load(o.plan_path);
  const auto runs = expand_plan(plan, plan_data_fingerprint(plan), git_commit());
  check_runs(o, runs);
  std::map<std::string, std::string> status;
  const std::string db = o.out_dir + "/sweep.db";
  if (fs::exists(db)) {
    Store store(db, Store::Access::kReadOnly);
    if (store.plan_hash() == plan.hash()) status = store.statuses();
  }
  std::string out;
  size_t n = 0, teachers = 0;
  for (const auto& r : runs) {
    if (static_cast<int>(r.index % o.shard_count) != o.shard_index) continue;
    ++n;
    teachers += r.kind == "teacher";
    auto it = status.find(r.key);
    out +=
        fmt::format("{:>5} {} {:<7} {}\n", r.index, r.key, it == status.end() ? "new" : it->second,
                    shell_join(o.executable, run_arguments(r, o.out_dir)));
  }
  out +=
      fmt::format("{} runs ({} teachers, {} students) in shard {}/{} of {} runs; plan {}\n", n,
                  teachers, n - teachers, o.shard_index, o.shard_count, runs.size(), plan.hash());
  return out;
}

std::string sweep_status(const std::string& out_dir, bool json) {
  const std::string db = out_dir + "/sweep.db";
  if (!fs::exists(db))
    throw Error(db, "no sweep store (run `ppgkd sweep --plan ... --out ...` first)");
  Store store(db, Store::Access::kReadOnly);  // status is a query: a read-only copy must do
  const auto c = store.counts();
  const double mean = store.mean_wall_s();
  const size_t parallel = std::max<size_t>(1, c.running);
  double eta_s = -1;  // unknown
  if (c.queued + c.running == 0)
    eta_s = 0;
  else if (mean > 0)
    eta_s = mean * (c.queued + 0.5 * c.running) / parallel;
  if (json) {
    nlohmann::json running = nlohmann::json::array(), failed = nlohmann::json::array();
    for (const auto& r : store.runs()) {
      if (r.status == "running")
        running.push_back({{"key", r.key},
                           {"kind", r.kind},
                           {"model", r.model},
                           {"worker", r.worker},
                           {"attempts", r.attempts}});
      if (r.status == "failed")
        failed.push_back({{"key", r.key},
                          {"kind", r.kind},
                          {"model", r.model},
                          {"error", r.error.substr(0, r.error.find('\n'))}});
    }
    nlohmann::json j = {{"total", c.total()},   {"done", c.done},          {"running", c.running},
                        {"failed", c.failed},   {"left", c.queued},        {"mean_run_s", mean},
                        {"parallel", parallel}, {"running_runs", running}, {"failed_runs", failed}};
    j["eta_s"] = eta_s < 0 ? nlohmann::json(nullptr) : nlohmann::json(eta_s);
    return j.dump(2) + "\n";
  }
  const std::string eta = eta_s < 0 ? "?" : eta_s == 0 ? "0s" : format_duration(eta_s);
  std::string out = fmt::format(
      "{} runs: {} done, {} running, {} failed, {} left; mean run {}; ETA {} at {} parallel\n",
      c.total(), c.done, c.running, c.failed, c.queued, format_duration(mean), eta, parallel);
  for (const auto& r : store.runs()) {
    if (r.status == "running")
      out += fmt::format("running {} {} {} on {} (attempt {})\n", r.key, r.kind, r.model, r.worker,
                         r.attempts);
    if (r.status == "failed")
      out += fmt::format("failed  {} {} {}: {}\n", r.key, r.kind, r.model,
                         r.error.substr(0, r.error.find('\n')));
  }
  return out;
}

}  // namespace ppgkd
