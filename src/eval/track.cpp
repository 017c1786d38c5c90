// The heart-rate track of one recording (see track.h). Sections: the opened model, offline,
// streaming.
#include "eval/track.h"

#include <torch/torch.h>

#include <algorithm>
#include <utility>

#include "common/error.h"
#include "data/dsp/class_map.h"
#include "data/preprocess.h"
#include "decode/cadence.h"
#include "decode/stream_windows.h"
#include "decode/temporal.h"
#include "eval/decoding.h"
#include "train/inference.h"
#include "train/model_dir.h"

namespace ppgkd {

// ---------------------------------------------------------------------------- the opened model

struct Tracker::Impl {
  TrackOptions o;
  LoadedModel m;
  PreprocessConfig cfg;      // the model's, causal when streaming or asked for
  PreprocessConfig acc_cfg;  // its "ppg+acc" twin (cadences for PPG-only models)
};

Tracker::Tracker(const std::string& model_dir, const TrackOptions& options)
    : impl_(std::make_unique<Impl>()) {
  Impl& t = *impl_;
  t.o = options;
  torch::set_num_threads(t.o.threads);
  t.m = load_model_dir(model_dir);
  if (t.o.transition_scale < 0 || !std::isfinite(t.o.transition_scale))
    throw Error("predict", "--transition-scale must be > 0 (or 0: the model's own)");
  if (t.o.transition_scale == 0)
    t.o.transition_scale = recorded_transition_scale(t.m.record, nullptr);
  t.cfg = t.m.preprocess;
  std::vector<std::string> ignore;
  if (t.o.stream || t.o.causal) {
    t.cfg.causal = true;  // the streaming path cannot look ahead: knowingly causal
    ignore.push_back("causal");
  }
  check_compatible(model_dir, t.m, t.cfg, ignore);
  if (t.o.stream && t.o.decode != "window" && t.o.decode != "online")
    throw Error("predict",
                "--stream tracks online; --decode " + t.o.decode + " needs the whole recording");
  t.acc_cfg = t.cfg;
  t.acc_cfg.inputs = "ppg+acc";
}

Tracker::~Tracker() = default;

const TrackOptions& Tracker::options() const {
  return impl_->o;
}

bool Tracker::tracks() const {
  return impl_->o.decode != "window";
}

// ---------------------------------------------------------------------------- offline

OfflineTrack Tracker::offline(Recording rec) const {
  const Impl& t = *impl_;
  const TrackOptions& o = t.o;
  const size_t k_count = windows_that_fit(rec.num_samples(), rec.fs);
  rec.windows.clear();
  for (size_t k = 0; k < k_count; ++k)
    rec.windows.push_back({static_cast<int>(k), k * t.cfg.step_s, 0.0});  // unlabelled
  const WindowSet ws = make_windows({rec}, t.cfg);
  std::vector<size_t> rows(ws.size());
  for (size_t i = 0; i < rows.size(); ++i) rows[i] = i;
  std::vector<double> prob;  // (N, K)
  if (!rows.empty()) {
    auto p = torch::softmax(run_model(*t.m.net, ws, rows, 256).logits, 1)
                 .to(torch::kFloat64)
                 .contiguous();
    prob.assign(p.data_ptr<double>(), p.data_ptr<double>() + p.numel());
  }
  std::vector<double> cadence;
  if (o.acc.enabled) {
    std::unique_ptr<WindowSet> acc_ws;
    if (ws.channels < 4 && !rec.acc.empty())  // a PPG-only model: window the acc separately
      acc_ws = std::make_unique<WindowSet>(make_windows({rec}, t.acc_cfg));
    cadence = row_cadences(ws, rows, acc_ws.get(), t.cfg.fs, o.acc.min_share);
  }
  std::vector<double> hr, conf, tracked, tconf;
  decode_rows("window", {}, ws, rows, prob, &hr, &conf, cadence, o.acc.penalty());
  if (tracks() && !rows.empty())
    decode_rows(o.decode, {o.transition_scale, o.temperature, o.jump}, ws, rows, prob, &tracked,
                &tconf, cadence, o.acc.penalty());
  // One row per window that fits. A window make_windows dropped (it touches a missing sample) has
  // no heart rate, as in the stream: hr_bpm (and tracked_bpm) nan, confidence 0, cadence 0.
  OfflineTrack out;
  out.dropped = ws.dropped;
  for (size_t k = 0, i = 0; k < k_count; ++k) {
    TrackRow r;
    r.t_s = k * t.cfg.step_s;
    if (i < rows.size() && ws.window[i] == static_cast<int>(k)) {
      r.hr_bpm = hr[i];
      r.confidence = conf[i];
      if (tracks()) r.tracked_bpm = tracked[i];
      if (o.acc.enabled) r.cadence_bpm = cadence[i];
      ++i;
    }
    out.rows.push_back(r);
  }
  return out;
}

// ---------------------------------------------------------------------------- streaming

namespace {

// One window's (K) posterior from the network, batch of one.
std::vector<double> posterior_of(NetImpl& net, const StreamWindow& w, int channels, int length) {
  WindowSet one;
  one.channels = channels;
  one.length = length;
  one.x = w.x;
  one.hr = {0.0f};
  one.recording = {0};
  one.window = {w.index};
  auto prob = torch::softmax(run_model(net, one, {0}, 1).logits, 1).to(torch::kFloat64);
  const double* p = prob.data_ptr<double>();
  return std::vector<double>(p, p + kNumClasses);
}

// A marginal of the online filter.
double decode_marginal(const std::vector<double>& p, double* conf) {
  std::vector<float> f(p.begin(), p.end());
  return decode_bpm(f.data(), kDecodeRadius, conf);
}

// A window's posterior, decoded as every per-window estimate is (smoothed first).
double decode_window(const std::vector<double>& p, double* conf) {
  std::vector<float> f(p.begin(), p.end());
  return decode_posterior_bpm(f.data(), kDecodeRadius, conf);
}

DecodeOptions stream_decode_options(const TrackOptions& o) {
  DecodeOptions d;
  d.temperature = o.temperature;
  d.jump = o.jump;
  d.cadence = o.acc.penalty();
  return d;
}

}  // namespace

struct TrackStream::State {
  const Tracker::Impl& t;
  Emit emit;
  OnlineFilter filter;
  int channels, length;
  StreamWindower main;
  // With --acc-aware and a PPG-only model: the ppg+acc twin, windowed in lockstep.
  std::unique_ptr<StreamWindower> acc;
  bool seen_valid = false;  // has a window with finite input been decoded

