// Errors are values with a location: "where: what". Library code throws ppgkd::Error and never
// exits; the CLI prints "ppgkd: error: <where>: <what>" and returns non-zero.
#pragma once

#include <stdexcept>
#include <string>

namespace ppgkd {

class Error : public std::runtime_error {
 public:
  // `where` is a file path (optionally "path:line") or a component name; `what` says what is wrong.
  Error(const std::string& where, const std::string& what)
      : std::runtime_error(where.empty() ? what : where + ": " + what),
        where_(where),
        what_(what) {}

  const std::string& where() const { return where_; }
  const std::string& problem() const { return what_; }

 private:
  std::string where_;
  std::string what_;
};

// A run stopped by a signal after saving what it needs to continue; the CLI exits with
// 128 + signal (130 for SIGINT), as a shell reports a process the signal killed.
class Interrupted : public Error {
 public:
  Interrupted(const std::string& where, const std::string& what, int signal)
      : Error(where, what), signal_(signal) {}
  int signal() const { return signal_; }

 private:
  int signal_;
};

}  // namespace ppgkd
