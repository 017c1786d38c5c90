#include "common/atomic_file.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/error.h"

namespace ppgkd {

void write_file_atomic(const std::string& path, std::string_view bytes) {
  namespace fs = std::filesystem;
  fs::path target(path);
  if (target.has_parent_path()) {
    std::error_code ec;
    fs::create_directories(target.parent_path(), ec);
    if (ec) throw Error(path, "cannot create directory: " + ec.message());
  }
  // The pid in the name keeps concurrent writers (sweep workers) off each other's temporaries.
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) throw Error(path, std::string("cannot write: ") + std::strerror(errno));
  bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  ok = (std::fflush(f) == 0) && ok;
  ok = (::fsync(::fileno(f)) == 0) && ok;
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) {
    std::remove(tmp.c_str());
    throw Error(path, "write failed (disk full?)");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw Error(path, std::string("cannot rename temporary file: ") + std::strerror(errno));
  }
}

void write_file_set_atomic(const std::string& dir,
                           const std::vector<std::pair<std::string, std::string>>& files) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path target = fs::path(dir).lexically_normal();
  if (target.filename().empty()) target = target.parent_path();  // "out/" -> "out"
  const fs::path parent = target.has_parent_path() ? target.parent_path() : fs::path(".");
  for (const auto& [name, bytes] : files)
    if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..")
      throw Error(dir, "not a plain file name: '" + name + "'");
  fs::create_directories(parent, ec);
  if (ec) throw Error(parent.string(), "cannot create directory: " + ec.message());
  if (fs::exists(target, ec) && !fs::is_directory(target, ec))
    throw Error(dir, "exists and is not a directory");
  const std::string pid = std::to_string(::getpid());
  const std::string base = target.filename().string();
  const fs::path staging = parent / ("." + base + ".staging." + pid);
  const fs::path old = parent / ("." + base + ".old." + pid);
  fs::remove_all(staging, ec);
  fs::create_directory(staging, ec);
  if (ec) throw Error(staging.string(), "cannot create directory: " + ec.message());
  try {
    for (const auto& [name, bytes] : files) write_file_atomic((staging / name).string(), bytes);
  } catch (...) {
    fs::remove_all(staging, ec);
    throw;
  }
  if (!fs::exists(target)) {
    if (std::rename(staging.c_str(), target.c_str()) != 0) {
      const std::string why = std::strerror(errno);
      fs::remove_all(staging, ec);
      throw Error(dir, "cannot rename the staging directory into place: " + why);
    }
    return;
  }
  // Keep what the old directory holds besides the set (the set's names are replaced).
  for (const auto& entry : fs::directory_iterator(target, ec)) {
    const std::string name = entry.path().filename().string();
    bool in_set = false;
    for (const auto& f : files) in_set = in_set || f.first == name;
    if (!in_set && !fs::exists(staging / name)) {
      std::error_code lec;
      fs::create_hard_link(entry.path(), staging / name, lec);  // files: cheap, no copy
      if (lec) fs::copy(entry.path(), staging / name, fs::copy_options::recursive, lec);
      if (lec) {
        fs::remove_all(staging, ec);
        throw Error(entry.path().string(), "cannot carry over into the new set: " + lec.message());
      }
    }
  }
  if (std::rename(target.c_str(), old.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    fs::remove_all(staging, ec);
    throw Error(dir, "cannot move the old directory aside: " + why);
  }
  if (std::rename(staging.c_str(), target.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    std::rename(old.c_str(), target.c_str());  // put the old set back
    fs::remove_all(staging, ec);
    throw Error(dir, "cannot rename the staging directory into place: " + why);
  }
  fs::remove_all(old, ec);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path, "cannot open file");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw Error(path, "read failed");
  return ss.str();
}

}  // namespace ppgkd
