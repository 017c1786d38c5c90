// IIR filtering as second-order sections: Butterworth band-pass / high-pass design (analog
// prototype, frequency transform, bilinear transform with pre-warping, like scipy.signal.butter
// with output='sos'), a causal filter that keeps its state across chunks (for streaming) and a
// zero-phase forward-backward filter (offline, like scipy.signal.sosfiltfilt).
//
// Not here: FIR design (see resample.h), filters other than Butterworth.
#pragma once

#include <vector>

namespace ppgkd {

struct Biquad {
  double b0, b1, b2, a1, a2;  // a0 normalised to 1; a first-order section has b2 = a2 = 0
};
using Sos = std::vector<Biquad>;

// Butterworth band-pass of the given order per edge (order 2 -> 4 poles), edges in Hz with
// 0 < lo < hi < fs / 2. Gain 1 at the (pre-warped) geometric centre, 1/sqrt(2) at both edges.
Sos butter_bandpass(int order, double lo_hz, double hi_hz, double fs);
// Butterworth high-pass, 0 < cut < fs / 2; gain 1 at Nyquist, 1/sqrt(2) at the cut-off.
Sos butter_highpass(int order, double cut_hz, double fs);

// Causal filtering with a persistent state, so a stream can be fed in chunks and give exactly
// the samples one call over the whole signal gives.
class SosFilter {
 public:
  explicit SosFilter(Sos sos);
  float step(float x);
  void reset();  // zero state (as if the input had been 0 forever)
  // Steady state for a constant input x0 (as if x0 had been the input forever), so a signal with
  // a large offset does not start with a step transient (scipy's sosfilt_zi * x0).
  void prime(float x0);
  std::vector<float> apply(const std::vector<float>& x);  // runs step over x, keeps state

 private:
  Sos sos_;
  std::vector<double> z_;  // 2 state values per section (transposed direct form II)
};

// Zero-phase filtering: forward then backward, each started from the steady state of its first
// sample, with odd-extension padding of 3 * (2 * sections + 1) samples at both ends (scipy's
// sosfiltfilt defaults; the padding shrinks to n - 1 for shorter signals). The magnitude
// response is |H|^2 and the phase is zero.
std::vector<float> filtfilt(const Sos& sos, const std::vector<float>& x);

// Magnitude response |H(e^{jw})| at frequency f_hz.
double sos_gain(const Sos& sos, double f_hz, double fs);

}  // namespace ppgkd
