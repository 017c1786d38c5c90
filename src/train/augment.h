// Training-time augmentation of standardised windows (B, C, L). Every transformation keeps the
// window's heart rate, so the label stays; each draws from a generator seeded by the caller.
//
//   augment_basic    amplitude scaling 0.8–1.2, a circular shift of up to 12 samples and 5 %
//                    white noise. Time stretching is deliberately absent: it would change the HR.
//   augment_motion   motion artefacts whose cadence has nothing to do with the heart rate, added
//                    to the PPG together with the accelerometer trace that explains them, so a
//                    network learns that a periodicity the accelerometer shares is not the pulse:
//     synthetic  a cadence f ~ U(0.8, 3.2) Hz drifting by up to ±5 % over the window, with random
//                second-harmonic and half-cadence (arm swing) content, added to the PPG at
//                0.3–2× its SD and to the three accelerometer axes with random axis weights;
//     transfer   the accelerometer-explained part of another window's PPG (least squares of its
//                PPG on its three accelerometer axes and their first differences, plus a
//                constant) added to this window's PPG, and that window's accelerometer, scaled
//                alike, added to this window's, so the added artefact stays explained;
//     both       each window draws one of the two;
//     varied     the synthetic cadence in more shapes, for motions unlike walking and running: a
//                sinusoid whose second harmonic may dominate the PPG, or a pulse train (punches,
//                jumps; rich in harmonics); a quarter of windows carry irregular motion instead
//                (noise band-limited within 0.5–4 Hz, the PPG lagging it by up to 0.3 s); and
//                three in ten are intermittent (the motion starts or stops inside the window).
//                Every frequency of the PPG artefact is one the accelerometer trace also shows.
//   A window is changed with probability `prob`; every channel is then standardised again.
//   Windows without accelerometer channels (C == 1) are returned unchanged.
//   augment_harmonic the pulse's second harmonic boosted, for the octave errors at rest (a wrist
//                    PPG whose second harmonic outweighs its fundamental read as twice the HR):
//                    with probability `prob` the PPG channel p (channel 0) becomes
//                    p + a (p^2 - mean p^2), a ~ U(0.5, 3), standardised again. For a
//                    standardised sinusoid sqrt(2) sin(wt) over whole cycles that is
//                    sqrt(2) sin(wt) - a cos(2wt): the fundamental stays and a harmonic of
//                    amplitude a joins it (the larger when a > sqrt(2)). The accelerometer
//                    channels are untouched and the HR is the fundamental's, so the label stays.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

namespace ppgkd {

torch::Tensor augment_basic(const torch::Tensor& x, uint64_t seed);

// mode: "none", "synthetic", "transfer", "both" or "varied"; fs: samples per second of the window.
torch::Tensor augment_motion(const torch::Tensor& x, const std::string& mode, double prob,
                             double fs, uint64_t seed);

// prob: share of windows whose PPG gets the harmonic boost (see the list above).
torch::Tensor augment_harmonic(const torch::Tensor& x, double prob, uint64_t seed);

// The motion-artefact modes augment_motion accepts, "none" first.
const std::vector<std::string>& motion_modes();

// Throws Error("train config", ...) unless mode is one of motion_modes().
void check_motion_mode(const std::string& mode);

}  // namespace ppgkd
