// What `ppgkd predict` computes: the heart-rate track of one recording from a model directory,
// offline (every window of a whole recording, zero-phase or causal filters) or streaming (causal
// filters, samples pushed as they arrive, one row per window as soon as it completes, with the
// online HMM filter's tracked BPM). Not here: reading the input or writing rows (cli/predict.cpp).
#pragma once

#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "data/recording.h"
#include "decode/temporal.h"
#include "eval/acc_aware.h"

namespace ppgkd {

struct TrackOptions {
  bool stream = false;            // streaming (always causal)
  bool causal = false;            // offline with causal filters (matches the stream)
  std::string decode = "window";  // tracked_bpm: window (none) | online [| offline | viterbi]
  double transition_scale = 0;    // Laplacian scale, BPM per 2 s step; 0: the model's recorded one
  double temperature = kDefaultEmissionTemperature;  // emission tempering (posterior^T)
  double jump = 0;  // probability per step that the HR resets (temporal.h)
  int threads = 1;  // torch threads
  AccAwareOptions acc;
};

// One window. A window touching a missing sample has no heart rate: hr_bpm nan, confidence 0,
// cadence 0 (offline: tracked_bpm nan too; streaming: the tracker predicts through it, nan
// until the first window with finite input).
struct TrackRow {
  double t_s = 0;            // offline: window START; streaming: window END (s)
  double hr_bpm = NAN;       // decoded from the window's (cadence-penalised) posterior
  double confidence = 0;     // posterior mass within +-kDecodeRadius classes of the argmax
  double tracked_bpm = NAN;  // the temporal decoder's estimate (when tracking)
  double cadence_bpm = 0;    // with acc-aware decoding: the window's cadence (0 = none)
};

struct OfflineTrack {
  std::vector<TrackRow> rows;             // one per window that fits, in order
  std::map<std::string, size_t> dropped;  // reason -> windows without an estimate
};

// A model directory opened for tracking: loaded, its preprocessing checked (causal when streaming
// or asked for), its transition scale resolved. Throws Error on a bad model dir or option.
class Tracker {
 public:
  Tracker(const std::string& model_dir, const TrackOptions& options);
  ~Tracker();
  Tracker(const Tracker&) = delete;
  Tracker& operator=(const Tracker&) = delete;

  const TrackOptions& options() const;
  bool tracks() const;  // offline: is there a tracked_bpm column (decode != window)

  // Every window of a whole recording (its labels are ignored).
  OfflineTrack offline(Recording rec) const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
  friend class TrackStream;
};

// A causal stream through a Tracker (options().stream must be set): push samples as they arrive;
// each completed window calls `emit` at once. Constructing it checks the rate and channels.
class TrackStream {
 public:
  using Emit = std::function<void(const TrackRow&)>;
  TrackStream(const Tracker& tracker, double fs, int ppg_channels, bool has_acc, Emit emit);
  ~TrackStream();
  TrackStream(const TrackStream&) = delete;
  TrackStream& operator=(const TrackStream&) = delete;

  // n samples of each channel: ppg[c][i] (ppg_channels), acc[a][i] (3 when has_acc); NaN =
  // missing.
  void push(const float* const* ppg, const float* const* acc, size_t n);
  void finish();  // the input has ended: flush the resampler's tail

  // A whole recording replayed through push in 1 s chunks, then finish.
  void replay(const Recording& rec);

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace ppgkd
