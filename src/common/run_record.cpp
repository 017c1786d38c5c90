#include "common/run_record.h"

#include <unistd.h>

#include <cstdlib>
#include <ctime>

#ifndef PPGKD_GIT_COMMIT
#define PPGKD_GIT_COMMIT "unknown"
#endif
#ifndef PPGKD_SOURCE_DIR
#define PPGKD_SOURCE_DIR "."
#endif
#ifndef PPGKD_VERSION
#define PPGKD_VERSION "0.0.0"
#endif

namespace ppgkd {

std::string git_commit() { return PPGKD_GIT_COMMIT; }

std::string default_data_root() {
  if (const char* env = std::getenv("PPGKD_DATA")) return env;
  return std::string(PPGKD_SOURCE_DIR) + "/../shared/data";
}

nlohmann::json run_context() {
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  std::time_t now = std::time(nullptr);
  char date[32];
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  return {{"schema", 1},
          {"date", date},
          {"host", host},
          {"git_commit", git_commit()},
          {"ppgkd_version", PPGKD_VERSION}};
}

}  // namespace ppgkd
