// `ppgkd validate --model DIR|spectral --data DIR --out DIR [...]`: the wearable-style validation
// report (analysis/validate_report.h): report.md, summary.json and PNG plots in --out. Takes the
// same estimate options as eval.
#include <cstdio>
#include <memory>

#include "analysis/validate_report.h"
#include "cli/commands.h"
#include "cli/estimate_options.h"

namespace ppgkd::cli {

namespace {

struct ValidateOptions {
  EstimateRequest req;
  std::string out;
};

void run_validate(const ValidateOptions& o) {
  const Estimates est = estimate(o.req);
  std::vector<ValidationWindow> ws;
  ws.reserve(est.rows.size());
  for (const auto& r : est.rows)
    ws.push_back({r.dataset, r.recording, r.subject, r.window, r.t_start_s, r.estimate_bpm,
                  r.reference_bpm});
  const ValidationSummary s = write_validation_report(o.out, ws, est.about);
  std::printf("wrote %s/report.md: %zu windows, MAE %.2f BPM, MAPE %.2f%%\n", o.out.c_str(),
              s.overall.windows, s.overall.mae_bpm, s.overall.mape_percent);
}

}  // namespace

void setup_validate(CLI::App& app) {
  auto o = std::make_shared<ValidateOptions>();
  CLI::App* sub = app.add_subcommand(
      "validate",
      "Validation report (Markdown + PNG): MAE, MAPE, Bland-Altman per subject and "
      "activity segment");
  add_estimate_options(sub, &o->req);
  sub->add_option("--out", o->out, "Report directory")->required();
  sub->callback([o] { run_validate(*o); });
}

}  // namespace ppgkd::cli
