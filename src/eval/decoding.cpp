// Decoding the posteriors of a WindowSet's rows (see decoding.h). Sections: acc-aware settings,
// cadences, decode_rows, the recorded transition scale.
#include "eval/decoding.h"

#include <algorithm>
#include <map>
#include <utility>

#include "common/error.h"
#include "data/dsp/class_map.h"
#include "decode/temporal.h"
#include "eval/acc_aware.h"

namespace ppgkd {

// ---------------------------------------------------------------------------- acc-aware

nlohmann::json AccAwareOptions::to_json() const {
  return {{"enabled", enabled},
          {"depth", depth},
          {"width_bpm", width_bpm},
          {"min_share", min_share},
          {"half_harmonic", half}};
}

// ---------------------------------------------------------------------------- cadences

std::vector<double> row_cadences(const WindowSet& ws, const std::vector<size_t>& rows,
                                 const WindowSet* acc_ws, double fs, double min_share,
                                 std::string* from) {
  std::vector<double> out(rows.size(), 0.0);
  if (ws.channels >= 4) {
    if (from) *from = "the model's input windows";
    for (size_t i = 0; i < rows.size(); ++i)
      out[i] = window_cadence(ws.window_ptr(rows[i]), ws.channels, ws.length, fs, min_share).bpm;
    return out;
  }
  if (!acc_ws || acc_ws->channels < 4) {
    if (from) *from = "none (no accelerometer windows)";
    return out;
  }
  if (from) *from = "ppg+acc windows of the same data (the model reads PPG only)";
  auto key = [](const WindowSet& w, size_t r) {
    const auto& rec = w.recordings[w.recording[r]];
    return std::make_pair(rec.dataset + "/" + rec.name, w.window[r]);
  };
  std::map<std::pair<std::string, int>, size_t> index;
  for (size_t r = 0; r < acc_ws->size(); ++r) index[key(*acc_ws, r)] = r;
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto it = index.find(key(ws, rows[i]));
    if (it != index.end())
      out[i] = window_cadence(acc_ws->window_ptr(it->second), acc_ws->channels, acc_ws->length, fs,
                              min_share)
                   .bpm;
  }
  return out;
}

// ---------------------------------------------------------------------------- decode_rows

namespace {

double decode_row(const double* p, double* confidence) {
  std::vector<float> f(p, p + kNumClasses);
  return decode_bpm(f.data(), kDecodeRadius, confidence);
}

}  // namespace

// The Laplacian's scale grows about linearly with the horizon, hence widening by the gap.
void decode_rows(const std::string& how, const DecodeSettings& settings, const WindowSet& ws,
                 const std::vector<size_t>& rows, const std::vector<double>& prob,
                 std::vector<double>* bpm, std::vector<double>* conf,
                 const std::vector<double>& cadence, const CadencePenalty& penalty) {
  const size_t K = kNumClasses;
  if (!cadence.empty() && cadence.size() != rows.size())
    throw Error("decode", "internal: one cadence per row needed");
  check_penalty(penalty);
  const bool penalise = !cadence.empty() && penalty.active();
  bpm->assign(rows.size(), 0);
  conf->assign(rows.size(), 0);
  if (how == "window") {
    std::vector<double> p(K);
    for (size_t i = 0; i < rows.size(); ++i) {
      p.assign(prob.begin() + i * K, prob.begin() + (i + 1) * K);
      if (penalise) penalise_posterior(p.data(), kNumClasses, cadence[i], penalty);
      const std::vector<float> f(p.begin(), p.end());
      (*bpm)[i] =
          decode_posterior_bpm(f.data(), kDecodeRadius, &(*conf)[i], settings.window_smooth);
    }
    return;
  }
  const Transition tr = laplacian_transition(kNumClasses, settings.scale);
  for (size_t a = 0; a < rows.size();) {
    size_t b = a + 1;
    while (b < rows.size() && ws.recording[rows[b]] == ws.recording[rows[a]]) ++b;
    const int T = static_cast<int>(b - a);
    DecodeOptions opt;
    opt.temperature = settings.temperature;
    opt.jump = settings.jump;
    opt.kernel = DecodeOptions::Kernel::kLaplacian;
    opt.scale = settings.scale;
    opt.widen.assign(T, 1.0);
    for (int t = 1; t < T; ++t)
      opt.widen[t] = std::max(1, ws.window[rows[a + t]] - ws.window[rows[a + t - 1]]);
    if (penalise) {
      opt.cadence = penalty;
      opt.cadence_bpm.assign(cadence.begin() + a, cadence.begin() + b);
    }
    const std::vector<double> p(prob.begin() + a * K, prob.begin() + b * K);
    if (how == "viterbi") {
      const auto path = viterbi(p, T, tr, opt);
      const auto gamma = forward_backward(p, T, tr, opt);
      for (int t = 0; t < T; ++t) {
        (*bpm)[a + t] = class_center_bpm(path[t]);
        (*conf)[a + t] = gamma[t * K + path[t]];
      }
    } else {
      const auto marg =
          how == "online" ? forward_filter(p, T, tr, opt) : forward_backward(p, T, tr, opt);
      for (int t = 0; t < T; ++t) (*bpm)[a + t] = decode_row(&marg[t * K], &(*conf)[a + t]);
    }
    a = b;
  }
}

// ---------------------------------------------------------------------------- recorded scale

double recorded_transition_scale(const ModelRecord& record, std::string* source) {
  if (const double scale = record.transition_scale_bpm(); scale > 0) {
    if (source) *source = "recorded with the model (fitted on its training labels)";
    return scale;
  }
  if (source) *source = "default (the model records no scale)";
  return kDefaultTransitionScaleBpm;
}

}  // namespace ppgkd
