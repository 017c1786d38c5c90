#include "sweep/store.h"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>

#include "common/error.h"
#include "train/model_record.h"

namespace ppgkd {

double unix_now() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

std::string host_name() {
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  return host;
}

// ============================================================================ SQLite helpers

namespace {

constexpr int kStoreSchema = 1;

// A prepared statement with positional binding; finalised on scope exit.
class Stmt {
 public:
  Stmt(sqlite3* db, const std::string& sql, const std::string& where) : db_(db), where_(where) {
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st_, nullptr) != SQLITE_OK)
      throw Error(where, std::string("SQL prepare failed: ") + sqlite3_errmsg(db));
  }
  ~Stmt() { sqlite3_finalize(st_); }
  Stmt& bind(int i, const std::string& v) {
    sqlite3_bind_text(st_, i, v.c_str(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& bind(int i, const char* v) { return bind(i, std::string(v)); }
  Stmt& bind(int i, int64_t v) {
    sqlite3_bind_int64(st_, i, v);
    return *this;
  }
  Stmt& bind(int i, int v) { return bind(i, static_cast<int64_t>(v)); }
  Stmt& bind(int i, size_t v) { return bind(i, static_cast<int64_t>(v)); }
  Stmt& bind(int i, double v) {
    sqlite3_bind_double(st_, i, v);
    return *this;
  }
  // True while a row is available.
  bool step() {
    int rc = sqlite3_step(st_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw Error(where_, std::string("SQL step failed: ") + sqlite3_errmsg(db_));
  }
  std::string text(int c) const {
    const auto* p = sqlite3_column_text(st_, c);
    return p ? reinterpret_cast<const char*>(p) : "";
  }
  int64_t i64(int c) const { return sqlite3_column_int64(st_, c); }
  double f64(int c) const { return sqlite3_column_double(st_, c); }
  bool null(int c) const { return sqlite3_column_type(st_, c) == SQLITE_NULL; }

 private:
  sqlite3* db_;
  sqlite3_stmt* st_ = nullptr;
  std::string where_;
};

// BEGIN IMMEDIATE ... COMMIT, rolled back when an exception leaves the scope.
class Transaction {
 public:
  explicit Transaction(const std::function<void(const std::string&)>& exec) : exec_(exec) {
    exec_("BEGIN IMMEDIATE");
  }
  void commit() {
    exec_("COMMIT");
    open_ = false;
  }
  ~Transaction() {
    if (open_) try {
        exec_("ROLLBACK");
      } catch (...) {
      }
  }

 private:
  std::function<void(const std::string&)> exec_;
  bool open_ = true;
};

const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
  key TEXT PRIMARY KEY, plan_hash TEXT NOT NULL, idx INTEGER NOT NULL, kind TEXT NOT NULL,
  model TEXT NOT NULL, family TEXT NOT NULL, strategy TEXT NOT NULL, teacher_key TEXT NOT NULL,
  teacher_model TEXT NOT NULL, fold INTEGER NOT NULL, seed INTEGER NOT NULL, config TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0, pid INTEGER, child_pid INTEGER, host TEXT, worker TEXT,
  started_at REAL, heartbeat REAL, finished_at REAL, wall_s REAL,
  spec TEXT, model_family TEXT, params INTEGER, macs INTEGER, weight_bytes INTEGER, mae_bpm REAL,
  model_json TEXT, error TEXT);
CREATE TABLE IF NOT EXISTS subject_metrics (
  run_key TEXT NOT NULL REFERENCES runs(key), subject TEXT NOT NULL, dataset TEXT NOT NULL,
  mae_bpm REAL NOT NULL, PRIMARY KEY (run_key, subject));
CREATE TABLE IF NOT EXISTS dataset_metrics (
  run_key TEXT NOT NULL REFERENCES runs(key), dataset TEXT NOT NULL, mae_bpm REAL NOT NULL,
  PRIMARY KEY (run_key, dataset));
CREATE INDEX IF NOT EXISTS runs_status ON runs (plan_hash, status);
)sql";

const char* kRunColumns =
    "key, kind, model, family, strategy, teacher_key, teacher_model, status, idx, fold, seed, "
    "config, attempts, pid, child_pid, host, worker, started_at, heartbeat, finished_at, wall_s, "
    "spec, model_family, params, macs, weight_bytes, mae_bpm, model_json, error";

RunRow read_row(const Stmt& s) {
  RunRow r;
  r.key = s.text(0);
  r.kind = s.text(1);
  r.model = s.text(2);
  r.family = s.text(3);
  r.strategy = s.text(4);
  r.teacher_key = s.text(5);
  r.teacher_model = s.text(6);
  r.status = s.text(7);
  r.index = static_cast<size_t>(s.i64(8));
  r.fold = static_cast<int>(s.i64(9));
  r.seed = static_cast<uint64_t>(s.i64(10));
  r.config = nlohmann::json::parse(s.text(11));
  r.attempts = static_cast<int>(s.i64(12));
  r.pid = s.i64(13);
  r.child_pid = s.i64(14);
  r.host = s.text(15);
  r.worker = s.text(16);
  r.started_at = s.f64(17);
  r.heartbeat = s.f64(18);
  r.finished_at = s.f64(19);
  r.wall_s = s.f64(20);
  r.spec = s.text(21);
  r.model_family = s.text(22);
  r.params = s.i64(23);
  r.macs = s.i64(24);
  r.weight_bytes = s.i64(25);
  r.mae_bpm = s.f64(26);
  if (!s.null(27)) r.model_json = nlohmann::json::parse(s.text(27));
  r.error = s.text(28);
  return r;
}

// "spc2015/train01" -> "spc2015"; a subject id without a dataset prefix -> "".
std::string dataset_of(const std::string& subject) {
  auto slash = subject.find('/');
  return slash == std::string::npos ? "" : subject.substr(0, slash);
}

}  // namespace

// ============================================================================ Store

namespace {

// A read-only connection. A WAL database needs its -shm file even to read; in a directory we
// cannot write, where no -shm exists (so no writer has it open), SQLite can only read it as
// immutable.
sqlite3* open_read_only(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK &&
      sqlite3_exec(db, "SELECT count(*) FROM sqlite_master", nullptr, nullptr, nullptr) ==
          SQLITE_OK)
    return db;
  sqlite3_close(db);
  std::string uri = "file:";
  for (char c : path) {
    if (c == '%' || c == '?' || c == '#')
      uri += fmt::format("%{:02X}", static_cast<unsigned char>(c));
    else
      uri += c;
  }
  db = nullptr;
  if (sqlite3_open_v2((uri + "?immutable=1").c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI,
                      nullptr) != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    throw Error(path, "cannot open the results store: " + msg);
  }
  return db;
}

}  // namespace

