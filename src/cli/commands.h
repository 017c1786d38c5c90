// One function per subcommand: it registers the subcommand, its options and its callback on the
// top-level app. Each lives in its own file (data.cpp, train.cpp, ...).
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace ppgkd::cli {

// Parses argv into app and runs the chosen subcommand. Returns the process's exit status: 0, 2
// for a usage error (never CLI11's own codes), 128 + the signal for an interrupted run, and 1
// for any other error, printed as "ppgkd: error: <what>" (run_app.cpp).
int run_app(CLI::App& app, int argc, char** argv);

void setup_data(CLI::App& app);
void setup_demo(CLI::App& app);
// The sweep's report and budget advice read its store: no libtorch, built in every configuration.
void setup_report(CLI::App& app);
void setup_recommend(CLI::App& app);
#ifdef PPGKD_WITH_TORCH
void setup_models(CLI::App& app);
void setup_train(CLI::App& app);
void setup_pretrain(CLI::App& app);
void setup_eval(CLI::App& app);
void setup_predict(CLI::App& app);
void setup_validate(CLI::App& app);
void setup_distill(CLI::App& app);
void setup_group(CLI::App& app);
void setup_ensemble(CLI::App& app);
void setup_export(CLI::App& app);
void setup_sweep(CLI::App& app);

// Checks a sweep child's command line (`train ...` or `distill ...`, as the sweep runs it) the way
// the child would before doing any work, without running it: options CLI11 rejects, the training
// and distillation configs, the model spec. Throws Error("child options", ...) or the child's own
// Error. (train.cpp; the sweep test driver, whose children are fakes, checks nothing.)
void check_child_command(const std::vector<std::string>& args);
// `distill` with a callback that only checks its options (for check_child_command).
void setup_distill_check(CLI::App& app);
#endif

}  // namespace ppgkd::cli
