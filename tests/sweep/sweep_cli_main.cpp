// The sweep, report and recommend subcommands without the rest of ppgkd (no libtorch), so the
// process-level sweep tests run the real command-line code with a fake child. Mirrors main.cpp.
#include <cstdio>

#include "cli/commands.h"
#include "common/error.h"

namespace ppgkd::cli {
// The driver's children are fakes (fake_child.cpp): there are no real options to check.
void check_child_command(const std::vector<std::string>&) {}
}  // namespace ppgkd::cli

int main(int argc, char** argv) {
  CLI::App app{"ppgkd (sweep commands only; test driver)"};
  app.require_subcommand(1);
  ppgkd::cli::setup_sweep(app);
  ppgkd::cli::setup_report(app);
  ppgkd::cli::setup_recommend(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; any other parse error is a usage error: 2, never CLI11's own
    // codes (104-114).
    return app.exit(e) == 0 ? 0 : 2;
  } catch (const ppgkd::Interrupted& e) {
    std::fprintf(stderr, "ppgkd: error: %s\n", e.what());
    return 128 + e.signal();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ppgkd: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
