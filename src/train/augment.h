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

// The motion-artefact modes augment_motion accepts, "none" first.
const std::vector<std::string>& motion_modes();

// Throws Error("train config", ...) unless mode is one of motion_modes().
void check_motion_mode(const std::string& mode);

}  // namespace ppgkd
