// What `ppgkd eval` and `ppgkd validate` share: per-window heart-rate estimates of a model
// directory (libtorch or the edge runtime, with a temporal decoder) or of the classical spectral
// tracker, on the chosen subjects of a dataset, with a JSON description of what was evaluated.
// Not here: metrics (train/metrics.h), report writing (analysis/), command-line options (cli/).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/dsp/class_map.h"
#include "data/preprocess.h"
#include "decode/temporal.h"
#include "eval/acc_aware.h"

namespace ppgkd {

struct EstimateRequest {
  std::string model;                  // model directory, or "spectral"
  std::string data;                   // dataset root, or synthetic[:SEED]
  std::vector<std::string> subjects;  // empty: all (or the fold's test subjects with fold_test)
  bool fold_test = false;
  std::string runtime = "torch";  // torch | edge-f32 | edge-int8
  std::string decode = "window";  // window | online | offline | viterbi
  double transition_scale = 0;    // Laplacian scale, BPM per step; 0 = fit on training labels
  double temperature = kDefaultEmissionTemperature;  // emission tempering (prob^temperature)
  double jump = 0;  // probability per step that the HR resets (temporal.h)
  double window_smooth = kPosteriorSmoothBpm;  // per window: posterior smoothing sigma, BPM
  bool causal = false;                         // causal filters (what the streaming predictor sees)
  std::string cache;                           // window cache directory ("" = none)
  int threads = 1, batch = 256;
  AccAwareOptions acc;
};

struct EstimateRow {
  std::string dataset, recording, subject;
  int window = 0;
  double t_start_s = 0, estimate_bpm = 0, reference_bpm = 0, confidence = 0;
};

struct Estimates {
  std::vector<EstimateRow> rows;  // in recording then window order
  nlohmann::json about;           // model, data, runtime, decode, subjects, held-out labelling
};

// Throws ppgkd::Error on any bad input (unknown subject, --fold-test without a fold, ...).
Estimates estimate(const EstimateRequest& req);

// The Laplacian transition scale (BPM per 2 s step) fitted on the labels of `subjects` in ws
// (fit_laplacian_scale); `train` and `distill` record it in model.json as
// extra.transition_scale_bpm, fitted on the fold's training subjects. Throws when none of them
// has a pair of consecutive labelled windows.
double transition_scale_of(const WindowSet& ws, const std::vector<std::string>& subjects);

}  // namespace ppgkd
