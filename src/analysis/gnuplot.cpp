// gnuplot runner (see gnuplot.h).
#include "analysis/gnuplot.h"

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "common/atomic_file.h"
#include "common/error.h"

namespace ppgkd {

std::string gnuplot_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("''") : std::string(1, c);
  return q + "'";
}

bool is_png_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char sig[8] = {};
  if (!in.read(sig, 8)) return false;
  static const unsigned char kPng[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  for (int i = 0; i < 8; ++i)
    if (static_cast<unsigned char>(sig[i]) != kPng[i]) return false;
  return true;
}

void run_gnuplot(const std::string& script_path, const std::string& script,
                 const std::string& png_path) {
  write_file_atomic(script_path, script);
  std::error_code ec;
  std::filesystem::remove(png_path, ec);
  // Shell quoting: single quotes, with ' written as '\''.
  std::string quoted = "'";
  for (char c : script_path) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  quoted += "'";
  const std::string log_path = script_path + ".log";
  std::string log_quoted = "'";
  for (char c : log_path) log_quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  log_quoted += "'";
  // gnuplot's messages go to a log beside the script, never to our stdout (which may carry JSON).
  const int status = std::system(("gnuplot " + quoted + " >" + log_quoted + " 2>&1").c_str());
  if (status == -1) throw Error(script_path, "cannot start gnuplot");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw Error(script_path, "gnuplot failed (exit status " +
                                 std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) +
                                 "; see " + log_path + ")");
  if (!is_png_file(png_path)) throw Error(png_path, "gnuplot did not write a PNG");
}

}  // namespace ppgkd
