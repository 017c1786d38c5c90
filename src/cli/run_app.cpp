// Runs a parsed subcommand and turns what it throws into an exit status. Errors from the library
// arrive as ppgkd::Error and leave as "ppgkd: error: <where>: <what>" with exit status 1; usage
// errors exit with 2; a run interrupted by a signal exits with 128 + the signal (130 for SIGINT).
#include <cstdio>
#include <exception>
#include <string>

#include "cli/commands.h"
#include "common/error.h"

namespace ppgkd::cli {

int run_app(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; any other parse error is a usage error: 2, never CLI11's own
    // codes (104-114).
    return app.exit(e) == 0 ? 0 : 2;
  } catch (const ppgkd::Interrupted& e) {
    std::fprintf(stderr, "ppgkd: error: %s\n", e.what());
    return 128 + e.signal();
  } catch (const ppgkd::Error& e) {
    std::fprintf(stderr, "ppgkd: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    // Not ours (libtorch's errors carry a stack trace after their first line): the first line.
    const std::string what = e.what();
    std::fprintf(stderr, "ppgkd: error: %s\n", what.substr(0, what.find('\n')).c_str());
    return 1;
  }
  return 0;
}

}  // namespace ppgkd::cli
