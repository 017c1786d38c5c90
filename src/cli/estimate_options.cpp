// Command-line options of the estimation engine (see estimate_options.h).
#include "cli/estimate_options.h"

namespace ppgkd::cli {

void add_acc_options(CLI::App* sub, AccAwareOptions* a) {
  sub->add_flag("--acc-aware", a->enabled,
                "Accelerometer-aware decoding: lower the evidence for HR classes at each window's "
                "motion cadence (acc spectral peak) and its 2nd harmonic");
  sub->add_option("--acc-depth", a->depth,
                  "Cadence penalty depth in [0, 1): emission x (1 - depth) at the cadence")
      ->check(CLI::Range(0.0, 0.999999))
      ->capture_default_str();
  sub->add_option("--acc-width", a->width_bpm, "Cadence penalty width (gaussian sigma), BPM")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  sub->add_option("--acc-min-share", a->min_share,
                  "A cadence counts only when its acc spectral peak (+-6 BPM) holds this share "
                  "of the 30-210 BPM power (white noise stays below 0.3)")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  sub->add_flag("--acc-half", a->half, "Also penalise half the cadence");
}

void add_estimate_options(CLI::App* sub, EstimateRequest* r) {
  sub->add_option("--model", r->model, "Model directory, or 'spectral' (classical tracker)")
      ->required();
  sub->add_option("--data", r->data, "Dataset root, or synthetic[:SEED]")->required();
  sub->add_option("--subjects", r->subjects, "Evaluate only these subjects (comma-separated)")
      ->delimiter(',');
  sub->add_flag("--fold-test", r->fold_test, "Evaluate the model's own test-fold subjects");
  sub->add_option("--runtime", r->runtime, "torch | edge-f32 | edge-int8 (edge: the C runtime)")
      ->check(CLI::IsMember({"torch", "edge-f32", "edge-int8"}))
      ->capture_default_str();
  sub->add_option("--decode", r->decode,
                  "window (per-window) | online (causal HMM filter) | offline (forward-backward) "
                  "| viterbi (MAP path)")
      ->check(CLI::IsMember({"window", "online", "offline", "viterbi"}))
      ->capture_default_str();
  sub->add_option("--transition-scale", r->transition_scale,
                  "Laplacian scale of the HR change per 2 s step, BPM (0: fit on the model's "
                  "training labels)")
      ->capture_default_str();
  sub->add_option("--temperature", r->temperature, "Emission tempering: posterior^T")
      ->capture_default_str();
  sub->add_option("--jump", r->jump,
                  "Probability per 2 s step that the HR resets to any class (the transition "
                  "prior mixed with a uniform one; 0: none)")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  sub->add_option("--window-smooth", r->window_smooth,
                  "Per-window decode: the posterior is convolved with a Gaussian of this sigma "
                  "(BPM) before its mode is taken (0: none)")
      ->check(CLI::Range(0.0, 30.0))
      ->capture_default_str();
  sub->add_flag("--causal", r->causal, "Causal filters (what `predict --stream` sees)");
  sub->add_option("--cache", r->cache, "Window cache directory (none: no cache)");
  sub->add_option("--threads", r->threads, "Torch threads")->capture_default_str();
  sub->add_option("--batch", r->batch, "Inference batch size")->capture_default_str();
  add_acc_options(sub, &r->acc);
}

}  // namespace ppgkd::cli
