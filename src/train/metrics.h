// Heart-rate evaluation metrics from per-window estimates: the subject-averaged MAE (ppgkd's
// primary metric) and what wearable validation reports add (RMSE, Pearson r, MAPE, shares within
// a tolerance, Bland–Altman bias and limits of agreement). Plain C++, no libtorch: it takes
// numbers, not tensors, and knows nothing about models or decoding.
#pragma once

#include <cstddef>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ppgkd {

// One evaluated window.
struct WindowEstimate {
  double estimate_bpm = 0;   // the model's heart rate
  double reference_bpm = 0;  // the ECG-derived label (must be > 0)
  std::string subject;       // unique across datasets (e.g. "spc2015/train01")
  std::string dataset;       // e.g. "spc2015"
};

// Errors are e = estimate - reference. Unless marked otherwise, a metric pools all windows.
// A metric that is undefined for the input (Pearson r with fewer than 2 windows or a constant
// side, the Bland–Altman SD with fewer than 2 windows) is NaN, and null in JSON.
struct HrMetrics {
  size_t windows = 0;
  size_t subjects = 0;
  double mae_bpm = 0;         // primary: mean |e| over each subject's windows, then over subjects
  double window_mae_bpm = 0;  // mean |e| over all windows
  double rmse_bpm = 0;        // sqrt(mean e^2)
  double pearson_r = 0;       // correlation of estimates with references
  double within_5bpm = 0;     // share (0..1) of windows with |e| <= 5 BPM
  double mape_percent = 0;    // 100 * mean(|e| / reference)
  double within_10pct = 0;    // share (0..1) of windows with |e| / reference <= 0.10
  // Bland–Altman: bias = mean e; limits = bias -/+ 1.96 SD(e), SD with n - 1 (sample SD).
  double ba_bias_bpm = 0;
  double ba_sd_bpm = 0;
  double ba_lower_bpm = 0;
  double ba_upper_bpm = 0;
  std::map<std::string, double> subject_mae_bpm;  // mean |e| over the subject's windows
  std::map<std::string, double> dataset_mae_bpm;  // subject-averaged MAE within each dataset
};

// Throws Error("metrics", ...) on no windows, a non-finite value or a reference <= 0.
HrMetrics compute_metrics(const std::vector<WindowEstimate>& windows);

// {"windows", "subjects", "mae_bpm", "window_mae_bpm", "rmse_bpm", "pearson_r", "within_5bpm",
//  "mape_percent", "within_10pct", "bland_altman": {"bias_bpm", "sd_bpm", "lower_bpm",
//  "upper_bpm"}, "subject_mae_bpm": {...}, "dataset_mae_bpm": {...}}
nlohmann::json to_json(const HrMetrics& m);

// So that `nlohmann::json j = metrics;` works.
inline void to_json(nlohmann::json& j, const HrMetrics& m) {
  j = to_json(m);
}

}  // namespace ppgkd
