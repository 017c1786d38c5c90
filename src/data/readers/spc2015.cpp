// IEEE SPC 2015 reader: train (DATA_xx_TYPEyy), extra (DATA_S04_T01) and test (TEST_Sxx_Tyy)
// recordings with their BPM0 label files. Not the file discovery (discover.cpp).
//
// Label rule: BPM0(k) is window k (8 s = 1000 samples, step 2 s = 250 samples, 125 Hz), so the
// label count must equal floor((N - 1000) / 250) + 1; anything else is an error, because the
// labels could not then be placed on the signal with certainty.
#include <regex>

#include "common/error.h"
#include "data/readers/layouts.h"
#include "data/readers/mat_file.h"
#include "data/readers/reader_util.h"
#include "data/readers/readers.h"

namespace ppgkd {

namespace readers {

void read_spc2015_signals(const MatFile& file, Recording& rec) {
  const MatArray sig = file.read("sig");
  if (sig.rows != 6 && sig.rows != 5) {
    throw Error(file.path(), "variable 'sig' has shape " + sig.shape() +
                                 ", expected 6xN (ECG, PPG1, PPG2, acc x, y, z) or 5xN "
                                 "(PPG1, PPG2, acc x, y, z)");
  }
  const size_t first_ppg = sig.rows == 6 ? 1 : 0;  // the ECG row, when present, is dropped
  rec.fs = kSpc2015Fs;
  rec.ppg = take_rows(sig, first_ppg, 2);
  rec.acc = take_rows(sig, first_ppg + 2, 3);
}

}  // namespace readers

namespace {

// Subject ids: training recordings are numbered subjects of their own ("spc2015/train01"); the
// extra recording DATA_S04_T01 is subject S04 of the test set, so both map to "spc2015/S04".
std::string spc2015_subject(const std::string& name) {
  static const std::regex train(R"(DATA_(\d+)_TYPE\d+)", std::regex::icase);
  static const std::regex test_like(R"((?:DATA|TEST)_S(\d+)_T\d+)", std::regex::icase);
  std::smatch m;
  if (std::regex_match(name, m, train)) return std::string(dataset::kSpc2015) + "/train" + m.str(1);
  if (std::regex_match(name, m, test_like)) return std::string(dataset::kSpc2015) + "/S" + m.str(1);
  return std::string(dataset::kSpc2015) + "/" + name;
}

}  // namespace

Recording read_spc2015(const std::string& sig_path, const std::string& label_path) {
  Recording rec;
  rec.dataset = dataset::kSpc2015;
  rec.name = readers::file_stem(sig_path);
  rec.subject = spc2015_subject(rec.name);
  rec.path = sig_path;
  rec.label_path = label_path;
  {
    const MatFile sig_file(sig_path);
    readers::read_spc2015_signals(sig_file, rec);
  }
  const MatFile label_file(label_path);
  const std::vector<double> bpm = readers::as_vector(label_file.read("BPM0"), label_path);
  const size_t n = rec.num_samples();
  const size_t expected = windows_that_fit(n, rec.fs);
  if (bpm.size() != expected) {
    throw Error(label_path, readers::label_count_mismatch(bpm.size(), n, expected));
  }
  for (size_t k = 0; k < bpm.size(); ++k) {
    if (std::isfinite(bpm[k])) {
      readers::add_window(rec, k, bpm[k]);
    } else {
      rec.dropped[readers::kDropBadLabel] += 1;
    }
  }
  readers::drop_nonfinite_windows(rec);
  return rec;
}

}  // namespace ppgkd
