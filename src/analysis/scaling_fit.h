// Scaling laws of error versus model size, fitted to a sweep's per-size MAE:
//
//   exp-log10   MAE = a * exp(-b * log10 N) + c     exponential in log-parameters
//   power       MAE = a * N^(-b) + c                saturating power law
//   power-0     MAE = a * N^(-b)                    pure power law (no floor): a line in log-log
//   log-linear  MAE = a - b * log10 N               straight line on a log axis
//
// N is the parameter count. Note exp(-b log10 N) = N^(-b / ln 10): the first two are one family
// in two parameterisations (b_exp = b_pow * ln 10, same a, c, R^2); both are reported because
// the literature uses both. The nonlinear laws are fitted with GSL's trust-region
// Levenberg-Marquardt (gsl_multifit_nlinear) on analytic Jacobians; power-0 and log-linear are
// ordinary least squares in closed form (power-0 on log MAE).
//
// The reference-size form. `a` is the error at N = 1 parameter, far outside the data, so it is
// ill-determined whenever b is (a = E_ref N_ref^b: an interval on b of [0.5, 8] at N_ref = 1e5
// puts a between 1e2 and 1e40). Every law is therefore also reported as
//   MAE = (E_ref - c) (N / N_ref)^(-b) + c     (log-linear: E_ref - b log10(N / N_ref))
// with N_ref the geometric mean of the measured sizes, where E_ref, the error there, is pinned by
// the data. A fit is called ill-conditioned when its bootstrap says b (or c) is not determined:
// see LawAnalysis::ill_conditioned.
//
// Uncertainty comes from the subjects, not the windows: a bootstrap resamples SUBJECTS with
// replacement, recomputes every size's subject-mean MAE and refits. The extrapolation check
// refits without the largest size and reports the error of the prediction there.
// Not here: reading the store, plotting (sweep_report.h, sweep_plots.h).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "analysis/stats.h"

namespace ppgkd {

enum class ScalingLaw { kExpLog10, kPower, kPower0, kLogLinear };

const char* law_name(ScalingLaw law);         // "exp-log10", "power", "power-0", "log-linear"
const char* law_formula(ScalingLaw law);      // "MAE = a*exp(-b*log10(N)) + c", ...
const char* law_ref_formula(ScalingLaw law);  // the reference-size form, "MAE = (E_ref-c)*..."
int law_parameters(ScalingLaw law);           // 3, 3, 2, 2
std::vector<ScalingLaw> all_laws();

struct LawFit {
  ScalingLaw law = ScalingLaw::kPower;
  double a = 0, b = 0, c = 0;  // c = 0 for power-0 and log-linear
  double n_ref = 0;            // geometric mean of the fitted sizes
  double e_ref = 0;            // predicted MAE at n_ref
  size_t points = 0;
  double rss = 0;  // residual sum of squares
  double r2 = 0;   // 1 - rss / total sum of squares (NaN when the MAEs are all equal)
  double predict(double n_params) const;
};

// Fits `law` to (n_params[i], mae[i]). Throws Error("scaling fit", ...) when sizes and MAEs differ
// in length, a size is not positive, there are fewer distinct sizes than the law has
// coefficients, or the solver fails.
LawFit fit_law(ScalingLaw law, const std::vector<double>& n_params, const std::vector<double>& mae);

// 1 - sum (y - yhat)^2 / sum (y - mean y)^2; NaN when y is constant.
double r_squared(const std::vector<double>& y, const std::vector<double>& yhat);

// Per-subject MAE of one model size (each subject once: averaged over seeds beforehand).
struct SizeSubjects {
  double n_params = 0;
  std::map<std::string, double> subject_mae;
};

struct LawAnalysis {
  LawFit fit;                 // on each size's subject-mean MAE
  Interval a_ci, b_ci, c_ci;  // percentile bootstrap intervals
  Interval e_ref_ci;          // of the replicates' prediction at fit.n_ref
  size_t boot_ok = 0;         // bootstrap replicates whose fit succeeded
  size_t boot_tried = 0;
  // Ill-conditioned: fewer than 90 % of the replicates fitted, an interval is not finite, the
  // b interval reaches zero or spans more than a factor of 4, or (with a floor c) the c interval
  // is wider than the measured MAE range. Then only E_ref and the curve inside the measured sizes
  // mean something; `condition` says which test failed ("" when well-conditioned).
  bool ill_conditioned = false;
  std::string condition;
  std::vector<LawFit> boot;  // the replicates (for prediction intervals)
  double level = 0.95;
  // Extrapolation: fitted without the largest size, predicted there.
  bool extrapolation_ok = false;  // false when too few sizes remain
  double extrapolated_n = 0, extrapolated_pred = 0, extrapolated_obs = 0, extrapolation_err = 0;
  // Percentile interval of the prediction at n_params over the replicates.
  Interval prediction_ci(double n_params) const;
};

// Subject-mean MAE of every size (the fit's data).
std::vector<double> subject_means(const std::vector<SizeSubjects>& sizes);

// Fit + bootstrap (n_boot replicates from `seed`, resampling the union of subjects; a replicate
// averages, at each size, the drawn subjects evaluated there) + extrapolation check.
LawAnalysis analyse_law(ScalingLaw law, const std::vector<SizeSubjects>& sizes, int n_boot,
                        uint64_t seed, double level = 0.95);

}  // namespace ppgkd
