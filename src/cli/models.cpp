// `ppgkd models [--inputs ppg|ppg+acc] [--json]`: the capacity ladders with their closed-form
// sizes. Every number comes from ModelSpec (no model is built).
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "data/preprocess.h"
#include "models/model_spec.h"

namespace ppgkd::cli {

namespace {

struct ModelsOptions {
  std::string inputs = "ppg+acc";
  bool json = false;
};

void run_models(const ModelsOptions& o) {
  PreprocessConfig pp;
  pp.inputs = o.inputs;
  nlohmann::json rows = nlohmann::json::array();
  if (!o.json)
    std::printf("inputs %s: C=%d, L=%d, K=180\n%-4s %-56s %10s %14s %12s\n", o.inputs.c_str(),
                pp.channels(), pp.length(), "rung", "spec", "params", "MACs/window", "f32 bytes");
  for (const auto* ladder : {&resnet_ladder(), &mlp_ladder()})
    for (const auto& r : *ladder) {
      auto s = ModelSpec::parse(r.spec, pp.channels(), pp.length());
      rows.push_back({{"name", r.name},
                      {"spec", r.spec},
                      {"params", s.num_params()},
                      {"macs", s.macs()},
                      {"weight_bytes_f32", s.weight_bytes_f32()}});
      if (!o.json)
        std::printf("%-4s %-56s %10lld %14lld %12lld\n", r.name.c_str(), r.spec.c_str(),
                    static_cast<long long>(s.num_params()), static_cast<long long>(s.macs()),
                    static_cast<long long>(s.weight_bytes_f32()));
    }
  if (o.json)
    std::printf("%s\n", nlohmann::json{{"inputs", o.inputs}, {"rungs", rows}}.dump(2).c_str());
}

}  // namespace

void setup_models(CLI::App& app) {
  auto opt = std::make_shared<ModelsOptions>();
  auto* sub = app.add_subcommand("models", "List the ResNet and MLP capacity ladders and sizes");
  sub->add_option("--inputs", opt->inputs, "Input channels the sizes are computed for")
      ->check(CLI::IsMember({"ppg", "ppg+acc"}));
  sub->add_flag("--json", opt->json, "Print JSON instead of a table");
  sub->callback([opt] { run_models(*opt); });
}

}  // namespace ppgkd::cli
