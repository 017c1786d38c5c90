// Per-window estimates for eval and validate (see estimates.h). Sections: subjects, the spectral
// path, posteriors (torch or edge), the transition scale, the model path, the entry point.
#include "eval/estimates.h"

#include <torch/torch.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <set>

#include "baseline/spectral.h"
#include "common/error.h"
#include "data/cache.h"
#include "data/dsp/class_map.h"
#include "decode/temporal.h"
#include "eval/decoding.h"
#include "export/edge_runner.h"
#include "export/exporter.h"
#include "train/inference.h"
#include "train/model_dir.h"

namespace ppgkd {

namespace {

constexpr const char* kSpectral = "spectral";

// ---------------------------------------------------------------------------- subjects

// The subjects to evaluate: --subjects (each must exist), the fold's test subjects, or all.
std::vector<std::string> choose_subjects(const EstimateRequest& req,
                                         const std::vector<std::string>& available,
                                         const std::vector<std::string>& test_subjects,
                                         const std::string& where) {
  const std::set<std::string> have(available.begin(), available.end());
  std::vector<std::string> chosen;
  if (req.fold_test) {
    chosen = test_subjects;
    if (chosen.empty())
      throw Error(where,
                  "records no test subjects (trained on all data); --fold-test needs a "
                  "model trained on a cross-validation fold");
  } else if (!req.subjects.empty()) {
    chosen = req.subjects;
  } else {
    return available;
  }
  for (const auto& s : chosen)
    if (!have.count(s)) throw Error(req.data, "subject '" + s + "' is not in the data");
  std::sort(chosen.begin(), chosen.end());
  chosen.erase(std::unique(chosen.begin(), chosen.end()), chosen.end());
  return chosen;
}

// ---------------------------------------------------------------------------- spectral path

Estimates spectral_estimates(const EstimateRequest& req) {
  if (req.fold_test) throw Error(kSpectral, "--fold-test needs a model trained on a fold");
  if (req.runtime != "torch") throw Error(kSpectral, "--runtime applies to model directories only");
  if (req.decode != "window")
    throw Error(kSpectral,
                "--decode needs class posteriors; the spectral tracker does its own "
                "tracking (use --decode window)");
  if (req.acc.enabled)
    throw Error(kSpectral, "--acc-aware needs class posteriors (the spectral tracker has none)");
  const std::vector<Recording> recs = load_data(req.data);
  std::set<std::string> all;
  for (const auto& r : recs) all.insert(r.subject);
  const auto subjects = choose_subjects(req, {all.begin(), all.end()}, {}, kSpectral);
  const std::set<std::string> wanted(subjects.begin(), subjects.end());
  Estimates out;
  for (const Recording& rec : recs) {
    if (!wanted.count(rec.subject) || rec.windows.empty()) continue;
    const std::vector<double> bpm = spectral_hr(rec);
    for (size_t i = 0; i < rec.windows.size(); ++i) {
      const WindowLabel& w = rec.windows[i];
      out.rows.push_back(
          {rec.dataset, rec.name, rec.subject, w.index, w.t_start_s, bpm[i], w.hr_bpm, 0.0});
    }
  }
  out.about = {{"model", kSpectral},
               {"estimator", "classical spectral tracker (baseline/spectral.h, default config)"},
               {"data", req.data},
               {"subjects", subjects},
               {"held_out", true}};
  return out;
}

// ---------------------------------------------------------------------------- posteriors

// (N, K) posteriors of `rows`, row-major, in double.
std::vector<double> torch_posteriors(LoadedModel& m, const WindowSet& ws,
                                     const std::vector<size_t>& rows, int batch) {
  auto prob =
      torch::softmax(run_model(*m.net, ws, rows, batch).logits, 1).to(torch::kFloat64).contiguous();
  const double* p = prob.data_ptr<double>();
  return std::vector<double>(p, p + prob.numel());
}

std::vector<double> edge_posteriors(const EstimateRequest& req, LoadedModel& m, const WindowSet& ws,
                                    const std::vector<size_t>& rows) {
  // Export in memory exactly as `ppgkd export` would (int8 calibrates on the training subjects).
  ExportOptions eo;
  eo.quant = req.runtime == "edge-int8" ? "int8" : "f32";
  torch::Tensor calib;
  if (eo.quant == "int8") {
    // The recorded training root (its training subjects) when there is one; else this data.
    const bool has_root = !m.record.data_root.empty();
    calib =
        calibration_windows(req.model, m.record, has_root ? "" : req.data, 512, req.cache, nullptr);
  }
  const ExportResult ex = export_net(*m.net, eo, calib, req.model);
  EdgeModel edge(ex.blob, req.model);
  const EdgeOutputs o = run_edge(edge, ws, rows);
  std::vector<double> prob(o.logits.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    const float* l = o.logits.data() + i * kNumClasses;
    const double mx = *std::max_element(l, l + kNumClasses);  // for numerical stability only
    double z = 0;
    for (int c = 0; c < kNumClasses; ++c) z += prob[i * kNumClasses + c] = std::exp(l[c] - mx);
    for (int c = 0; c < kNumClasses; ++c) prob[i * kNumClasses + c] /= z;
  }
  return prob;
}

// ---------------------------------------------------------------------------- transition scale

// The Laplacian scale from the labels of the model's training subjects present in the data, else
// the one recorded with the model.
double fitted_scale(const WindowSet& ws, const std::vector<std::string>& train,
                    const ModelRecord& record, nlohmann::json* about) {
  if (ws.rows_of_subjects(train).empty()) {
    std::string source;
    const double scale = recorded_transition_scale(record, &source);
    (*about)["transition_scale_source"] =
        source + " (the model's training subjects are not in this data)";
    return scale;
  }
  (*about)["transition_scale_source"] = "fitted on the training subjects' labels";
  return transition_scale_of(ws, train);
}

}  // namespace

double transition_scale_of(const WindowSet& ws, const std::vector<std::string>& subjects) {
  std::vector<int> rec, win;
  std::vector<double> hr;
  for (size_t r : ws.rows_of_subjects(subjects)) {
    rec.push_back(ws.recording[r]);
    win.push_back(ws.window[r]);
    hr.push_back(ws.hr[r]);
  }
  return fit_laplacian_scale(rec, win, hr);
}

namespace {

// ---------------------------------------------------------------------------- model path

Estimates model_estimates(const EstimateRequest& req) {
  if (req.runtime != "torch" && req.runtime != "edge-f32" && req.runtime != "edge-int8")
    throw Error("eval",
                "--runtime must be torch, edge-f32 or edge-int8 (got '" + req.runtime + "')");
  torch::set_num_threads(req.threads);
  LoadedModel m = load_model_dir(req.model);
  PreprocessConfig cfg = m.preprocess;
  std::vector<std::string> ignore;
  if (req.causal) {
    cfg.causal = true;  // knowingly: measures what the causal streaming path would see
    ignore.push_back("causal");
  }
  check_compatible(req.model, m, cfg, ignore);
  CacheInfo info;
  const WindowSet ws = load_windows(req.data, cfg, req.cache, &info);
  const auto subjects =
      choose_subjects(req, ws.subjects(), m.record.test_subjects, req.model + "/model.json");

  // Held-out labelling: which evaluated subjects did this model see in training (fit or val)?
  std::set<std::string> seen;
  seen.insert(m.record.train_subjects.begin(), m.record.train_subjects.end());
  seen.insert(m.record.val_subjects.begin(), m.record.val_subjects.end());
  std::vector<std::string> overlap;
  for (const auto& s : subjects)
    if (seen.count(s)) overlap.push_back(s);

  Estimates out;
  out.about = {{"model", req.model},
               {"spec", m.record.spec},
               {"data", req.data},
               {"data_key", info.key},
               {"runtime", req.runtime},
               {"decode", req.decode},
               {"causal_filters", cfg.causal},
               {"subjects", subjects},
               {"held_out", overlap.empty()},
               {"subjects_seen_in_training", overlap}};
  if (!overlap.empty()) {
    out.about["warning"] = std::to_string(overlap.size()) + " of " +
                           std::to_string(subjects.size()) +
                           " evaluated subjects were in this model's training data: these "
                           "numbers are NOT held-out";
    std::fprintf(stderr, "ppgkd: warning: %s\n", out.about["warning"].get<std::string>().c_str());
  }

  const auto rows = ws.rows_of_subjects(subjects);
  if (rows.empty()) throw Error(req.data, "no labelled windows for the chosen subjects");
  const std::vector<double> prob = req.runtime == "torch" ? torch_posteriors(m, ws, rows, req.batch)
                                                          : edge_posteriors(req, m, ws, rows);
  double scale = req.transition_scale;
  if (req.decode == "window") out.about["window_smooth_bpm"] = req.window_smooth;
  if (req.decode != "window") {
    if (scale <= 0) scale = fitted_scale(ws, {seen.begin(), seen.end()}, m.record, &out.about);
    out.about["transition_scale_bpm"] = scale;
    out.about["temperature"] = req.temperature;
    out.about["jump"] = req.jump;
  }
  std::vector<double> cadence;
  nlohmann::json acc = req.acc.to_json();
  if (req.acc.enabled) {
    std::unique_ptr<WindowSet> acc_ws;
    if (ws.channels < 4) {  // a PPG-only model: window the accelerometer separately
      PreprocessConfig acc_cfg = cfg;
      acc_cfg.inputs = "ppg+acc";
      acc_ws = std::make_unique<WindowSet>(load_windows(req.data, acc_cfg, req.cache, nullptr));
    }
    std::string from;
    cadence = row_cadences(ws, rows, acc_ws.get(), cfg.fs, req.acc.min_share, &from);
    acc["cadence_from"] = from;
    acc["windows_with_cadence"] =
        std::count_if(cadence.begin(), cadence.end(), [](double f) { return f > 0; });
  }
  out.about["acc_aware"] = acc;
  std::vector<double> bpm, conf;
  decode_rows(req.decode, {scale, req.temperature, req.jump, req.window_smooth}, ws, rows, prob,
              &bpm, &conf, cadence, req.acc.penalty());
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& r = ws.recordings[ws.recording[rows[i]]];
    const int k = ws.window[rows[i]];
    out.rows.push_back(
        {r.dataset, r.name, r.subject, k, k * cfg.step_s, bpm[i], ws.hr[rows[i]], conf[i]});
  }
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------- entry points

Estimates estimate(const EstimateRequest& req) {
  static const std::set<std::string> decoders = {"window", "online", "offline", "viterbi"};
  if (!decoders.count(req.decode))
    throw Error("eval",
                "--decode must be window, online, offline or viterbi (got '" + req.decode + "')");
  return req.model == kSpectral ? spectral_estimates(req) : model_estimates(req);
}

}  // namespace ppgkd
