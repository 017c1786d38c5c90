/* ppgkd_cadence.h — the motion cadence of a window from its accelerometer channels, and the
 * emission penalty the tracker (ppgkd_tracker.h) applies at that cadence and its harmonics.
 *
 *   float cadence, share;
 *   ppgkd_cadence_estimate(window, 4, 200, 25.0f, PPGKD_CADENCE_MIN_SHARE, &cadence, &share);
 *   ppgkd_tracker_update_cadence(&tr, posterior, cadence, &bpm, &confidence);
 *
 * Why: on the wrist, motion (arm swings, steps) modulates the PPG at the accelerometer's dominant
 * frequency, and a network easily locks onto it. Knowing that frequency per window lets the
 * tracker discount heart-rate classes near it.
 *
 * Estimate: each accelerometer axis (window channels 1..3; channel 0 is PPG) minus its mean,
 * tapered by w(n) = (1 - u^2)^2 with u = 2 n / (L - 1) - 1 (a polynomial Hann-like window, no
 * trigonometry), then its power at the 180 class centres 30.5, 31.5, .., 209.5 BPM by the
 * Goertzel recurrence (a direct DFT at 1-BPM spacing; the coefficient 2 cos(2 pi f / fs) comes
 * from a Taylor series). The three axes' powers are summed. The cadence is the centre of the
 * strongest class (the first maximum); its "share" is the power within +-PPGKD_CADENCE_LOBE
 * classes of it over the power of all 180 classes (1 for a pure sinusoid in the band's middle,
 * about 0.1-0.3 for white noise). No cadence (0) when the window has no accelerometer channels
 * (channels < 4), the band holds no power (flat or zero acc, e.g. BIDMC), or share < min_share.
 *
 * Bit-exactness: only IEEE single-precision +, -, *, / in a fixed order (no libm), so the host
 * and a Cortex-M4 give the same bits when compiled with -ffp-contract=off (see ppgkd_tracker.h);
 * src/decode/cadence.cpp is the same algorithm in C++ and is tested to give the same bits.
 * Cost: 180 * L * (3 + 3 * 3) flops: ~430k for L = 200 (one update every 2 s). */
#ifndef PPGKD_CADENCE_H
#define PPGKD_CADENCE_H

#include <stdint.h>

#include "ppgkd_edge.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PPGKD_CADENCE_CLASSES 180    /* class centres 30.5 + c BPM, as the HR classes */
#define PPGKD_CADENCE_LOBE 6         /* share: power within +-6 classes (BPM) of the peak */
#define PPGKD_CADENCE_MIN_SHARE 0.4f /* suggested threshold (white noise stays below it) */
#define PPGKD_CADENCE_MIN_FS_HZ 8.0f /* the class range must lie below Nyquist */
#define PPGKD_CADENCE_DEPTH 0.8f     /* suggested penalty depth, see ppgkd_tracker.h */
#define PPGKD_CADENCE_WIDTH_BPM 4.0f /* suggested penalty width (gaussian sigma), BPM */

/* window: (channels, length) row-major, channel 0 PPG, channels 1..3 acc x/y/z (any scale;
 * the model's standardised window is fine). fs_hz: the window's rate (25 for the model input).
 * Writes the cadence in BPM (0 = none) and the share (0 when the band holds no power).
 * Returns PPGKD_ERR_ARG for a NULL pointer, length < 2, fs_hz < PPGKD_CADENCE_MIN_FS_HZ or a
 * min_share that is not in [0, 1]; PPGKD_ERR_INPUT for a non-finite accelerometer sample. With
 * channels < 4 the window is not read and the cadence is 0. */
ppgkd_status ppgkd_cadence_estimate(const float* window, uint32_t channels, uint32_t length,
                                    float fs_hz, float min_share, float* cadence_bpm, float* share);

/* The penalty factor of the class centred at class_bpm for a cadence (BPM, 0 = none):
 *   1 - depth * max over h of exp(-(class_bpm - h cadence)^2 / (2 width^2)),
 * h in {1, 2}, and 1/2 too when half_harmonic != 0; 1 without a cadence or with depth 0. The
 * gaussian comes from the library's own exp (bit-identical across platforms). Arguments are
 * not checked here (the tracker checks them once). */
float ppgkd_cadence_factor(float class_bpm, float cadence_bpm, float depth, float width_bpm,
                           uint32_t half_harmonic);

#ifdef __cplusplus
}
#endif

#endif /* PPGKD_CADENCE_H */
