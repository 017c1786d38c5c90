/* test_tracker.c — the online HR tracker against a dense double-precision forward filter written
 * here from the definitions, against hand values, against per-window decoding under a flat prior,
 * on a synthetic track with harmonic confusions, and bit for bit between host and Cortex-M4.
 * Also the accelerometer cadence (ppgkd_cadence.h) on sinusoids, flat and noise windows, the
 * cadence penalty by hand, and a motion decoy the penalty removes.
 * The synthetic posteriors use only +, -, *, / so both platforms feed the tracker the same bits. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "micro_test.h"
#include "ppgkd_edge_format.h"
#include "ppgkd_edge_ops.h"
#include "ppgkd_tracker.h"
#include "tests.h"

#define K PPGKD_TRACKER_CLASSES
#define STEPS 60

static const ppgkd_decode_params kDecode = {K, 10, 30.0f, 1.0f, 0.0f};

/* ------------------------------------------------------------------ synthetic posteriors */

/* A bell of width sigma classes: (1 + d^2 / (2 sigma^2))^-4, close to a Gaussian near its centre
 * with heavier tails, computed without libm. */
static float bell(float d, float sigma) {
  const float q = 1.0f + d * d / (2.0f * sigma * sigma);
  return 1.0f / (q * q * q * q);
}

/* The true HR of step t: 72 BPM rising by 0.5 BPM per step. */
static float true_bpm(int t) {
  return 72.0f + 0.5f * (float)t;
}

/* Steps whose posterior puts most of its mass on the second harmonic. */
static int harmonic_step(int t) {
  return (t >= 20 && t < 25) || (t >= 40 && t < 43);
}

/* posterior (K): a bell at the true HR (weight 0.35 on harmonic steps, else 1) plus a bell at
 * twice the true HR (weight 0.65) on harmonic steps, normalised. */
static void make_posterior(int t, float* p) {
  const float hr = true_bpm(t), fund = harmonic_step(t) ? 0.35f : 1.0f;
  float sum = 0.0f;
  int i;
  for (i = 0; i < K; ++i) {
    const float centre = 30.5f + (float)i;
    p[i] = fund * bell(centre - hr, 3.0f);
    if (harmonic_step(t)) p[i] += 0.65f * bell(centre - 2.0f * hr, 3.0f);
    sum += p[i];
  }
  for (i = 0; i < K; ++i) p[i] /= sum;
}

/* Per-window decode: ppgkd_decode_f32 on log-probabilities (its softmax gives p back). */
static void decode_window(const float* p, float* bpm, float* conf) {
  float logits[K];
  int i;
  for (i = 0; i < K; ++i) logits[i] = logf(p[i]);
  ppgkd_decode_f32(&kDecode, logits, bpm, conf);
}

/* ------------------------------------------------------------------ a dense double reference */

/* One step of the forward filter from its definition, in double, with the transition matrix
 * A[i][j] = k(j - i) / sum_j' k(j' - i), k(d) = exp(-|d| / scale) for |d| <= w (the host's
 * laplacian_transition, truncated). alpha (K) is updated in place; first = no prediction. */
static void reference_step(double* alpha, const float* p, double scale, int w, double gamma,
                           double floor, int first) {
  static double pred[K], row[K];
  double c = 0;
  int i, j;
  for (i = 0; i < K; ++i) {
    row[i] = 0;
    for (j = 0; j < K; ++j)
      if (abs(j - i) <= w) row[i] += exp(-abs(j - i) / scale);
  }
  for (j = 0; j < K; ++j) {
    pred[j] = first ? 1.0 / K : 0;
    if (!first)
      for (i = 0; i < K; ++i)
        if (abs(j - i) <= w) pred[j] += alpha[i] * exp(-abs(j - i) / scale) / row[i];
  }
  for (j = 0; j < K; ++j) {
    alpha[j] = pred[j] * pow((1 - floor) * p[j] + floor / K, gamma);
    c += alpha[j];
  }
  for (j = 0; j < K; ++j) alpha[j] /= c;
}

/* ------------------------------------------------------------------ tests */

static ppgkd_tracker tr, tr2; /* static: 2.9 kB each, kept off the M4 stack */

static void test_tracker_size(void) {
  /* Four arrays of K floats and nine 4-byte fields, no padding, on every platform. */
  EXPECT_EQ_INT(4 * K * 4 + 9 * 4, sizeof(ppgkd_tracker));
}

