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
  const std::string host = host_name();
  const int64_t me = ::getpid();
  std::map<std::string, const PlannedRun*> by_key;
  for (const auto& r : s.runs) by_key[r.key] = &r;
  std::map<int, std::string> busy;  // worker rank -> key
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
        for (const auto& [w, k] : busy) keys.push_back(k);
        s.store->heartbeat(keys, unix_now());
        last_heartbeat = now;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      continue;
    }
    const int w = st.MPI_SOURCE;
    auto msg = recv_json(st);
    if (st.MPI_TAG == kResult) {
      const auto& key = msg.at("key").get<std::string>();
      RunResult res;
      res.ok = msg.at("ok");
      res.error = msg.value("error", std::string());
      res.model_json = msg.value("model_json", nlohmann::json());
      if (!record_result(*s.store, *by_key.at(key), res, msg.at("wall_s"), o.out_dir))
        std::fprintf(stderr, "sweep: run %s failed on rank %d: %s\n", key.c_str(), w,
                     res.error.substr(0, res.error.find('\n')).c_str());
      busy.erase(w);
      ++out.executed;
      continue;  // the worker follows up with READY
    }
    // READY: hand out a run, ask to wait, or stop the worker.
    auto status = s.store->statuses();
    const PlannedRun* r = nullptr;
    while ((r = next_runnable(s, status))) {
      if (s.store->claim(r->key, me, host, "rank " + std::to_string(w), unix_now())) break;
      status = s.store->statuses();
    }
    if (r) {
      busy[w] = r->key;
      send_json({{"key", r->key},
                 {"args", run_arguments(*r, o.out_dir)},
                 {"log", log_path(o.out_dir, r->key)},
                 {"dir", run_directory(o.out_dir, r->key)}},
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
    const std::string key = msg.at("key"), dir = msg.at("dir"), log = msg.at("log");
    const auto start = std::chrono::steady_clock::now();
    RunResult res;
    int ws = 0;
    try {
      prepare_run_dir(dir);
      const pid_t child =
          spawn_child(o.executable, msg.at("args").get<std::vector<std::string>>(), log);
      ::waitpid(child, &ws, 0);
      const double wall =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      res = collect_run(dir, ws, wall, log);
    } catch (const std::exception& e) {
      res.ok = false;
      res.error = e.what();
    }
    const double wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    send_json({{"key", key},
               {"ok", res.ok},
               {"error", res.error},
               {"wall_s", wall},
               {"model_json", res.model_json}},
              0, kResult);
    ++out.executed;
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
