/* raw_to_bpm.c — the pipeline of raw_to_bpm.h: resample, filter, window, model, tracker. */
#include "raw_to_bpm.h"

#include "ppgkd_edge_ops.h"

#define UP PPGKD_MODEL_RESAMPLE_UP
#define DOWN PPGKD_MODEL_RESAMPLE_DOWN
#define HALF PPGKD_MODEL_RESAMPLE_HALF

/* The tracker's class grid is fixed at compile time; the bundle's must be the same. */
typedef char rtb_classes_match_tracker[(RTB_K == PPGKD_TRACKER_CLASSES) ? 1 : -1];

/* floor(a / b) and ceil(a / b) for b > 0 and any sign of a (C division truncates). */
static int64_t floor_div(int64_t a, int64_t b) {
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}
static int64_t ceil_div(int64_t a, int64_t b) {
  return -floor_div(-a, b);
}

ppgkd_status rtb_init(rtb_pipeline* p) {
  ppgkd_status s;
  uint32_t c;
  if (!p) return PPGKD_ERR_ARG;
  s = ppgkd_init(&p->model, ppgkd_model_data, PPGKD_MODEL_BYTES, p->arena.bytes,
                 sizeof p->arena.bytes);
  if (s != PPGKD_OK) return s;
  if (p->model.in_channels != RTB_C || p->model.in_length != RTB_L ||
      p->model.num_classes != RTB_K) {
    return PPGKD_ERR_SHAPE; /* a bundle from another export */
  }
  s = ppgkd_tracker_init(&p->tracker, PPGKD_MODEL_TRACK_SCALE_BPM, PPGKD_MODEL_TRACK_MAX_DELTA,
                         PPGKD_MODEL_TRACK_GAMMA, PPGKD_MODEL_TRACK_FLOOR);
  if (s != PPGKD_OK) return s;
  s = ppgkd_sos_init(&p->filter[0], ppgkd_model_ppg_sos, PPGKD_MODEL_PPG_SECTIONS, p->ppg_state);
  if (s != PPGKD_OK) return s;
#if PPGKD_MODEL_ACC_SECTIONS > 0
  for (c = 1; c < RTB_C; ++c) {
    s = ppgkd_sos_init(&p->filter[c], ppgkd_model_acc_sos, PPGKD_MODEL_ACC_SECTIONS,
                       p->acc_state[c - 1]);
    if (s != PPGKD_OK) return s;
  }
#endif
  for (c = 0; c < RTB_C; ++c) p->first_raw[c] = p->last_raw[c] = 0.0f;
  p->n_raw = p->n_out = p->next_index = 0;
  p->finished = 0;
  return PPGKD_OK;
}

/* Raw sample k of channel c, the first / last sample held outside the stream. */
static float raw_at(const rtb_pipeline* p, uint32_t c, int64_t k) {
  if (k < 0) return p->first_raw[c];
  if (k >= (int64_t)p->n_raw) return p->last_raw[c];
  return p->raw[c][k % RTB_RAW_KEEP];
}

/* The last raw index model-rate sample i reads (it can be computed once that one arrived). */
static int64_t last_input_of(uint32_t i) {
  return HALF > 0 ? floor_div((int64_t)i * DOWN + HALF, UP) : (int64_t)i;
}

/* Model-rate sample i of channel c: sum_k x[k] h[i*DOWN - k*UP + HALF], k ascending. */
static float resampled(const rtb_pipeline* p, uint32_t c, uint32_t i) {
#if PPGKD_MODEL_RESAMPLE_HALF > 0
  const int64_t m = (int64_t)i * DOWN;
  const int64_t k_lo = ceil_div(m - HALF, UP), k_hi = floor_div(m + HALF, UP);
  int64_t k;
  float acc = 0.0f;
  for (k = k_lo; k <= k_hi; ++k)
    acc += raw_at(p, c, k) * ppgkd_model_resample_taps[m - k * UP + HALF];
  return acc;
#else
  return raw_at(p, c, (int64_t)i);
#endif
}