static void test_tracker_rejects_bad_arguments(void) {
  float p[K], bpm = 0, conf = 0;
  uint32_t steps;
  float before[K];
  const float nan = 0.0f / 0.0f, inf = 1.0f / 0.0f;
  make_posterior(0, p);
  EXPECT_STATUS(PPGKD_ERR_ARG, ppgkd_tracker_init(0, 1, 30, 1, 1e-6f));
  EXPECT_STATUS(PPGKD_ERR_DECODE, ppgkd_tracker_init(&tr, 0, 30, 1, 1e-6f));
  EXPECT_STATUS(PPGKD_ERR_DECODE, ppgkd_tracker_init(&tr, -1, 30, 1, 1e-6f));
  EXPECT_STATUS(PPGKD_ERR_DECODE, ppgkd_tracker_init(&tr, inf, 30, 1, 1e-6f));
  EXPECT_STATUS(PPGKD_ERR_DECODE, ppgkd_tracker_init(&tr, nan, 30, 1, 1e-6f));
  EXPECT_STATUS(PPGKD_ERR_DECODE, ppgkd_tracker_init(&tr, 1, K, 1, 1e-6f));
  EXPECT_STATUS(PPGKD_ERR_DECODE, ppgkd_tracker_init(&tr, 1, 30, 0, 1e-6f));
  EXPECT_STATUS(PPGKD_ERR_DECODE, ppgkd_tracker_init(&tr, 1, 30, nan, 1e-6f));
  EXPECT_STATUS(PPGKD_ERR_DECODE, ppgkd_tracker_init(&tr, 1, 30, 1, 0));
  EXPECT_STATUS(PPGKD_ERR_DECODE, ppgkd_tracker_init(&tr, 1, 30, 1, 1));
  /* (1e-20 / 180)^2 = 3.1e-45 < 1e-30, while (1e-20 / 180)^1 = 5.6e-23 is fine. */
  EXPECT_STATUS(PPGKD_ERR_DECODE, ppgkd_tracker_init(&tr, 1, 30, 2, 1e-20f));
  EXPECT_TRUE(tr.ready == 0);
  EXPECT_STATUS(PPGKD_ERR_ARG, ppgkd_tracker_update(&tr, p, &bpm, &conf)); /* not ready */
  EXPECT_STATUS(PPGKD_ERR_ARG, ppgkd_tracker_reset(&tr));
  EXPECT_STATUS(PPGKD_OK, ppgkd_tracker_init(&tr, 1, 30, 1, 1e-20f));
  EXPECT_STATUS(PPGKD_OK, ppgkd_tracker_init(&tr, 1, PPGKD_TRACKER_MAX_DELTA, 1, 1e-6f));
  EXPECT_STATUS(PPGKD_OK, ppgkd_tracker_update(&tr, p, &bpm, &conf));
  EXPECT_STATUS(PPGKD_ERR_ARG, ppgkd_tracker_update(&tr, 0, &bpm, &conf));
  EXPECT_STATUS(PPGKD_ERR_ARG, ppgkd_tracker_update(&tr, p, 0, &conf));
  EXPECT_STATUS(PPGKD_ERR_ARG, ppgkd_tracker_update(&tr, p, &bpm, 0));
  /* Bad posteriors are rejected and leave the state as it was. */
  memcpy(before, tr.belief, sizeof before);
  steps = tr.steps;
  p[7] = nan;
  EXPECT_STATUS(PPGKD_ERR_INPUT, ppgkd_tracker_update(&tr, p, &bpm, &conf));
  p[7] = -1e-9f;
  EXPECT_STATUS(PPGKD_ERR_INPUT, ppgkd_tracker_update(&tr, p, &bpm, &conf));
  p[7] = 1.001f;
  EXPECT_STATUS(PPGKD_ERR_INPUT, ppgkd_tracker_update(&tr, p, &bpm, &conf));
  EXPECT_TRUE(memcmp(before, tr.belief, sizeof before) == 0);
  EXPECT_EQ_INT(steps, tr.steps);
}

