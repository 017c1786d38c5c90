// `ppgkd recommend --sweep DIR --max-bytes B [--max-macs M] [--precision int8|f32]`: the best
// strategy and student size under a memory (and compute) budget, from the measured runs and the
// fitted law. The work is in analysis/sweep_report.
#include <cstdio>
#include <memory>

#include "analysis/sweep_report.h"
#include "cli/commands.h"

namespace ppgkd::cli {

void setup_recommend(CLI::App& app) {
  auto dir = std::make_shared<std::string>();
  auto b = std::make_shared<Budget>();
  auto precision = std::make_shared<std::string>("int8");
  auto n_boot = std::make_shared<int>(1000);
  auto* sub = app.add_subcommand("recommend", "Best strategy and size under a memory budget");
  sub->add_option("--sweep", *dir, "Sweep directory (holds sweep.db)")
      ->required()
      ->check(CLI::ExistingDirectory);
  sub->add_option("--max-bytes", b->max_bytes, "Weight bytes available")
      ->required()
      ->check(CLI::PositiveNumber);
  sub->add_option("--max-macs", b->max_macs, "Multiply-accumulates per window available")
      ->check(CLI::PositiveNumber);
  sub->add_option("--precision", *precision, "Which weight bytes the budget counts")
      ->check(CLI::IsMember({"int8", "f32"}))
      ->capture_default_str();
  sub->add_option("--bootstrap", *n_boot, "Bootstrap replicates (over subjects)")
      ->check(CLI::Range(10, 1000000))
      ->capture_default_str();
  sub->callback([dir, b, precision, n_boot] {
    b->int8 = *precision == "int8";
    std::fputs(recommend(load_sweep_results(*dir), *b, *n_boot, 1).text.c_str(), stdout);
  });
}

}  // namespace ppgkd::cli
