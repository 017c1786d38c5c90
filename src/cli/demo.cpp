// `ppgkd demo`: the whole pipeline on the embedded synthetic dataset, small and fast.
//   1. data      generate the synthetic default, summarise it
//   2. windows   preprocess to 25 Hz windows through the cache
//   3. baseline  the spectral (FFT) estimator, plain and tracked, at rest and in motion
//   4. models    (libtorch builds) teacher, students with every strategy, report — demo_models.cpp
// Everything lands under --out; the last line says where the report is.
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "baseline/spectral.h"
#include "cli/commands.h"
#include "cli/demo_stages.h"
#include "cli/summary.h"
#include "data/cache.h"
#include "data/synthetic/synthetic.h"

namespace ppgkd::cli {

namespace {

struct RestMotionMae {
  double rest = 0, motion = 0;
  size_t n_rest = 0, n_motion = 0;
};

RestMotionMae spectral_mae(const std::vector<Recording>& recs, const SpectralConfig& cfg) {
  RestMotionMae m;
  for (const Recording& rec : recs) {
    std::vector<double> est = spectral_hr(rec, cfg);
    for (size_t i = 0; i < rec.windows.size(); ++i) {
      double err = std::fabs(est[i] - rec.windows[i].hr_bpm);
      if (synthetic_window_in_motion(rec, rec.windows[i].t_start_s)) {
        m.motion += err;
        m.n_motion += 1;
      } else {
        m.rest += err;
        m.n_rest += 1;
      }
    }
  }
  if (m.n_rest) m.rest /= m.n_rest;
  if (m.n_motion) m.motion /= m.n_motion;
  return m;
}

void run_demo(const DemoOptions& opt) {
  std::printf("== 1. data: synthetic default (seed %llu)\n",
              static_cast<unsigned long long>(opt.seed));
  SyntheticConfig syn;
  syn.seed = opt.seed;
  std::vector<Recording> recs = make_synthetic(syn);
  std::printf("%s\n", data_summary_text("synthetic:" + std::to_string(opt.seed), recs).c_str());

  std::printf("== 2. windows: 25 Hz, 8 s / 2 s, ppg+acc, through the cache\n");
  PreprocessConfig pre;
  CacheInfo cache;
  WindowSet ws = load_windows("synthetic:" + std::to_string(opt.seed), pre, opt.out + "/cache", &cache);
  std::printf("%zu windows of %d x %d; cache %s (%s)\n\n", ws.size(), ws.channels, ws.length,
              cache.hit ? "hit" : "built", cache.path.c_str());

  std::printf("== 3. baseline: spectral heart rate, MAE in BPM over windows\n");
  RestMotionMae plain = spectral_mae(recs, spectral_plain_config());
  RestMotionMae tracked = spectral_mae(recs, SpectralConfig{});
  std::printf("%-28s %8s %8s\n", "estimator", "rest", "motion");
  std::printf("%-28s %8.2f %8.2f\n", "FFT peak (plain)", plain.rest, plain.motion);
  std::printf("%-28s %8.2f %8.2f\n", "FFT tracker + accelerometer", tracked.rest, tracked.motion);
  std::printf("(%zu rest windows, %zu motion windows)\n\n", plain.n_rest, plain.n_motion);

  run_demo_model_stages(opt, ws);
}

}  // namespace

void setup_demo(CLI::App& app) {
  auto opt = std::make_shared<DemoOptions>();
  CLI::App* sub = app.add_subcommand("demo", "Run the pipeline on the embedded synthetic dataset");
  sub->add_option("--out", opt->out, "Output folder")->capture_default_str();
  sub->add_option("--seed", opt->seed, "Synthetic dataset seed")->capture_default_str();
  sub->add_option("--threads", opt->threads, "Threads for training")->capture_default_str();
  sub->callback([opt] { run_demo(*opt); });
}

}  // namespace ppgkd::cli
