// Runs the ppgkd binary (PPGKD_BIN, set by the build) as a child process, for end-to-end tests.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <string>

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

}  // namespace ppgkd::testing
