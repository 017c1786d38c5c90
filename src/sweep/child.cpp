#include "sweep/child.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>

#include "common/atomic_file.h"
#include "common/error.h"
#include "train/model_record.h"

namespace ppgkd {

pid_t spawn_child(const std::string& exe, const std::vector<std::string>& args,
                  const std::string& log_path) {
  std::filesystem::create_directories(std::filesystem::path(log_path).parent_path());
  int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) throw Error(log_path, std::string("cannot open log: ") + std::strerror(errno));
  // Everything the child needs is prepared before fork: after it only async-signal-safe calls.
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(exe.c_str()));
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fd);
    throw Error(log_path, std::string("fork failed: ") + std::strerror(errno));
  }
  if (pid == 0) {
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(126);  // the parent died before prctl took effect
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    ::execv(exe.c_str(), argv.data());
    const char* msg = "ppgkd sweep: exec failed: ";
    (void)!::write(2, msg, std::strlen(msg));
    (void)!::write(2, std::strerror(errno), std::strlen(std::strerror(errno)));
    (void)!::write(2, "\n", 1);
    ::_exit(127);
  }
  ::close(fd);
  return pid;
}

std::string describe_wait_status(int status) {
  if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "ended with wait status " + std::to_string(status);
}

std::string tail_lines(const std::string& path, int max_lines) {
  std::ifstream in(path);
  std::deque<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    // Progress bars redraw with '\r': keep only the last state of such a line.
    auto cr = line.find_last_of('\r', line.size() >= 2 ? line.size() - 2 : 0);
    if (cr != std::string::npos && cr + 1 < line.size()) line = line.substr(cr + 1);
    lines.push_back(line);
    if (static_cast<int>(lines.size()) > max_lines) lines.pop_front();
  }
  std::string out;
  for (const auto& l : lines) out += (out.empty() ? "" : "\n") + l;
  return out;
}

std::string child_error(const std::string& tail) {
  const std::string prefix = "ppgkd: error: ";
  std::string last, error;
  size_t start = 0;
  while (start < tail.size()) {
    size_t end = tail.find('\n', start);
    if (end == std::string::npos) end = tail.size();
    const std::string line = tail.substr(start, end - start);
    if (line.find_first_not_of(" \t\r") != std::string::npos) last = line;
    if (line.rfind(prefix, 0) == 0) error = line.substr(prefix.size());
    start = end + 1;
  }
  return error.empty() ? last : error;
}

namespace {

// model.json with test metrics, or null with the reason in *why: read as a ModelRecord, so a
// missing or mistyped field is one line naming the file and the field.
nlohmann::json read_result(const std::string& run_dir, std::string* why) {
  const std::string path = run_dir + "/model.json";
  if (!std::filesystem::exists(path)) {
    *why = path + " is missing";
    return nullptr;
  }
  try {
    auto j = nlohmann::json::parse(read_file(path));
    ModelRecord::from_json(j, path).test_metrics(path);
    return j;
  } catch (const nlohmann::json::exception& e) {
    *why = path + ": not valid JSON: " + e.what();
  } catch (const std::exception& e) {
    *why = e.what();
  }
  return nullptr;
}

void write_marker(const std::string& run_dir, double wall_s) {
  nlohmann::json m = {{"completed", true}, {"wall_s", wall_s}};
  write_file_atomic(run_dir + "/sweep_done.json", m.dump() + "\n");
}

}  // namespace

RunResult collect_run(const std::string& run_dir, int wait_status, double wall_s,
                      const std::string& log_path) {
  RunResult r;
  if (!(WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0)) {
    r.error = describe_wait_status(wait_status);
    const auto tail = tail_lines(log_path, 5);
    // The first line is what a failure line and `sweep status` show: put the child's own error
    // there (its "ppgkd: error: ..." line, else its last line), the log's tail below.
    const std::string why = child_error(tail);
    if (!why.empty()) r.error += ": " + why;
    if (!tail.empty()) r.error += "; log " + log_path + " ends:\n" + tail;
    return r;
  }
  std::string why;
  r.model_json = read_result(run_dir, &why);
  if (r.model_json.is_null()) {
    r.error = "the run exited 0 but " + why;
    return r;
  }
  write_marker(run_dir, wall_s);
  r.ok = true;
  return r;
}

RunResult collect_group_member(const std::string& run_dir, int wait_status, double wall_s,
                               const std::string& log_path) {
  RunResult r;
  std::string why;
  r.model_json = read_result(run_dir, &why);
  if (!r.model_json.is_null()) {
    write_marker(run_dir, wall_s);
    r.ok = true;
    return r;
  }
  const std::string err = run_dir + "/group_error.txt";
  if (std::filesystem::exists(err)) {
    r.error = read_file(err);
    while (!r.error.empty() && r.error.back() == '\n') r.error.pop_back();
    return r;
  }
  r.error = "group " + describe_wait_status(wait_status) + " and " + why;
  const auto tail = tail_lines(log_path, 5);
  if (!tail.empty()) r.error += "; log " + log_path + " ends:\n" + tail;
  return r;
}

RunResult harvest_run(const std::string& run_dir) {
  RunResult r;
  std::string why;
  r.model_json = read_result(run_dir, &why);
  if (r.model_json.is_null()) return r;
  if (!std::filesystem::exists(run_dir + "/sweep_done.json")) write_marker(run_dir, 0.0);
  r.ok = true;
  return r;
}

bool pid_alive(int64_t pid) {
  if (pid <= 0) return false;
  if (::kill(static_cast<pid_t>(pid), 0) == 0) return true;
  return errno == EPERM;  // exists, owned by someone else
}

}  // namespace ppgkd