static void test_tracker_kernel_and_row_sums_by_hand(void) {
  /* scale 2, max_delta 3: kernel = 1, e^-0.5, e^-1, e^-1.5, then 0. Row 0 sees d = 0..3 only;
   * row 90 sees d = -3..3; row 178 sees d = -3..1. */
  const double k1 = exp(-0.5), k2 = exp(-1.0), k3 = exp(-1.5);
  EXPECT_STATUS(PPGKD_OK, ppgkd_tracker_init(&tr, 2, 3, 1, 1e-6f));
  EXPECT_NEAR(1.0, tr.kernel[0], 1e-7);
  EXPECT_NEAR(k1, tr.kernel[1], 2e-7);
  EXPECT_NEAR(k2, tr.kernel[2], 2e-7);
  EXPECT_NEAR(k3, tr.kernel[3], 2e-7);
  EXPECT_TRUE(tr.kernel[4] == 0.0f && tr.kernel[K - 1] == 0.0f);
  EXPECT_NEAR(1 + k1 + k2 + k3, tr.row_sum[0], 1e-6);
  EXPECT_NEAR(1 + 2 * (k1 + k2 + k3), tr.row_sum[90], 1e-6);
  EXPECT_NEAR(1 + 2 * k1 + k2 + k3, tr.row_sum[K - 2], 1e-6);
}

static void test_tracker_first_step_is_tempered_posterior(void) {
  /* With a uniform start the first belief is normalise(((1 - f) p + f / K)^gamma): here p = 0.6
   * at class 40, 0.4 at class 41, f = 0.01, gamma = 0.5. Hand values: v40 = 0.99 * 0.6 + 0.01 /
   * 180, v41 = 0.99 * 0.4 + 0.01 / 180, others 0.01 / 180, normalised square roots. */
  float p[K], bpm, conf;
  const double u = 0.01 / 180, v40 = 0.99 * 0.6 + u, v41 = 0.99 * 0.4 + u;
  const double z = sqrt(v40) + sqrt(v41) + 178 * sqrt(u);
  int i;
  for (i = 0; i < K; ++i) p[i] = 0;
  p[40] = 0.6f, p[41] = 0.4f;
  EXPECT_STATUS(PPGKD_OK, ppgkd_tracker_init(&tr, 1, 30, 0.5f, 0.01f));
  EXPECT_STATUS(PPGKD_OK, ppgkd_tracker_update(&tr, p, &bpm, &conf));
  EXPECT_NEAR(sqrt(v40) / z, tr.belief[40], 1e-6);
  EXPECT_NEAR(sqrt(v41) / z, tr.belief[41], 1e-6);
  EXPECT_NEAR(sqrt(u) / z, tr.belief[0], 1e-7);
  /* Decode: argmax 40, window 30..50 holds classes 40, 41 and 19 floor classes, whose centres
   * 60.5..80.5 without 70.5 and 71.5 sum to 21 * 70.5 - 142 = 1338.5. */
  EXPECT_NEAR((sqrt(v40) + sqrt(v41) + 19 * sqrt(u)) / z, conf, 1e-6);
  EXPECT_NEAR((sqrt(v40) * 70.5 + sqrt(v41) * 71.5 + sqrt(u) * 1338.5) /
                  (sqrt(v40) + sqrt(v41) + 19 * sqrt(u)),
              bpm, 1e-4);
}

static void test_tracker_matches_dense_double_filter(void) {
  /* Random posteriors (softmax of uniform logits in [-4, 4)), 25 steps, against the dense double
   * filter above, for a truncated and an untruncated prior and a tempered emission. */
  static double alpha[K];
  static float p[K];
  const struct {
    float scale;
    uint32_t w;
    float gamma, floor;
  } cases[2] = {{2.0f, 12, 0.7f, 1e-3f}, {5.0f, K - 1, 1.0f, 1e-6f}};
  int c, t, i;
  for (c = 0; c < 2; ++c) {
    double worst = 0;
    EXPECT_STATUS(PPGKD_OK, ppgkd_tracker_init(&tr, cases[c].scale, cases[c].w, cases[c].gamma,
                                               cases[c].floor));
    test_rng_seed(1234u + (uint32_t)c);
    for (t = 0; t < 25; ++t) {
      float bpm, conf, sum = 0;
      for (i = 0; i < K; ++i) sum += p[i] = expf(4.0f * test_rng_uniform());
      for (i = 0; i < K; ++i) p[i] /= sum;
      EXPECT_STATUS(PPGKD_OK, ppgkd_tracker_update(&tr, p, &bpm, &conf));
      reference_step(alpha, p, cases[c].scale, (int)cases[c].w, cases[c].gamma, cases[c].floor,
                     t == 0);
      for (i = 0; i < K; ++i) {
        const double d = fabs(alpha[i] - tr.belief[i]);
        if (d > worst) worst = d;
      }
    }
    EXPECT_NEAR(0, worst, 1e-6);
  }
}

