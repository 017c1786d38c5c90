// `ppgkd report --sweep DIR [--edge-csv M4.csv]`: report.md, CSVs, PNG plots, paired comparisons
// (bootstrap CIs, Wilcoxon, Holm) and fitted scaling laws of a sweep, in DIR/report/, with the
// students' measured Cortex-M4 memory and instructions when given. The work is in
// analysis/sweep_report.
#include <cstdio>
#include <memory>

#include "analysis/sweep_report.h"
#include "cli/commands.h"

namespace ppgkd::cli {

void setup_report(CLI::App& app) {
  auto dir = std::make_shared<std::string>();
  auto o = std::make_shared<ReportOptions>();
  auto no_plots = std::make_shared<bool>(false);
  auto* sub = app.add_subcommand("report", "Tables, plots and fitted scaling laws of a sweep");
  sub->add_option("--sweep", *dir, "Sweep directory (holds sweep.db)")
      ->required()
      ->check(CLI::ExistingDirectory);
  sub->add_option("--bootstrap", o->n_boot,
                  "Bootstrap replicates (over subjects) of the scaling-law fits")
      ->check(CLI::Range(10, 1000000))
      ->capture_default_str();
  sub->add_option("--paired-bootstrap", o->n_boot_paired,
                  "Bootstrap replicates (over subjects) of each paired comparison's mean "
                  "difference")
      ->check(CLI::Range(10, 10000000))
      ->capture_default_str();
  sub->add_option("--seed", o->seed, "Seed of both bootstraps")->capture_default_str();
  sub->add_flag("--no-plots", *no_plots, "Skip the PNG plots (no gnuplot needed)");
  sub->add_option("--edge-csv", o->edge_csv,
                  "Cortex-M4 measurements (bench/m4_ladder.sh's m4_ladder.csv) to join to the "
                  "students by spec: int8 blob, flash, RAM, arena and instructions per inference "
                  "in the memory table")
      ->check(CLI::ExistingFile);
  sub->callback([dir, o, no_plots] {
    o->plots = !*no_plots;
    std::printf("%s\n", write_sweep_report(*dir, *o).c_str());
  });
}

}  // namespace ppgkd::cli
