// `ppgkd recommend --sweep DIR --max-bytes B [--max-macs M] [--precision int8|f32] [--json]`: the
// best strategy and student size under a memory (and compute) budget, from the measured runs and
// the fitted law. The work is in analysis/sweep_report.
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "analysis/sweep_report.h"
#include "cli/commands.h"

namespace ppgkd::cli {

namespace {

nlohmann::json cell_json(const SweepCell& c) {
  return {{"family", c.family},     {"strategy", c.strategy},   {"teacher_model", c.teacher_model},
          {"model", c.model},       {"spec", c.spec},           {"params", c.params},
          {"macs", c.macs},         {"bytes_f32", c.bytes_f32}, {"bytes_int8", c.bytes_int8},
          {"mae_bpm", c.mae_bpm},   {"seeds", c.seeds},         {"folds", c.folds},
          {"sd_seeds", c.sd_seeds}, {"sd_folds", c.sd_folds},   {"runs", c.runs}};
}

// The recommendation's facts as JSON: {"budget", "found", "best" (null when none), "mae_ci",
// "alternatives", "law" (null when no law could be fitted)}; NaN spreads are null.
nlohmann::json recommendation_json(const Recommendation& r, const Budget& b) {
  nlohmann::json j = {{"budget",
                       {{"max_bytes", b.max_bytes},
                        {"max_macs", b.max_macs},
                        {"precision", b.int8 ? "int8" : "f32"}}},
                      {"found", r.found}};
  j["best"] = j["mae_ci"] = j["law"] = nullptr;
  j["alternatives"] = nlohmann::json::array();
  if (!r.found) return j;
  j["best"] = cell_json(r.best);
  j["mae_ci"] = {{"lo", r.mae_ci.lo}, {"hi", r.mae_ci.hi}};
  for (const SweepCell& c : r.alternatives) j["alternatives"].push_back(cell_json(c));
  if (r.law_ok)
    j["law"] = {{"params", r.law_params},
                {"mae_bpm", r.law_mae},
                {"ci", {{"lo", r.law_ci.lo}, {"hi", r.law_ci.hi}}},
                {"extrapolates", r.law_extrapolates}};
  return j;
}

}  // namespace

void setup_recommend(CLI::App& app) {
  auto dir = std::make_shared<std::string>();
  auto b = std::make_shared<Budget>();
  auto precision = std::make_shared<std::string>("int8");
  auto n_boot = std::make_shared<int>(1000);
  auto json = std::make_shared<bool>(false);
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
  sub->add_flag("--json", *json, "Print JSON instead of text");
  sub->callback([dir, b, precision, n_boot, json] {
    b->int8 = *precision == "int8";
    const Recommendation rec = recommend(load_sweep_results(*dir), *b, *n_boot, 1);
    const std::string out = *json ? recommendation_json(rec, *b).dump(2) + "\n" : rec.text;
    std::fputs(out.c_str(), stdout);
  });
}

}  // namespace ppgkd::cli