static void test_tracker_follows_track_through_harmonics(void) {
  /* (a) Where the per-window argmax jumps to the second harmonic (> 60 BPM off), the tracker
   * (default prior 0.84 BPM per step, truncated at 30) stays within 3 BPM of the truth. */
  float p[K];
  int t, harmonic_jumps = 0;
  EXPECT_STATUS(PPGKD_OK, ppgkd_tracker_init(&tr, 0.84f, 30, 1, 1e-6f));
  for (t = 0; t < STEPS; ++t) {
    float bpm, conf, win_bpm, win_conf;
    make_posterior(t, p);
    decode_window(p, &win_bpm, &win_conf);
    if (harmonic_step(t)) harmonic_jumps += win_bpm - true_bpm(t) > 60.0f;
    EXPECT_STATUS(PPGKD_OK, ppgkd_tracker_update(&tr, p, &bpm, &conf));
    if (!(fabs(bpm - true_bpm(t)) <= 3.0))
      MT_FAIL("step %d: tracked %.3f, true %.3f", t, (double)bpm, (double)true_bpm(t));
  }
  EXPECT_EQ_INT(8, harmonic_jumps); /* every harmonic step fools the per-window decoder */
}

static void test_tracker_flat_prior_is_per_window_decode(void) {
  /* (b) An untruncated prior of huge scale is flat: A^T belief = 1 / K whatever the belief, so
   * every step is decoded on its own, harmonic jumps included. */
  float p[K];
  int t;
  EXPECT_STATUS(PPGKD_OK, ppgkd_tracker_init(&tr, 1e30f, PPGKD_TRACKER_MAX_DELTA, 1, 1e-7f));
  for (t = 0; t < STEPS; ++t) {
    float bpm, conf, win_bpm, win_conf;
    make_posterior(t, p);
    decode_window(p, &win_bpm, &win_conf);
    EXPECT_STATUS(PPGKD_OK, ppgkd_tracker_update(&tr, p, &bpm, &conf));
    EXPECT_NEAR(win_bpm, bpm, 1e-3);
    EXPECT_NEAR(win_conf, conf, 1e-5);
  }
}

static void test_tracker_reset_forgets_history(void) {
  float p[K], bpm, conf, bpm2, conf2;
  int t;
  EXPECT_STATUS(PPGKD_OK, ppgkd_tracker_init(&tr, 0.84f, 30, 0.8f, 1e-5f));
  EXPECT_STATUS(PPGKD_OK, ppgkd_tracker_init(&tr2, 0.84f, 30, 0.8f, 1e-5f));
  for (t = 0; t < 10; ++t) {
    make_posterior(t, p);
    ppgkd_tracker_update(&tr, p, &bpm, &conf);
  }
  EXPECT_STATUS(PPGKD_OK, ppgkd_tracker_reset(&tr));
  EXPECT_EQ_INT(0, tr.steps);
  make_posterior(30, p);
  EXPECT_STATUS(PPGKD_OK, ppgkd_tracker_update(&tr, p, &bpm, &conf));
  EXPECT_STATUS(PPGKD_OK, ppgkd_tracker_update(&tr2, p, &bpm2, &conf2));
  EXPECT_TRUE(memcmp(tr.belief, tr2.belief, sizeof tr.belief) == 0);
  EXPECT_TRUE(bpm == bpm2 && conf == conf2);
}

/* The CRC-32 of the final belief and of every tracked BPM of the harmonic sequence, tempered
 * (gamma 0.7, the own exp/log path) — computed once on x86-64 and required on the Cortex-M4. */
#define EXPECTED_TRACK_CRC 0xaefce74cu

static void test_tracker_bit_exact_across_platforms(void) {
  float p[K], track[STEPS];
  int t;
  uint32_t crc;
  uint8_t bytes[sizeof tr.belief + sizeof track];
  uint64_t cost = 0;
  EXPECT_STATUS(PPGKD_OK, ppgkd_tracker_init(&tr, 0.84f, 30, 0.7f, 1e-6f));
  for (t = 0; t < STEPS; ++t) {
    float conf;
    uint64_t start;
    make_posterior(t, p);
    start = ppgkd_port_counter();
    EXPECT_STATUS(PPGKD_OK, ppgkd_tracker_update(&tr, p, &track[t], &conf));
    cost += ppgkd_port_counter() - start;
  }
  memcpy(bytes, tr.belief, sizeof tr.belief);
  memcpy(bytes + sizeof tr.belief, track, sizeof track);
  crc = ppgkd_crc32(bytes, sizeof bytes);
  printf("  tracker CRC-32 0x%08lx, final %.6f BPM, %lu %s per update (max_delta 30)\n",
         (unsigned long)crc, (double)track[STEPS - 1], (unsigned long)(cost / STEPS),
         ppgkd_port_counter_unit());
  EXPECT_EQ_INT(EXPECTED_TRACK_CRC, crc);
}

