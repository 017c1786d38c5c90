// Internal to ppgkd_eval (estimates.cpp and track.cpp): posteriors of a WindowSet's rows decoded
// into BPM, per window or along each recording's chain, with the accelerometer cadence penalty;
// the transition scale a model records. Shapes: N rows, K = 180 classes; posteriors are (N, K)
// row-major doubles.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/dsp/class_map.h"
#include "data/preprocess.h"
#include "decode/cadence.h"
#include "decode/temporal.h"
#include "train/model_record.h"

namespace ppgkd {

// Per-window cadences (BPM, 0 = none) of `rows` of ws; when ws has no acc channels, from
// `acc_ws` (the same data windowed "ppg+acc"; null: none), matched by recording name and window
// index. *from (optional) says which.
std::vector<double> row_cadences(const WindowSet& ws, const std::vector<size_t>& rows,
                                 const WindowSet* acc_ws, double fs, double min_share,
                                 std::string* from = nullptr);

// decode_rows' settings. The HMM decoders': the Laplacian scale (BPM per 2 s step), the emission
// temperature and the jump probability (DecodeOptions in decode/temporal.h). The per-window
// decoder's: window_smooth, the sigma (classes = BPM) of decode_posterior_bpm's smoothing
// (data/dsp/class_map.h; 0: none).
struct DecodeSettings {
  double scale = 0;
  double temperature = kDefaultEmissionTemperature;
  double jump = 0;
  double window_smooth = kPosteriorSmoothBpm;
};

// Decodes the (N, K) posteriors `prob` of `rows` of ws into BPM and confidence per row:
// "window" per window (decode_posterior_bpm with settings.window_smooth), "online" / "offline" the
// HMM filter / smoother marginal, or "viterbi" the MAP path (confidence: the smoothed mass of the
// path's class). Each recording's rows form one chain; a gap of g windows widens that step's
// Laplacian prior by g. cadence: one value per row (BPM, 0 = none; empty = off) penalised as
// `penalty` says in every decoder.
void decode_rows(const std::string& how, const DecodeSettings& settings, const WindowSet& ws,
                 const std::vector<size_t>& rows, const std::vector<double>& prob,
                 std::vector<double>* bpm, std::vector<double>* conf,
                 const std::vector<double>& cadence = {}, const CadencePenalty& penalty = {});

// The scale a model's decoder uses when the data at hand holds none of its training subjects:
// the one recorded at training time, or kDefaultTransitionScaleBpm for a model that has none.
// `source` (may be null) says which.
double recorded_transition_scale(const ModelRecord& record, std::string* source);

}  // namespace ppgkd
