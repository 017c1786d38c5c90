// IIR filtering as second-order sections: Butterworth band-pass / high-pass design, a causal
// filter (for streaming) and a zero-phase forward-backward filter (offline, like filtfilt).
#pragma once

#include <vector>

namespace ppgkd {

struct Biquad {
  double b0, b1, b2, a1, a2;  // a0 normalised to 1
};
using Sos = std::vector<Biquad>;

// Butterworth band-pass of the given order per edge (order 2 -> 4 poles), edges in Hz.
Sos butter_bandpass(int order, double lo_hz, double hi_hz, double fs);
Sos butter_highpass(int order, double cut_hz, double fs);

// Causal filtering with a persistent state, so a stream can be fed in chunks.
class SosFilter {
 public:
  explicit SosFilter(Sos sos);
  float step(float x);
  void reset();
  std::vector<float> apply(const std::vector<float>& x);  // runs step over x, keeps state

 private:
  Sos sos_;
  std::vector<double> z_;  // 2 state values per section (transposed direct form II)
};

// Zero-phase filtering: forward then backward with odd-extension padding at both ends.
std::vector<float> filtfilt(const Sos& sos, const std::vector<float>& x);

// Magnitude response |H(e^{jw})| at frequency f_hz.
double sos_gain(const Sos& sos, double f_hz, double fs);

}  // namespace ppgkd