/* ------------------------------------------------------------------ cadence */

#define L 200
#define FS 25.0f

/* cos and sin of 0 <= x <= 1 by Taylor series (no libm: the same bits on both platforms). */
static float small_cos(float x) {
  const float x2 = x * x;
  return 1.0f - x2 / 2 * (1.0f - x2 / 12 * (1.0f - x2 / 30 * (1.0f - x2 / 56 * (1.0f - x2 / 90))));
}
static float small_sin(float x) {
  const float x2 = x * x;
  return x * (1.0f - x2 / 6 * (1.0f - x2 / 20 * (1.0f - x2 / 42 * (1.0f - x2 / 72))));
}

/* A (4, L) window: PPG noise, and on acc axis a amp[a] * sin(omega n + 0.4 a) at f_bpm (by a
 * rotation recurrence) plus noise of amplitude `noise`. */
static void make_acc_window(float* x, float f_bpm, const float amp[3], float noise) {
  const float omega = 6.28318531f * f_bpm / (60.0f * FS), cw = small_cos(omega),
              sw = small_sin(omega);
  int a, n;
  for (n = 0; n < L; ++n) x[n] = test_rng_uniform();
  for (a = 0; a < 3; ++a) {
    float c = small_cos(0.4f * (float)a), s = small_sin(0.4f * (float)a);
    for (n = 0; n < L; ++n) {
      const float c2 = c * cw - s * sw;
      x[(a + 1) * L + n] = amp[a] * s + noise * test_rng_uniform();
      s = s * cw + c * sw;
      c = c2;
    }
  }
}

static float window_buf[4 * L];

static void test_cadence_of_sinusoids(void) {
  /* A sinusoid on acc (one axis, or all three with different phases and amplitudes, with some
   * noise) is found within 1 BPM, with a large share. */
  static const float freqs[6] = {42.0f, 71.3f, 97.8f, 120.0f, 155.5f, 201.0f};
  const float one[3] = {0.0f, 1.0f, 0.0f}, three[3] = {1.0f, 0.5f, 2.0f};
  int i, k;
  test_rng_seed(77u);
  for (k = 0; k < 2; ++k)
    for (i = 0; i < 6; ++i) {
      float cad = -1, share = -1;
      make_acc_window(window_buf, freqs[i], k ? three : one, k ? 0.3f : 0.0f);
      EXPECT_STATUS(PPGKD_OK, ppgkd_cadence_estimate(window_buf, 4, L, FS, PPGKD_CADENCE_MIN_SHARE,
                                                     &cad, &share));
      if (!(fabs(cad - freqs[i]) <= 1.0))
        MT_FAIL("sinusoid %.1f BPM: cadence %.2f (share %.3f)", (double)freqs[i], (double)cad,
                (double)share);
      EXPECT_TRUE(share > 0.8f);
    }
}