Store::Store(const std::string& path, Access access) : path_(path) {
  if (access == Access::kReadOnly) {
    db_ = open_read_only(path);
    sqlite3_busy_timeout(db_, 30000);
    try {
      Stmt get(db_, "SELECT value FROM meta WHERE name = 'schema'", path_);
      if (!get.step() || get.text(0) != std::to_string(kStoreSchema))
        throw Error(path, "store schema " + (get.text(0).empty() ? "(none)" : get.text(0)) +
                              " is not supported (expected " + std::to_string(kStoreSchema) + ")");
    } catch (...) {
      sqlite3_close(db_);
      throw;
    }
    return;
  }
  if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    throw Error(path, "cannot open the results store: " + msg);
  }
  // Other processes (shards, a status query) may hold the lock briefly: wait rather than fail.
  sqlite3_busy_timeout(db_, 30000);
  try {
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=FULL");  // a commit survives power loss, not only a process crash
    exec(kSchema);
    Stmt get(db_, "SELECT value FROM meta WHERE name = 'schema'", path_);
    if (get.step()) {
      if (get.text(0) != std::to_string(kStoreSchema))
        throw Error(path, "store schema " + get.text(0) + " is not supported (expected " +
                              std::to_string(kStoreSchema) + ")");
    } else {
      exec("INSERT OR IGNORE INTO meta VALUES ('schema', '" + std::to_string(kStoreSchema) + "')");
    }
  } catch (...) {
    sqlite3_close(db_);
    throw;
  }
}

Store::~Store() {
  sqlite3_close(db_);
}

void Store::exec(const std::string& sql) const {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    throw Error(path_, "SQL failed: " + msg);
  }
}

