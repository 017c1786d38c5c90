// `ppgkd eval --model DIR|spectral --data DIR [...]`: metrics of per-window heart-rate estimates
// as JSON on stdout (or --out): MAE (subject-averaged), RMSE, Pearson r, share within 5 BPM,
// MAPE, Bland–Altman, per-subject and per-dataset MAE, the window count, and what was evaluated
// ("held_out": false and a "warning" when a subject was in the model's training data). The work is
// in eval/estimates.h and train/metrics; this file formats.
#include <cstdio>
#include <memory>

#include "cli/commands.h"
#include "cli/estimate_options.h"
#include "common/atomic_file.h"
#include "common/run_record.h"
#include "train/metrics.h"

namespace ppgkd::cli {

namespace {

struct EvalOptions {
  EstimateRequest req;
  std::string out;
};

void run_eval(const EvalOptions& o) {
  const Estimates est = estimate(o.req);
  std::vector<WindowEstimate> ws;
  ws.reserve(est.rows.size());
  for (const auto& r : est.rows)
    ws.push_back({r.estimate_bpm, r.reference_bpm, r.subject, r.dataset});
  const HrMetrics m = compute_metrics(ws);
  nlohmann::json j = est.about;
  j["metrics"] = to_json(m);
  j["windows"] = m.windows;
  j["context"] = run_context();
  const std::string text = j.dump(2) + "\n";
  if (o.out.empty()) {
    std::fwrite(text.data(), 1, text.size(), stdout);
  } else {
    write_file_atomic(o.out, text);
  }
}

}  // namespace

void setup_eval(CLI::App& app) {
  auto o = std::make_shared<EvalOptions>();
  CLI::App* sub = app.add_subcommand("eval",
                                     "Heart-rate metrics of a model (or the spectral "
                                     "baseline) on a dataset, as JSON");
  add_estimate_options(sub, &o->req);
  sub->add_option("--out", o->out, "Write the JSON here (atomically) instead of stdout");
  sub->callback([o] { run_eval(*o); });
}

}  // namespace ppgkd::cli
