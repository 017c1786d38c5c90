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
      : std::runtime_error(where.empty() ? what : where + ": " + what), where_(where), what_(what) {}

  const std::string& where() const { return where_; }
  const std::string& problem() const { return what_; }

 private:
  std::string where_;
  std::string what_;
};

}  // namespace ppgkd
