// The demo's model stages: a small capacity x strategy sweep on the synthetic windows, run by the
// same sweep runner and report as a real study (each run a child process of this binary), then
// the teacher against the FFT peak picker where motion makes the spectrum lie.
//   4. sweep    teacher, ResNet and MLP students, none/hard/soft/dkd/feature, 1 fold
//   5. motion   the teacher's MAE at rest and in motion on its test subjects
//   6. report   fitted scaling laws, gains, memory — report.md + PNGs
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "analysis/sweep_report.h"
#include "baseline/spectral.h"
#include "cli/demo_stages.h"
#include "common/atomic_file.h"
#include "common/error.h"
#include "data/synthetic/synthetic.h"
#include "sweep/runner.h"
#include "train/inference.h"
#include "train/model_dir.h"

namespace ppgkd::cli {

namespace {

// Small enough for a laptop-minute per run on 2 cores; big enough that sizes differ.
nlohmann::json demo_plan(const DemoOptions& opt, const std::string& cache) {
  using nlohmann::json;
  return json{
      {"name", "demo"},
      {"data", "synthetic:" + std::to_string(opt.seed)},
      {"inputs", "ppg+acc"},
      {"cache", cache},
      {"folds", 4},
      {"fold_list", {0}},
      {"seeds", {1}},
      {"train", {{"epochs", 12}, {"batch", 128}, {"patience", 0}}},
      {"teacher_train", {{"epochs", 40}}},
      {"teachers", {"r4"}},
      {"students", {{"resnet", {"r1", "r2", "r3"}}, {"mlp", {"m1", "m2", "m3"}}}},
      {"strategies",
       {{{"name", "none"}},
        {{"name", "hard"}},
        {{"name", "soft"}},
        {{"name", "dkd"}},
        {{"name", "feature"}}}},
  };
}

// The teacher's run directory: the plan's only teacher run.
std::string teacher_dir(const SweepOptions& options) {
  SweepSession session = open_sweep(options);
  for (const PlannedRun& run : session.runs)
    if (run.kind == "teacher") return options.out_dir + "/runs/" + run.key;
  return "";
}

void motion_comparison(const DemoOptions& opt, const std::string& dir, const WindowSet& ws) {
  LoadedModel model = load_model_dir(dir);
  std::vector<size_t> rows = ws.rows_of_subjects(model.record.test_subjects);
  std::vector<double> est = predict_bpm(*model.net, ws, rows, 256);

  SyntheticConfig syn;
  syn.seed = opt.seed;
  std::vector<Recording> recs = make_synthetic(syn);
  std::vector<std::vector<double>> fft(recs.size());
  for (size_t r = 0; r < recs.size(); ++r) fft[r] = spectral_hr(recs[r], spectral_plain_config());

  double model_err[2] = {0, 0}, fft_err[2] = {0, 0};
  size_t n[2] = {0, 0};
  for (size_t i = 0; i < rows.size(); ++i) {
    const size_t row = rows[i];
    const Recording& rec = recs[ws.recording[row]];
    // The WindowSet keeps every labelled window, so its k-th window of a recording is rec.windows'
    // entry with the same index.
    size_t w = 0;
    while (rec.windows[w].index != ws.window[row]) ++w;
    const int motion = synthetic_window_in_motion(rec, rec.windows[w].t_start_s) ? 1 : 0;
    model_err[motion] += std::fabs(est[i] - ws.hr[row]);
    fft_err[motion] += std::fabs(fft[ws.recording[row]][w] - ws.hr[row]);
    n[motion] += 1;
  }
  std::printf("== 5. motion: teacher (%s) vs FFT peak on the teacher's %zu test windows\n",
              model.record.spec.c_str(), rows.size());
  std::printf("%-28s %8s %8s\n", "estimator (MAE, BPM)", "rest", "motion");
  std::printf("%-28s %8.2f %8.2f\n", "FFT peak (plain)", fft_err[0] / std::max<size_t>(n[0], 1),
              fft_err[1] / std::max<size_t>(n[1], 1));
  std::printf("%-28s %8.2f %8.2f\n\n", "ResNet1D teacher", model_err[0] / std::max<size_t>(n[0], 1),
              model_err[1] / std::max<size_t>(n[1], 1));
}

}  // namespace

void run_demo_model_stages(const DemoOptions& opt, const WindowSet& ws) {
  const std::string sweep_dir = opt.out + "/sweep";
  const std::string plan_path = opt.out + "/plan.json";
  write_file_atomic(plan_path, demo_plan(opt, opt.out + "/cache").dump(2) + "\n");

  std::printf("== 4. sweep: teacher r4; students r1-r3, m1-m3; none/hard/soft/dkd/feature\n");
  SweepOptions options;
  options.plan_path = plan_path;
  options.out_dir = sweep_dir;
  options.executable = "/proc/self/exe";
  options.jobs = opt.threads;
  SweepOutcome outcome = run_sweep_local(options);
  std::printf("%zu runs done, %zu failed (%zu executed now; a rerun reuses finished runs)\n\n",
              outcome.done, outcome.failed, outcome.executed);
  if (outcome.failed > 0)
    throw Error(sweep_dir, std::to_string(outcome.failed) +
                               " runs failed; see `ppgkd sweep status --out " + sweep_dir + "`");

  motion_comparison(opt, teacher_dir(options), ws);

  std::printf("== 6. report: scaling laws, gains over scratch, memory\n");
  ReportOptions report;
  report.n_boot = 200;
  std::string path = write_sweep_report(sweep_dir, report);
  std::printf("report: %s\n", path.c_str());
}

}  // namespace ppgkd::cli
