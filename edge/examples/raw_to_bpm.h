/* raw_to_bpm.h — an example pipeline from raw sensor samples to a tracked heart rate on the
 * device, using only what `ppgkd export` writes (model_data.h / model_data.c: the blob and the
 * bundle) and the edge runtime:
 *
 *   raw samples at PPGKD_MODEL_INPUT_RATE_HZ (PPG, and acc x/y/z for 4-channel models)
 *     -> polyphase resampler to PPGKD_MODEL_RATE_HZ (the bundle's FIR taps, held first sample)
 *     -> causal biquads per channel (PPG band-pass, acc high-pass), primed on the first sample
 *     -> a window of PPGKD_MODEL_WINDOW samples every PPGKD_MODEL_STEP, standardised
 *     -> the model (ppgkd_run_logits) -> per-window BPM (ppgkd_decode_f32)
 *     -> posterior (ppgkd_softmax_f32) -> tracker (ppgkd_tracker_update) -> tracked BPM.
 *
 * Everything lives in one static struct (about 9 kB plus the model arena for r1); nothing is
 * allocated. The same code runs on the host and on a Cortex-M4 with bit-identical results
 * (IEEE single precision in a fixed order, -ffp-contract=off). It mirrors `ppgkd predict
 * --stream` (which computes in double with libtorch) to within a tolerance, not bit for bit.
 * Non-finite samples are refused (PPGKD_ERR_INPUT); the host's predict holds them instead.
 * Shapes: C channels, L = window samples, K classes. */
#ifndef RAW_TO_BPM_H
#define RAW_TO_BPM_H

#include <stdint.h>

#include "model_data.h"
#include "ppgkd_edge.h"
#include "ppgkd_tracker.h"

#define RTB_C PPGKD_MODEL_CHANNELS
#define RTB_L PPGKD_MODEL_WINDOW
#define RTB_K PPGKD_MODEL_NUM_CLASSES
/* Raw samples a resampled output can reach back: its taps span 2 * HALF / UP + 1 inputs. */
#define RTB_RAW_KEEP (2 * PPGKD_MODEL_RESAMPLE_HALF / PPGKD_MODEL_RESAMPLE_UP + 3)
#define RTB_ACC_SECTIONS (PPGKD_MODEL_ACC_SECTIONS > 0 ? PPGKD_MODEL_ACC_SECTIONS : 1)

/* One released window's result. */
typedef struct {
  uint32_t index;     /* window k: model-rate samples [k * STEP, k * STEP + L) */
  float t_end_s;      /* end of the window in seconds from the first sample */
  float bpm;          /* per-window decode */
  float confidence;   /* posterior mass within the decode radius */
  float tracked_bpm;  /* the tracker's estimate after this window */
  float tracked_conf; /* its confidence */
} rtb_result;

typedef struct {
  union {
    uint32_t align; /* the runtime needs a 4-byte-aligned arena */
    uint8_t bytes[PPGKD_MODEL_ARENA_BYTES + 4];
  } arena;
  ppgkd_model model;
  ppgkd_tracker tracker;
  ppgkd_sos_filter filter[RTB_C];
  float ppg_state[2 * PPGKD_MODEL_PPG_SECTIONS];
  float acc_state[3][2 * RTB_ACC_SECTIONS];
  float raw[RTB_C][RTB_RAW_KEEP]; /* ring of raw samples: index n at n % RTB_RAW_KEEP */
  float first_raw[RTB_C];         /* held before the first sample */
  float last_raw[RTB_C];          /* held after the last sample (finish) */
  float ring[RTB_C][RTB_L];       /* filtered model-rate samples: index m at m % L */
  float window[RTB_C * RTB_L];
  float logits[RTB_K], posterior[RTB_K];
  uint32_t n_raw;      /* raw samples pushed */
  uint32_t n_out;      /* model-rate samples computed */
  uint32_t next_index; /* the next window to release */
  int finished;
} rtb_pipeline;

/* Validates the model blob, binds the arena, sets up filters and tracker. */
ppgkd_status rtb_init(rtb_pipeline* p);

/* Pushes one raw sample: sample[0] PPG, sample[1..3] acc x/y/z (4-channel models). Released
 * windows go to out[0..max_out); *n_out gets their number (a sample releases at most one window
 * when the model rate is below the input rate, a few otherwise). */
ppgkd_status rtb_push(rtb_pipeline* p, const float* sample, rtb_result* out, uint32_t max_out,
                      uint32_t* n_out);

/* Ends the stream: the remaining model-rate samples are computed with the last raw sample held,
 * and every window whose raw span lies inside the stream is released, as the host does. */
ppgkd_status rtb_finish(rtb_pipeline* p, rtb_result* out, uint32_t max_out, uint32_t* n_out);

#endif /* RAW_TO_BPM_H */
