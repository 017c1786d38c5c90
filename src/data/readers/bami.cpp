// BAMI readers: BAMI-1 (beat-to-beat ECG labels) and its windowed variant (one ECG label per
// window), both in Subject_N.mat files with sigPPG / sigAcc at 50 Hz, and BAMI-2 (BAMI2_N.mat with
// rawPPG / rawAcc at 50 Hz and one ECG label per window in bpm_ecg). Not the discovery.
//
// Which BAMI-1 variant a file is comes from `timeECG`: window start times 0, 2, 4, ... s (within
// 1 ms, at least two of them) mean windowed; anything else is beat times. `bpmPPG`/`timePPG`, when
// present, are an algorithm's output and are never read; neither is BAMI-2's `bpm_proposed` (the
// authors' own estimate).
//
// Label rules (W = windows that fit the signal, window k covers [2k, 2k + 8) s):
//   BAMI-1:   label(k) = mean of bpmECG over beats with 2k <= timeECG < 2k + 8 (finite values
//             only); a window without a beat is dropped as "no ECG beat".
//   windowed: label(k) = bpmECG(k), placed by its start time;
//   BAMI-2:   label(k) = bpm_ecg(k) (no times stored: value k is window k). Both with K labels:
//             K == W      every window is labelled;
//             K == W + 1  the last label belongs to a window that only partly fits the signal
//                         (a rounding difference in the producer's window count): it is dropped
//                         as "label past signal end";
//             K >  W + 1  error: more labels than the signal can hold means the labels and the
//                         signal disagree (wrong file or rate), so nothing is guessed;
//             K <  W      the reference ended early: windows K..W-1 are dropped as "no ECG label"
//                         (BAMI-2 as published: 36500 samples hold 362 windows, bpm_ecg has 361).
//             A non-finite label drops its window as "non-finite label".
#include <algorithm>
#include <cmath>

#include "common/error.h"
#include "data/readers/layouts.h"
#include "data/readers/mat_file.h"
#include "data/readers/reader_util.h"
#include "data/readers/readers.h"

