// BIDMC reader (PhysioNet CSV distribution; CSV parsing in common/csv.h). Not the discovery
// (discover.cpp).
//
// bidmc_NN_Signals.csv: 125 Hz, header "Time [s], RESP, PLETH, ..." whose names carry a leading
// space and whose set and order vary; PLETH is the PPG. bidmc_NN_Numerics.csv: 1 Hz rows
// "Time [s], HR, PULSE, RESP, SpO2"; HR is the ECG-derived heart rate (PULSE comes from the PPG
// and is never a label).
//
// Label rule: window k covers [2k, 2k + 8) s; its label is the mean of HR over the Numerics rows
// with 2k <= t < 2k + 8. A window with any missing (empty/NaN) HR value in that span, or with
// no row at all, is dropped as "missing HR".
#include <cmath>

#include "common/csv.h"
#include "common/error.h"
#include "data/readers/layouts.h"
#include "data/readers/reader_util.h"
#include "data/readers/readers.h"

namespace ppgkd {

// ---------------------------------------------------------------------------- BIDMC

Recording read_bidmc(const std::string& signals_csv, const std::string& numerics_csv) {
  Recording rec;
  rec.dataset = dataset::kBidmc;
  std::string stem = readers::file_stem(signals_csv);  // bidmc_NN_Signals
  const std::string suffix = "_Signals";
  if (stem.size() > suffix.size() &&
      stem.compare(stem.size() - suffix.size(), suffix.size(), suffix) == 0) {
    stem.resize(stem.size() - suffix.size());
  }
  rec.name = stem;
  const std::string prefix = "bidmc_";
  rec.subject = std::string(dataset::kBidmc) + "/" +
                (stem.rfind(prefix, 0) == 0 ? stem.substr(prefix.size()) : stem);
  rec.path = signals_csv;
  rec.label_path = numerics_csv;
  rec.fs = readers::kBidmcFs;

  const CsvColumns sig = read_csv_columns(signals_csv, {"PLETH", "Time [s]"}, {true, false});
  rec.ppg.emplace_back(sig.columns[0].begin(), sig.columns[0].end());
  // The rate is fixed by the layout; the time column, when present, must agree with it.
  const std::vector<double>& ts = sig.columns[1];
  if (ts.size() >= 2) {
    const double dt = (ts.back() - ts.front()) / static_cast<double>(ts.size() - 1);
    if (!(std::fabs(dt * rec.fs - 1.0) < 0.01)) {
      throw Error(signals_csv, "time column step " + std::to_string(dt) +
                                   " s does not match the 125 Hz of the BIDMC layout");
    }
  }

  const CsvColumns num = read_csv_columns(numerics_csv, {"Time [s]", "HR"}, {true, true});
  const std::vector<double>& t = num.columns[0];
  const std::vector<double>& hr = num.columns[1];
  const size_t w = windows_that_fit(rec.num_samples(), rec.fs);
  for (size_t k = 0; k < w; ++k) {
    const double t0 = static_cast<double>(k) * kStepSeconds;
    const double t1 = t0 + kWindowSeconds;
    double sum = 0;
    size_t count = 0;
    bool missing = false;
    for (size_t i = 0; i < t.size(); ++i) {
      if (t[i] >= t0 && t[i] < t1) {
        if (std::isfinite(hr[i])) {
          sum += hr[i];
          ++count;
        } else {
          missing = true;
        }
      }
    }
    if (missing || count == 0) {
      rec.dropped[readers::kDropMissingHr] += 1;
    } else {
      readers::add_window(rec, k, sum / static_cast<double>(count));
    }
  }
  readers::drop_nonfinite_windows(rec);
  return rec;
}

}  // namespace ppgkd
