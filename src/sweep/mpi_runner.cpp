#include "sweep/mpi_runner.h"

#include <mpi.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <thread>

#include "common/error.h"

namespace ppgkd {

namespace {

enum Tag : int { kReady = 1, kResult = 2, kRun = 3, kWait = 4, kStop = 5 };

void send_json(const nlohmann::json& j, int dest, int tag) {
  const std::string s = j.dump();
  MPI_Send(s.data(), static_cast<int>(s.size()), MPI_CHAR, dest, tag, MPI_COMM_WORLD);
}

// Receives the message already probed in `st`.
nlohmann::json recv_json(const MPI_Status& st) {
  int n = 0;
  MPI_Get_count(&st, MPI_CHAR, &n);
  std::string s(static_cast<size_t>(n), '\0');
  MPI_Recv(s.data(), n, MPI_CHAR, st.MPI_SOURCE, st.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  return s.empty() ? nlohmann::json::object() : nlohmann::json::parse(s);
}

// ============================================================================ rank 0

SweepOutcome schedule(const SweepOptions& o, int size) {
  auto s = open_sweep(o);
  std::map<std::string, const PlannedRun*> by_key;
  for (const auto& r : s.runs) by_key[r.key] = &r;
  std::map<int, std::vector<std::string>> busy;  // worker rank -> keys of its unit
  int stopped = 0;
  SweepOutcome out;
  auto last_heartbeat = std::chrono::steady_clock::now();
  std::string last_line;
  while (stopped < size - 1) {
    int flag = 0;
    MPI_Status st;
    MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st);
    if (!flag) {
      const auto now = std::chrono::steady_clock::now();
      if (now - last_heartbeat > std::chrono::duration<double>(o.heartbeat_s)) {
        std::vector<std::string> keys;
        for (const auto& [w, ks] : busy) keys.insert(keys.end(), ks.begin(), ks.end());
        s.store->heartbeat(keys, unix_now());
        last_heartbeat = now;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      continue;
    }
    const int w = st.MPI_SOURCE;
    auto msg = recv_json(st);
    if (st.MPI_TAG == kResult) {
      const auto& results = msg.at("results");
      const double wall = msg.at("wall_s").get<double>() / std::max<size_t>(1, results.size());
      for (const auto& m : results) {
        const auto& key = m.at("key").get<std::string>();
        RunResult res;
        res.ok = m.at("ok");
        res.error = m.value("error", std::string());
        res.model_json = m.value("model_json", nlohmann::json());
        if (!record_result(*s.store, *by_key.at(key), res, wall, o.out_dir))
          std::fprintf(stderr, "sweep: run %s failed on rank %d: %s\n", key.c_str(), w,
                       res.error.substr(0, res.error.find('\n')).c_str());
        ++out.executed;
      }
      busy.erase(w);
      continue;  // the worker follows up with READY
    }
    // READY: hand out a run, ask to wait, or stop the worker.
    auto status = s.store->statuses();
    const WorkUnit unit = claim_next_unit(s, status, "rank " + std::to_string(w));
    if (!unit.runs.empty()) {
      nlohmann::json keys = nlohmann::json::array(), dirs = nlohmann::json::array();
      for (const auto* r : unit.runs) {
        keys.push_back(r->key);
        dirs.push_back(run_directory(o.out_dir, r->key));
        busy[w].push_back(r->key);
      }
      send_json({{"keys", keys},
                 {"dirs", dirs},
                 {"group", unit.group},
                 {"args", unit.args},
                 {"log", unit.log}},
                w, kRun);
    } else {
      bool finished = busy.empty();
      for (size_t i : s.selected) {
        const auto& stt = status.at(s.runs[i].key);
        if (stt != "done" && stt != "failed") finished = false;
      }
      if (finished) {
        send_json({}, w, kStop);
        ++stopped;
      } else {
        send_json({}, w, kWait);
      }
    }
    if (o.progress) {
      const auto line = "sweep: " + progress_text(s, s.store->statuses(), size - 1);
      if (line != last_line) std::fprintf(stderr, "%s\n", line.c_str());
      last_line = line;
    }
  }
  const auto status = s.store->statuses();
  for (size_t i : s.selected) {
    out.done += status.at(s.runs[i].key) == "done";
    out.failed += status.at(s.runs[i].key) == "failed";
  }
  return out;
}

// ============================================================================ workers

SweepOutcome work(const SweepOptions& o) {
  SweepOutcome out;
  send_json({}, 0, kReady);
  while (true) {
    MPI_Status st;
    MPI_Probe(0, MPI_ANY_TAG, MPI_COMM_WORLD, &st);
    auto msg = recv_json(st);
    if (st.MPI_TAG == kStop) break;
    if (st.MPI_TAG == kWait) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      send_json({}, 0, kReady);
      continue;
    }
    const auto keys = msg.at("keys").get<std::vector<std::string>>();
    const auto dirs = msg.at("dirs").get<std::vector<std::string>>();
    const std::string log = msg.at("log");
    const bool group = msg.at("group");
    const auto start = std::chrono::steady_clock::now();
    std::vector<RunResult> res(keys.size());
    int ws = 0;
    try {
      for (const auto& d : dirs) prepare_run_dir(d);
      const pid_t child =
          spawn_child(o.executable, msg.at("args").get<std::vector<std::string>>(), log);
      ::waitpid(child, &ws, 0);
      const double wall =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      for (size_t i = 0; i < dirs.size(); ++i)
        res[i] = group ? collect_group_member(dirs[i], ws, wall, log)
                       : collect_run(dirs[i], ws, wall, log);
    } catch (const std::exception& e) {
      for (auto& r : res) r.ok = false, r.error = e.what();
    }
    const double wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    nlohmann::json results = nlohmann::json::array();
    for (size_t i = 0; i < keys.size(); ++i)
      results.push_back({{"key", keys[i]},
                         {"ok", res[i].ok},
                         {"error", res[i].error},
                         {"model_json", res[i].model_json}});
    send_json({{"wall_s", wall}, {"results", results}}, 0, kResult);
    out.executed += keys.size();
    send_json({}, 0, kReady);
  }
  return out;
}

}  // namespace

SweepOutcome run_sweep_mpi(const SweepOptions& o) {
  // Children are started with fork + exec; with no RDMA transport that is safe, and Open MPI's
  // warning about it would only be noise in every run log.
  ::setenv("OMPI_MCA_mpi_warn_on_fork", "0", 0);
  MPI_Init(nullptr, nullptr);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  SweepOutcome out;
  try {
    if (size == 1)
      out = run_sweep_local(o);
    else if (rank == 0)
      out = schedule(o, size);
    else
      out = work(o);
  } catch (const std::exception& e) {
    // Workers wait on rank 0 forever: a failing rank must end the whole job.
    std::fprintf(stderr, "ppgkd: error: rank %d: %s\n", rank, e.what());
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  MPI_Finalize();
  return out;
}

}  // namespace ppgkd
