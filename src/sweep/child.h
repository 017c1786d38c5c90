// One run as a child process: spawning it (fork + exec, its own process group, killed with its
// parent, output appended to a log file) and turning its exit into a result: the run's
// model.json on success, an error text otherwise. A finished run directory carries a completion
// marker (sweep_done.json) written before the store records the run as done, so a sweep killed
// in between finds the result on restart instead of running it again. Not here: scheduling.
#pragma once

#include <sys/types.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ppgkd {

// Starts `exe args...` with stdout and stderr appended to log_path; returns the child's pid.
// The child gets SIGKILL if this process dies (so a killed sweep leaves no orphan that would
// race its own rerun) and runs in its own process group (a terminal's Ctrl-C reaches the sweep,
// which stops its children in order). Throws Error(log_path, ...) when the log cannot be opened
// or fork fails; a failed exec shows as exit status 127 with the reason in the log.
pid_t spawn_child(const std::string& exe, const std::vector<std::string>& args,
                  const std::string& log_path);

// "exit status 3", "killed by signal 9".
std::string describe_wait_status(int status);

// The last `max_lines` lines of a text file ("" when unreadable).
std::string tail_lines(const std::string& path, int max_lines);

struct RunResult {
  bool ok = false;
  nlohmann::json model_json;  // the run's model.json when ok
  std::string error;          // when not ok
};

// Judges a child that ended with `wait_status`: ok when it exited 0 and RUN_DIR/model.json reads as
// a ModelRecord (train/model_record.h) with test metrics, else the error names the file and the
// field; on success writes the completion marker RUN_DIR/sweep_done.json. A failure reads
// "exit status 1: <child_error of the log's tail>; log LOG ends:\n<the last 5 lines>".
RunResult collect_run(const std::string& run_dir, int wait_status, double wall_s,
                      const std::string& log_path);
// The child's own error in the tail of its log: its last "ppgkd: error: " line without that
// prefix, else its last non-blank line ("" for an empty tail).
std::string child_error(const std::string& tail);

// One member of a group child (`ppgkd group`, which trains several runs in one process) that
// ended with `wait_status`: ok when RUN_DIR/model.json holds test metrics, whatever the exit
// status (other members may have failed); else the member's RUN_DIR/group_error.txt, or the
// group's exit and the tail of its log. Writes the completion marker on success.
RunResult collect_group_member(const std::string& run_dir, int wait_status, double wall_s,
                               const std::string& log_path);

// A result left behind by an earlier sweep that died before recording it: RUN_DIR/model.json
// with test metrics (model.json is written atomically and last, so its presence means the child
// finished). Writes the marker when missing. ok = false when there is nothing to harvest.
RunResult harvest_run(const std::string& run_dir);

bool pid_alive(int64_t pid);

}  // namespace ppgkd
