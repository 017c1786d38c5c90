// Causal windowing of a sample stream: the streaming twin of preprocess_signals + make_windows
// with PreprocessConfig::causal = true. Samples arrive in chunks of any size; a window is released
// as soon as every sample it depends on has arrived, and its values are bit-identical to the
// offline path's window over the whole recording (for finite input).
//
// Latency: the anti-aliasing resampler is a zero-phase FIR, so a resampled sample needs
// 10 * max(p, q) / p input samples after it (0.4 s for 125 -> 25 Hz or 50 -> 25 Hz, none at
// 25 Hz): window k (native samples [k*step, k*step + len)) is released once the input reaches its
// end plus that look-ahead, or at finish(), which holds the last sample as the offline path does.
// The band-pass / high-pass filters are causal and primed on the first sample, as offline.
//
// Non-finite samples: the offline path interpolates across them (which needs the future); here
// they are held at the last finite value and every window touching one is released with
// finite = false. Not here: models, decoding, or reading files.
//
// Shapes: C channels (1 for "ppg", 4 for "ppg+acc"), L = 200 samples per window.
#pragma once

#include <cstddef>
#include <deque>
#include <vector>

#include "data/dsp/filter.h"
#include "data/preprocess.h"

namespace ppgkd {

struct StreamWindow {
  int index = 0;         // k
  double t_start_s = 0;  // k * step_s
  double t_end_s = 0;    // t_start_s + window_s
  bool finite = true;    // false: a raw sample inside was non-finite (x is then not meaningful)
  std::vector<float> x;  // (C, L), each channel standardised
};

class StreamWindower {
 public:
  // fs_in: the stream's native rate; ppg_channels: PPG columns per sample (>= 1); has_acc: three
  // accelerometer columns follow. Throws Error("stream", ...) on a bad config, a PPG channel
  // index the stream does not have, or a rate that cannot be resampled to cfg.fs.
  StreamWindower(const PreprocessConfig& cfg, double fs_in, int ppg_channels, bool has_acc);

  // Appends n samples: ppg[c] and acc[a] point to n values each (acc ignored without has_acc).
  void push(const float* const* ppg, const float* const* acc, size_t n);
  // Ends the stream; windows that fit are completed with the last sample held.
  void finish();
  // Moves the next completed window into *w; false when none is ready.
  bool pop(StreamWindow* w);

  size_t samples_seen() const { return n_raw_; }

 private:
  void advance(bool at_end);
  void resample_channel(size_t ch, long long j_end);

  PreprocessConfig cfg_;
  double fs_in_;
  int ppg_channels_;
  bool has_acc_;
  int ppg_index_ = -1;  // -1: mean of the PPG channels
  int p_ = 1, q_ = 1, half_ = 0;
  size_t step_n_ = 0, len_n_ = 0;
  bool finished_ = false;

  // Per used channel (PPG, then acc x/y/z when "ppg+acc" and present): raw native samples from
  // absolute index raw_base_, and filtered resampled samples from absolute index out_base_.
  size_t n_raw_ = 0, raw_base_ = 0;
  std::vector<std::vector<float>> raw_;
  std::vector<float> last_finite_;
  std::vector<size_t> bad_;  // absolute raw indices holding a non-finite sample (any channel)
  long long n_out_ = 0;      // resampled samples computed so far (all channels alike)
  size_t out_base_ = 0;
  std::vector<std::vector<float>> out_;
  std::vector<SosFilter> filters_;
  int next_window_ = 0;
  std::deque<StreamWindow> ready_;
};

}  // namespace ppgkd
