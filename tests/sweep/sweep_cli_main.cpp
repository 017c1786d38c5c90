// The sweep, report and recommend subcommands without the rest of ppgkd (no libtorch), so the
// process-level sweep tests run the real command-line code with a fake child. Its main is
// main.cpp's with fewer subcommands.
#include "cli/commands.h"

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
  return ppgkd::cli::run_app(app, argc, argv);
}