void Store::sync_plan(const std::string& plan_hash, const nlohmann::json& plan,
                      const std::vector<PlannedRun>& runs) {
  Transaction tx([this](const std::string& s) { exec(s); });
  Stmt meta(db_, "INSERT OR REPLACE INTO meta VALUES (?, ?)", path_);
  meta.bind(1, "plan_hash").bind(2, plan_hash).step();
  Stmt meta2(db_, "INSERT OR REPLACE INTO meta VALUES (?, ?)", path_);
  meta2.bind(1, "plan").bind(2, plan.dump()).step();
  for (const auto& r : runs) {
    Stmt ins(db_,
             "INSERT INTO runs (key, plan_hash, idx, kind, model, family, strategy, teacher_key, "
             "teacher_model, fold, seed, config, status) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,'queued') "
             "ON CONFLICT(key) DO UPDATE SET plan_hash = excluded.plan_hash, idx = excluded.idx, "
             "family = excluded.family, strategy = excluded.strategy",
             path_);
    ins.bind(1, r.key)
        .bind(2, plan_hash)
        .bind(3, r.index)
        .bind(4, r.kind)
        .bind(5, r.model)
        .bind(6, r.family)
        .bind(7, r.strategy)
        .bind(8, r.teacher_key)
        .bind(9, r.teacher_model)
        .bind(10, r.fold)
        .bind(11, static_cast<int64_t>(r.seed))
        .bind(12, r.config.dump())
        .step();
  }
  tx.commit();
}

std::string Store::plan_hash() const {
  Stmt s(db_, "SELECT value FROM meta WHERE name = 'plan_hash'", path_);
  return s.step() ? s.text(0) : "";
}

nlohmann::json Store::plan() const {
  Stmt s(db_, "SELECT value FROM meta WHERE name = 'plan'", path_);
  return s.step() ? nlohmann::json::parse(s.text(0)) : nlohmann::json();
}

bool Store::claim(const std::string& key, int64_t pid, const std::string& host,
                  const std::string& worker, double now) {
  Stmt s(db_,
         "UPDATE runs SET status = 'running', pid = ?, host = ?, worker = ?, child_pid = NULL, "
         "started_at = ?, heartbeat = ?, attempts = attempts + 1, error = NULL "
         "WHERE key = ? AND status = 'queued'",
         path_);
  s.bind(1, pid).bind(2, host).bind(3, worker).bind(4, now).bind(5, now).bind(6, key).step();
  return sqlite3_changes(db_) == 1;
}

void Store::set_child_pid(const std::string& key, int64_t child_pid) {
  Stmt s(db_, "UPDATE runs SET child_pid = ? WHERE key = ?", path_);
  s.bind(1, child_pid).bind(2, key).step();
}

void Store::heartbeat(const std::vector<std::string>& keys, double now) {
  if (keys.empty()) return;
  Transaction tx([this](const std::string& s) { exec(s); });
  for (const auto& k : keys) {
    Stmt s(db_, "UPDATE runs SET heartbeat = ? WHERE key = ? AND status = 'running'", path_);
    s.bind(1, now).bind(2, k).step();
  }
  tx.commit();
}

void Store::mark_done(const std::string& key, const nlohmann::json& mj, double wall_s, double now,
                      const std::string& where) {
  // Validate before touching the store, so a malformed model.json changes nothing: the typed
  // record (a missing or mistyped field is one error naming `where` and the field), its test
  // metrics, and the size the scaling fits need.
  const ModelRecord rec = ModelRecord::from_json(mj, where);
  const RecordedTest test = rec.test_metrics(where);
  if (rec.params <= 0) throw Error(where, "field \"params\" must be a positive integer");
  Transaction tx([this](const std::string& s) { exec(s); });
  Stmt up(db_,
          "UPDATE runs SET status = 'done', finished_at = ?, wall_s = ?, spec = ?, "
          "model_family = ?, params = ?, macs = ?, weight_bytes = ?, mae_bpm = ?, model_json = ?, "
          "error = NULL WHERE key = ?",
          path_);
  up.bind(1, now)
      .bind(2, wall_s)
      .bind(3, rec.spec)
      .bind(4, rec.family)
      .bind(5, rec.params)
      .bind(6, rec.macs_per_window)
      .bind(7, rec.weight_bytes_f32)
      .bind(8, test.mae_bpm)
      .bind(9, mj.dump())
      .bind(10, key)
      .step();
  if (sqlite3_changes(db_) != 1) throw Error(path_, "no run with key " + key);
  Stmt del(db_, "DELETE FROM subject_metrics WHERE run_key = ?", path_);
  del.bind(1, key).step();
  Stmt del2(db_, "DELETE FROM dataset_metrics WHERE run_key = ?", path_);
  del2.bind(1, key).step();
  for (const auto& [subject, v] : test.subject_mae_bpm) {
    Stmt s(db_, "INSERT INTO subject_metrics VALUES (?, ?, ?, ?)", path_);
    s.bind(1, key).bind(2, subject).bind(3, dataset_of(subject)).bind(4, v).step();
  }
  for (const auto& [dataset, v] : test.dataset_mae_bpm) {
    Stmt s(db_, "INSERT INTO dataset_metrics VALUES (?, ?, ?)", path_);
    s.bind(1, key).bind(2, dataset).bind(3, v).step();
  }
  tx.commit();
}

