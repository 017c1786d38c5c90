// Accelerometer-aware decoding settings (issue 11, decode/cadence.h), shared by eval, validate and
// predict: each window's motion cadence from its acc channels (from a separate ppg+acc windowing
// when the model reads PPG only), and the emission penalty at the cadence and its second harmonic
// in every decoder ("window" penalises the posterior before decode_bpm). Off by default.
#pragma once

#include <nlohmann/json.hpp>

#include "decode/cadence.h"

namespace ppgkd {

struct AccAwareOptions {
  bool enabled = false;
  double depth = kCadenceDepth;         // penalty depth in [0, 1)
  double width_bpm = kCadenceWidthBpm;  // gaussian width of the penalty, BPM
  double min_share = kCadenceMinShare;  // cadence only when its peak holds this power share
  bool half = false;                    // also penalise half the cadence
  CadencePenalty penalty() const { return {enabled ? depth : 0.0, width_bpm, half}; }
  nlohmann::json to_json() const;  // the settings, for "about"
};

}  // namespace ppgkd
