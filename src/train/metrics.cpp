// Heart-rate evaluation metrics (see metrics.h). Sums run in double over all windows; every
// metric is a direct transcription of its textbook definition.
#include "train/metrics.h"

#include <cmath>
#include <limits>
#include <sstream>

#include "common/error.h"

namespace ppgkd {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kWithinBpm = 5.0;        // tolerance for within_5bpm
constexpr double kWithinFraction = 0.10;  // tolerance for within_10pct
constexpr double kLoaZ = 1.96;            // Bland–Altman: 95% of a normal lies within 1.96 SD

std::string describe(size_t i, const WindowEstimate& w) {
  return "window " + std::to_string(i) + " (subject " + w.subject + ")";
}

std::string num_str(double x) {
  std::ostringstream os;
  os << x;
  return os.str();
}

void check_windows(const std::vector<WindowEstimate>& windows) {
  if (windows.empty()) throw Error("metrics", "no windows to evaluate");
  for (size_t i = 0; i < windows.size(); ++i) {
    const WindowEstimate& w = windows[i];
    if (!std::isfinite(w.estimate_bpm))
      throw Error("metrics", describe(i, w) + ": non-finite estimate " + num_str(w.estimate_bpm));
    if (!std::isfinite(w.reference_bpm) || w.reference_bpm <= 0)
      throw Error("metrics", describe(i, w) + ": reference heart rate must be positive, got " +
                                 num_str(w.reference_bpm));
  }
}

// Running sum and count of absolute errors.
struct AbsErrorSum {
  double sum = 0;
  size_t count = 0;
  double mean() const { return sum / static_cast<double>(count); }
};

double mean_of(const std::map<std::string, AbsErrorSum>& groups) {
  double s = 0;
  for (const auto& [name, g] : groups) s += g.mean();
  return s / static_cast<double>(groups.size());
}

// Pearson r by two passes (means first): the one-pass formula cancels badly for heart rates,
// whose spread is small beside their mean.
double pearson(const std::vector<WindowEstimate>& windows) {
  const double n = static_cast<double>(windows.size());
  if (windows.size() < 2) return kNaN;
  double mean_e = 0, mean_r = 0;
  for (const auto& w : windows) {
    mean_e += w.estimate_bpm;
    mean_r += w.reference_bpm;
  }
  mean_e /= n;
  mean_r /= n;
  double see = 0, srr = 0, ser = 0;
  for (const auto& w : windows) {
    const double de = w.estimate_bpm - mean_e, dr = w.reference_bpm - mean_r;
    see += de * de;
    srr += dr * dr;
    ser += de * dr;
  }
  if (see == 0 || srr == 0) return kNaN;  // a constant side: correlation undefined
  return ser / std::sqrt(see * srr);
}

nlohmann::json number_or_null(double x) {
  return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(nullptr);
}

}  // namespace

HrMetrics compute_metrics(const std::vector<WindowEstimate>& windows) {
  check_windows(windows);
  const double n = static_cast<double>(windows.size());

  HrMetrics m;
  m.windows = windows.size();

  // ---- pooled sums and per-group absolute errors
  std::map<std::string, AbsErrorSum> by_subject;
  std::map<std::string, std::map<std::string, AbsErrorSum>> by_dataset_subject;
  double sum_abs = 0, sum_sq = 0, sum_err = 0, sum_rel = 0;
  size_t n_within_bpm = 0, n_within_rel = 0;
  for (const auto& w : windows) {
    const double e = w.estimate_bpm - w.reference_bpm, a = std::fabs(e);
    sum_abs += a;
    sum_sq += e * e;
    sum_err += e;
    sum_rel += a / w.reference_bpm;
    if (a <= kWithinBpm) ++n_within_bpm;
    if (a / w.reference_bpm <= kWithinFraction) ++n_within_rel;
    AbsErrorSum& s = by_subject[w.subject];
    s.sum += a;
    ++s.count;
    AbsErrorSum& ds = by_dataset_subject[w.dataset][w.subject];
    ds.sum += a;
    ++ds.count;
  }

  // ---- subject-averaged MAE (primary) and the per-group tables
  m.subjects = by_subject.size();
  for (const auto& [subject, s] : by_subject) m.subject_mae_bpm[subject] = s.mean();
  m.mae_bpm = mean_of(by_subject);
  for (const auto& [dataset, subjects] : by_dataset_subject)
    m.dataset_mae_bpm[dataset] = mean_of(subjects);

  // ---- pooled window metrics
  m.window_mae_bpm = sum_abs / n;
  m.rmse_bpm = std::sqrt(sum_sq / n);
  m.pearson_r = pearson(windows);
  m.within_5bpm = static_cast<double>(n_within_bpm) / n;
  m.mape_percent = 100.0 * sum_rel / n;
  m.within_10pct = static_cast<double>(n_within_rel) / n;

  // ---- Bland–Altman: SD of the differences about their mean, sample (n - 1) form
  m.ba_bias_bpm = sum_err / n;
  if (windows.size() >= 2) {
    double ss = 0;
    for (const auto& w : windows) {
      const double d = (w.estimate_bpm - w.reference_bpm) - m.ba_bias_bpm;
      ss += d * d;
    }
    m.ba_sd_bpm = std::sqrt(ss / (n - 1));
  } else {
    m.ba_sd_bpm = kNaN;
  }
  m.ba_lower_bpm = m.ba_bias_bpm - kLoaZ * m.ba_sd_bpm;
  m.ba_upper_bpm = m.ba_bias_bpm + kLoaZ * m.ba_sd_bpm;
  return m;
}

nlohmann::json to_json(const HrMetrics& m) {
  nlohmann::json j;
  j["windows"] = m.windows;
  j["subjects"] = m.subjects;
  j["mae_bpm"] = number_or_null(m.mae_bpm);
  j["window_mae_bpm"] = number_or_null(m.window_mae_bpm);
  j["rmse_bpm"] = number_or_null(m.rmse_bpm);
  j["pearson_r"] = number_or_null(m.pearson_r);
  j["within_5bpm"] = number_or_null(m.within_5bpm);
  j["mape_percent"] = number_or_null(m.mape_percent);
  j["within_10pct"] = number_or_null(m.within_10pct);
  j["bland_altman"] = {{"bias_bpm", number_or_null(m.ba_bias_bpm)},
                       {"sd_bpm", number_or_null(m.ba_sd_bpm)},
                       {"lower_bpm", number_or_null(m.ba_lower_bpm)},
                       {"upper_bpm", number_or_null(m.ba_upper_bpm)}};
  j["subject_mae_bpm"] = nlohmann::json::object();
  for (const auto& [k, v] : m.subject_mae_bpm) j["subject_mae_bpm"][k] = number_or_null(v);
  j["dataset_mae_bpm"] = nlohmann::json::object();
  for (const auto& [k, v] : m.dataset_mae_bpm) j["dataset_mae_bpm"][k] = number_or_null(v);
  return j;
}

}  // namespace ppgkd
