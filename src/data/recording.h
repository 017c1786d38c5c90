// A recording as the readers deliver it: raw signals at their native rate plus one reference
// heart rate per 8 s / 2 s window. Nothing here is resampled or filtered yet.
//
// Window k of a recording starts at native sample k * round(step_s * fs) and spans
// round(window_s * fs) samples (the IEEE SPC 2015 convention, window 8 s, step 2 s).
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

namespace ppgkd {

constexpr double kWindowSeconds = 8.0;
constexpr double kStepSeconds = 2.0;

// Dataset names as they appear in CSV output and reports.
namespace dataset {
constexpr const char* kSpc2015 = "spc2015";      // train, extra and test layouts
constexpr const char* kBami1 = "bami1";          // beat-to-beat ECG labels
constexpr const char* kBamiWindowed = "bami_w";  // one ECG label per window
constexpr const char* kBami2 = "bami2";          // BAMI-2: rawPPG/rawAcc, bpm_ecg per window
constexpr const char* kBidmc = "bidmc";
constexpr const char* kSynthetic = "synthetic";
}  // namespace dataset

struct WindowLabel {
  int index = 0;         // k: the window's position in the recording (0-based, gaps allowed)
  double t_start_s = 0;  // k * step_s
  double hr_bpm = 0;     // reference heart rate (ECG-derived)
};

struct Recording {
  std::string dataset;     // one of dataset::k*
  std::string name;        // recording name, unique within the dataset (e.g. "DATA_01_TYPE01")
  std::string subject;     // subject id, unique across datasets (e.g. "spc2015/train01")
  std::string path;        // the signal file it came from
  std::string label_path;  // the label file (may equal path)
  double fs = 0;           // native sampling rate, Hz
  // Channels x samples. ppg has >= 1 channel; acc has 3 channels or is empty (BIDMC).
  std::vector<std::vector<float>> ppg;
  std::vector<std::vector<float>> acc;
  // Labelled windows in recording order. Windows that could not be labelled are absent and
  // counted in `dropped` by reason (e.g. "missing HR", "non-finite signal").
  std::vector<WindowLabel> windows;
  std::map<std::string, size_t> dropped;

  size_t num_samples() const { return ppg.empty() ? 0 : ppg[0].size(); }
  double duration_s() const { return fs > 0 ? num_samples() / fs : 0; }
};

// Number of whole 8 s windows with a 2 s step that fit in n samples at rate fs (0 if none).
size_t windows_that_fit(size_t n, double fs);

}  // namespace ppgkd
