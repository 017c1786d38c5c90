// Temporal decoding of heart rate over a sequence of per-window class posteriors: a hidden Markov
// model whose state is the HR class, whose transition prior says how far HR moves in one 2 s step,
// and whose emission is the model's posterior (optionally tempered). Three decoders:
//   forward_filter   online (causal): the filtered marginal p(s_t | x_1..t), normalised each step
//   forward_backward offline: the smoothed marginals p(s_t | x_1..T)
//   viterbi          offline: the most probable state path (MAP)
// Plain C++ (no libtorch); the state count is generic so small hand-computed cases can be tested.
// Not here: running a model, or mapping a marginal to BPM (decode_bpm in data/dsp/class_map.h).
//
// Shapes: T steps, S states (S = kNumClasses = 180 for heart rate). A posterior sequence is
// row-major (T, S); a transition matrix row-major (S, S) with A[i][j] = p(s_t = j | s_t-1 = i).
//
// Why the posterior can stand in for the emission likelihood: p(x | s) = p(s | x) p(x) / p(s);
// p(x) is constant per step and cancels in the normalisation, and we take the class prior p(s)
// as flat (training labels cover the range unevenly, but dividing by their histogram amplifies
// the rarely seen extremes). Tempering (prob^gamma, gamma < 1) softens over-confident networks.
#pragma once

#include <cstddef>
#include <vector>

#include "decode/cadence.h"

namespace ppgkd {

// A row-stochastic transition matrix over `states` states.
struct Transition {
  int states = 0;
  std::vector<double> a;  // (S, S), rows sum to 1
  double at(int i, int j) const { return a[static_cast<size_t>(i) * states + j]; }
};

// Builders. Kernel priors on the class difference d = j - i (1 class = 1 BPM), truncated at the
// ends of the class range and each row renormalised:
//   laplacian  p(d) ~ exp(-|d| / scale)          (scale > 0, BPM per step)
//   gaussian   p(d) ~ exp(-d^2 / (2 sigma^2))     (sigma > 0)
// flat: every row uniform (the steps are independent: decoding = per-window decoding);
// identity: no change allowed (the state is constant). All throw Error("temporal decoding", ...)
// on states < 1 or a non-positive / non-finite scale.
Transition laplacian_transition(int states, double scale_bpm);
Transition gaussian_transition(int states, double sigma_bpm);
Transition flat_transition(int states);
Transition identity_transition(int states);
// Checks shape, non-negativity and row sums (|sum - 1| < 1e-9); throws Error otherwise.
Transition transition_from_matrix(int states, std::vector<double> a);
// (1 - jump) A + jump / S: with probability `jump` per step the state resets to any class, so a
// track locked onto a wrong path can leave it in a few steps of contrary evidence instead of
// walking there one kernel width at a time. jump in [0, 1] (0: A itself, 1: the flat prior);
// throws Error otherwise.
Transition with_jump(const Transition& tr, double jump);

// Maximum-likelihood Laplacian scale of the per-step change of the reference HR: the mean |dHR|
// over pairs of consecutive labelled windows (same recording, window index k and k + 1; a gap in
// the labels breaks a pair). Inputs are parallel arrays (N). Throws Error("transition prior", ...)
// when the arrays differ in length or no pair exists. The result is floored at kMinScaleBpm so a
// perfectly flat label sequence still gives a usable prior.
constexpr double kMinScaleBpm = 0.05;
// Used only for a model that records no scale of its own (train and distill record the scale
// fitted on their training subjects' labels): fit_laplacian_scale over the labels of BAMI-2
// (8 280 consecutive window pairs), a pool that is no test subject of any fold of the default
// protocol, so the default is chosen without looking at a test subject.
constexpr double kDefaultTransitionScaleBpm = 1.33;
double fit_laplacian_scale(const std::vector<int>& recording, const std::vector<int>& window,
                           const std::vector<double>& hr_bpm);

// The emission temperature the commands (eval, validate, predict) and the exported tracker use
// unless told otherwise: posterior^2 sharpens the network's posteriors, which took the recipe's
// online error on nested inner subjects from 1.90 to 1.73 BPM (offline 1.22 to 1.21; chosen from
// {0.5, 0.75, 1, 1.5, 2}, docs/RESULTS.md). DecodeOptions' own default stays 1, the untempered
// posterior.
constexpr double kDefaultEmissionTemperature = 2.0;

struct DecodeOptions {
  double temperature = 1.0;  // emission = prob^temperature (gamma); 1 = the posterior itself
  // The emission is mixed with a uniform floor, (1 - floor) * p + floor / S, so a class the
  // network calls impossible can still be reached when the evidence over time insists.
  double floor = 1e-6;
  // Probability per step that the HR resets to any class: every decoder uses with_jump(A, jump)
  // (and the same mix of each widened prior). 0 = the kernel prior alone.
  double jump = 0;
  // Optional per-step widening of a Laplacian / Gaussian prior by a motion factor (>= 1): when
  // non-empty (length T), step t uses the prior rebuilt with scale * widen[t]. Needs `kernel`
  // and `scale` below; ignored otherwise.
  std::vector<double> widen;
  enum class Kernel { kNone, kLaplacian, kGaussian } kernel = Kernel::kNone;
  double scale = 0;
  // Accelerometer-aware decoding (decode/cadence.h): when non-empty (length T), step t's
  // emission, after tempering and flooring, is multiplied by 1 - depth * m(c) around the motion
  // cadence cadence_bpm[t] (0 = none at that step). Empty or depth 0: exactly the plain decoders.
  // OnlineFilter takes the cadence per update() instead and ignores this vector.
  std::vector<double> cadence_bpm;
  CadencePenalty cadence;
};

// Filtered marginals (T, S): alpha_t = normalise(e_t * (A^T alpha_t-1)), alpha_0 = normalise(e_0)
// (uniform initial state). Causal: row t depends on posteriors 0..t only. Throws
// Error("temporal decoding", ...) on a shape mismatch or when a step's evidence has no mass where
// the prior allows the state to go (possible only with floor = 0).
std::vector<double> forward_filter(const std::vector<double>& prob, int steps, const Transition& tr,
                                   const DecodeOptions& opt = {});

// Smoothed marginals (T, S) by the scaled forward–backward recursion. The last row equals the
// forward filter's last row.
std::vector<double> forward_backward(const std::vector<double>& prob, int steps,
                                     const Transition& tr, const DecodeOptions& opt = {});

// The MAP state path (T), in the log domain; ties go to the lowest state index.
std::vector<int> viterbi(const std::vector<double>& prob, int steps, const Transition& tr,
                         const DecodeOptions& opt = {});

// The online filter one step at a time, for a stream (same numbers as forward_filter).
class OnlineFilter {
 public:
  OnlineFilter(Transition tr, DecodeOptions opt);
  // prob: S entries. Returns the filtered marginal after this step (S entries). cadence_bpm:
  // the step's motion cadence (0 = none), penalised as DecodeOptions::cadence says.
  const std::vector<double>& update(const double* prob, double cadence_bpm = 0);
  // A step without evidence (e.g. a window that could not be evaluated): prediction only.
  const std::vector<double>& predict_only();
  const std::vector<double>& marginal() const { return alpha_; }
  int steps() const { return t_; }

 private:
  Transition tr_;
  DecodeOptions opt_;
  std::vector<double> alpha_, pred_, emit_;
  int t_ = 0;
};

}  // namespace ppgkd