static void test_cadence_none_when_flat_noise_or_no_acc(void) {
  float cad = -1, share = -1;
  int i, n, above = 0;
  for (i = 0; i < 4 * L; ++i) window_buf[i] = 0.0f;
  EXPECT_STATUS(PPGKD_OK, ppgkd_cadence_estimate(window_buf, 4, L, FS, 0.0f, &cad, &share));
  EXPECT_TRUE(cad == 0.0f && share == 0.0f); /* zero acc (BIDMC) */
  for (i = L; i < 4 * L; ++i) window_buf[i] = 3.5f;
  EXPECT_STATUS(PPGKD_OK, ppgkd_cadence_estimate(window_buf, 4, L, FS, 0.0f, &cad, &share));
  EXPECT_TRUE(cad == 0.0f && share == 0.0f); /* constant acc: the mean is removed exactly */
  make_acc_window(window_buf, 100.0f, (const float[3]){1, 1, 1}, 0.0f);
  EXPECT_STATUS(PPGKD_OK, ppgkd_cadence_estimate(window_buf, 1, L, FS, 0.0f, &cad, &share));
  EXPECT_TRUE(cad == 0.0f); /* a PPG-only window has no accelerometer */
  /* White noise: the share stays below the suggested threshold in (almost) every window. */
  test_rng_seed(4321u);
  for (i = 0; i < 50; ++i) {
    for (n = 0; n < 4 * L; ++n) window_buf[n] = test_rng_uniform();
    EXPECT_STATUS(PPGKD_OK, ppgkd_cadence_estimate(window_buf, 4, L, FS, PPGKD_CADENCE_MIN_SHARE,
                                                   &cad, &share));
    above += cad != 0.0f;
  }
  if (above > 2) MT_FAIL("%d of 50 white-noise windows have a cadence", above);
  /* Bad arguments. */
  EXPECT_STATUS(PPGKD_ERR_ARG, ppgkd_cadence_estimate(0, 4, L, FS, 0.4f, &cad, &share));
  EXPECT_STATUS(PPGKD_ERR_ARG, ppgkd_cadence_estimate(window_buf, 4, 1, FS, 0.4f, &cad, &share));
  EXPECT_STATUS(PPGKD_ERR_ARG, ppgkd_cadence_estimate(window_buf, 4, L, 7.0f, 0.4f, &cad, &share));
  EXPECT_STATUS(PPGKD_ERR_ARG, ppgkd_cadence_estimate(window_buf, 4, L, FS, 1.5f, &cad, &share));
  window_buf[2 * L + 5] = 0.0f / 0.0f;
  EXPECT_STATUS(PPGKD_ERR_INPUT, ppgkd_cadence_estimate(window_buf, 4, L, FS, 0.4f, &cad, &share));
}

static void test_cadence_factor_by_hand(void) {
  /* f = 60, depth 0.5, width 4: at 60 the factor is 1 - 0.5 = 0.5; at 64 (one width off the
   * fundamental) 1 - 0.5 e^-0.5; at 118 (2 off the second harmonic 120) 1 - 0.5 e^-0.125; at 30
   * only with the half harmonic; no cadence or depth 0 give exactly 1. */
  EXPECT_NEAR(0.5, ppgkd_cadence_factor(60.0f, 60.0f, 0.5f, 4.0f, 0), 1e-7);
  EXPECT_NEAR(1 - 0.5 * exp(-0.5), ppgkd_cadence_factor(64.0f, 60.0f, 0.5f, 4.0f, 0), 1e-7);
  EXPECT_NEAR(1 - 0.5 * exp(-0.125), ppgkd_cadence_factor(118.0f, 60.0f, 0.5f, 4.0f, 0), 1e-7);
  EXPECT_NEAR(1 - 0.5 * exp(-450.0 / 16), ppgkd_cadence_factor(30.0f, 60.0f, 0.5f, 4.0f, 0), 1e-7);
  EXPECT_NEAR(0.5, ppgkd_cadence_factor(30.0f, 60.0f, 0.5f, 4.0f, 1), 1e-7);
  EXPECT_TRUE(ppgkd_cadence_factor(60.0f, 0.0f, 0.5f, 4.0f, 1) == 1.0f);
  EXPECT_TRUE(ppgkd_cadence_factor(60.0f, 60.0f, 0.0f, 4.0f, 1) == 1.0f);
}

static void test_tracker_penalty_first_step_by_hand(void) {
  /* First step from a uniform belief, floor tiny, gamma 1: belief = normalise(p * factor). p has
   * 0.5 at class 40 (70.5 BPM) and 0.5 at class 90 (120.5 BPM); cadence 60.5, depth 0.75,
   * width 2: class 90 sits on the second harmonic 121 (0.5 off: factor 1 - 0.75 e^-1/32), class
   * 40 is 10 BPM from the fundamental (factor 1 - 0.75 e^-12.5). */
  float p[K], bpm, conf;
  const double f40 = 1 - 0.75 * exp(-100.0 / 8), f90 = 1 - 0.75 * exp(-0.25 / 8);
  int i;
  for (i = 0; i < K; ++i) p[i] = 0;
  p[40] = 0.5f, p[90] = 0.5f;
  EXPECT_STATUS(PPGKD_OK, ppgkd_tracker_init(&tr, 1, 30, 1.0f, 1e-20f));
  EXPECT_STATUS(PPGKD_ERR_DECODE, ppgkd_tracker_set_cadence_penalty(&tr, 1.0f, 2.0f, 0));
  EXPECT_STATUS(PPGKD_ERR_DECODE, ppgkd_tracker_set_cadence_penalty(&tr, 0.5f, 0.0f, 0));
  EXPECT_STATUS(PPGKD_ERR_DECODE, ppgkd_tracker_set_cadence_penalty(&tr, 0.5f, 2.0f, 2));
  EXPECT_STATUS(PPGKD_OK, ppgkd_tracker_set_cadence_penalty(&tr, 0.75f, 2.0f, 0));
  EXPECT_STATUS(PPGKD_ERR_INPUT, ppgkd_tracker_update_cadence(&tr, p, -1.0f, &bpm, &conf));
  EXPECT_STATUS(PPGKD_OK, ppgkd_tracker_update_cadence(&tr, p, 60.5f, &bpm, &conf));
  EXPECT_NEAR(f40 / (f40 + f90), tr.belief[40], 1e-6);
  EXPECT_NEAR(f90 / (f40 + f90), tr.belief[90], 1e-6);
  EXPECT_NEAR(70.5, bpm, 1e-3); /* the motion harmonic lost */
}

