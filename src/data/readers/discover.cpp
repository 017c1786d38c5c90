// Entry points over the readers: load_recordings walks a folder and hands each recording to the
// reader of its layout; read_unlabelled opens one file for prediction. Prints nothing.
//
// Files are recognised by name, case-insensitively, anywhere under the root:
//   DATA_xx_TYPEyy.mat  + DATA_xx_TYPEyy_BPMtrace.mat   IEEE SPC 2015 train
//   DATA_Sxx_Tyy.mat    + BPM_Sxx_Tyy.mat               IEEE SPC 2015 extra
//   TEST_Sxx_Tyy.mat    + True_Sxx_Tyy.mat              IEEE SPC 2015 test
//   bidmc_NN_Signals.csv + bidmc_NN_Numerics.csv        BIDMC
//   any other .mat holding sigPPG                       BAMI-1 or its windowed variant
//   any other .mat holding rawPPG (e.g. BAMI2_N.mat)    BAMI-2
// A label file is looked for in the signal file's folder first, then anywhere under the root
// (the one sharing the longest folder prefix), since archives put TestData/ and TrueBPM/ side by
// side. A signal file without its label file is an error, as is a .mat file that cannot be read.
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <regex>

#include "common/csv.h"
#include "common/error.h"
#include "data/readers/layouts.h"
#include "data/readers/mat_file.h"
#include "data/readers/reader_util.h"
#include "data/readers/readers.h"

namespace fs = std::filesystem;

namespace ppgkd {

namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Natural order: digit runs compare as numbers, so Subject_2 sorts before Subject_10.
bool natural_less(const std::string& a, const std::string& b) {
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (std::isdigit(static_cast<unsigned char>(a[i])) &&
        std::isdigit(static_cast<unsigned char>(b[j]))) {
      size_t i2 = i, j2 = j;
      while (i2 < a.size() && std::isdigit(static_cast<unsigned char>(a[i2]))) ++i2;
      while (j2 < b.size() && std::isdigit(static_cast<unsigned char>(b[j2]))) ++j2;
      std::string na = a.substr(i, i2 - i), nb = b.substr(j, j2 - j);
      na.erase(0, std::min(na.find_first_not_of('0'), na.size()));
      nb.erase(0, std::min(nb.find_first_not_of('0'), nb.size()));
      if (na.size() != nb.size()) return na.size() < nb.size();
      if (na != nb) return na < nb;
      i = i2;
      j = j2;
    } else {
      if (a[i] != b[j]) return a[i] < b[j];
      ++i;
      ++j;
    }
  }
  return a.size() - i < b.size() - j;
}

size_t common_prefix(const fs::path& a, const fs::path& b) {
  size_t n = 0;
  for (auto ia = a.begin(), ib = b.begin(); ia != a.end() && ib != b.end() && *ia == *ib;
       ++ia, ++ib) {
    ++n;
  }
  return n;
}

// Every regular file under the root, by lower-case file name.
using FileIndex = std::map<std::string, std::vector<fs::path>>;

FileIndex index_files(const std::string& root) {
  std::error_code ec;
  if (!fs::exists(root, ec)) throw Error(root, "no such directory");
  if (!fs::is_directory(root, ec)) throw Error(root, "not a directory");
  FileIndex files;
  fs::recursive_directory_iterator it(root, fs::directory_options::none, ec);
  if (ec) throw Error(root, "cannot read directory (" + ec.message() + ")");
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    if (it->is_regular_file(ec)) files[lower(it->path().filename().string())].push_back(it->path());
  }
  if (ec) throw Error(root, "cannot read directory (" + ec.message() + ")");
  for (auto& [name, paths] : files) std::sort(paths.begin(), paths.end());
  return files;
}

// The label file named `label_name` nearest to `sig` (same folder first, then the longest shared
// folder prefix; ties go to the first in path order).
fs::path find_label(const FileIndex& files, const fs::path& sig, const std::string& label_name,
                    const std::string& root) {
  const auto hit = files.find(lower(label_name));
  if (hit == files.end()) {
    throw Error(sig.string(), "label file " + label_name + " not found under " + root);
  }
  const fs::path* best = nullptr;
  size_t best_len = 0;
  for (const fs::path& p : hit->second) {
    const size_t len = common_prefix(p.parent_path(), sig.parent_path());
    if (best == nullptr || len > best_len) {
      best = &p;
      best_len = len;
    }
  }
  return *best;
}

struct SpcPattern {
  std::regex signal;
  std::string sig_prefix;  // replaced by label_prefix in the file name ...
  std::string label_prefix;
  std::string label_suffix;  // ... and label_suffix inserted before ".mat"
};

const std::vector<SpcPattern>& spc_patterns() {
  static const std::vector<SpcPattern> p = {
      {std::regex(R"(data_\d+_type\d+\.mat)"), "DATA_", "DATA_", "_BPMtrace"},
      {std::regex(R"(data_s\d+_t\d+\.mat)"), "DATA_", "BPM_", ""},
      {std::regex(R"(test_s\d+_t\d+\.mat)"), "TEST_", "True_", ""},
  };
  return p;
}