namespace ppgkd {

namespace {

constexpr double kAccOffset = 32768.0;      // BAMI stores acc as unsigned counts + 32768
constexpr double kWindowedTimeTolS = 1e-3;  // timeECG(k) == 2k within this for the windowed set
constexpr size_t kMaxChannels = 16;         // arrays are channels x samples; see oriented()

// Arrays are documented as channels x samples; a samples x channels copy is accepted too, told
// apart by the channel count being the small dimension.
MatArray oriented(MatArray a) {
  if (a.rows > a.cols && a.cols <= kMaxChannels) {
    MatArray t;
    t.name = a.name;
    t.rows = a.cols;
    t.cols = a.rows;
    t.data.resize(a.data.size());
    for (size_t r = 0; r < a.rows; ++r) {
      for (size_t c = 0; c < a.cols; ++c) t.data[c + r * t.rows] = a.at(r, c);
    }
    return t;
  }
  return a;
}

bool is_windowed(const std::vector<double>& t) {
  if (t.size() < 2) return false;
  for (size_t k = 0; k < t.size(); ++k) {
    if (!(std::fabs(t[k] - static_cast<double>(k) * kStepSeconds) <= kWindowedTimeTolS)) {
      return false;
    }
  }
  return true;
}

// "<dataset>/NN" for a name "<prefix>N" (N zero-padded to two digits), else "<dataset>/<name>".
std::string numbered_subject(const char* dataset, const std::string& prefix,
                             const std::string& name) {
  if (name.rfind(prefix, 0) == 0 && name.size() > prefix.size() &&
      std::all_of(name.begin() + prefix.size(), name.end(), ::isdigit)) {
    std::string num = name.substr(prefix.size());
    if (num.size() < 2) num = "0" + num;
    return std::string(dataset) + "/" + num;
  }
  return std::string(dataset) + "/" + name;
}

void label_beats(Recording& rec, const std::vector<double>& t, const std::vector<double>& bpm) {
  const size_t w = windows_that_fit(rec.num_samples(), rec.fs);
  for (size_t k = 0; k < w; ++k) {
    const double t0 = static_cast<double>(k) * kStepSeconds;
    const double t1 = t0 + kWindowSeconds;
    double sum = 0;
    size_t count = 0;
    for (size_t i = 0; i < t.size(); ++i) {
      if (t[i] >= t0 && t[i] < t1 && std::isfinite(bpm[i])) {
        sum += bpm[i];
        ++count;
      }
    }
    if (count == 0) {
      rec.dropped[readers::kDropNoBeat] += 1;
    } else {
      readers::add_window(rec, k, sum / static_cast<double>(count));
    }
  }
}

void label_windows(Recording& rec, const std::vector<double>& bpm) {
  const size_t n = rec.num_samples();
  const size_t w = windows_that_fit(n, rec.fs);
  const size_t k_labels = bpm.size();
  if (k_labels > w + 1) {
    throw Error(rec.label_path, readers::label_count_mismatch(k_labels, n, w));
  }
  for (size_t k = 0; k < std::min(k_labels, w); ++k) {
    if (std::isfinite(bpm[k])) {
      readers::add_window(rec, k, bpm[k]);
    } else {
      rec.dropped[readers::kDropBadLabel] += 1;
    }
  }
  if (k_labels == w + 1) rec.dropped[readers::kDropPastEnd] += 1;
  if (k_labels < w) rec.dropped[readers::kDropNoLabel] += w - k_labels;
}

// PPG `ppg_var` (C x N) and acc `acc_var` (3 x N, +32768 offset removed) at 50 Hz.
void read_signals(const MatFile& file, Recording& rec, const char* ppg_var, const char* acc_var) {
  const MatArray ppg = oriented(file.read(ppg_var));
  if (ppg.rows == 0 || ppg.rows > kMaxChannels || ppg.cols == 0) {
    throw Error(file.path(), "variable '" + std::string(ppg_var) + "' has shape " + ppg.shape() +
                                 ", expected CxN (PPG channels)");
  }
  const MatArray acc = oriented(file.read(acc_var));
  if (acc.rows != 3 || acc.cols != ppg.cols) {
    throw Error(file.path(), "variable '" + std::string(acc_var) + "' has shape " + acc.shape() +
                                 ", expected 3x" + std::to_string(ppg.cols));
  }
  // The offset is documented for the raw counts; an array that holds negative values has been
  // converted to signed counts already and is kept as it is.
  const bool has_offset =
      std::none_of(acc.data.begin(), acc.data.end(), [](double v) { return v < 0; });
  rec.fs = readers::kBamiFs;
  rec.ppg = readers::take_rows(ppg, 0, ppg.rows);
  rec.acc = readers::take_rows(acc, 0, 3, has_offset ? kAccOffset : 0.0);
}

}  // namespace

namespace readers {

void read_bami_signals(const MatFile& file, Recording& rec) {
  read_signals(file, rec, "sigPPG", "sigAcc");
}

void read_bami2_signals(const MatFile& file, Recording& rec) {
  read_signals(file, rec, "rawPPG", "rawAcc");
}

Recording read_bami_file(const MatFile& file) {
  const std::string& path = file.path();
  Recording rec;
  rec.name = readers::file_stem(path);
  rec.path = path;
  rec.label_path = path;
  readers::read_bami_signals(file, rec);
  const std::vector<double> t = readers::as_vector(file.read("timeECG"), path);
  const std::vector<double> bpm = readers::as_vector(file.read("bpmECG"), path);
  if (t.size() != bpm.size()) {
    throw Error(path, "timeECG has " + std::to_string(t.size()) + " values but bpmECG has " +
                          std::to_string(bpm.size()));
  }
  if (is_windowed(t)) {
    rec.dataset = dataset::kBamiWindowed;
    rec.subject = std::string(dataset::kBamiWindowed) + "/" + rec.name;
    label_windows(rec, bpm);
  } else {
    rec.dataset = dataset::kBami1;
    rec.subject = numbered_subject(dataset::kBami1, "Subject_", rec.name);
    label_beats(rec, t, bpm);
  }
  readers::drop_nonfinite_windows(rec);
  return rec;
}

Recording read_bami2_file(const MatFile& file) {
  const std::string& path = file.path();
  Recording rec;
  rec.dataset = dataset::kBami2;
  rec.name = readers::file_stem(path);
  rec.subject = numbered_subject(dataset::kBami2, "BAMI2_", rec.name);
  rec.path = path;
  rec.label_path = path;
  readers::read_bami2_signals(file, rec);
  label_windows(rec, readers::as_vector(file.read("bpm_ecg"), path));
  readers::drop_nonfinite_windows(rec);
  return rec;
}

}  // namespace readers

Recording read_bami(const std::string& path) {
  return readers::read_bami_file(MatFile(path));
}

Recording read_bami2(const std::string& path) {
  return readers::read_bami2_file(MatFile(path));
}

}  // namespace ppgkd
