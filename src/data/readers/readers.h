// Dataset readers. Each turns the files of one layout (see DESIGN.md's data table) into
// Recordings with exact window labels; bad input throws ppgkd::Error naming the file.
#pragma once

#include <string>
#include <vector>

#include "data/recording.h"

namespace ppgkd {

// Walks `root` recursively (a dataset root or the parent of several) and loads every recording
// of every known layout, sorted by (dataset, name). Throws Error when `root` is missing,
// unreadable, or holds no recording at all.
std::vector<Recording> load_recordings(const std::string& root);

// Single-layout readers (used by load_recordings and by `ppgkd predict --input FILE`).
// IEEE SPC 2015: `sig_path` is DATA_xx_TYPEyy.mat / DATA_S04_T01.mat (6 x N, ECG first) or
// TEST_Sxx_Tyy.mat (5 x N); `label_path` the matching BPM0 file.
Recording read_spc2015(const std::string& sig_path, const std::string& label_path);
// BAMI-1 or its windowed variant (detected from timeECG: 0, 2, 4, ... s means windowed).
Recording read_bami(const std::string& path);
// BAMI-2: BAMI2_N.mat with rawPPG / rawAcc (50 Hz) and bpm_ecg, one label per window.
Recording read_bami2(const std::string& path);
// BIDMC CSV: bidmc_NN_Signals.csv + bidmc_NN_Numerics.csv (columns found by stripped name).
Recording read_bidmc(const std::string& signals_csv, const std::string& numerics_csv);

// A recording without labels for prediction: .mat (SPC, BAMI or BAMI-2 layout) or CSV with columns
// ppg[,acc_x,acc_y,acc_z] and a header; `fs` is required for CSV. Missing (NaN) and infinite
// samples are kept as they are.
Recording read_unlabelled(const std::string& path, double fs_for_csv);

}  // namespace ppgkd
