// Reader tests on small hand-built files: every layout's label rule against labels computed by
// hand here, and every kind of bad input against its exact error text. The .mat files are
// written with libmatio directly (not through the code under test), the CSVs as plain text.
#include <gtest/gtest.h>
#include <matio.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "common/error.h"
#include "data/readers/readers.h"
#include "test_util.h"

namespace ppgkd {
namespace {

namespace fs = std::filesystem;
using ppgkd::testing::scratch_dir;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// ---------------------------------------------------------------------------- file writers

struct Var {
  std::string name;
  size_t rows = 0, cols = 0;
  std::vector<double> data;  // column-major
  bool as_uint16 = false;
};

// A rows x cols variable whose element (r, c) is f(r, c).
Var make_var(const std::string& name, size_t rows, size_t cols,
             const std::function<double(size_t, size_t)>& f, bool as_uint16 = false) {
  Var v{name, rows, cols, std::vector<double>(rows * cols), as_uint16};
  for (size_t c = 0; c < cols; ++c) {
    for (size_t r = 0; r < rows; ++r) v.data[r + c * rows] = f(r, c);
  }
  return v;
}

Var column(const std::string& name, const std::vector<double>& values) {
  return Var{name, values.size(), 1, values, false};
}

void write_mat(const std::string& path, const std::vector<Var>& vars, bool compress = false) {
  fs::create_directories(fs::path(path).parent_path());
  mat_t* mat = Mat_CreateVer(path.c_str(), nullptr, MAT_FT_MAT5);
  ASSERT_NE(mat, nullptr) << path;
  for (const Var& v : vars) {
    size_t dims[2] = {v.rows, v.cols};
    matvar_t* mv;
    std::vector<uint16_t> u16(v.data.begin(), v.data.end());
    if (v.as_uint16) {
      mv = Mat_VarCreate(v.name.c_str(), MAT_C_UINT16, MAT_T_UINT16, 2, dims, u16.data(), 0);
    } else {
      mv = Mat_VarCreate(v.name.c_str(), MAT_C_DOUBLE, MAT_T_DOUBLE, 2, dims,
                         const_cast<double*>(v.data.data()), 0);
    }
    ASSERT_NE(mv, nullptr);
    ASSERT_EQ(Mat_VarWrite(mat, mv, compress ? MAT_COMPRESSION_ZLIB : MAT_COMPRESSION_NONE), 0);
    Mat_VarFree(mv);
  }
  Mat_Close(mat);
}

void write_text(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// The message of the Error thrown by f ("" when none is thrown).
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// ---------------------------------------------------------------------------- fixtures
// SPC 2015: N = 1000 + 3 * 250 + 249 samples still holds 4 windows (floor rule), so K = 4.
constexpr size_t kSpcN = 1999;
const std::vector<double> kSpcBpm = {70.5, 71.25, 72.0, 73.125};

// Row r, sample i of an SPC `sig`: a value that says where it came from.
double spc_value(size_t r, size_t i) {
  return static_cast<double>(r) * 1000.0 + i * 0.5;
}

void write_spc_train(const std::string& sig, const std::string& label, size_t n,
                     const std::vector<double>& bpm) {
  write_mat(sig, {make_var("sig", 6, n, spc_value)}, /*compress=*/true);
  write_mat(label, {column("BPM0", bpm)});
}

// ---------------------------------------------------------------------------- IEEE SPC 2015

TEST(Spc2015, TrainLabelsAreBpm0PerWindowAndEcgRowIsDropped) {
  const std::string dir = scratch_dir();
  write_spc_train(dir + "/DATA_03_TYPE02.mat", dir + "/DATA_03_TYPE02_BPMtrace.mat", kSpcN,
                  kSpcBpm);
  const Recording r =
      read_spc2015(dir + "/DATA_03_TYPE02.mat", dir + "/DATA_03_TYPE02_BPMtrace.mat");
  EXPECT_EQ(r.dataset, "spc2015");
  EXPECT_EQ(r.name, "DATA_03_TYPE02");
  EXPECT_EQ(r.subject, "spc2015/train03");
  EXPECT_EQ(r.fs, 125.0);
  ASSERT_EQ(r.ppg.size(), 2u);
  ASSERT_EQ(r.acc.size(), 3u);
  ASSERT_EQ(r.num_samples(), kSpcN);
  for (size_t i : {size_t{0}, size_t{777}, kSpcN - 1}) {
    EXPECT_EQ(r.ppg[0][i], static_cast<float>(spc_value(1, i)));  // row 0 is the ECG
    EXPECT_EQ(r.ppg[1][i], static_cast<float>(spc_value(2, i)));
    EXPECT_EQ(r.acc[0][i], static_cast<float>(spc_value(3, i)));
    EXPECT_EQ(r.acc[2][i], static_cast<float>(spc_value(5, i)));
  }
  ASSERT_EQ(r.windows.size(), 4u);
  for (size_t k = 0; k < 4; ++k) {
    EXPECT_EQ(r.windows[k].index, static_cast<int>(k));
    EXPECT_EQ(r.windows[k].t_start_s, 2.0 * k);
    EXPECT_EQ(r.windows[k].hr_bpm, kSpcBpm[k]);
  }
  EXPECT_TRUE(r.dropped.empty());
}

TEST(Spc2015, TestLayoutHasFiveRowsAndSubjectFromName) {
  const std::string dir = scratch_dir();
  write_mat(dir + "/TestData/TEST_S02_T01.mat", {make_var("sig", 5, kSpcN, spc_value)});
  write_mat(dir + "/TrueBPM/True_S02_T01.mat", {column("BPM0", kSpcBpm)});
  const Recording r =
      read_spc2015(dir + "/TestData/TEST_S02_T01.mat", dir + "/TrueBPM/True_S02_T01.mat");
  EXPECT_EQ(r.subject, "spc2015/S02");
  ASSERT_EQ(r.ppg.size(), 2u);
  ASSERT_EQ(r.acc.size(), 3u);
  EXPECT_EQ(r.ppg[0][10], static_cast<float>(spc_value(0, 10)));  // no ECG row to skip
  EXPECT_EQ(r.acc[0][10], static_cast<float>(spc_value(2, 10)));
  EXPECT_EQ(r.acc[2][10], static_cast<float>(spc_value(4, 10)));
  ASSERT_EQ(r.windows.size(), 4u);
  EXPECT_EQ(r.windows[3].hr_bpm, 73.125);
}

TEST(Spc2015, ExtraRecordingIsTestSubject) {
  const std::string dir = scratch_dir();
  write_spc_train(dir + "/DATA_S04_T01.mat", dir + "/BPM_S04_T01.mat", kSpcN, kSpcBpm);
  EXPECT_EQ(read_spc2015(dir + "/DATA_S04_T01.mat", dir + "/BPM_S04_T01.mat").subject,
            "spc2015/S04");
}

TEST(Spc2015, LabelCountMustMatchSignalLength) {
  const std::string dir = scratch_dir();
  // 1999 samples hold 4 windows; 5 labels and 3 labels are both wrong.
  write_spc_train(dir + "/DATA_01_TYPE01.mat", dir + "/five.mat", kSpcN, {1, 2, 3, 4, 5});
  write_mat(dir + "/three.mat", {column("BPM0", {1, 2, 3})});
  EXPECT_EQ(
      error_of([&] { read_spc2015(dir + "/DATA_01_TYPE01.mat", dir + "/five.mat"); }),
      dir + "/five.mat: label count 5 does not match signal length 1999 (expected 4 windows)");
  EXPECT_EQ(
      error_of([&] { read_spc2015(dir + "/DATA_01_TYPE01.mat", dir + "/three.mat"); }),
      dir + "/three.mat: label count 3 does not match signal length 1999 (expected 4 windows)");
}

TEST(Spc2015, WrongShapeAndMissingVariable) {
  const std::string dir = scratch_dir();
  write_mat(dir + "/sig4.mat", {make_var("sig", 4, 1200, spc_value)});
  write_mat(dir + "/nosig.mat", {make_var("other", 6, 1200, spc_value)});
  write_mat(dir + "/labels.mat", {column("BPM0", {80})});
  write_mat(dir + "/matrix_labels.mat", {make_var("BPM0", 2, 2, spc_value)});
  write_mat(dir + "/ok.mat", {make_var("sig", 6, 1200, spc_value)});
  EXPECT_EQ(error_of([&] { read_spc2015(dir + "/sig4.mat", dir + "/labels.mat"); }),
            dir +
                "/sig4.mat: variable 'sig' has shape 4x1200, expected 6xN (ECG, PPG1, PPG2, acc "
                "x, y, z) or 5xN (PPG1, PPG2, acc x, y, z)");
  EXPECT_EQ(error_of([&] { read_spc2015(dir + "/nosig.mat", dir + "/labels.mat"); }),
            dir + "/nosig.mat: missing variable 'sig'");
  EXPECT_EQ(error_of([&] { read_spc2015(dir + "/ok.mat", dir + "/ok.mat"); }),
            dir + "/ok.mat: missing variable 'BPM0'");
  EXPECT_EQ(error_of([&] { read_spc2015(dir + "/ok.mat", dir + "/matrix_labels.mat"); }),
            dir + "/matrix_labels.mat: variable 'BPM0' has shape 2x2, expected Kx1");
  // 1200 samples hold exactly 1 window.
  EXPECT_EQ(read_spc2015(dir + "/ok.mat", dir + "/labels.mat").windows.size(), 1u);
}

TEST(Spc2015, NonFiniteSamplesDropTheWindowsTheyTouchAndAreRepaired) {
  const std::string dir = scratch_dir();
  // NaN at sample 600 of PPG1 (row 1): windows start at 0, 250, 500, 750 and span 1000 samples,
  // so windows 0, 1 and 2 contain it and window 3 does not.
  Var sig = make_var("sig", 6, kSpcN, spc_value);
  sig.data[1 + 600 * 6] = kNaN;
  write_mat(dir + "/DATA_01_TYPE01.mat", {sig});
  std::vector<double> bpm = kSpcBpm;
  write_mat(dir + "/labels.mat", {column("BPM0", bpm)});
  const Recording r = read_spc2015(dir + "/DATA_01_TYPE01.mat", dir + "/labels.mat");
  ASSERT_EQ(r.windows.size(), 1u);
  EXPECT_EQ(r.windows[0].index, 3);
  EXPECT_EQ(r.windows[0].hr_bpm, kSpcBpm[3]);
  EXPECT_EQ(r.dropped.at("non-finite signal"), 3u);
  // The sample is replaced by the mean of its neighbours (linear interpolation over one gap).
  EXPECT_FLOAT_EQ(r.ppg[0][600], static_cast<float>(0.5 * (spc_value(1, 599) + spc_value(1, 601))));

  // A NaN label drops only its own window.
  bpm[1] = kNaN;
  write_mat(dir + "/nan_label.mat", {column("BPM0", bpm)});
  write_mat(dir + "/clean.mat", {make_var("sig", 6, kSpcN, spc_value)});
  const Recording r2 = read_spc2015(dir + "/clean.mat", dir + "/nan_label.mat");
  ASSERT_EQ(r2.windows.size(), 3u);
  EXPECT_EQ(r2.windows[1].index, 2);
  EXPECT_EQ(r2.dropped.at("non-finite label"), 1u);
}

// ---------------------------------------------------------------------------- bad MAT files

TEST(MatFile, NonMatTruncatedAndEmptyFilesAreErrors) {
  const std::string dir = scratch_dir();
  write_text(dir + "/text.mat", "this is not a MAT-file\n");
  write_text(dir + "/empty.mat", "");
  write_mat(dir + "/whole.mat", {make_var("sig", 6, 1200, spc_value)});
  const std::string whole = read_bytes(dir + "/whole.mat");
  write_text(dir + "/short_header.mat", whole.substr(0, 50));
  write_text(dir + "/cut.mat", whole.substr(0, whole.size() - 10));
  // The one variable is an uncompressed element at byte 128: an 8-byte tag whose second word
  // (little-endian on this machine) is its payload size.
  uint32_t payload;
  std::memcpy(&payload, whole.data() + 132, 4);
  write_mat(dir + "/labels.mat", {column("BPM0", {80})});
  const std::string lab = dir + "/labels.mat";

  EXPECT_EQ(error_of([&] { read_spc2015(dir + "/text.mat", lab); }),
            dir + "/text.mat: not a MAT-file (no \"MATLAB\" header)");
  EXPECT_EQ(error_of([&] { read_spc2015(dir + "/empty.mat", lab); }),
            dir + "/empty.mat: not a MAT-file (no \"MATLAB\" header)");
  EXPECT_EQ(error_of([&] { read_spc2015(dir + "/short_header.mat", lab); }),
            dir + "/short_header.mat: truncated MAT-file (header is 50 bytes, expected 128)");
  EXPECT_EQ(error_of([&] { read_spc2015(dir + "/cut.mat", lab); }),
            dir + "/cut.mat: truncated MAT-file (element at byte 128 needs " +
                std::to_string(8 + payload) + " bytes, " + std::to_string(whole.size() - 10 - 128) +
                " remain)");
  EXPECT_EQ(error_of([&] { read_spc2015(dir + "/absent.mat", lab); }),
            dir + "/absent.mat: cannot open file");
}

TEST(MatFile, CorruptCompressedDataIsAnErrorAndNothingIsPrinted) {
  const std::string dir = scratch_dir();
  write_mat(dir + "/z.mat", {make_var("sig", 6, 4000, spc_value)}, /*compress=*/true);
  std::string bytes = read_bytes(dir + "/z.mat");
  // Overwrite the middle of the zlib stream: the element sizes stay valid, the data does not.
  for (size_t i = bytes.size() / 2; i < bytes.size() / 2 + 64; ++i) bytes[i] = '\x55';
  write_text(dir + "/z.mat", bytes);
  write_mat(dir + "/labels.mat", {column("BPM0", {80})});
  ::testing::internal::CaptureStderr();
  const std::string msg = error_of([&] { read_spc2015(dir + "/z.mat", dir + "/labels.mat"); });
  const std::string printed = ::testing::internal::GetCapturedStderr();
  // libmatio alone would read this as data: it never inflates to the stream's checksum.
  EXPECT_EQ(msg, dir +
                     "/z.mat: corrupt MAT-file (compressed element at byte 128: incorrect data "
                     "check)");
  EXPECT_EQ(printed, "");
}

// ---------------------------------------------------------------------------- BAMI-1
// 1000 samples at 50 Hz hold (1000 - 400) / 100 + 1 = 7 windows, starting at 0, 2, ..., 12 s.
constexpr size_t kBamiN = 1000;

double bami_ppg(size_t r, size_t i) {
  return 40000.0 + r * 100.0 + static_cast<double>(i % 50);
}
double bami_acc(size_t r, size_t i) {
  return 32768.0 + (r + 1) * 1000.0 - static_cast<double>(i % 7);
}

std::vector<Var> bami_signals(size_t n) {
  return {make_var("sigPPG", 3, n, bami_ppg, /*as_uint16=*/true),
          make_var("sigAcc", 3, n, bami_acc, /*as_uint16=*/true),
          make_var("sigGyro", 3, n, bami_acc, /*as_uint16=*/true)};
}

TEST(Bami1, LabelIsMeanOfBeatsInsideEachWindow) {
  const std::string dir = scratch_dir();
  std::vector<Var> vars = bami_signals(kBamiN);
  vars.push_back(column("timeECG", {1.0, 3.0, 7.99, 8.0, 9.5, 11.99}));
  vars.push_back(column("bpmECG", {60, 70, 80, 90, 100, 110}));
  write_mat(dir + "/Subject_7.mat", vars, /*compress=*/true);
  const Recording r = read_bami(dir + "/Subject_7.mat");
  EXPECT_EQ(r.dataset, "bami1");
  EXPECT_EQ(r.subject, "bami1/07");
  EXPECT_EQ(r.fs, 50.0);
  ASSERT_EQ(r.ppg.size(), 3u);
  ASSERT_EQ(r.acc.size(), 3u);
  EXPECT_EQ(r.ppg[2][123], static_cast<float>(bami_ppg(2, 123)));
  EXPECT_EQ(r.acc[1][123], static_cast<float>(bami_acc(1, 123) - 32768.0));  // offset removed
  // Windows [2k, 2k+8): beats 1, 3, 7.99 | 3, 7.99, 8, 9.5 | 7.99, 8, 9.5, 11.99 (twice) |
  // 8, 9.5, 11.99 | 11.99 | none.
  const std::vector<double> expected = {70, 85, 95, 95, 100, 110};
  ASSERT_EQ(r.windows.size(), expected.size());
  for (size_t k = 0; k < expected.size(); ++k) {
    EXPECT_EQ(r.windows[k].index, static_cast<int>(k));
    EXPECT_DOUBLE_EQ(r.windows[k].hr_bpm, expected[k]) << "window " << k;
  }
  EXPECT_EQ(r.dropped.at("no ECG beat"), 1u);
}

TEST(Bami1, MissingVariablesAndBadShapes) {
  const std::string dir = scratch_dir();
  std::vector<Var> vars = bami_signals(kBamiN);
  vars.erase(vars.begin() + 1);  // no sigAcc
  vars.push_back(column("timeECG", {1}));
  vars.push_back(column("bpmECG", {60}));
  write_mat(dir + "/Subject_1.mat", vars);
  EXPECT_EQ(error_of([&] { read_bami(dir + "/Subject_1.mat"); }),
            dir + "/Subject_1.mat: missing variable 'sigAcc'");

  vars = bami_signals(kBamiN);
  vars[1] = make_var("sigAcc", 2, kBamiN, bami_acc);
  vars.push_back(column("timeECG", {1}));
  vars.push_back(column("bpmECG", {60}));
  write_mat(dir + "/Subject_2.mat", vars);
  EXPECT_EQ(error_of([&] { read_bami(dir + "/Subject_2.mat"); }),
            dir + "/Subject_2.mat: variable 'sigAcc' has shape 2x1000, expected 3x1000");

  vars = bami_signals(kBamiN);
  vars.push_back(column("timeECG", {1, 2}));
  vars.push_back(column("bpmECG", {60}));
  write_mat(dir + "/Subject_3.mat", vars);
  EXPECT_EQ(error_of([&] { read_bami(dir + "/Subject_3.mat"); }),
            dir + "/Subject_3.mat: timeECG has 2 values but bpmECG has 1");
}

// ---------------------------------------------------------------------------- BAMI windowed
// Same 1000 samples: W = 7 windows. timeECG holds window starts 0, 2, 4, ... s.

std::vector<Var> windowed_file(const std::vector<double>& bpm, double jitter = 0) {
  std::vector<Var> vars = bami_signals(kBamiN);
  std::vector<double> t(bpm.size());
  for (size_t k = 0; k < t.size(); ++k) t[k] = 2.0 * k + (k % 2 == 1 ? jitter : -jitter);
  vars.push_back(column("timeECG", t));
  vars.push_back(column("bpmECG", bpm));
  // An algorithm's estimate, deliberately different: it must never become a label.
  vars.push_back(column("timePPG", t));
  vars.push_back(column("bpmPPG", std::vector<double>(bpm.size(), 999.0)));
  return vars;
}

TEST(BamiWindowed, LabelKIsBpmEcgKAndBpmPpgIsIgnored) {
  const std::string dir = scratch_dir();
  const std::vector<double> bpm = {81.5, 82.25, 90, 95.125, 100, 101, 99.5};
  write_mat(dir + "/Subject_3.mat", windowed_file(bpm, /*jitter=*/4e-4));
  const Recording r = read_bami(dir + "/Subject_3.mat");
  EXPECT_EQ(r.dataset, "bami_w");
  EXPECT_EQ(r.subject, "bami_w/Subject_3");
  ASSERT_EQ(r.windows.size(), 7u);
  for (size_t k = 0; k < 7; ++k) {
    EXPECT_EQ(r.windows[k].index, static_cast<int>(k));
    EXPECT_EQ(r.windows[k].t_start_s, 2.0 * k);
    EXPECT_EQ(r.windows[k].hr_bpm, bpm[k]);
  }
  EXPECT_TRUE(r.dropped.empty());
  EXPECT_EQ(r.acc[0][0], static_cast<float>(bami_acc(0, 0) - 32768.0));
}

TEST(BamiWindowed, OneLabelPastTheSignalIsDroppedMoreIsAnError) {
  const std::string dir = scratch_dir();
  write_mat(dir + "/plus_one.mat", windowed_file({71, 72, 73, 74, 75, 76, 77, 78}));
  const Recording r = read_bami(dir + "/plus_one.mat");
  ASSERT_EQ(r.windows.size(), 7u);
  EXPECT_EQ(r.windows.back().hr_bpm, 77.0);
  EXPECT_EQ(r.dropped.at("label past signal end"), 1u);

  write_mat(dir + "/plus_two.mat", windowed_file({71, 72, 73, 74, 75, 76, 77, 78, 79}));
  EXPECT_EQ(error_of([&] { read_bami(dir + "/plus_two.mat"); }),
            dir +
                "/plus_two.mat: label count 9 does not match signal length 1000 (expected 7 "
                "windows)");
}

TEST(BamiWindowed, FewerLabelsThanWindowsLeaveTheRestUnlabelled) {
  const std::string dir = scratch_dir();
  write_mat(dir + "/short.mat", windowed_file({61, 62, 63, 64, 65}));
  const Recording r = read_bami(dir + "/short.mat");
  ASSERT_EQ(r.windows.size(), 5u);
  EXPECT_EQ(r.windows[4].hr_bpm, 65.0);
  EXPECT_EQ(r.dropped.at("no ECG label"), 2u);
}

TEST(BamiWindowed, TimesOffTheGridAreBeatTimes) {
  const std::string dir = scratch_dir();
  // 0, 2, 4 s but with 5 ms jitter: beyond the 1 ms tolerance, so these are beats (BAMI-1).
  write_mat(dir + "/Subject_9.mat", windowed_file({60, 90, 120}, /*jitter=*/5e-3));
  const Recording r = read_bami(dir + "/Subject_9.mat");
  EXPECT_EQ(r.dataset, "bami1");
  // Beats at -0.005, 2.005, 3.995: window 0 [0, 8) holds the last two.
  ASSERT_FALSE(r.windows.empty());
  EXPECT_DOUBLE_EQ(r.windows[0].hr_bpm, 105.0);
}

// ---------------------------------------------------------------------------- BAMI-2
// rawPPG / rawAcc at 50 Hz and bpm_ecg with no times: value k is window k. The same 1000 samples
// hold W = 7 windows; the published files have K = W - 1 labels (36500 samples, 362 windows, 361
// labels).

double bami2_ppg(size_t r, size_t i) {
  return 2000.0 + r * 300.0 + static_cast<double>(i % 41);
}
double bami2_acc(size_t r, size_t i) {
  return 32768.0 - 500.0 + r * 700.0 + static_cast<double>(i % 13);  // some below the offset
}

std::vector<Var> bami2_file(const std::vector<double>& bpm, size_t n = kBamiN) {
  return {make_var("rawPPG", 3, n, bami2_ppg, /*as_uint16=*/true),
          make_var("rawAcc", 3, n, bami2_acc, /*as_uint16=*/true), column("bpm_ecg", bpm),
          // The authors' own estimate, deliberately different: it must never become a label.
          column("bpm_proposed", std::vector<double>(bpm.size(), 999.0))};
}

TEST(Bami2, LabelKIsBpmEcgKAndTheLastWindowIsUnlabelled) {
  const std::string dir = scratch_dir();
  const std::vector<double> bpm = {81.5, 82.25, 90, 95.125, 100, 101};  // K = W - 1
  write_mat(dir + "/BAMI-2/BAMI2_4.mat", bami2_file(bpm), /*compress=*/true);
  const Recording r = read_bami2(dir + "/BAMI-2/BAMI2_4.mat");
  EXPECT_EQ(r.dataset, "bami2");
  EXPECT_EQ(r.name, "BAMI2_4");
  EXPECT_EQ(r.subject, "bami2/04");
  EXPECT_EQ(r.path, dir + "/BAMI-2/BAMI2_4.mat");
  EXPECT_EQ(r.label_path, r.path);
  EXPECT_EQ(r.fs, 50.0);
  ASSERT_EQ(r.ppg.size(), 3u);
  ASSERT_EQ(r.acc.size(), 3u);
  ASSERT_EQ(r.num_samples(), kBamiN);
  for (size_t i : {size_t{0}, size_t{123}, kBamiN - 1}) {
    EXPECT_EQ(r.ppg[0][i], static_cast<float>(bami2_ppg(0, i)));
    EXPECT_EQ(r.ppg[2][i], static_cast<float>(bami2_ppg(2, i)));
    // Offset removed: channel 0 holds counts below 32768, i.e. negative accelerations.
    EXPECT_EQ(r.acc[0][i], static_cast<float>(-500.0 + static_cast<double>(i % 13)));
    EXPECT_EQ(r.acc[2][i], static_cast<float>(900.0 + static_cast<double>(i % 13)));
  }
  ASSERT_EQ(r.windows.size(), 6u);
  for (size_t k = 0; k < 6; ++k) {
    EXPECT_EQ(r.windows[k].index, static_cast<int>(k));
    EXPECT_EQ(r.windows[k].t_start_s, 2.0 * k);
    EXPECT_EQ(r.windows[k].hr_bpm, bpm[k]);  // never bpm_proposed's 999
  }
  ASSERT_EQ(r.dropped.size(), 1u);
  EXPECT_EQ(r.dropped.at("no ECG label"), 1u);
}

TEST(Bami2, AsManyLabelsAsWindowsLabelsEveryWindow) {
  const std::string dir = scratch_dir();
  const std::vector<double> bpm = {61, 62.5, 63, 64, 65, 66, 67.75};
  write_mat(dir + "/BAMI2_12.mat", bami2_file(bpm));
  const Recording r = read_bami2(dir + "/BAMI2_12.mat");
  EXPECT_EQ(r.subject, "bami2/12");
  ASSERT_EQ(r.windows.size(), 7u);
  for (size_t k = 0; k < 7; ++k) EXPECT_EQ(r.windows[k].hr_bpm, bpm[k]);
  EXPECT_TRUE(r.dropped.empty());
}

TEST(Bami2, OneLabelPastTheSignalIsDroppedMoreIsAnError) {
  const std::string dir = scratch_dir();
  write_mat(dir + "/BAMI2_1.mat", bami2_file({71, 72, 73, 74, 75, 76, 77, 78}));
  const Recording r = read_bami2(dir + "/BAMI2_1.mat");
  ASSERT_EQ(r.windows.size(), 7u);
  EXPECT_EQ(r.windows.back().index, 6);
  EXPECT_EQ(r.windows.back().hr_bpm, 77.0);
  ASSERT_EQ(r.dropped.size(), 1u);
  EXPECT_EQ(r.dropped.at("label past signal end"), 1u);

  write_mat(dir + "/BAMI2_2.mat", bami2_file({71, 72, 73, 74, 75, 76, 77, 78, 79}));
  EXPECT_EQ(error_of([&] { read_bami2(dir + "/BAMI2_2.mat"); }),
            dir +
                "/BAMI2_2.mat: label count 9 does not match signal length 1000 (expected 7 "
                "windows)");
}

// Issue 14: a negative or implausible label (outside the 30-210 BPM classes) is a corrupt label
// file, refused with its name and the window, not clamped to an end class.
TEST(Bami2, LabelsOutsideTheClassRangeAreAnErrorNamingTheFile) {
  const std::string dir = scratch_dir();
  const std::vector<std::pair<double, std::string>> cases = {
      {-72, "-72"}, {0, "0"}, {29.5, "29.5"}, {210.5, "210.5"}, {7200, "7200"}};
  for (const auto& [bad, text] : cases) {
    write_mat(dir + "/BAMI2_5.mat", bami2_file({70, 71, bad, 73, 74}));
    EXPECT_EQ(error_of([&] { read_bami2(dir + "/BAMI2_5.mat"); }),
              dir + "/BAMI2_5.mat: window 2: heart-rate label " + text +
                  " BPM is outside the class range 30-210 BPM");
  }
  // The ends of the range are labels.
  write_mat(dir + "/BAMI2_6.mat", bami2_file({30, 210}));
  const Recording r = read_bami2(dir + "/BAMI2_6.mat");
  ASSERT_EQ(r.windows.size(), 2u);
  EXPECT_EQ(r.windows[0].hr_bpm, 30.0);
  EXPECT_EQ(r.windows[1].hr_bpm, 210.0);
}

TEST(Bami2, NonFiniteLabelsDropTheirWindowsOnly) {
  const std::string dir = scratch_dir();
  write_mat(dir + "/BAMI2_3.mat",
            bami2_file({70, kNaN, 72, std::numeric_limits<double>::infinity(), 74}));
  const Recording r = read_bami2(dir + "/BAMI2_3.mat");
  std::vector<int> idx;
  std::vector<double> hr;
  for (const WindowLabel& w : r.windows) {
    idx.push_back(w.index);
    hr.push_back(w.hr_bpm);
  }
  EXPECT_EQ(idx, (std::vector<int>{0, 2, 4}));
  EXPECT_EQ(hr, (std::vector<double>{70, 72, 74}));
  EXPECT_EQ(r.dropped.at("non-finite label"), 2u);
  EXPECT_EQ(r.dropped.at("no ECG label"), 2u);  // windows 5 and 6
}

TEST(Bami2, MissingVariablesAndBadShapesNameTheFile) {
  const std::string dir = scratch_dir();
  const std::vector<double> bpm = {80, 81};
  std::vector<Var> vars = bami2_file(bpm);
  vars.erase(vars.begin() + 1);  // no rawAcc
  write_mat(dir + "/BAMI2_5.mat", vars);
  EXPECT_EQ(error_of([&] { read_bami2(dir + "/BAMI2_5.mat"); }),
            dir + "/BAMI2_5.mat: missing variable 'rawAcc'");

  vars = bami2_file(bpm);
  vars.erase(vars.begin() + 2);  // no bpm_ecg (bpm_proposed is no substitute)
  write_mat(dir + "/BAMI2_6.mat", vars);
  EXPECT_EQ(error_of([&] { read_bami2(dir + "/BAMI2_6.mat"); }),
            dir + "/BAMI2_6.mat: missing variable 'bpm_ecg'");

  vars = bami2_file(bpm);
  vars[1] = make_var("rawAcc", 2, kBamiN, bami2_acc, /*as_uint16=*/true);
  write_mat(dir + "/BAMI2_7.mat", vars);
  EXPECT_EQ(error_of([&] { read_bami2(dir + "/BAMI2_7.mat"); }),
            dir + "/BAMI2_7.mat: variable 'rawAcc' has shape 2x1000, expected 3x1000");

  vars = bami2_file(bpm);
  vars[1] = make_var("rawAcc", 3, kBamiN - 1, bami2_acc, /*as_uint16=*/true);
  write_mat(dir + "/BAMI2_8.mat", vars);
  EXPECT_EQ(error_of([&] { read_bami2(dir + "/BAMI2_8.mat"); }),
            dir + "/BAMI2_8.mat: variable 'rawAcc' has shape 3x999, expected 3x1000");

  vars = bami2_file(bpm);
  vars[0] = make_var("rawPPG", 40, 30, bami2_ppg, /*as_uint16=*/true);
  write_mat(dir + "/BAMI2_9.mat", vars);
  EXPECT_EQ(error_of([&] { read_bami2(dir + "/BAMI2_9.mat"); }),
            dir + "/BAMI2_9.mat: variable 'rawPPG' has shape 40x30, expected CxN (PPG channels)");

  vars = bami2_file(bpm);
  vars[2] = make_var("bpm_ecg", 2, 2, bami2_ppg);
  write_mat(dir + "/BAMI2_10.mat", vars);
  EXPECT_EQ(error_of([&] { read_bami2(dir + "/BAMI2_10.mat"); }),
            dir + "/BAMI2_10.mat: variable 'bpm_ecg' has shape 2x2, expected Kx1");
}

// ---------------------------------------------------------------------------- BIDMC
// 2500 rows at 125 Hz hold 7 windows starting at 0, 2, ..., 12 s. HR(t) = 60 + t except a NaN at
// t = 9 (windows 1-4 contain it) and an empty field at t = 19 (window 6 [12, 20) contains it).

std::string bidmc_signals_csv(size_t rows, const std::string& header) {
  std::string s = header + "\n";
  char line[128];
  for (size_t i = 0; i < rows; ++i) {
    std::snprintf(line, sizeof line, "%.17g,%.5f,%.5f,%.5f\n", i / 125.0, 0.5, i * 0.001, -0.25);
    s += line;
  }
  return s;
}

std::string bidmc_numerics_csv(size_t seconds) {
  std::string s = "Time [s], HR, PULSE, RESP, SpO2\n";
  for (size_t t = 0; t <= seconds; ++t) {
    const std::string hr = t == 9 ? "NaN" : t == 19 ? "" : std::to_string(60 + t);
    s += std::to_string(t) + "," + hr + ",77,15,97\n";
  }
  return s;
}

TEST(Bidmc, LabelIsMeanHrOverTheWindowAndMissingHrDrops) {
  const std::string dir = scratch_dir() + "/bidmc_csv";
  write_text(dir + "/bidmc_07_Signals.csv", bidmc_signals_csv(2500, "Time [s], RESP, PLETH, II"));
  write_text(dir + "/bidmc_07_Numerics.csv", bidmc_numerics_csv(24));
  const Recording r = read_bidmc(dir + "/bidmc_07_Signals.csv", dir + "/bidmc_07_Numerics.csv");
  EXPECT_EQ(r.dataset, "bidmc");
  EXPECT_EQ(r.name, "bidmc_07");
  EXPECT_EQ(r.subject, "bidmc/07");
  EXPECT_EQ(r.fs, 125.0);
  ASSERT_EQ(r.ppg.size(), 1u);
  EXPECT_TRUE(r.acc.empty());
  ASSERT_EQ(r.num_samples(), 2500u);
  EXPECT_EQ(r.ppg[0][1234], static_cast<float>(1.234));  // PLETH, the third column
  ASSERT_EQ(r.windows.size(), 2u);
  EXPECT_EQ(r.windows[0].index, 0);
  EXPECT_DOUBLE_EQ(r.windows[0].hr_bpm, 63.5);  // mean of 60..67
  EXPECT_EQ(r.windows[1].index, 5);
  EXPECT_DOUBLE_EQ(r.windows[1].hr_bpm, 73.5);  // mean of 70..77
  EXPECT_EQ(r.dropped.at("missing HR"), 5u);
}

TEST(Bidmc, NegativeHrIsAnErrorNamingTheNumericsFile) {
  const std::string dir = scratch_dir();
  write_text(dir + "/bidmc_03_Signals.csv", bidmc_signals_csv(1000, "Time [s], RESP, PLETH, II"));
  write_text(dir + "/bidmc_03_Numerics.csv",
             "Time [s], HR\n0,-60\n1,-60\n2,-60\n3,-60\n4,-60\n5,-60\n6,-60\n7,-61\n");
  EXPECT_EQ(
      error_of([&] { read_bidmc(dir + "/bidmc_03_Signals.csv", dir + "/bidmc_03_Numerics.csv"); }),
      dir +
          "/bidmc_03_Numerics.csv: window 0: heart-rate label -60.125 BPM is outside the "
          "class range 30-210 BPM");
}

TEST(Bidmc, ColumnsAreFoundByNameInAnyOrder) {
  const std::string dir = scratch_dir();
  // PLETH first and without the leading space; lower-case header for HR.
  std::string sig = "PLETH, Time [s], V, II\n";
  for (size_t i = 0; i < 1000; ++i)
    sig += std::to_string(i) + "," + std::to_string(i / 125.0) + ",0,0\n";
  write_text(dir + "/bidmc_02_Signals.csv", sig);
  write_text(dir + "/bidmc_02_Numerics.csv",
             "Time [s],hr\n0,50\n1,50\n2,50\n3,50\n4,50\n5,50\n6,50\n7,52\n");
  const Recording r = read_bidmc(dir + "/bidmc_02_Signals.csv", dir + "/bidmc_02_Numerics.csv");
  EXPECT_EQ(r.ppg[0][999], 999.0f);
  ASSERT_EQ(r.windows.size(), 1u);
  EXPECT_DOUBLE_EQ(r.windows[0].hr_bpm, 50.25);
}

TEST(Bidmc, MissingColumnsShortRowsAndBadNumbers) {
  const std::string dir = scratch_dir();
  write_text(dir + "/nopleth.csv", bidmc_signals_csv(1000, "Time [s], RESP, V, II"));
  write_text(dir + "/num.csv", bidmc_numerics_csv(10));
  write_text(dir + "/nohr.csv", "Time [s], PULSE\n0,80\n");
  write_text(dir + "/sig.csv", bidmc_signals_csv(1000, "Time [s], RESP, PLETH, II"));
  write_text(dir + "/short.csv", "Time [s], RESP, PLETH, II\n0,1,2,3\n0.008,0.1\n");
  write_text(dir + "/junk.csv", "Time [s], RESP, PLETH, II\n0,1,abc,3\n");
  write_text(dir + "/empty.csv", "");
  EXPECT_EQ(error_of([&] { read_bidmc(dir + "/nopleth.csv", dir + "/num.csv"); }),
            dir + "/nopleth.csv:1: missing column 'PLETH' (columns: Time [s], RESP, V, II)");
  EXPECT_EQ(error_of([&] { read_bidmc(dir + "/sig.csv", dir + "/nohr.csv"); }),
            dir + "/nohr.csv:1: missing column 'HR' (columns: Time [s], PULSE)");
  EXPECT_EQ(error_of([&] { read_bidmc(dir + "/short.csv", dir + "/num.csv"); }),
            dir + "/short.csv:3: row has 2 fields, the header has 4");
  EXPECT_EQ(error_of([&] { read_bidmc(dir + "/junk.csv", dir + "/num.csv"); }),
            dir + "/junk.csv:2: column 'PLETH': 'abc' is not a number");
  EXPECT_EQ(error_of([&] { read_bidmc(dir + "/empty.csv", dir + "/num.csv"); }),
            dir + "/empty.csv: empty CSV file (no header)");
  EXPECT_EQ(error_of([&] { read_bidmc(dir + "/absent.csv", dir + "/num.csv"); }),
            dir + "/absent.csv: cannot open file");
}

// ---------------------------------------------------------------------------- discovery

TEST(LoadRecordings, FindsEveryLayoutPairsLabelsAndSorts) {
  const std::string root = scratch_dir();
  const std::string spc = root + "/ieee_spc2015";
  write_spc_train(spc + "/Training_data/DATA_01_TYPE01.mat",
                  spc + "/Training_data/DATA_01_TYPE01_BPMtrace.mat", kSpcN, kSpcBpm);
  write_spc_train(spc + "/Extra_TrainingData/DATA_S01_T01.mat",
                  spc + "/Extra_TrainingData/BPM_S01_T01.mat", kSpcN, kSpcBpm);
  // Test files: signals and labels in sibling folders, as the original archives unpack.
  write_mat(spc + "/TestData/TEST_S01_T02.mat", {make_var("sig", 5, kSpcN, spc_value)});
  write_mat(spc + "/TrueBPM/True_S01_T02.mat", {column("BPM0", {90, 91, 92, 93})});
  std::vector<Var> bami = bami_signals(kBamiN);
  bami.push_back(column("timeECG", {1.0}));
  bami.push_back(column("bpmECG", {66.0}));
  write_mat(root + "/bami1/BAMI-1/Subject_10.mat", bami);
  write_mat(root + "/bami1/BAMI-1/Subject_2.mat", bami);
  write_mat(root + "/gaussian/S1.mat", windowed_file({71, 72, 73, 74, 75, 76, 77}));
  write_mat(root + "/bami2/BAMI-2/BAMI2_10.mat", bami2_file({71, 72, 73, 74, 75, 76}));
  write_mat(root + "/bami2/BAMI-2/BAMI2_9.mat", bami2_file({71, 72, 73, 74, 75, 76}));
  write_text(root + "/bidmc/bidmc_csv/bidmc_01_Signals.csv",
             bidmc_signals_csv(1000, "Time [s], PLETH, II, V"));
  write_text(root + "/bidmc/bidmc_csv/bidmc_01_Numerics.csv", bidmc_numerics_csv(8));
  // Files that belong to no layout are ignored.
  write_text(root + "/bidmc/bidmc_csv/bidmc_01_Breaths.csv", "breaths ann1\n1\n");
  write_text(root + "/bidmc/bidmc_csv/bidmc_01_Fix.txt", "fs: 125\n");
  write_text(root + "/README.md", "# data\n");
  write_mat(root + "/other/unrelated.mat", {column("x", {1, 2})});

  const std::vector<Recording> recs = load_recordings(root);
  std::vector<std::string> got;
  for (const Recording& r : recs) got.push_back(r.dataset + ":" + r.name + ":" + r.subject);
  const std::vector<std::string> expected = {
      "bami1:Subject_2:bami1/02",
      "bami1:Subject_10:bami1/10",
      "bami2:BAMI2_9:bami2/09",
      "bami2:BAMI2_10:bami2/10",
      "bami_w:S1:bami_w/S1",
      "bidmc:bidmc_01:bidmc/01",
      "spc2015:DATA_01_TYPE01:spc2015/train01",
      "spc2015:DATA_S01_T01:spc2015/S01",
      "spc2015:TEST_S01_T02:spc2015/S01",
  };
  EXPECT_EQ(got, expected);
  EXPECT_EQ(recs.back().label_path, spc + "/TrueBPM/True_S01_T02.mat");
  EXPECT_EQ(recs.back().windows[2].hr_bpm, 92.0);
  // A dataset root on its own works too.
  EXPECT_EQ(load_recordings(root + "/bami1").size(), 2u);
  EXPECT_EQ(load_recordings(root + "/bami2").size(), 2u);
}

TEST(LoadRecordings, NearestLabelFileWinsWhenNamesRepeat) {
  const std::string root = scratch_dir();
  write_mat(root + "/a/TestData/TEST_S03_T01.mat", {make_var("sig", 5, kSpcN, spc_value)});
  write_mat(root + "/a/TrueBPM/True_S03_T01.mat", {column("BPM0", {61, 62, 63, 64})});
  write_mat(root + "/b/TrueBPM/True_S03_T01.mat", {column("BPM0", {65, 66, 67, 68})});
  const std::vector<Recording> recs = load_recordings(root);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].label_path, root + "/a/TrueBPM/True_S03_T01.mat");
}

TEST(LoadRecordings, BadFoldersAndFilesAreErrors) {
  const std::string root = scratch_dir();
  EXPECT_EQ(error_of([&] { load_recordings(root); }),
            root + ": no recordings found (looked for IEEE SPC 2015, BAMI and BIDMC files)");
  EXPECT_EQ(error_of([&] { load_recordings(root + "/nope"); }), root + "/nope: no such directory");
  write_text(root + "/file.txt", "x");
  EXPECT_EQ(error_of([&] { load_recordings(root + "/file.txt"); }),
            root + "/file.txt: not a directory");

  write_mat(root + "/t/TEST_S05_T01.mat", {make_var("sig", 5, kSpcN, spc_value)});
  EXPECT_EQ(
      error_of([&] { load_recordings(root + "/t"); }),
      root + "/t/TEST_S05_T01.mat: label file True_S05_T01.mat not found under " + root + "/t");

  write_text(root + "/junk/Subject_4.mat", "garbage");
  EXPECT_EQ(error_of([&] { load_recordings(root + "/junk"); }),
            root + "/junk/Subject_4.mat: not a MAT-file (no \"MATLAB\" header)");

  for (const char* copy : {"/dup/b1", "/dup/b2"}) {
    write_text(root + copy + "/bidmc_01_Signals.csv",
               bidmc_signals_csv(1000, "Time [s], PLETH, II, V"));
    write_text(root + copy + "/bidmc_01_Numerics.csv", bidmc_numerics_csv(8));
  }
  EXPECT_EQ(error_of([&] { load_recordings(root + "/dup"); }),
            root + "/dup/b2/bidmc_01_Signals.csv: duplicate recording bidmc_01 (also at " + root +
                "/dup/b1/bidmc_01_Signals.csv)");
}

// ---------------------------------------------------------------------------- read_unlabelled

TEST(ReadUnlabelled, CsvAndMatInputs) {
  const std::string dir = scratch_dir();
  write_text(dir + "/full.csv", "ppg,acc_x,acc_y,acc_z\n1,2,3,4\n5,6,7,8\n9,10,11,12\n");
  const Recording full = read_unlabelled(dir + "/full.csv", 25.0);
  EXPECT_EQ(full.fs, 25.0);
  ASSERT_EQ(full.ppg.size(), 1u);
  ASSERT_EQ(full.acc.size(), 3u);
  EXPECT_EQ(full.ppg[0], (std::vector<float>{1, 5, 9}));
  EXPECT_EQ(full.acc[2], (std::vector<float>{4, 8, 12}));
  EXPECT_TRUE(full.windows.empty());

  write_text(dir + "/crlf.csv", "ppg\r\n1.5\r\n-2e-1\r\n\r\n");
  EXPECT_EQ(read_unlabelled(dir + "/crlf.csv", 50.0).ppg[0], (std::vector<float>{1.5f, -0.2f}));
  write_text(dir + "/ppg_only.csv", "ppg\n1\n2\n");
  EXPECT_TRUE(read_unlabelled(dir + "/ppg_only.csv", 50.0).acc.empty());
  EXPECT_EQ(error_of([&] { read_unlabelled(dir + "/ppg_only.csv", 0.0); }),
            dir + "/ppg_only.csv: a CSV input needs its sampling rate (fs > 0)");
  write_text(dir + "/partial.csv", "ppg,acc_x\n1,2\n");
  EXPECT_EQ(error_of([&] { read_unlabelled(dir + "/partial.csv", 50.0); }),
            dir + "/partial.csv: CSV has some but not all of the columns acc_x, acc_y, acc_z");
  write_text(dir + "/noppg.csv", "x,y\n1,2\n");
  EXPECT_EQ(error_of([&] { read_unlabelled(dir + "/noppg.csv", 50.0); }),
            dir + "/noppg.csv:1: missing column 'ppg' (columns: x, y)");
  write_text(dir + "/x.txt", "1\n");
  EXPECT_EQ(error_of([&] { read_unlabelled(dir + "/x.txt", 50.0); }),
            dir + "/x.txt: unsupported input format (expected .mat or .csv)");

  write_mat(dir + "/TEST_S01_T01.mat", {make_var("sig", 5, 1500, spc_value)});
  const Recording spc = read_unlabelled(dir + "/TEST_S01_T01.mat", 0.0);
  EXPECT_EQ(spc.fs, 125.0);
  EXPECT_EQ(spc.ppg[1][7], static_cast<float>(spc_value(1, 7)));
  write_mat(dir + "/Subject_1.mat", bami_signals(kBamiN));  // no labels needed
  const Recording bami = read_unlabelled(dir + "/Subject_1.mat", 0.0);
  EXPECT_EQ(bami.fs, 50.0);
  EXPECT_EQ(bami.acc[0][3], static_cast<float>(bami_acc(0, 3) - 32768.0));
  std::vector<Var> b2 = bami2_file({});
  b2.resize(2);  // signals only: no bpm_ecg, no bpm_proposed
  write_mat(dir + "/BAMI2_5.mat", b2);
  const Recording bami2 = read_unlabelled(dir + "/BAMI2_5.mat", 0.0);
  EXPECT_EQ(bami2.dataset, "bami2");
  EXPECT_EQ(bami2.fs, 50.0);
  ASSERT_EQ(bami2.ppg.size(), 3u);
  ASSERT_EQ(bami2.acc.size(), 3u);
  EXPECT_EQ(bami2.ppg[1][3], static_cast<float>(bami2_ppg(1, 3)));
  EXPECT_EQ(bami2.acc[0][3], static_cast<float>(bami2_acc(0, 3) - 32768.0));
  EXPECT_TRUE(bami2.windows.empty());
  write_mat(dir + "/none.mat", {column("x", {1})});
  EXPECT_EQ(error_of([&] { read_unlabelled(dir + "/none.mat", 0.0); }),
            dir +
                "/none.mat: no signal variable ('sig' of IEEE SPC 2015, 'sigPPG' of BAMI or "
                "'rawPPG' of BAMI-2)");
}

}  // namespace
}  // namespace ppgkd
