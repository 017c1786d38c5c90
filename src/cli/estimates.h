// What `ppgkd eval` and `ppgkd validate` share: per-window heart-rate estimates of a model
// directory (libtorch or the edge runtime, with a temporal decoder) or of the classical spectral
// tracker, on the chosen subjects of a dataset, with a JSON description of what was evaluated.
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/preprocess.h"
#include "decode/cadence.h"

namespace ppgkd::cli {

// Accelerometer-aware decoding (issue 11, decode/cadence.h): each window's motion cadence from
// its acc channels (from a separate ppg+acc windowing when the model reads PPG only), and the
// emission penalty at the cadence and its second harmonic in every decoder ("window" penalises
// the posterior before decode_bpm). Off by default.
struct AccAwareOptions {
  bool enabled = false;
  double depth = kCadenceDepth;         // penalty depth in [0, 1)
  double width_bpm = kCadenceWidthBpm;  // gaussian width of the penalty, BPM
  double min_share = kCadenceMinShare;  // cadence only when its peak holds this power share
  bool half = false;                    // also penalise half the cadence
  CadencePenalty penalty() const { return {enabled ? depth : 0.0, width_bpm, half}; }
  nlohmann::json to_json() const;  // the settings, for "about"
};

// Registers --acc-aware, --acc-depth, --acc-width, --acc-min-share, --acc-half (eval, validate,
// predict).
void add_acc_options(CLI::App* sub, AccAwareOptions* acc);

// Per-window cadences (BPM, 0 = none) of `rows` of ws; when ws has no acc channels, from
// `acc_ws` (the same data windowed "ppg+acc"; null: none), matched by recording name and window
// index. *from (optional) says which.
std::vector<double> row_cadences(const WindowSet& ws, const std::vector<size_t>& rows,
                                 const WindowSet* acc_ws, double fs, double min_share,
                                 std::string* from = nullptr);

struct EstimateRequest {
  std::string model;                  // model directory, or "spectral"
  std::string data;                   // dataset root, or synthetic[:SEED]
  std::vector<std::string> subjects;  // empty: all (or the fold's test subjects with fold_test)
  bool fold_test = false;
  std::string runtime = "torch";  // torch | edge-f32 | edge-int8
  std::string decode = "window";  // window | online | offline | viterbi
  double transition_scale = 0;    // Laplacian scale, BPM per step; 0 = fit on training labels
  double temperature = 1.0;       // emission tempering (prob^temperature)
  bool causal = false;            // causal filters (what the streaming predictor sees)
  std::string cache;              // window cache directory ("" = none)
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

// Decodes the (N, K) posteriors `prob` of `rows` of ws into BPM and confidence per row:
// "window" per window (decode_bpm), "online" / "offline" the HMM filter / smoother marginal, or
// "viterbi" the MAP path (confidence: the smoothed mass of the path's class). Each recording's
// rows form one chain; a gap of g windows widens that step's Laplacian prior by g. cadence: one
// value per row (BPM, 0 = none; empty = off) penalised as `penalty` says in every decoder.
void decode_rows(const std::string& how, double scale, double temperature, const WindowSet& ws,
                 const std::vector<size_t>& rows, const std::vector<double>& prob,
                 std::vector<double>* bpm, std::vector<double>* conf,
                 const std::vector<double>& cadence = {}, const CadencePenalty& penalty = {});

// The Laplacian transition scale (BPM per 2 s step) fitted on the labels of `subjects` in ws
// (fit_laplacian_scale); `train` and `distill` record it in model.json as
// extra.transition_scale_bpm, fitted on the fold's training subjects. Throws when none of them
// has a pair of consecutive labelled windows.
double transition_scale_of(const WindowSet& ws, const std::vector<std::string>& subjects);

// The scale a model's decoder uses when the data at hand holds none of its training subjects:
// the one recorded at training time, or kDefaultTransitionScaleBpm for a model that has none.
// `source` (may be null) says which.
double recorded_transition_scale(const nlohmann::json& model_info, std::string* source);

// Registers the options above on a subcommand (shared by eval and validate).
void add_estimate_options(CLI::App* sub, EstimateRequest* req);

}  // namespace ppgkd::cli
