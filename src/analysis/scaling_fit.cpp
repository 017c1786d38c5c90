#include "analysis/scaling_fit.h"

#include <gsl/gsl_blas.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_multifit_nlinear.h>
#include <gsl/gsl_vector.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <set>

#include "common/error.h"

namespace ppgkd {

const char* law_name(ScalingLaw law) {
  switch (law) {
    case ScalingLaw::kExpLog10:
      return "exp-log10";
    case ScalingLaw::kPower:
      return "power";
    case ScalingLaw::kPower0:
      return "power-0";
    case ScalingLaw::kLogLinear:
      return "log-linear";
  }
  return "?";
}

const char* law_formula(ScalingLaw law) {
  switch (law) {
    case ScalingLaw::kExpLog10:
      return "MAE = a*exp(-b*log10(N)) + c";
    case ScalingLaw::kPower:
      return "MAE = a*N^(-b) + c";
    case ScalingLaw::kPower0:
      return "MAE = a*N^(-b)";
    case ScalingLaw::kLogLinear:
      return "MAE = a - b*log10(N)";
  }
  return "?";
}

const char* law_ref_formula(ScalingLaw law) {
  switch (law) {
    case ScalingLaw::kExpLog10:
      return "MAE = (E_ref-c)*exp(-b*log10(N/N_ref)) + c";
    case ScalingLaw::kPower:
      return "MAE = (E_ref-c)*(N/N_ref)^(-b) + c";
    case ScalingLaw::kPower0:
      return "MAE = E_ref*(N/N_ref)^(-b)";
    case ScalingLaw::kLogLinear:
      return "MAE = E_ref - b*log10(N/N_ref)";
  }
  return "?";
}

int law_parameters(ScalingLaw law) {
  return law == ScalingLaw::kLogLinear || law == ScalingLaw::kPower0 ? 2 : 3;
}

std::vector<ScalingLaw> all_laws() {
  return {ScalingLaw::kExpLog10, ScalingLaw::kPower, ScalingLaw::kPower0, ScalingLaw::kLogLinear};
}

double LawFit::predict(double n) const {
  const double x = std::log10(n);
  switch (law) {
    case ScalingLaw::kExpLog10:
      return a * std::exp(-b * x) + c;
    case ScalingLaw::kPower:
    case ScalingLaw::kPower0:
      return a * std::pow(n, -b) + c;
    case ScalingLaw::kLogLinear:
      return a - b * x;
  }
  return std::numeric_limits<double>::quiet_NaN();
}

double r_squared(const std::vector<double>& y, const std::vector<double>& yhat) {
  double mean = 0;
  for (double v : y) mean += v / y.size();
  double ss_res = 0, ss_tot = 0;
  for (size_t i = 0; i < y.size(); ++i) {
    ss_res += (y[i] - yhat[i]) * (y[i] - yhat[i]);
    ss_tot += (y[i] - mean) * (y[i] - mean);
  }
  return ss_tot > 0 ? 1.0 - ss_res / ss_tot : std::numeric_limits<double>::quiet_NaN();
}

// ============================================================================ nonlinear fit

namespace {

// Both nonlinear laws are f(x) = A exp(-k b (x - x0)) + c in x = log10 N, centred at x0 (the
// mean x) so that A is of the order of the data and the solver is well conditioned;
// a = A exp(k b x0) afterwards. k = 1 for exp-log10, ln 10 for the power law.
struct ExpData {
  const std::vector<double>* x;
  const std::vector<double>* y;
  double k, x0;
};

int exp_f(const gsl_vector* p, void* data, gsl_vector* f) {
  const auto* d = static_cast<const ExpData*>(data);
  const double A = gsl_vector_get(p, 0), b = gsl_vector_get(p, 1), c = gsl_vector_get(p, 2);
  for (size_t i = 0; i < d->x->size(); ++i)
    gsl_vector_set(f, i, A * std::exp(-d->k * b * ((*d->x)[i] - d->x0)) + c - (*d->y)[i]);
  return GSL_SUCCESS;
}

int exp_df(const gsl_vector* p, void* data, gsl_matrix* J) {
  const auto* d = static_cast<const ExpData*>(data);
  const double A = gsl_vector_get(p, 0), b = gsl_vector_get(p, 1);
  for (size_t i = 0; i < d->x->size(); ++i) {
    const double u = (*d->x)[i] - d->x0, e = std::exp(-d->k * b * u);
    gsl_matrix_set(J, i, 0, e);
    gsl_matrix_set(J, i, 1, -A * d->k * u * e);
    gsl_matrix_set(J, i, 2, 1.0);
  }
  return GSL_SUCCESS;
}

LawFit fit_exp(ScalingLaw law, const std::vector<double>& x, const std::vector<double>& y) {
  ExpData d{&x, &y, law == ScalingLaw::kPower ? std::log(10.0) : 1.0, 0.0};
  for (double v : x) d.x0 += v / x.size();
  // Start: c below the smallest MAE, then a straight line through log(y - c) gives A and b.
  const auto [ymin, ymax] = std::minmax_element(y.begin(), y.end());
  const double c0 = *ymin - 0.1 * (*ymax - *ymin) - 1e-3 * std::abs(*ymin) - 1e-9;
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  const double n = static_cast<double>(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    const double u = x[i] - d.x0, v = std::log(y[i] - c0);
    sx += u, sy += v, sxx += u * u, sxy += u * v;
  }
  const double slope = (n * sxy - sx * sy) / (n * sxx - sx * sx);
  const double A0 = std::exp((sy - slope * sx) / n), b0 = -slope / d.k;

  gsl_multifit_nlinear_parameters params = gsl_multifit_nlinear_default_parameters();
  params.trs = gsl_multifit_nlinear_trs_lm;
  gsl_multifit_nlinear_fdf fdf;
  fdf.f = exp_f;
  fdf.df = exp_df;
  fdf.fvv = nullptr;
  fdf.n = x.size();
  fdf.p = 3;
  fdf.params = &d;
  gsl_multifit_nlinear_workspace* w =
      gsl_multifit_nlinear_alloc(gsl_multifit_nlinear_trust, &params, x.size(), 3);
  double start[3] = {A0, b0, c0};
  gsl_vector_view p0 = gsl_vector_view_array(start, 3);
  gsl_multifit_nlinear_init(&p0.vector, &fdf, w);
  int info = 0;
  gsl_error_handler_t* old = gsl_set_error_handler_off();  // report, never abort()
  const int status =
      gsl_multifit_nlinear_driver(1000, 1e-14, 1e-14, 0.0, nullptr, nullptr, &info, w);
  gsl_set_error_handler(old);
  const gsl_vector* p = gsl_multifit_nlinear_position(w);
  const double A = gsl_vector_get(p, 0), b = gsl_vector_get(p, 1), c = gsl_vector_get(p, 2);
  gsl_multifit_nlinear_free(w);
  // GSL_EMAXITER with a finite optimum still is the best point found; anything else is a failure.
  if ((status != GSL_SUCCESS && status != GSL_EMAXITER) || !std::isfinite(A) || !std::isfinite(b) ||
      !std::isfinite(c))
    throw Error("scaling fit", std::string(law_name(law)) +
                                   ": Levenberg-Marquardt failed: " + gsl_strerror(status));
  LawFit f;
  f.law = law;
  f.a = A * std::exp(d.k * b * d.x0);
  f.b = b;
  f.c = c;
  return f;
}

LawFit fit_log_linear(const std::vector<double>& x, const std::vector<double>& y) {
  double mx = 0, my = 0;
  for (size_t i = 0; i < x.size(); ++i) mx += x[i] / x.size(), my += y[i] / y.size();
  double sxy = 0, sxx = 0;
  for (size_t i = 0; i < x.size(); ++i)
    sxy += (x[i] - mx) * (y[i] - my), sxx += (x[i] - mx) * (x[i] - mx);
  LawFit f;
  f.law = ScalingLaw::kLogLinear;
  f.b = -sxy / sxx;
  f.a = my + f.b * mx;
  return f;
}

// log(MAE) = log a - b ln(10) log10 N: the least-squares line of log y on x.
LawFit fit_power0(const std::vector<double>& x, const std::vector<double>& y) {
  std::vector<double> ly;
  for (double v : y) {
    if (!(v > 0)) throw Error("scaling fit", "power-0 needs positive MAEs");
    ly.push_back(std::log(v));
  }
  const LawFit line = fit_log_linear(x, ly);  // ly = A - B x
  LawFit f;
  f.law = ScalingLaw::kPower0;
  f.a = std::exp(line.a);
  f.b = line.b / std::log(10.0);
  return f;
}

}  // namespace

LawFit fit_law(ScalingLaw law, const std::vector<double>& n_params,
               const std::vector<double>& mae) {
  if (n_params.size() != mae.size())
    throw Error("scaling fit", "sizes and MAEs differ in length (" +
                                   std::to_string(n_params.size()) + " vs " +
                                   std::to_string(mae.size()) + ")");
  std::vector<double> x;
  for (size_t i = 0; i < n_params.size(); ++i) {
    if (!(n_params[i] > 0) || !std::isfinite(mae[i]))
      throw Error("scaling fit", "sizes must be positive and MAEs finite");
    x.push_back(std::log10(n_params[i]));
  }
  const size_t distinct = std::set<double>(x.begin(), x.end()).size();
  if (static_cast<int>(distinct) < law_parameters(law))
    throw Error("scaling fit", std::string(law_name(law)) + " needs at least " +
                                   std::to_string(law_parameters(law)) + " distinct sizes, got " +
                                   std::to_string(distinct));
  LawFit f = law == ScalingLaw::kLogLinear ? fit_log_linear(x, mae)
             : law == ScalingLaw::kPower0  ? fit_power0(x, mae)
                                           : fit_exp(law, x, mae);
  double mean_x = 0;
  for (double v : x) mean_x += v / x.size();
  f.n_ref = std::pow(10.0, mean_x);
  f.e_ref = f.predict(f.n_ref);
  f.points = mae.size();
  std::vector<double> yhat;
  for (double n : n_params) yhat.push_back(f.predict(n));
  f.rss = 0;
  for (size_t i = 0; i < mae.size(); ++i) f.rss += (mae[i] - yhat[i]) * (mae[i] - yhat[i]);
  f.r2 = r_squared(mae, yhat);
  return f;
}

// ============================================================================ bootstrap

std::vector<double> subject_means(const std::vector<SizeSubjects>& sizes) {
  std::vector<double> out;
  for (const auto& s : sizes) {
    double m = 0;
    for (const auto& [subj, v] : s.subject_mae) m += v / s.subject_mae.size();
    out.push_back(s.subject_mae.empty() ? std::numeric_limits<double>::quiet_NaN() : m);
  }
  return out;
}

Interval LawAnalysis::prediction_ci(double n) const {
  std::vector<double> p;
  for (const auto& f : boot) p.push_back(f.predict(n));
  const double tail = (1 - level) / 2;
  return {quantile(p, tail), quantile(p, 1 - tail)};
}

namespace {

// Why a fit's bootstrap says it is not determined ("" when it is); see LawAnalysis.
std::string conditioning(const LawAnalysis& l, const std::vector<double>& means) {
  if (l.boot_tried == 0) return "";
  if (l.boot_ok < 0.9 * l.boot_tried)
    return std::to_string(l.boot_tried - l.boot_ok) + " of " + std::to_string(l.boot_tried) +
           " bootstrap refits failed";
  const bool floor = law_parameters(l.fit.law) == 3;
  for (const auto& iv : {l.b_ci, l.c_ci, l.e_ref_ci})
    if (!std::isfinite(iv.lo) || !std::isfinite(iv.hi)) return "an interval is not finite";
  if (!(l.b_ci.lo > 0)) return "the b interval reaches zero (no decrease resolved)";
  if (l.b_ci.hi > 4 * l.b_ci.lo) return "the b interval spans more than a factor of 4";
  if (floor) {
    const auto [lo, hi] = std::minmax_element(means.begin(), means.end());
    if (l.c_ci.hi - l.c_ci.lo > *hi - *lo) return "the c interval is wider than the MAE range";
  }
  return "";
}

}  // namespace

LawAnalysis analyse_law(ScalingLaw law, const std::vector<SizeSubjects>& sizes, int n_boot,
                        uint64_t seed, double level) {
  LawAnalysis out;
  out.level = level;
  std::vector<double> n;
  for (const auto& s : sizes) n.push_back(s.n_params);
  out.fit = fit_law(law, n, subject_means(sizes));

  // Bootstrap over the union of subjects; mt19937_64's output sequence is fixed by the standard,
  // so a seed gives the same intervals everywhere (std distributions are not, hence the modulo).
  std::set<std::string> all;
  for (const auto& s : sizes)
    for (const auto& [subj, v] : s.subject_mae) all.insert(subj);
  const std::vector<std::string> subjects(all.begin(), all.end());
  std::mt19937_64 rng(seed);
  std::vector<double> as, bs, cs;
  for (int rep = 0; rep < n_boot; ++rep) {
    std::vector<std::string> draw;
    for (size_t i = 0; i < subjects.size(); ++i) draw.push_back(subjects[rng() % subjects.size()]);
    std::vector<double> bn, by;
    for (const auto& s : sizes) {
      double sum = 0;
      int count = 0;
      for (const auto& subj : draw) {
        auto it = s.subject_mae.find(subj);
        if (it != s.subject_mae.end()) sum += it->second, ++count;
      }
      if (count) bn.push_back(s.n_params), by.push_back(sum / count);
    }
    try {
      auto f = fit_law(law, bn, by);
      out.boot.push_back(f);
      as.push_back(f.a), bs.push_back(f.b), cs.push_back(f.c);
    } catch (const Error&) {
      // A degenerate replicate (too few sizes left, solver failure) is skipped and counted.
    }
  }
  out.boot_ok = out.boot.size();
  out.boot_tried = static_cast<size_t>(std::max(n_boot, 0));
  const double tail = (1 - level) / 2;
  out.a_ci = {quantile(as, tail), quantile(as, 1 - tail)};
  out.b_ci = {quantile(bs, tail), quantile(bs, 1 - tail)};
  out.c_ci = {quantile(cs, tail), quantile(cs, 1 - tail)};
  out.e_ref_ci = out.prediction_ci(out.fit.n_ref);
  out.condition = conditioning(out, subject_means(sizes));
  out.ill_conditioned = !out.condition.empty();

  // Extrapolation: drop the largest size, refit, predict it.
  size_t largest = 0;
  for (size_t i = 1; i < sizes.size(); ++i)
    if (sizes[i].n_params > sizes[largest].n_params) largest = i;
  std::vector<double> rn, ry;
  const auto means = subject_means(sizes);
  for (size_t i = 0; i < sizes.size(); ++i)
    if (sizes[i].n_params != sizes[largest].n_params) rn.push_back(n[i]), ry.push_back(means[i]);
  try {
    const auto f = fit_law(law, rn, ry);
    out.extrapolation_ok = true;
    out.extrapolated_n = sizes[largest].n_params;
    out.extrapolated_pred = f.predict(out.extrapolated_n);
    out.extrapolated_obs = means[largest];
    out.extrapolation_err = out.extrapolated_pred - out.extrapolated_obs;
  } catch (const Error&) {
    out.extrapolation_ok = false;
  }
  return out;
}

}  // namespace ppgkd
