// The signal halves of each file layout, shared by the labelled readers (spc2015.cpp, bami.cpp,
// bidmc.cpp) and by read_unlabelled (discover.cpp). Internal to readers/. CSV files are read
// with common/csv.h.
#pragma once

#include <string>
#include <vector>

#include "data/readers/mat_file.h"
#include "data/recording.h"

namespace ppgkd::readers {

constexpr double kSpc2015Fs = 125.0;
constexpr double kBamiFs = 50.0;
constexpr double kBidmcFs = 125.0;

// IEEE SPC 2015 `sig` (6 x N with ECG first, or 5 x N without): sets fs, ppg (2) and acc (3).
void read_spc2015_signals(const MatFile& file, Recording& rec);

// BAMI `sigPPG` (C x N) and `sigAcc` (3 x N, +32768 offset removed): sets fs, ppg and acc.
void read_bami_signals(const MatFile& file, Recording& rec);

// read_bami on a file already open (discovery opens each .mat once to learn its layout).
Recording read_bami_file(const MatFile& file);

// BAMI-2 `rawPPG` (C x N) and `rawAcc` (3 x N, +32768 offset removed): sets fs, ppg and acc.
void read_bami2_signals(const MatFile& file, Recording& rec);

// read_bami2 on a file already open.
Recording read_bami2_file(const MatFile& file);

}  // namespace ppgkd::readers
