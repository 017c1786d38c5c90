// `ppgkd predict --model DIR --input FILE|- [--fs HZ] [--stream] [--out FILE]`: the heart-rate
// track of one recording, as CSV.
//
// Input: a .mat file (IEEE SPC 2015 or BAMI layout) or a CSV with a header naming the columns
// `ppg` and optionally `acc_x,acc_y,acc_z` (other columns are ignored; an empty field is a missing
// sample), sampled at --fs Hz (required for CSV). `--input -` reads CSV from stdin (with --stream).
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
//   confidence 0, and the tracker predicts through it.
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
#include <fstream>
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "cli/estimate_options.h"
#include "common/atomic_file.h"
#include "common/error.h"
#include "data/readers/readers.h"
#include "eval/track.h"

namespace ppgkd::cli {

namespace {

struct PredictOptions {
  std::string model, input, out;
  double fs = 0;
  TrackOptions track;
};

std::string lower_trim(std::string s) {
  const auto a = s.find_first_not_of(" \t\r\""), b = s.find_last_not_of(" \t\r\"");
  s = a == std::string::npos ? "" : s.substr(a, b - a + 1);
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::vector<std::string> split_csv(const std::string& line) {
  std::vector<std::string> f;
  size_t start = 0;
  for (;;) {
    const size_t comma = line.find(',', start);
    f.push_back(line.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) return f;
    start = comma + 1;
  }
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

// The columns of a CSV stream, from its header line.
struct CsvHeader {
  int ppg = -1, acc[3] = {-1, -1, -1};
  bool has_acc() const { return acc[0] >= 0; }
};

CsvHeader read_csv_header(std::istream& in, const std::string& where) {
  std::string line;
  if (!std::getline(in, line)) throw Error(where, "CSV is empty (a header line is needed)");
  const auto names = split_csv(line);
  CsvHeader h;
  for (size_t i = 0; i < names.size(); ++i) {
    const std::string n = lower_trim(names[i]);
    if (n == "ppg") h.ppg = static_cast<int>(i);
    for (int a = 0; a < 3; ++a)
      if (n == std::string("acc_") + "xyz"[a]) h.acc[a] = static_cast<int>(i);
  }
  if (h.ppg < 0) throw Error(where, "CSV header has no 'ppg' column");
  const int acc_present = (h.acc[0] >= 0) + (h.acc[1] >= 0) + (h.acc[2] >= 0);
  if (acc_present != 0 && acc_present != 3)
    throw Error(where, "CSV has some but not all of the columns acc_x, acc_y, acc_z");
  return h;
}

// Reads CSV samples line by line from `in` (after its header), pushing each as it arrives.
void stream_csv(std::istream& in, const std::string& where, const CsvHeader& h,
                TrackStream& stream) {
  std::string line;
  size_t line_no = 1;
  float v[4];
  while (std::getline(in, line)) {
    ++line_no;
    if (lower_trim(line).empty()) continue;
    const auto f = split_csv(line);
    const int cols[4] = {h.ppg, h.acc[0], h.acc[1], h.acc[2]};
    for (int c = 0; c < (h.has_acc() ? 4 : 1); ++c) {
      const std::string t = cols[c] < static_cast<int>(f.size()) ? lower_trim(f[cols[c]]) : "";
      if (t.empty() || t == "nan") {
        v[c] = NAN;
        continue;
      }
      char* end = nullptr;
      v[c] = std::strtof(t.c_str(), &end);
      if (end != t.c_str() + t.size())
        throw Error(where + ":" + std::to_string(line_no), "not a number: '" + t + "'");
    }
    const float* ppg_ptr[1] = {&v[0]};
    const float* acc_ptr[3] = {&v[1], &v[2], &v[3]};
    stream.push(ppg_ptr, acc_ptr, 1);
  }
  stream.finish();
}

// Everything that can be checked before the first row is: the rate, the input and its header (or
// the whole .mat file), the windowing; only then is --out opened.
void run_stream(const PredictOptions& o, const Tracker& tracker) {
  const bool is_csv = o.input == "-" || (o.input.size() > 4 &&
                                         lower_trim(o.input.substr(o.input.size() - 4)) == ".csv");
  const std::string where = o.input == "-" ? "stdin" : o.input;
  std::ifstream file;
  std::istream* in = &std::cin;
  CsvHeader header;
  Recording rec;  // a .mat input, read whole
  if (is_csv) {
    if (!(o.fs > 0)) throw Error(o.input, "a CSV input needs its sampling rate (--fs HZ)");
    if (o.input != "-") {
      file.open(o.input);
      if (!file) throw Error(o.input, "no such file");
      in = &file;
    }
    header = read_csv_header(*in, where);
  } else {
    rec = read_unlabelled(o.input, o.fs);
  }
  const bool cadence = o.track.acc.enabled;
  RowSink* sink = nullptr;  // opened once the stream is set up
  auto emit = [&](const TrackRow& r) { sink->write(format_row(r, true, cadence)); };
  TrackStream stream(tracker, is_csv ? o.fs : rec.fs, is_csv ? 1 : static_cast<int>(rec.ppg.size()),
                     is_csv ? header.has_acc() : !rec.acc.empty(), emit);
  RowSink out(o.out);
  sink = &out;
  out.write(header_line(true, cadence));
  if (is_csv) {
    stream_csv(*in, where, header, stream);
  } else {
    stream.replay(rec);  // a .mat file: through the same causal path in 1 s chunks
  }
  out.commit();
}

// ---------------------------------------------------------------------------- offline

void run_offline(const PredictOptions& o, const Tracker& tracker) {
  if (o.input == "-") throw Error("stdin", "reading stdin needs --stream");
  const OfflineTrack track = tracker.offline(read_unlabelled(o.input, o.fs));
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
  sub->add_option("--fs", o->fs, "Sampling rate of a CSV input, Hz");
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
  sub->add_option("--out", o->out, "Write the CSV here instead of stdout");
  sub->add_option("--threads", o->track.threads, "Torch threads")->capture_default_str();
  add_acc_options(sub, &o->track.acc);
  sub->callback([o] { run_predict(*o); });
}

}  // namespace ppgkd::cli