/* Window k: standardise, run, decode, track. */
static ppgkd_status release(rtb_pipeline* p, uint32_t k, rtb_result* r) {
  const uint32_t start = k * PPGKD_MODEL_STEP;
  ppgkd_decode_params d;
  ppgkd_status s;
  uint32_t c, j;
  for (c = 0; c < RTB_C; ++c) {
    for (j = 0; j < RTB_L; ++j) p->window[c * RTB_L + j] = p->ring[c][(start + j) % RTB_L];
  }
  if ((s = ppgkd_standardise(p->window, RTB_C, RTB_L)) != PPGKD_OK) return s;
  if ((s = ppgkd_run_logits(&p->model, p->window, p->logits, RTB_K)) != PPGKD_OK) return s;
  d.num_classes = RTB_K, d.radius = PPGKD_MODEL_DECODE_RADIUS;
  d.bpm_lo = PPGKD_MODEL_BPM_LO, d.bpm_step = PPGKD_MODEL_BPM_STEP;
  d.smooth_sigma = PPGKD_DECODE_SMOOTH_SIGMA;
  if ((s = ppgkd_decode_f32(&d, p->logits, &r->bpm, &r->confidence)) != PPGKD_OK) return s;
  if ((s = ppgkd_softmax_f32(p->logits, RTB_K, p->posterior)) != PPGKD_OK) return s;
  s = ppgkd_tracker_update(&p->tracker, p->posterior, &r->tracked_bpm, &r->tracked_conf);
  if (s != PPGKD_OK) return s;
  r->index = k;
  r->t_end_s = (float)(start + RTB_L) / PPGKD_MODEL_RATE_HZ;
  return PPGKD_OK;
}

/* Does window k's raw span lie inside the raw samples seen (the host's rule at the end)? */
static int raw_span_inside(const rtb_pipeline* p, uint32_t k) {
  const int64_t step_n = ((int64_t)PPGKD_MODEL_STEP * DOWN + UP / 2) / UP;
  const int64_t len_n = ((int64_t)RTB_L * DOWN + UP / 2) / UP;
  return (int64_t)k * step_n + len_n <= (int64_t)p->n_raw;
}

/* Computes model-rate samples while their inputs are there (all of them once finished: the
 * stream has ceil(n_raw * UP / DOWN)) and releases the windows they complete. */
static ppgkd_status advance(rtb_pipeline* p, rtb_result* out, uint32_t max_out, uint32_t* n_out) {
  const int64_t total = ((int64_t)p->n_raw * UP + DOWN - 1) / DOWN;
  ppgkd_status s;
  uint32_t c;
  while (p->finished ? (int64_t)p->n_out < total : last_input_of(p->n_out) < (int64_t)p->n_raw) {
    for (c = 0; c < RTB_C; ++c) {
      const float x = resampled(p, c, p->n_out);
      if (p->n_out == 0) ppgkd_sos_prime(&p->filter[c], x);
      p->ring[c][p->n_out % RTB_L] = ppgkd_sos_step(&p->filter[c], x);
    }
    ++p->n_out;
    if (p->n_out == p->next_index * PPGKD_MODEL_STEP + RTB_L) {
      if (!raw_span_inside(p, p->next_index)) continue; /* only past the end of the stream */
      if (*n_out >= max_out) return PPGKD_ERR_ARG;
      if ((s = release(p, p->next_index, &out[*n_out])) != PPGKD_OK) return s;
      ++*n_out;
      ++p->next_index;
    }
  }
  return PPGKD_OK;
}

ppgkd_status rtb_push(rtb_pipeline* p, const float* sample, rtb_result* out, uint32_t max_out,
                      uint32_t* n_out) {
  uint32_t c;
  if (!p || !sample || !out || !n_out || p->finished) return PPGKD_ERR_ARG;
  *n_out = 0;
  for (c = 0; c < RTB_C; ++c) {
    if (!(sample[c] - sample[c] == 0.0f)) return PPGKD_ERR_INPUT;
  }
  for (c = 0; c < RTB_C; ++c) {
    if (p->n_raw == 0) p->first_raw[c] = sample[c];
    p->raw[c][p->n_raw % RTB_RAW_KEEP] = sample[c];
    p->last_raw[c] = sample[c];
  }
  ++p->n_raw;
  return advance(p, out, max_out, n_out);
}

ppgkd_status rtb_finish(rtb_pipeline* p, rtb_result* out, uint32_t max_out, uint32_t* n_out) {
  if (!p || !out || !n_out || p->finished) return PPGKD_ERR_ARG;
  *n_out = 0;
  p->finished = 1;
  return advance(p, out, max_out, n_out);
}
