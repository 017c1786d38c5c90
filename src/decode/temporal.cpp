// Transition priors and the three HMM decoders (see temporal.h). Sections: priors, emissions,
// forward filter, forward–backward, Viterbi.
#include "decode/temporal.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "common/error.h"

namespace ppgkd {

namespace {
constexpr const char* kWhere = "temporal decoding";

void check_states(int states) {
  if (states < 1) throw Error(kWhere, fmt::format("states must be >= 1 (got {})", states));
}

// Row i gets kernel(j - i) for every j, renormalised: truncation at the range ends keeps each row
// a distribution instead of leaking mass out of the class range.
template <typename Kernel>
Transition kernel_transition(int states, Kernel kernel) {
  check_states(states);
  Transition t{states, std::vector<double>(static_cast<size_t>(states) * states)};
  for (int i = 0; i < states; ++i) {
    double sum = 0;
    for (int j = 0; j < states; ++j)
      sum += t.a[static_cast<size_t>(i) * states + j] = kernel(j - i);
    for (int j = 0; j < states; ++j) t.a[static_cast<size_t>(i) * states + j] /= sum;
  }
  return t;
}

void check_scale(double s, const char* what) {
  if (!(std::isfinite(s) && s > 0))
    throw Error(kWhere, fmt::format("{} must be positive and finite (got {})", what, s));
}
}  // namespace

// ---------------------------------------------------------------------------- priors

Transition laplacian_transition(int states, double scale_bpm) {
  check_scale(scale_bpm, "laplacian scale");
  return kernel_transition(states, [&](int d) { return std::exp(-std::abs(d) / scale_bpm); });
}

Transition gaussian_transition(int states, double sigma_bpm) {
  check_scale(sigma_bpm, "gaussian sigma");
  return kernel_transition(states,
                           [&](int d) { return std::exp(-0.5 * d * d / (sigma_bpm * sigma_bpm)); });
}

Transition flat_transition(int states) {
  return kernel_transition(states, [](int) { return 1.0; });
}

Transition identity_transition(int states) {
  return kernel_transition(states, [](int d) { return d == 0 ? 1.0 : 0.0; });
}

Transition transition_from_matrix(int states, std::vector<double> a) {
  check_states(states);
  if (a.size() != static_cast<size_t>(states) * states)
    throw Error(kWhere, fmt::format("transition matrix has {} entries, expected {} x {}", a.size(),
                                    states, states));
  for (int i = 0; i < states; ++i) {
    double sum = 0;
    for (int j = 0; j < states; ++j) {
      const double v = a[static_cast<size_t>(i) * states + j];
      if (!(std::isfinite(v) && v >= 0))
        throw Error(kWhere, fmt::format("transition entry ({}, {}) is {}", i, j, v));
      sum += v;
    }
    if (std::fabs(sum - 1) >= 1e-9)
      throw Error(kWhere, fmt::format("transition row {} sums to {}, not 1", i, sum));
  }
  return Transition{states, std::move(a)};
}

Transition with_jump(const Transition& tr, double jump) {
  if (!(jump >= 0 && jump <= 1))
    throw Error(kWhere, fmt::format("jump must be in [0, 1] (got {})", jump));
  Transition out = tr;
  if (jump == 0) return out;
  const double uniform = jump / tr.states;
  for (double& v : out.a) v = (1 - jump) * v + uniform;
  return out;
}

double fit_laplacian_scale(const std::vector<int>& recording, const std::vector<int>& window,
                           const std::vector<double>& hr_bpm) {
  if (recording.size() != window.size() || window.size() != hr_bpm.size())
    throw Error("transition prior", "recording, window and hr arrays differ in length");
  double sum = 0;
  size_t pairs = 0;
  for (size_t i = 1; i < hr_bpm.size(); ++i) {
    if (recording[i] != recording[i - 1] || window[i] != window[i - 1] + 1) continue;
    sum += std::fabs(hr_bpm[i] - hr_bpm[i - 1]);
    ++pairs;
  }
  if (pairs == 0) throw Error("transition prior", "no consecutive labelled windows to fit from");
  return std::max(kMinScaleBpm, sum / static_cast<double>(pairs));
}

// ---------------------------------------------------------------------------- emissions

namespace {

void check_sequence(const std::vector<double>& prob, int steps, const Transition& tr,
                    const DecodeOptions& opt) {
  if (tr.states < 1 || tr.a.size() != static_cast<size_t>(tr.states) * tr.states)
    throw Error(kWhere, "transition matrix is not S x S");
  if (steps < 0 || prob.size() != static_cast<size_t>(steps) * tr.states)
    throw Error(kWhere, fmt::format("posteriors have {} entries, expected {} steps x {} states",
                                    prob.size(), steps, tr.states));
  if (!opt.widen.empty() && opt.widen.size() != static_cast<size_t>(steps))
    throw Error(kWhere, fmt::format("widen has {} factors for {} steps", opt.widen.size(), steps));
  if (!opt.cadence_bpm.empty() && opt.cadence_bpm.size() != static_cast<size_t>(steps))
    throw Error(kWhere,
                fmt::format("cadence has {} values for {} steps", opt.cadence_bpm.size(), steps));
}

void check_cadence(double f) {
  if (!(std::isfinite(f) && f >= 0))
    throw Error(kWhere, fmt::format("cadence must be finite and >= 0 BPM (got {})", f));
}

void check_options(const DecodeOptions& opt) {
  if (!(std::isfinite(opt.temperature) && opt.temperature > 0))
    throw Error(kWhere, fmt::format("temperature must be positive (got {})", opt.temperature));
  if (!(opt.floor >= 0 && opt.floor < 1))
    throw Error(kWhere, fmt::format("floor must be in [0, 1) (got {})", opt.floor));
  if (!(opt.jump >= 0 && opt.jump <= 1))
    throw Error(kWhere, fmt::format("jump must be in [0, 1] (got {})", opt.jump));
  for (double w : opt.widen)
    if (!(std::isfinite(w) && w >= 1))
      throw Error(kWhere, fmt::format("widening factors must be >= 1 (got {})", w));
  if (!opt.widen.empty() && opt.kernel == DecodeOptions::Kernel::kNone)
    throw Error(kWhere, "widening needs a laplacian or gaussian kernel and its scale");
  check_penalty(opt.cadence);
}

// Step t's cadence (0 without a cadence vector).
double step_cadence(const DecodeOptions& opt, int t) {
  if (opt.cadence_bpm.empty()) return 0;
  check_cadence(opt.cadence_bpm[t]);
  return opt.cadence_bpm[t];
}

// e = ((1 - floor) * p + floor / S)^gamma, then times the cadence penalty at `cadence` (BPM,
// 0 = none). Negative or non-finite inputs are errors: they can only come from a bug upstream.
void emission(const double* p, int s, const DecodeOptions& opt, double cadence,
              std::vector<double>* out) {
  out->resize(s);
  for (int j = 0; j < s; ++j) {
    if (!(std::isfinite(p[j]) && p[j] >= 0))
      throw Error(kWhere, fmt::format("posterior entry {} is {}", j, p[j]));
    const double v = (1 - opt.floor) * p[j] + opt.floor / s;
    (*out)[j] = opt.temperature == 1.0 ? v : std::pow(v, opt.temperature);
  }
  apply_cadence_penalty(out->data(), s, cadence, opt.cadence);
}

// The transition for step t (the one into state s_t): `base` (already mixed with the jump), or
// the prior rebuilt and mixed when a widening factor applies.
const Transition& step_transition(const Transition& base, const DecodeOptions& opt, int t,
                                  Transition* scratch, double* scratch_factor) {
  if (opt.widen.empty() || opt.widen[t] == 1.0) return base;
  if (*scratch_factor != opt.widen[t]) {
    const double s = opt.scale * opt.widen[t];
    *scratch = with_jump(opt.kernel == DecodeOptions::Kernel::kLaplacian
                             ? laplacian_transition(base.states, s)
                             : gaussian_transition(base.states, s),
                         opt.jump);
    *scratch_factor = opt.widen[t];
  }
  return *scratch;
}

// pred = A^T alpha
void propagate(const Transition& tr, const std::vector<double>& alpha, std::vector<double>* pred) {
  const int s = tr.states;
  pred->assign(s, 0.0);
  for (int i = 0; i < s; ++i) {
    const double ai = alpha[i];
    if (ai == 0) continue;
    const double* row = tr.a.data() + static_cast<size_t>(i) * s;
    for (int j = 0; j < s; ++j) (*pred)[j] += ai * row[j];
  }
}

// alpha = normalise(e * pred); returns the normaliser c_t.
double absorb(const std::vector<double>& e, const std::vector<double>& pred,
              std::vector<double>* alpha, int t) {
  double c = 0;
  alpha->resize(e.size());
  for (size_t j = 0; j < e.size(); ++j) c += (*alpha)[j] = e[j] * pred[j];
  if (!(c > 0))
    throw Error(kWhere, fmt::format("step {}: the evidence has no mass where the transition prior "
                                    "allows the state to be",
                                    t));
  for (double& v : *alpha) v /= c;
  return c;
}

}  // namespace

// ---------------------------------------------------------------------------- forward filter

OnlineFilter::OnlineFilter(Transition tr, DecodeOptions opt)
    : tr_(std::move(tr)), opt_(std::move(opt)) {
  check_states(tr_.states);
  check_options(opt_);
  tr_ = with_jump(tr_, opt_.jump);
}

const std::vector<double>& OnlineFilter::update(const double* prob, double cadence_bpm) {
  const int s = tr_.states;
  check_cadence(cadence_bpm);
  emission(prob, s, opt_, cadence_bpm, &emit_);
  if (t_ == 0) {
    pred_.assign(s, 1.0 / s);
  } else {
    Transition scratch;
    double factor = 0;
    const bool in_range = static_cast<size_t>(t_) < opt_.widen.size();
    const Transition& tr = in_range ? step_transition(tr_, opt_, t_, &scratch, &factor) : tr_;
    propagate(tr, alpha_, &pred_);
  }
  absorb(emit_, pred_, &alpha_, t_);
  ++t_;
  return alpha_;
}

const std::vector<double>& OnlineFilter::predict_only() {
  const int s = tr_.states;
  if (t_ == 0) {
    alpha_.assign(s, 1.0 / s);
  } else {
    propagate(tr_, alpha_, &pred_);
    alpha_ = pred_;
  }
  ++t_;
  return alpha_;
}

std::vector<double> forward_filter(const std::vector<double>& prob, int steps, const Transition& tr,
                                   const DecodeOptions& opt) {
  check_options(opt);
  check_sequence(prob, steps, tr, opt);
  const int s = tr.states;
  std::vector<double> out(prob.size());
  OnlineFilter f(tr, opt);
  for (int t = 0; t < steps; ++t) {
    const auto& a = f.update(prob.data() + static_cast<size_t>(t) * s, step_cadence(opt, t));
    std::copy(a.begin(), a.end(), out.begin() + static_cast<size_t>(t) * s);
  }
  return out;
}

// ---------------------------------------------------------------------------- forward–backward

std::vector<double> forward_backward(const std::vector<double>& prob, int steps,
                                     const Transition& prior, const DecodeOptions& opt) {
  check_options(opt);
  check_sequence(prob, steps, prior, opt);
  const Transition tr = with_jump(prior, opt.jump);
  const int s = tr.states;
  const size_t S = static_cast<size_t>(s);
  std::vector<double> alpha(prob.size()), emit(prob.size()), c(steps);
  std::vector<double> e, pred, a;
  Transition scratch;
  double factor = 0;
  for (int t = 0; t < steps; ++t) {
    emission(prob.data() + t * S, s, opt, step_cadence(opt, t), &e);
    std::copy(e.begin(), e.end(), emit.begin() + t * S);
    if (t == 0) {
      pred.assign(s, 1.0 / s);
    } else {
      a.assign(alpha.begin() + (t - 1) * S, alpha.begin() + t * S);
      propagate(step_transition(tr, opt, t, &scratch, &factor), a, &pred);
    }
    c[t] = absorb(e, pred, &a, t);
    std::copy(a.begin(), a.end(), alpha.begin() + t * S);
  }
  // Scaled backward pass: beta_t(i) = sum_j A_t+1(i, j) e_t+1(j) beta_t+1(j) / c_t+1, so that
  // alpha_t * beta_t is the smoothed marginal without any further normalisation (we still
  // renormalise to absorb rounding).
  std::vector<double> gamma(prob.size());
  std::vector<double> beta(S, 1.0), next(S);
  for (int t = steps - 1; t >= 0; --t) {
    if (t < steps - 1) {
      const Transition& tt = step_transition(tr, opt, t + 1, &scratch, &factor);
      for (size_t j = 0; j < S; ++j) next[j] = emit[(t + 1) * S + j] * beta[j] / c[t + 1];
      for (size_t i = 0; i < S; ++i) {
        const double* row = tt.a.data() + i * S;
        double v = 0;
        for (size_t j = 0; j < S; ++j) v += row[j] * next[j];
        beta[i] = v;
      }
    }
    double z = 0;
    for (size_t i = 0; i < S; ++i) z += gamma[t * S + i] = alpha[t * S + i] * beta[i];
    for (size_t i = 0; i < S; ++i) gamma[t * S + i] /= z;
  }
  return gamma;
}

// ---------------------------------------------------------------------------- Viterbi

std::vector<int> viterbi(const std::vector<double>& prob, int steps, const Transition& prior,
                         const DecodeOptions& opt) {
  check_options(opt);
  check_sequence(prob, steps, prior, opt);
  const Transition tr = with_jump(prior, opt.jump);
  const int s = tr.states;
  const size_t S = static_cast<size_t>(s);
  constexpr double kNegInf = -std::numeric_limits<double>::infinity();
  auto safe_log = [&](double v) { return v > 0 ? std::log(v) : kNegInf; };
  std::vector<double> delta(S), next(S), e;
  std::vector<int> back(static_cast<size_t>(steps) * S, 0);
  Transition scratch;
  double factor = 0;
  for (int t = 0; t < steps; ++t) {
    emission(prob.data() + t * S, s, opt, step_cadence(opt, t), &e);
    if (t == 0) {
      for (size_t j = 0; j < S; ++j) delta[j] = safe_log(e[j]);
    } else {
      const Transition& tt = step_transition(tr, opt, t, &scratch, &factor);
      for (size_t j = 0; j < S; ++j) {
        double best = kNegInf;
        int arg = 0;
        for (size_t i = 0; i < S; ++i) {
          const double v = delta[i] + safe_log(tt.a[i * S + j]);
          if (v > best) best = v, arg = static_cast<int>(i);
        }
        next[j] = best + safe_log(e[j]);
        back[t * S + j] = arg;
      }
      delta.swap(next);
    }
    // Rescale so log-probabilities do not drift towards -inf over long sequences.
    const double m = *std::max_element(delta.begin(), delta.end());
    if (m == kNegInf)
      throw Error(kWhere, fmt::format("step {}: no state path has positive probability", t));
    for (double& v : delta) v -= m;
  }
  std::vector<int> path(static_cast<size_t>(steps));
  if (steps == 0) return path;
  path[steps - 1] = static_cast<int>(std::max_element(delta.begin(), delta.end()) - delta.begin());
  for (int t = steps - 1; t > 0; --t) path[t - 1] = back[t * S + path[t]];
  return path;
}

}  // namespace ppgkd
