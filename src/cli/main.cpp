// ppgkd: one binary, one subcommand per job. Errors from the library arrive as ppgkd::Error and
// leave as "ppgkd: error: <where>: <what>" with exit status 1; usage errors exit with 2; a run
// interrupted by a signal exits with 128 + the signal (130 for SIGINT).
#include <cstdio>
#include <exception>
#include <string>

#include "cli/commands.h"
#include "common/error.h"

int main(int argc, char** argv) {
  CLI::App app{"ppgkd: knowledge distillation of PPG heart-rate models, down to a microcontroller"};
  app.require_subcommand(1);
  app.set_version_flag("--version", PPGKD_VERSION_STRING);
  ppgkd::cli::setup_data(app);
  ppgkd::cli::setup_demo(app);
#ifdef PPGKD_WITH_TORCH
  ppgkd::cli::setup_models(app);
  ppgkd::cli::setup_train(app);
  ppgkd::cli::setup_pretrain(app);
  ppgkd::cli::setup_eval(app);
  ppgkd::cli::setup_predict(app);
  ppgkd::cli::setup_validate(app);
  ppgkd::cli::setup_distill(app);
  ppgkd::cli::setup_group(app);
  ppgkd::cli::setup_ensemble(app);
  ppgkd::cli::setup_export(app);
  ppgkd::cli::setup_sweep(app);
#endif
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
