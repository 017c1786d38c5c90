// Shared test helpers: real-data gating and scratch directories.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>

#include "common/error.h"
#include "common/run_record.h"

namespace ppgkd::testing {

// The real data root (../shared/data or $PPGKD_DATA), or "" when absent.
inline std::string real_data_root() {
  std::string root = default_data_root();
  return std::filesystem::is_directory(root) ? root : "";
}

// A fresh, empty directory under the system temp dir, unique per test.
inline std::string scratch_dir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = std::string("ppgkd_") + info->test_suite_name() + "_" + info->name();
  auto dir = std::filesystem::temp_directory_path() / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

// The message of the ppgkd::Error that f throws, or "(no error)" when it throws none.
inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace ppgkd::testing

// Skips (visibly) when the real data is absent, or fails when PPGKD_REQUIRE_DATA=1 (CI).
#define PPGKD_NEED_REAL_DATA(root_var)                                               \
  std::string root_var = ::ppgkd::testing::real_data_root();                         \
  if (root_var.empty()) {                                                            \
    const char* req = std::getenv("PPGKD_REQUIRE_DATA");                             \
    if (req && std::string(req) == "1")                                              \
      FAIL() << "real data required but absent at " << ::ppgkd::default_data_root(); \
    GTEST_SKIP() << "real data absent at " << ::ppgkd::default_data_root()           \
                 << " (set PPGKD_DATA); skipping";                                   \
  }
