// The context every result carries: schema version, date, host, thread count, git commit and
// library versions (the google/benchmark json_reporter habit).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace ppgkd {

// {"schema": 1, "date": ISO-8601 UTC, "host": ..., "git_commit": ..., "ppgkd_version": ...}
nlohmann::json run_context();

// The git commit the binary was built from ("unknown" outside a checkout).
std::string git_commit();

// Default real-data root: $PPGKD_DATA, else ../shared/data relative to the source tree.
std::string default_data_root();

}  // namespace ppgkd
