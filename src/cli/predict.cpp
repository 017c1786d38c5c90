// `ppgkd predict --model DIR --input FILE|- [--fs HZ] [--stream] [--out FILE]`: the heart-rate
// track of one recording, as CSV.
//
// Input: a .mat file (IEEE SPC 2015 or BAMI layout) or a CSV with a header naming the columns
// `ppg` and optionally `acc_x,acc_y,acc_z` (other columns are ignored; an empty field is a missing
// sample), sampled at --fs Hz (required for CSV; 10 to 10000 Hz). `--input -` reads CSV from stdin
// (with --stream). An input shorter than one window is an error (offline before any output; a
// stream leaves --out as it was).
//
// Offline (default): zero-phase filters over the whole recording (or causal ones with --causal),
// one row per 8 s window with a 2 s step (a window touching a missing sample gets hr_bpm = nan,
// confidence 0, as when streaming; the trackers bridge the gap):
//   t_s,hr_bpm,confidence[,tracked_bpm]
//   t_s = window START (s); hr_bpm decoded from the window's posterior; confidence = posterior
//   mass within +-10 classes of the argmax; tracked_bpm (with --decode online|offline|viterbi)
//   from the HMM decoder over the whole recording.
// Streaming (--stream): causal filters, samples consumed as they arrive (stdin is read line by
// line), one row per window as soon as it completes, flushed at once:
//   t_s,hr_bpm,confidence,tracked_bpm
//   t_s = window END (s): the time the estimate refers up to; the row is emitted once the input
//   reaches t_s plus the resampler's look-ahead (0.4 s at 125 or 50 Hz, 0 at 25 Hz). tracked_bpm
//   is the online HMM filter's estimate. A window touching a missing sample gets hr_bpm = nan,
//   confidence 0, and the tracker predicts through it; before the first window with finite input
//   tracked_bpm is nan (the filter holds only its prior).
// With --causal offline and --stream give the same per-window hr_bpm (tested).
//
// --acc-aware (decode/cadence.h; options as in eval): each window's motion cadence from its
// accelerometer channels (a second, ppg+acc windowing of the same samples when the model reads
// PPG only) lowers the evidence at the cadence and its second harmonic, in hr_bpm (the
// penalised posterior) and in tracked_bpm (the decoder's emissions); a last column
// cadence_bpm (0 = none) is added.
// The work is in eval/track.h (Tracker, TrackStream); this file reads the input and prints rows.
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "cli/estimate_options.h"
#include "common/atomic_file.h"
#include "common/csv.h"
#include "common/error.h"
#include "data/readers/readers.h"
#include "data/recording.h"
#include "eval/track.h"

