/* ppgkd_tracker.h — online heart-rate tracking over per-window class posteriors on the device:
 * the causal HMM forward filter of src/decode/temporal.h (OnlineFilter) in C99, fixed memory.
 *
 *   ppgkd_tracker tr;                                   // ~2.9 kB, see the size below
 *   ppgkd_tracker_init(&tr, 0.84f, 30, 1.0f, 1e-6f);
 *   for each 2 s step: ppgkd_tracker_update(&tr, posterior, &bpm, &confidence);
 *
 * Accelerometer-aware (optional, off after init):
 *   ppgkd_tracker_set_cadence_penalty(&tr, PPGKD_CADENCE_DEPTH, PPGKD_CADENCE_WIDTH_BPM, 0);
 *   for each step: ppgkd_cadence_estimate(window, 4, 200, 25.0f, PPGKD_CADENCE_MIN_SHARE,
 *                                         &cadence, &share);
 *                  ppgkd_tracker_update_cadence(&tr, posterior, cadence, &bpm, &confidence);
 *
 * Model: the state is the HR class (K = 180 classes of 1 BPM from 30 BPM). Between steps the
 * class moves by d with prior p(d) ~ exp(-|d| / scale) for |d| <= max_delta, 0 beyond; each row
 * of the transition is renormalised over the class range (truncation at the range ends keeps
 * mass inside it), exactly as laplacian_transition builds it on the host. The emission is the
 * posterior mixed with a uniform floor and tempered: e = ((1 - floor) p + floor / K)^gamma. The
 * filtered belief is normalise(e * A^T belief), the first step starting from a uniform belief.
 * With a cadence f > 0 (BPM) and a penalty of depth > 0, the emission of class c is multiplied
 * by ppgkd_cadence_factor(30.5 + c, f, depth, width, half) = 1 - depth * m(c), m(c) the largest
 * gaussian bump exp(-(bpm_c - h f)^2 / (2 width^2)) over the harmonics h in {1, 2} (and 1/2):
 * classes at the motion cadence lose evidence (the host's DecodeOptions::cadence, the same
 * order of operations: temper, floor, then penalise).
 * The estimate decodes the belief as ppgkd_decode_f32 decodes a posterior: the weighted mean of
 * bin centres within +-10 bins of its argmax; the confidence is the belief mass in that window.
 *
 * Bit-exactness: the tracker uses only IEEE single-precision +, -, *, / in a fixed order (no
 * libm: its own exp and log from bit manipulation and polynomials), so the same inputs give the
 * same bits on x86-64 and on a Cortex-M4, provided the compiler does not contract a*b+c into an
 * FMA and -ffast-math is not used. GCC's default is -ffp-contract=off in ISO C mode (-std=c99)
 * but fast in GNU mode: arm-none-eabi-gcc -std=gnu99 -O2 emits 21 vfma in tracker.c. The edge
 * build passes -ffp-contract=off explicitly; an integrator's build must do the same.
 *
 * Differences from the host OnlineFilter, all by design: float instead of double; floor must be
 * > 0 and the smallest emission (floor / K)^gamma >= 1e-30, which makes a step with no evidence
 * mass impossible (the host throws there instead); posterior entries must lie in [0, 1].
 */
#ifndef PPGKD_TRACKER_H
#define PPGKD_TRACKER_H

#include <stdint.h>

#include "ppgkd_cadence.h"
#include "ppgkd_edge.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PPGKD_TRACKER_CLASSES 180         /* K: classes of 1 BPM ... */
#define PPGKD_TRACKER_BPM_LO 30.0f        /* ... starting at 30 BPM (class c centred at 30.5 + c) */
#define PPGKD_TRACKER_BPM_STEP 1.0f       /* so a scale in BPM is a scale in classes */
#define PPGKD_TRACKER_RADIUS 10           /* decode window: +-10 classes around the argmax */
#define PPGKD_TRACKER_MAX_DELTA 179       /* largest max_delta_bins: K - 1 (no truncation) */
#define PPGKD_TRACKER_MIN_EMISSION 1e-30f /* see ppgkd_tracker_init */