static void test_tracker_penalty_off_is_bit_identical(void) {
  /* depth 0, or cadence 0, gives exactly the bits of the plain update. */
  float p[K], b1, c1, b2, c2;
  int t;
  EXPECT_STATUS(PPGKD_OK, ppgkd_tracker_init(&tr, 0.84f, 30, 0.7f, 1e-6f));
  EXPECT_STATUS(PPGKD_OK, ppgkd_tracker_init(&tr2, 0.84f, 30, 0.7f, 1e-6f));
  EXPECT_STATUS(PPGKD_OK, ppgkd_tracker_set_cadence_penalty(&tr2, 0.0f, 3.0f, 1));
  for (t = 0; t < 30; ++t) {
    make_posterior(t, p);
    EXPECT_STATUS(PPGKD_OK, ppgkd_tracker_update(&tr, p, &b1, &c1));
    EXPECT_STATUS(PPGKD_OK, ppgkd_tracker_update_cadence(&tr2, p, 88.5f, &b2, &c2));
    EXPECT_TRUE(b1 == b2 && c1 == c2);
  }
  EXPECT_TRUE(memcmp(tr.belief, tr2.belief, sizeof tr.belief) == 0);
  EXPECT_STATUS(PPGKD_OK, ppgkd_tracker_set_cadence_penalty(&tr2, 0.8f, 3.0f, 1));
  make_posterior(30, p);
  EXPECT_STATUS(PPGKD_OK, ppgkd_tracker_update(&tr, p, &b1, &c1));
  EXPECT_STATUS(PPGKD_OK, ppgkd_tracker_update_cadence(&tr2, p, 0.0f, &b2, &c2));
  EXPECT_TRUE(memcmp(tr.belief, tr2.belief, sizeof tr.belief) == 0);
}

/* The motion decoy: true HR 100 BPM + 0.3 t, arm cadence 70 BPM; the network puts 0.6 of its
 * mass on the cadence's second harmonic (140) and 0.1 on the cadence, 0.3 on the truth. */
static float decoy_true_bpm(int t) {
  return 100.0f + 0.3f * (float)t;
}
static void make_decoy_posterior(int t, float* p) {
  float sum = 0.0f;
  int i;
  for (i = 0; i < K; ++i) {
    const float centre = 30.5f + (float)i;
    p[i] = 0.3f * bell(centre - decoy_true_bpm(t), 3.0f) + 0.6f * bell(centre - 140.0f, 3.0f) +
           0.1f * bell(centre - 70.0f, 3.0f);
    sum += p[i];
  }
  for (i = 0; i < K; ++i) p[i] /= sum;
}