namespace ppgkd::cli {

namespace {

// The input rates --fs accepts: a heart rate needs several samples per beat, and the resampler's
// filter grows with the ratio to the model's rate.
constexpr double kMinInputFs = 10, kMaxInputFs = 10000;

struct PredictOptions {
  std::string model, input, out;
  double fs = 0;
  TrackOptions track;
};

bool is_csv_input(const std::string& input) {
  if (input == "-") return true;
  if (input.size() < 4) return false;
  std::string ext = input.substr(input.size() - 4);
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext == ".csv";
}

std::string fmt_num(const char* format, double v) {
  if (!std::isfinite(v)) return "nan";
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

// One CSV row of the track: t_s,hr_bpm,confidence[,tracked_bpm][,cadence_bpm].
std::string format_row(const TrackRow& r, bool tracked, bool cadence) {
  std::string row = fmt_num("%.2f", r.t_s) + "," + fmt_num("%.3f", r.hr_bpm) + "," +
                    fmt_num("%.4f", r.confidence);
  if (tracked) row += "," + fmt_num("%.3f", r.tracked_bpm);
  if (cadence) row += "," + fmt_num("%.1f", r.cadence_bpm);
  return row + "\n";
}

std::string header_line(bool tracked, bool cadence) {
  std::string h = tracked ? "t_s,hr_bpm,confidence,tracked_bpm" : "t_s,hr_bpm,confidence";
  return h + (cadence ? ",cadence_bpm\n" : "\n");
}

// What one window needs, for the error on an input too short to hold one.
std::string window_text() {
  return "a window is " + fmt_num("%g", kWindowSeconds) + " s";
}

// ---------------------------------------------------------------------------- streaming

// Rows go out as soon as they exist: to stdout, or to a temporary file beside --out (flushed after
// every row, so it can be followed) that commit() renames over it once the input has ended. A
// stream that fails leaves --out as it was.
class RowSink {
 public:
  explicit RowSink(const std::string& path) : path_(path) {
    if (path.empty()) return;
    tmp_ = path + ".tmp." + std::to_string(::getpid());
    file_ = std::fopen(tmp_.c_str(), "w");
    if (!file_) throw Error(path, std::string("cannot write: ") + std::strerror(errno));
  }
  ~RowSink() {
    if (!file_) return;
    std::fclose(file_);
    std::remove(tmp_.c_str());
  }
  void write(const std::string& line) {
    FILE* f = file_ ? file_ : stdout;
    if (std::fputs(line.c_str(), f) < 0 || std::fflush(f) != 0)
      throw Error(file_ ? path_ : "stdout", "write failed");
  }
  void commit() {
    if (!file_) return;
    bool ok = ::fsync(::fileno(file_)) == 0;
    ok = std::fclose(file_) == 0 && ok;
    file_ = nullptr;
    if (!ok || std::rename(tmp_.c_str(), path_.c_str()) != 0) {
      std::remove(tmp_.c_str());
      throw Error(path_, "cannot replace it with the finished output");
    }
  }

 private:
  std::string path_, tmp_;
  FILE* file_ = nullptr;
};

// The columns of a CSV input: ppg and, all or none, acc_x, acc_y, acc_z.
struct CsvInput {
  int ppg = -1, acc[3] = {-1, -1, -1};
  bool has_acc() const { return acc[0] >= 0; }
};

CsvInput csv_input_columns(const CsvReader& csv) {
  CsvInput c;
  c.ppg = csv.require("ppg");
  for (int a = 0; a < 3; ++a) c.acc[a] = csv.find(std::string("acc_") + "xyz"[a]);
  const int acc_present = (c.acc[0] >= 0) + (c.acc[1] >= 0) + (c.acc[2] >= 0);
  if (acc_present != 0 && acc_present != 3)
    throw Error(csv.where(), "CSV has some but not all of the columns acc_x, acc_y, acc_z");
  return c;
}

// Reads the CSV's samples record by record, pushing each as it arrives.
void stream_csv(CsvReader& csv, const CsvInput& c, TrackStream& stream) {
  const int cols[4] = {c.ppg, c.acc[0], c.acc[1], c.acc[2]};
  float v[4];
  while (csv.next()) {
    for (int k = 0; k < (c.has_acc() ? 4 : 1); ++k) v[k] = static_cast<float>(csv.number(cols[k]));
    const float* ppg_ptr[1] = {&v[0]};
    const float* acc_ptr[3] = {&v[1], &v[2], &v[3]};
    stream.push(ppg_ptr, acc_ptr, 1);
  }
  stream.finish();
}

// Everything that can be checked before the first row is: the rate, the input and its header (or
// the whole .mat file), the windowing; only then is --out opened.
void run_stream(const PredictOptions& o, const Tracker& tracker) {
  const bool is_csv = is_csv_input(o.input);
  std::unique_ptr<CsvReader> csv;
  CsvInput columns;
  Recording rec;  // a .mat input, read whole
  if (is_csv) {
    if (!(o.fs > 0)) throw Error(o.input, "a CSV input needs its sampling rate (--fs HZ)");
    if (o.input == "-") {
      csv = std::make_unique<CsvReader>(std::cin, "stdin");
    } else {
      std::error_code ec;
      if (!std::filesystem::is_regular_file(o.input, ec)) throw Error(o.input, "no such file");
      csv = std::make_unique<CsvReader>(o.input);
    }
    columns = csv_input_columns(*csv);
  } else {
    rec = read_unlabelled(o.input, o.fs);
  }
  const bool cadence = o.track.acc.enabled;
  RowSink* sink = nullptr;  // opened once the stream is set up
  size_t rows = 0;
  auto emit = [&](const TrackRow& r) {
    sink->write(format_row(r, true, cadence));
    ++rows;
  };
  TrackStream stream(tracker, is_csv ? o.fs : rec.fs, is_csv ? 1 : static_cast<int>(rec.ppg.size()),
                     is_csv ? columns.has_acc() : !rec.acc.empty(), emit);
  RowSink out(o.out);
  sink = &out;
  out.write(header_line(true, cadence));
  if (is_csv) {
    stream_csv(*csv, columns, stream);
  } else {
    stream.replay(rec);  // a .mat file: through the same causal path in 1 s chunks
  }
  if (rows == 0) throw Error(o.input, "input ended before one full window (" + window_text() + ")");
  out.commit();
}

// ---------------------------------------------------------------------------- offline

void run_offline(const PredictOptions& o, const Tracker& tracker) {
  if (o.input == "-") throw Error("stdin", "reading stdin needs --stream");
  Recording rec = read_unlabelled(o.input, o.fs);
  if (windows_that_fit(rec.num_samples(), rec.fs) == 0)
    throw Error(o.input, "shorter than one window: " + std::to_string(rec.num_samples()) +
                             " samples at " + fmt_num("%g", rec.fs) + " Hz (" + window_text() +
                             ")");
  const OfflineTrack track = tracker.offline(std::move(rec));
  for (const auto& [reason, n] : track.dropped)
    std::fprintf(stderr, "ppgkd: note: %zu windows have no estimate (%s)\n", n, reason.c_str());
  const bool cadence = o.track.acc.enabled;
  std::string csv = header_line(tracker.tracks(), cadence);
  for (const TrackRow& r : track.rows) csv += format_row(r, tracker.tracks(), cadence);
  if (o.out.empty()) {
    std::fwrite(csv.data(), 1, csv.size(), stdout);
  } else {
    write_file_atomic(o.out, csv);
  }
}

void run_predict(const PredictOptions& o) {
  const Tracker tracker(o.model, o.track);
  if (o.track.stream) {
    run_stream(o, tracker);
  } else {
    run_offline(o, tracker);
  }
}

}  // namespace

void setup_predict(CLI::App& app) {
  auto o = std::make_shared<PredictOptions>();
  CLI::App* sub = app.add_subcommand(
      "predict", "Heart-rate track of one recording as CSV (offline, or causal streaming)");
  sub->add_option("--model", o->model, "Model directory")
      ->required()
      ->check(CLI::ExistingDirectory);
  sub->add_option("--input", o->input,
                  ".mat (SPC 2015 or BAMI layout), CSV with header ppg[,acc_x,acc_y,acc_z], or "
                  "- for CSV on stdin (with --stream)")
      ->required();
  sub->add_option("--fs", o->fs, "Sampling rate of a CSV input, Hz (10 to 10000)")
      ->check(CLI::Validator(
          [](std::string& v) -> std::string {
            double hz = 0;
            try {
              hz = std::stod(v);
            } catch (const std::exception&) {
              return "must be a number of Hz, got " + v;
            }
            if (hz >= kMinInputFs && hz <= kMaxInputFs) return "";
            return "must be between " + fmt_num("%g", kMinInputFs) + " and " +
                   fmt_num("%g", kMaxInputFs) + " Hz, got " + v;
          },
          "HZ"));
  sub->add_flag("--stream", o->track.stream,
                "Causal streaming: rows t_s(window end),hr_bpm,confidence,tracked_bpm as each "
                "window completes");
  sub->add_flag("--causal", o->track.causal, "Offline with causal filters (matches --stream)");
  sub->add_option("--decode", o->track.decode,
                  "Offline tracked_bpm column: window (none) | online | offline | viterbi")
      ->check(CLI::IsMember({"window", "online", "offline", "viterbi"}))
      ->capture_default_str();
  sub->add_option("--transition-scale", o->track.transition_scale,
                  "Laplacian scale of the HR change per 2 s step, BPM (0: the one fitted on the "
                  "model's training labels, recorded in model.json)")
      ->capture_default_str();
  sub->add_option("--temperature", o->track.temperature, "Emission tempering: posterior^T")
      ->capture_default_str();
  sub->add_option("--jump", o->track.jump,
                  "Probability per 2 s step that the HR resets to any class (the transition "
                  "prior mixed with a uniform one; 0: none)")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  sub->add_option("--out", o->out, "Write the CSV here instead of stdout");
  sub->add_option("--threads", o->track.threads, "Torch threads")->capture_default_str();
  add_acc_options(sub, &o->track.acc);
  sub->callback([o] { run_predict(*o); });
}

}  // namespace ppgkd::cli