/* sizeof(ppgkd_tracker) = 4 * 180 * 4 + 9 * 4 = 2916 bytes on both x86-64 and the Cortex-M4.
 * The kernel is stored for every |d| up to K - 1 so that max_delta = K - 1 (an untruncated
 * prior, as on the host) fits; the update costs K * (2 max_delta + 1) multiply-adds. */
typedef struct {
  float belief[PPGKD_TRACKER_CLASSES];  /* p(s_t | x_1..t), sums to 1 after an update */
  float scratch[PPGKD_TRACKER_CLASSES]; /* belief / row_sum during an update */
  float kernel[PPGKD_TRACKER_CLASSES];  /* kernel[d] = exp(-d / scale) for d <= max_delta, else 0 */
  float row_sum[PPGKD_TRACKER_CLASSES]; /* row i's normaliser: sum of kernel[|j - i|] over j */
  float scale_bpm;
  float gamma;
  float floor;
  uint32_t max_delta;
  uint32_t steps;        /* updates since init / reset */
  uint32_t ready;        /* 1 after a successful ppgkd_tracker_init */
  float cadence_depth;   /* emission penalty at the cadence: 0 = off (after init) */
  float cadence_width;   /* its gaussian width, BPM */
  uint32_t cadence_half; /* 1: the half harmonic f / 2 is penalised too */
} ppgkd_tracker;

/* Precomputes the kernel and row normalisers and resets the belief. Arguments:
 *   scale_bpm       Laplacian scale in BPM (= classes) per step, finite and > 0 (0.84 is the
 *                   host's kDefaultTransitionScaleBpm; a huge scale gives a flat prior)
 *   max_delta_bins  truncation half-width, 0..PPGKD_TRACKER_MAX_DELTA (0 = the HR never moves)
 *   gamma           emission temperature, finite and > 0 (1 = the posterior itself)
 *   floor           uniform floor mixed into the posterior, 0 < floor < 1, and such that
 *                   (floor / K)^gamma >= PPGKD_TRACKER_MIN_EMISSION
 * Returns PPGKD_ERR_ARG for a NULL tracker, PPGKD_ERR_DECODE for any value out of range (the
 * tracker is then left not ready), PPGKD_OK otherwise. */
ppgkd_status ppgkd_tracker_init(ppgkd_tracker* tracker, float scale_bpm, uint32_t max_delta_bins,
                                float gamma, float floor);

/* One step. posterior: K probabilities (a softmax output; entries in [0, 1]; they need not sum
 * to exactly 1). Writes the tracked HR in BPM and its confidence (0..1).
 * Returns PPGKD_ERR_ARG for a NULL pointer or a tracker not initialised, PPGKD_ERR_INPUT for a
 * non-finite entry or one outside [0, 1]; on any error the tracker is unchanged. */
ppgkd_status ppgkd_tracker_update(ppgkd_tracker* tracker, const float* posterior,
                                  float* tracked_bpm, float* confidence);

/* Sets the emission penalty at the cadence passed to ppgkd_tracker_update_cadence (kept by
 * reset, cleared by init). depth in [0, 1) (0 = off), width_bpm finite and > 0, half_harmonic 0
 * or 1; the smallest emission (floor / K)^gamma * (1 - depth) must stay >=
 * PPGKD_TRACKER_MIN_EMISSION. Returns PPGKD_ERR_ARG for a NULL or uninitialised tracker,
 * PPGKD_ERR_DECODE for a value out of range (the penalty is then unchanged), PPGKD_OK otherwise. */
ppgkd_status ppgkd_tracker_set_cadence_penalty(ppgkd_tracker* tracker, float depth, float width_bpm,
                                               uint32_t half_harmonic);

/* ppgkd_tracker_update with the step's motion cadence in BPM (from ppgkd_cadence_estimate;
 * 0 = none, which is exactly ppgkd_tracker_update). Besides its errors, PPGKD_ERR_INPUT for a
 * negative or non-finite cadence (the tracker is then unchanged). */
ppgkd_status ppgkd_tracker_update_cadence(ppgkd_tracker* tracker, const float* posterior,
                                          float cadence_bpm, float* tracked_bpm, float* confidence);

/* Forgets the history (uniform belief, steps = 0), keeping the parameters. */
ppgkd_status ppgkd_tracker_reset(ppgkd_tracker* tracker);

#ifdef __cplusplus
}
#endif

#endif /* PPGKD_TRACKER_H */
