// Runs the ppgkd binary (PPGKD_BIN, set by the build) as a child process, for end-to-end tests.
#pragma once

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

namespace ppgkd::testing {

struct RunResult {
  int status = -1;
  std::string out;
};

// Runs `ppgkd args` through the shell; stdout captured, stderr to err_file.
inline RunResult run(const std::string& args, const std::string& err_file) {
  RunResult r;
  const std::string cmd = std::string(PPGKD_BIN) + " " + args + " 2>" + err_file;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

// Starts `ppgkd args` without waiting (no shell: the pid is ppgkd's own, for signals); stdout to
// /dev/null, stderr to err_file. Returns the pid, or -1 when fork fails.
inline pid_t spawn(const std::vector<std::string>& args, const std::string& err_file) {
  std::vector<char*> argv = {const_cast<char*>(PPGKD_BIN)};
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  const int out = ::open("/dev/null", O_WRONLY),
            err = ::open(err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ::dup2(out, 1);
  ::dup2(err, 2);
  ::execv(PPGKD_BIN, argv.data());
  ::_exit(127);
}

// Waits for a spawned child: its exit status, or -1 when a signal killed it.
inline int wait_exit(pid_t pid) {
  int st = 0;
  if (::waitpid(pid, &st, 0) != pid) return -1;
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

}  // namespace ppgkd::testing