static void test_tracker_penalty_removes_motion_decoy(void) {
  /* The cadence comes from the acc window (a 70 BPM sinusoid with noise); without the penalty
   * the tracker follows the decoy at 140, with it the truth. */
  const float amp[3] = {1.0f, 0.7f, 0.2f};
  float p[K];
  int t, off_decoy = 0, on_true = 0;
  EXPECT_STATUS(PPGKD_OK, ppgkd_tracker_init(&tr, 0.84f, 30, 1.0f, 1e-6f));
  EXPECT_STATUS(PPGKD_OK, ppgkd_tracker_init(&tr2, 0.84f, 30, 1.0f, 1e-6f));
  EXPECT_STATUS(PPGKD_OK, ppgkd_tracker_set_cadence_penalty(&tr2, PPGKD_CADENCE_DEPTH,
                                                            PPGKD_CADENCE_WIDTH_BPM, 0));
  test_rng_seed(99u);
  for (t = 0; t < 30; ++t) {
    float cad, share, b_off, b_on, conf;
    make_acc_window(window_buf, 70.0f, amp, 0.5f);
    EXPECT_STATUS(PPGKD_OK, ppgkd_cadence_estimate(window_buf, 4, L, FS, PPGKD_CADENCE_MIN_SHARE,
                                                   &cad, &share));
    EXPECT_TRUE(fabs(cad - 70.0f) <= 1.0);
    make_decoy_posterior(t, p);
    EXPECT_STATUS(PPGKD_OK, ppgkd_tracker_update(&tr, p, &b_off, &conf));
    EXPECT_STATUS(PPGKD_OK, ppgkd_tracker_update_cadence(&tr2, p, cad, &b_on, &conf));
    off_decoy += fabs(b_off - 140.0f) < 3.0;
    on_true += fabs(b_on - decoy_true_bpm(t)) < 3.0;
  }
  EXPECT_EQ_INT(30, off_decoy);
  EXPECT_EQ_INT(30, on_true);
}

/* The CRC-32 of the cadences and shares of 20 windows (sinusoids and noise) and of the tracked
 * BPM of the decoy sequence with the penalty (gamma 0.7, half harmonic on) — computed once on
 * x86-64 and required on the Cortex-M4 and on the host (tests/decode/test_cadence.cpp checks
 * that the host's C++ cadence gives the same bits). */
#define EXPECTED_CADENCE_CRC 0x84ada4d2u

static void test_cadence_bit_exact_across_platforms(void) {
  float values[2 * 20 + 30];
  const float amp[3] = {0.3f, 1.0f, 0.6f};
  float p[K];
  int i;
  uint32_t crc;
  uint64_t cost = 0, start;
  test_rng_seed(2024u);
  for (i = 0; i < 20; ++i) {
    if (i % 2) {
      int n;
      for (n = 0; n < 4 * L; ++n) window_buf[n] = test_rng_uniform();
    } else {
      make_acc_window(window_buf, 45.0f + 8.3f * (float)i, amp, 0.4f);
    }
    start = ppgkd_port_counter();
    EXPECT_STATUS(PPGKD_OK, ppgkd_cadence_estimate(window_buf, 4, L, FS, 0.3f, &values[2 * i],
                                                   &values[2 * i + 1]));
    cost += ppgkd_port_counter() - start;
  }
  EXPECT_STATUS(PPGKD_OK, ppgkd_tracker_init(&tr, 0.84f, 30, 0.7f, 1e-6f));
  EXPECT_STATUS(PPGKD_OK, ppgkd_tracker_set_cadence_penalty(&tr, 0.8f, 4.0f, 1));
  for (i = 0; i < 30; ++i) {
    float conf;
    make_decoy_posterior(i, p);
    EXPECT_STATUS(PPGKD_OK, ppgkd_tracker_update_cadence(&tr, p, 69.5f + (float)(i % 3),
                                                         &values[40 + i], &conf));
  }
  crc = ppgkd_crc32((const uint8_t*)values, sizeof values);
  printf("  cadence CRC-32 0x%08lx, %lu %s per cadence estimate (L = 200)\n", (unsigned long)crc,
         (unsigned long)(cost / 20), ppgkd_port_counter_unit());
  EXPECT_EQ_INT(EXPECTED_CADENCE_CRC, crc);
}

void run_tracker_tests(void) {
  RUN_TEST(test_tracker_size);
  RUN_TEST(test_tracker_rejects_bad_arguments);
  RUN_TEST(test_tracker_kernel_and_row_sums_by_hand);
  RUN_TEST(test_tracker_first_step_is_tempered_posterior);
  RUN_TEST(test_tracker_matches_dense_double_filter);
  RUN_TEST(test_tracker_follows_track_through_harmonics);
  RUN_TEST(test_tracker_flat_prior_is_per_window_decode);
  RUN_TEST(test_tracker_reset_forgets_history);
  RUN_TEST(test_tracker_bit_exact_across_platforms);
  RUN_TEST(test_cadence_of_sinusoids);
  RUN_TEST(test_cadence_none_when_flat_noise_or_no_acc);
  RUN_TEST(test_cadence_factor_by_hand);
  RUN_TEST(test_tracker_penalty_first_step_by_hand);
  RUN_TEST(test_tracker_penalty_off_is_bit_identical);
  RUN_TEST(test_tracker_penalty_removes_motion_decoy);
  RUN_TEST(test_cadence_bit_exact_across_platforms);
}