void Store::mark_failed(const std::string& key, const std::string& error, double wall_s,
                        double now) {
  Stmt s(db_,
         "UPDATE runs SET status = 'failed', error = ?, wall_s = ?, finished_at = ? WHERE key = ?",
         path_);
  s.bind(1, error).bind(2, wall_s).bind(3, now).bind(4, key).step();
}

void Store::requeue(const std::string& key) {
  Stmt s(db_, "UPDATE runs SET status = 'queued', child_pid = NULL WHERE key = ?", path_);
  s.bind(1, key).step();
}

std::vector<std::string> Store::requeue_stale(const std::string& host, double now,
                                              double stale_after_s,
                                              const std::function<bool(int64_t)>& pid_alive) {
  Transaction tx([this](const std::string& s) { exec(s); });
  std::vector<std::string> stale;
  {
    Stmt s(db_, "SELECT key, pid, host, heartbeat FROM runs WHERE status = 'running'", path_);
    while (s.step()) {
      const bool dead_here = s.text(2) == host && !pid_alive(s.i64(1));
      const bool silent = s.f64(3) < now - stale_after_s;
      if (dead_here || silent) stale.push_back(s.text(0));
    }
  }
  for (const auto& k : stale) {
    Stmt s(db_, "UPDATE runs SET status = 'queued', child_pid = NULL WHERE key = ?", path_);
    s.bind(1, k).step();
  }
  tx.commit();
  return stale;
}

size_t Store::requeue_failed() {
  Stmt s(db_, "UPDATE runs SET status = 'queued' WHERE status = 'failed' AND plan_hash = ?", path_);
  s.bind(1, plan_hash()).step();
  return static_cast<size_t>(sqlite3_changes(db_));
}

std::vector<RunRow> Store::runs(bool all) const {
  std::string sql = std::string("SELECT ") + kRunColumns + " FROM runs" +
                    (all ? "" : " WHERE plan_hash = ?") + " ORDER BY idx, key";
  Stmt s(db_, sql, path_);
  if (!all) s.bind(1, plan_hash());
  std::vector<RunRow> out;
  while (s.step()) out.push_back(read_row(s));
  return out;
}

RunRow Store::run(const std::string& key) const {
  Stmt s(db_, std::string("SELECT ") + kRunColumns + " FROM runs WHERE key = ?", path_);
  s.bind(1, key);
  if (!s.step()) throw Error(path_, "no run with key " + key);
  return read_row(s);
}

StoreCounts Store::counts() const {
  Stmt s(db_, "SELECT status, COUNT(*) FROM runs WHERE plan_hash = ? GROUP BY status", path_);
  s.bind(1, plan_hash());
  StoreCounts c;
  while (s.step()) {
    const auto st = s.text(0);
    const auto n = static_cast<size_t>(s.i64(1));
    if (st == "queued") c.queued = n;
    if (st == "running") c.running = n;
    if (st == "done") c.done = n;
    if (st == "failed") c.failed = n;
  }
  return c;
}

std::map<std::string, std::string> Store::statuses() const {
  Stmt s(db_, "SELECT key, status FROM runs WHERE plan_hash = ?", path_);
  s.bind(1, plan_hash());
  std::map<std::string, std::string> out;
  while (s.step()) out[s.text(0)] = s.text(1);
  return out;
}

std::vector<SubjectMetric> Store::subject_metrics() const {
  Stmt s(db_,
         "SELECT m.run_key, m.subject, m.dataset, m.mae_bpm FROM subject_metrics m "
         "JOIN runs r ON r.key = m.run_key WHERE r.plan_hash = ? AND r.status = 'done' "
         "ORDER BY r.idx, m.subject",
         path_);
  s.bind(1, plan_hash());
  std::vector<SubjectMetric> out;
  while (s.step()) out.push_back({s.text(0), s.text(1), s.text(2), s.f64(3)});
  return out;
}

double Store::mean_wall_s() const {
  Stmt s(db_, "SELECT AVG(wall_s) FROM runs WHERE plan_hash = ? AND status = 'done'", path_);
  s.bind(1, plan_hash());
  return s.step() && !s.null(0) ? s.f64(0) : 0.0;
}

}  // namespace ppgkd
