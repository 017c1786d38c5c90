// Per-window estimates for eval and validate (see estimates.h). Sections: subjects, the spectral
// path, posteriors (torch or edge), temporal decoding, the entry point.
#include "cli/estimates.h"

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
#include "export/edge_runner.h"
#include "export/exporter.h"
#include "train/inference.h"
#include "train/model_dir.h"

namespace ppgkd::cli {

namespace {

constexpr const char* kSpectral = "spectral";

// ---------------------------------------------------------------------------- subjects

std::vector<std::string> json_strings(const nlohmann::json& j) {
  std::vector<std::string> v;
  if (j.is_array())
    for (const auto& s : j) v.push_back(s.get<std::string>());
  return v;
}

// The subjects to evaluate: --subjects (each must exist), the fold's test subjects, or all.
std::vector<std::string> choose_subjects(const EstimateRequest& req,
                                         const std::vector<std::string>& available,
                                         const nlohmann::json& split, const std::string& where) {
  const std::set<std::string> have(available.begin(), available.end());
  std::vector<std::string> chosen;
  if (req.fold_test) {
    chosen = json_strings(split.value("test_subjects", nlohmann::json::array()));
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
    const bool has_root = !m.info.value("data", nlohmann::json::object()).value("root", "").empty();
    calib = calibration_windows(req.model, m.info, m.preprocess, has_root ? "" : req.data, 512,
                                req.cache, nullptr);
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

// ---------------------------------------------------------------------------- decoding

double decode_row(const double* p, double* confidence) {
  std::vector<float> f(p, p + kNumClasses);
  return decode_bpm(f.data(), kDecodeRadius, confidence);
}

}  // namespace

// ---------------------------------------------------------------------------- acc-aware

nlohmann::json AccAwareOptions::to_json() const {
  return {{"enabled", enabled},
          {"depth", depth},
          {"width_bpm", width_bpm},
          {"min_share", min_share},
          {"half_harmonic", half}};
}

void add_acc_options(CLI::App* sub, AccAwareOptions* a) {
  sub->add_flag("--acc-aware", a->enabled,
                "Accelerometer-aware decoding: lower the evidence for HR classes at each window's "
                "motion cadence (acc spectral peak) and its 2nd harmonic");
  sub->add_option("--acc-depth", a->depth,
                  "Cadence penalty depth in [0, 1): emission x (1 - depth) at the cadence")
      ->check(CLI::Range(0.0, 0.999999))
      ->capture_default_str();
  sub->add_option("--acc-width", a->width_bpm, "Cadence penalty width (gaussian sigma), BPM")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  sub->add_option("--acc-min-share", a->min_share,
                  "A cadence counts only when its acc spectral peak (+-6 BPM) holds this share "
                  "of the 30-210 BPM power (white noise stays below 0.3)")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  sub->add_flag("--acc-half", a->half, "Also penalise half the cadence");
}

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

// The Laplacian's scale grows about linearly with the horizon, hence widening by the gap.
void decode_rows(const std::string& how, double scale, double temperature, const WindowSet& ws,
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
      (*bpm)[i] = decode_row(p.data(), &(*conf)[i]);
    }
    return;
  }
  const Transition tr = laplacian_transition(kNumClasses, scale);
  for (size_t a = 0; a < rows.size();) {
    size_t b = a + 1;
    while (b < rows.size() && ws.recording[rows[b]] == ws.recording[rows[a]]) ++b;
    const int T = static_cast<int>(b - a);
    DecodeOptions opt;
    opt.temperature = temperature;
    opt.kernel = DecodeOptions::Kernel::kLaplacian;
    opt.scale = scale;
    opt.widen.assign(T, 1.0);
    for (int t = 1; t < T; ++t)
      opt.widen[t] = std::max(1, ws.window[rows[a + t]] - ws.window[rows[a + t - 1]]);
    if (penalise) {
      opt.cadence = penalty;
      opt.cadence_bpm.assign(cadence.begin() + a, cadence.begin() + b);
    }
    const std::vector<double> chain(prob.begin() + a * K, prob.begin() + b * K);
    if (how == "viterbi") {
      const auto path = viterbi(chain, T, tr, opt);
      const auto gamma = forward_backward(chain, T, tr, opt);
      for (int t = 0; t < T; ++t) {
        (*bpm)[a + t] = class_center_bpm(path[t]);
        (*conf)[a + t] = gamma[t * K + path[t]];
      }
    } else {
      const auto marg =
          how == "online" ? forward_filter(chain, T, tr, opt) : forward_backward(chain, T, tr, opt);
      for (int t = 0; t < T; ++t) (*bpm)[a + t] = decode_row(&marg[t * K], &(*conf)[a + t]);
    }
    a = b;
  }
}

namespace {

// The Laplacian scale from the labels of the model's training subjects present in the data, else
// the one recorded with the model.
double fitted_scale(const WindowSet& ws, const std::vector<std::string>& train,
                    const nlohmann::json& model_info, nlohmann::json* about) {
  if (ws.rows_of_subjects(train).empty()) {
    std::string source;
    const double scale = recorded_transition_scale(model_info, &source);
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

double recorded_transition_scale(const nlohmann::json& model_info, std::string* source) {
  const nlohmann::json extra = model_info.value("extra", nlohmann::json::object());
  const auto it = extra.find("transition_scale_bpm");
  if (it != extra.end() && it->is_number() && it->get<double>() > 0) {
    if (source) *source = "recorded with the model (fitted on its training labels)";
    return it->get<double>();
  }
  if (source) *source = "default (the model records no scale)";
  return kDefaultTransitionScaleBpm;
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
  const nlohmann::json split = m.info.value("split", nlohmann::json::object());
  const auto subjects = choose_subjects(req, ws.subjects(), split, req.model + "/model.json");

  // Held-out labelling: which evaluated subjects did this model see in training (fit or val)?
  std::set<std::string> seen;
  for (const char* key : {"train_subjects", "val_subjects"})
    for (const auto& s : json_strings(split.value(key, nlohmann::json::array()))) seen.insert(s);
  std::vector<std::string> overlap;
  for (const auto& s : subjects)
    if (seen.count(s)) overlap.push_back(s);

  Estimates out;
  out.about = {{"model", req.model},
               {"spec", m.info.value("spec", "")},
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
  if (req.decode != "window") {
    if (scale <= 0) scale = fitted_scale(ws, {seen.begin(), seen.end()}, m.info, &out.about);
    out.about["transition_scale_bpm"] = scale;
    out.about["temperature"] = req.temperature;
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
  decode_rows(req.decode, scale, req.temperature, ws, rows, prob, &bpm, &conf, cadence,
              req.acc.penalty());
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

void add_estimate_options(CLI::App* sub, EstimateRequest* r) {
  sub->add_option("--model", r->model, "Model directory, or 'spectral' (classical tracker)")
      ->required();
  sub->add_option("--data", r->data, "Dataset root, or synthetic[:SEED]")->required();
  sub->add_option("--subjects", r->subjects, "Evaluate only these subjects (comma-separated)")
      ->delimiter(',');
  sub->add_flag("--fold-test", r->fold_test, "Evaluate the model's own test-fold subjects");
  sub->add_option("--runtime", r->runtime, "torch | edge-f32 | edge-int8 (edge: the C runtime)")
      ->check(CLI::IsMember({"torch", "edge-f32", "edge-int8"}))
      ->capture_default_str();
  sub->add_option("--decode", r->decode,
                  "window (per-window) | online (causal HMM filter) | offline (forward-backward) "
                  "| viterbi (MAP path)")
      ->check(CLI::IsMember({"window", "online", "offline", "viterbi"}))
      ->capture_default_str();
  sub->add_option("--transition-scale", r->transition_scale,
                  "Laplacian scale of the HR change per 2 s step, BPM (0: fit on the model's "
                  "training labels)")
      ->capture_default_str();
  sub->add_option("--temperature", r->temperature, "Emission tempering: posterior^T")
      ->capture_default_str();
  sub->add_flag("--causal", r->causal, "Causal filters (what `predict --stream` sees)");
  sub->add_option("--cache", r->cache, "Window cache directory (none: no cache)");
  sub->add_option("--threads", r->threads, "Torch threads")->capture_default_str();
  sub->add_option("--batch", r->batch, "Inference batch size")->capture_default_str();
  add_acc_options(sub, &r->acc);
}

}  // namespace ppgkd::cli