bool is_spc_label(const std::string& lname) {
  static const std::regex label(R"(.*_bpmtrace\.mat|bpm_s\d+_t\d+\.mat|true_s\d+_t\d+\.mat)");
  return std::regex_match(lname, label);
}

bool has_extension(const std::string& lname, const std::string& ext) {
  return lname.size() >= ext.size() &&
         lname.compare(lname.size() - ext.size(), ext.size(), ext) == 0;
}

}  // namespace

// ---------------------------------------------------------------------------- load_recordings

std::vector<Recording> load_recordings(const std::string& root) {
  const FileIndex files = index_files(root);
  std::vector<Recording> out;
  static const std::regex bidmc_signals(R"(bidmc_(\d+)_signals\.csv)");
  for (const auto& [lname, paths] : files) {
    for (const fs::path& path : paths) {
      const SpcPattern* spc = nullptr;
      for (const SpcPattern& p : spc_patterns()) {
        if (std::regex_match(lname, p.signal)) spc = &p;
      }
      std::smatch m;
      if (spc != nullptr) {
        const std::string stem = path.stem().string();
        const std::string label_name =
            spc->label_prefix + stem.substr(spc->sig_prefix.size()) + spc->label_suffix + ".mat";
        const fs::path label = find_label(files, path, label_name, root);
        out.push_back(read_spc2015(path.string(), label.string()));
      } else if (std::regex_match(lname, m, bidmc_signals)) {
        const std::string label_name = "bidmc_" + m.str(1) + "_Numerics.csv";
        const fs::path label = find_label(files, path, label_name, root);
        out.push_back(read_bidmc(path.string(), label.string()));
      } else if (has_extension(lname, ".mat") && !is_spc_label(lname)) {
        const MatFile file(path.string());
        if (file.has("sigPPG")) {
          out.push_back(readers::read_bami_file(file));
        } else if (file.has("rawPPG")) {
          out.push_back(readers::read_bami2_file(file));
        }
      }
    }
  }
  if (out.empty()) {
    throw Error(root, "no recordings found (looked for IEEE SPC 2015, BAMI and BIDMC files)");
  }
  std::sort(out.begin(), out.end(), [](const Recording& a, const Recording& b) {
    if (a.dataset != b.dataset) return a.dataset < b.dataset;
    return natural_less(a.name, b.name);
  });
  for (size_t i = 1; i < out.size(); ++i) {
    if (out[i].dataset == out[i - 1].dataset && out[i].name == out[i - 1].name) {
      throw Error(out[i].path,
                  "duplicate recording " + out[i].name + " (also at " + out[i - 1].path + ")");
    }
  }
  return out;
}

// ---------------------------------------------------------------------------- read_unlabelled

Recording read_unlabelled(const std::string& path, double fs_for_csv) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) throw Error(path, "no such file");
  const std::string lname = lower(fs::path(path).filename().string());
  Recording rec;
  rec.name = readers::file_stem(path);
  rec.path = path;
  if (has_extension(lname, ".mat")) {
    const MatFile file(path);
    if (file.has("sig")) {
      rec.dataset = dataset::kSpc2015;
      readers::read_spc2015_signals(file, rec);
    } else if (file.has("sigPPG")) {
      rec.dataset = dataset::kBami1;
      readers::read_bami_signals(file, rec);
    } else if (file.has("rawPPG")) {
      rec.dataset = dataset::kBami2;
      readers::read_bami2_signals(file, rec);
    } else {
      throw Error(path,
                  "no signal variable ('sig' of IEEE SPC 2015, 'sigPPG' of BAMI or 'rawPPG' of "
                  "BAMI-2)");
    }
  } else if (has_extension(lname, ".csv")) {
    if (!(fs_for_csv > 0)) throw Error(path, "a CSV input needs its sampling rate (fs > 0)");
    const CsvColumns csv =
        read_csv_columns(path, {"ppg", "acc_x", "acc_y", "acc_z"}, {true, false, false, false});
    if (csv.rows == 0) throw Error(path, "CSV has no data rows");
    rec.dataset = "input";
    rec.fs = fs_for_csv;
    rec.ppg.emplace_back(csv.columns[0].begin(), csv.columns[0].end());
    const size_t acc_present =
        !csv.columns[1].empty() + !csv.columns[2].empty() + !csv.columns[3].empty();
    if (acc_present != 0 && acc_present != 3) {
      throw Error(path, "CSV has some but not all of the columns acc_x, acc_y, acc_z");
    }
    if (acc_present == 3) {
      for (int c = 1; c <= 3; ++c)
        rec.acc.emplace_back(csv.columns[c].begin(), csv.columns[c].end());
    }
  } else {
    throw Error(path, "unsupported input format (expected .mat or .csv)");
  }
  rec.subject = rec.dataset + "/" + rec.name;
  // Non-finite samples are kept: the windows touching them must get no estimate, which only the
  // caller (make_windows, the stream windower) can tell once they are repaired.
  return rec;
}

}  // namespace ppgkd
