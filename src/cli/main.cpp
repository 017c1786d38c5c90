// ppgkd: one binary, one subcommand per job (exit statuses: run_app in commands.h).
#include "cli/commands.h"

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
  return ppgkd::cli::run_app(app, argc, argv);
}