  State(const Tracker::Impl& tracker, double fs, int ppg, bool has_acc, Emit e)
      : t(tracker),
        emit(std::move(e)),
        filter(laplacian_transition(kNumClasses, tracker.o.transition_scale),
               stream_decode_options(tracker.o)),
        channels(tracker.cfg.channels()),
        length(tracker.cfg.length()),
        main(tracker.cfg, fs, ppg, has_acc) {
    if (t.o.acc.enabled && t.cfg.channels() < 4 && has_acc)
      acc = std::make_unique<StreamWindower>(t.acc_cfg, fs, ppg, true);
  }

  void drain() {
    StreamWindow w, wa;
    while (main.pop(&w)) {
      TrackRow r;
      r.t_s = w.t_end_s;
      // The twin releases the same windows at the same time (same rates and lengths).
      const bool twin = acc && acc->pop(&wa);
      if (w.finite) {
        auto p = posterior_of(*t.m.net, w, channels, length);
        if (t.o.acc.enabled) {
          const StreamWindow& src = twin ? wa : w;
          if (src.finite)
            r.cadence_bpm = window_cadence(src.x.data(), twin ? 4 : channels, length, t.acc_cfg.fs,
                                           t.o.acc.min_share)
                                .bpm;
        }
        r.tracked_bpm = decode_marginal(filter.update(p.data(), r.cadence_bpm), nullptr);
        seen_valid = true;
        penalise_posterior(p.data(), kNumClasses, r.cadence_bpm, t.o.acc.penalty());
        r.hr_bpm = decode_window(p, &r.confidence);
      } else {
        // Before the first valid window the filter holds only its prior: no estimate yet.
        const double predicted = decode_marginal(filter.predict_only(), nullptr);
        if (seen_valid) r.tracked_bpm = predicted;
      }
      emit(r);
    }
  }
};

TrackStream::TrackStream(const Tracker& tracker, double fs, int ppg_channels, bool has_acc,
                         Emit emit) {
  if (!tracker.impl_->o.stream)
    throw Error("predict", "internal: a stream needs a tracker opened for streaming");
  s_ = std::make_unique<State>(*tracker.impl_, fs, ppg_channels, has_acc, std::move(emit));
}

TrackStream::~TrackStream() = default;

void TrackStream::push(const float* const* ppg, const float* const* acc, size_t n) {
  s_->main.push(ppg, acc, n);
  if (s_->acc) s_->acc->push(ppg, acc, n);
  s_->drain();
}

void TrackStream::finish() {
  s_->main.finish();
  if (s_->acc) s_->acc->finish();
  s_->drain();
}

void TrackStream::replay(const Recording& rec) {
  const size_t chunk = static_cast<size_t>(std::max(1.0, std::round(rec.fs)));
  for (size_t i = 0; i < rec.num_samples(); i += chunk) {
    const size_t n = std::min(chunk, rec.num_samples() - i);
    std::vector<const float*> ppg, acc;
    for (const auto& ch : rec.ppg) ppg.push_back(ch.data() + i);
    for (const auto& ch : rec.acc) acc.push_back(ch.data() + i);
    push(ppg.data(), acc.data(), n);
  }
  finish();
}

}  // namespace ppgkd
