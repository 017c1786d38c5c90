// A small, defensive reader of numeric 2-D arrays from MATLAB .mat files over libmatio.
//
// It is not a general MAT-file API: it reads real, non-sparse numeric (or logical) arrays of
// rank <= 2 and converts them to double. libmatio trusts the file it is given, so before handing
// a v5 file to it we walk the top-level element tags ourselves and reject a file whose header is
// wrong or whose elements run past its end; libmatio's own log output is captured, never printed.
// Every failure is a ppgkd::Error whose `where` is the file path.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace ppgkd {

// A rows x cols array in column-major order (MATLAB's), converted to double.
struct MatArray {
  std::string name;
  size_t rows = 0;
  size_t cols = 0;
  std::vector<double> data;  // data[r + c * rows]

  double at(size_t r, size_t c) const { return data[r + c * rows]; }
  size_t numel() const { return rows * cols; }
  bool is_vector() const { return rows == 1 || cols == 1; }
  std::string shape() const;  // "6x37937"
};

class MatFile {
 public:
  // Opens and validates `path`; throws Error(path, ...) when it is missing, unreadable, not a
  // MAT-file, or truncated.
  explicit MatFile(const std::string& path);
  ~MatFile();
  MatFile(const MatFile&) = delete;
  MatFile& operator=(const MatFile&) = delete;

  const std::string& path() const { return path_; }
  const std::vector<std::string>& variables() const { return names_; }
  bool has(const std::string& name) const;

  // Reads variable `name`. Errors: "missing variable 'x'", "variable 'x' is not a real numeric
  // array", "variable 'x' has N dimensions, expected 2", "cannot read variable 'x' (...)".
  MatArray read(const std::string& name) const;

 private:
  struct Impl;
  std::string path_;
  std::unique_ptr<Impl> impl_;
  std::vector<std::string> names_;
};

}  // namespace ppgkd
