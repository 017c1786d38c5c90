// `ppgkd ensemble --members DIR1,DIR2,... --out DIR`: trained models of one fold (several seeds,
// or several specs) as one ensemble model directory (the mean of the members' posteriors). All the
// work is in train/ensemble.h; this file parses and prints.
#include "train/ensemble.h"

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"

namespace ppgkd::cli {

namespace {

struct EnsembleOptions {
  std::vector<std::string> members;
  std::string out;
};

void run_ensemble(const EnsembleOptions& o) {
  const nlohmann::json j = build_ensemble(o.members, o.out);
  std::printf("ensemble of %zu members written to %s\n  spec %s, %lld params\n", o.members.size(),
              o.out.c_str(), j["spec"].get<std::string>().c_str(), j["params"].get<long long>());
}

}  // namespace

void setup_ensemble(CLI::App& app) {
  auto o = std::make_shared<EnsembleOptions>();
  CLI::App* sub = app.add_subcommand(
      "ensemble",
      "Combine trained models of one fold (several seeds or specs) into an ensemble model dir");
  sub->add_option("--members", o->members,
                  "Comma-separated member model directories (same input shape, preprocessing, "
                  "class map and test subjects; specs may differ; at least 2)")
      ->required()
      ->delimiter(',');
  sub->add_option("--out", o->out, "Output model directory")->required();
  sub->callback([o] { run_ensemble(*o); });
}

}  // namespace ppgkd::cli
