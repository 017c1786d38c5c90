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
#include <torch/torch.h>
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
#include "cli/estimates.h"
#include "common/atomic_file.h"
#include "common/error.h"
#include "data/dsp/class_map.h"
#include "data/readers/readers.h"
#include "decode/cadence.h"
#include "decode/stream_windows.h"
#include "decode/temporal.h"
#include "train/inference.h"
#include "train/model_dir.h"

namespace ppgkd::cli {

namespace {

struct PredictOptions {
  std::string model, input, out;
  double fs = 0;
  bool stream = false, causal = false;
  std::string decode = "window";
  double transition_scale = 0;  // 0: the scale recorded with the model
  double temperature = 1.0;
  int threads = 1;
  AccAwareOptions acc;
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

// One window's (K) posterior from the network, batch of one.
std::vector<double> posterior_of(NetImpl& net, const StreamWindow& w, int channels, int length) {
  WindowSet one;
  one.channels = channels;
  one.length = length;
  one.x = w.x;
  one.hr = {0.0f};
  one.recording = {0};
  one.window = {w.index};
  auto prob = torch::softmax(run_model(net, one, {0}, 1).logits, 1).to(torch::kFloat64);
  const double* p = prob.data_ptr<double>();
  return std::vector<double>(p, p + kNumClasses);
}

double decode_double(const std::vector<double>& p, double* conf) {
  std::vector<float> f(p.begin(), p.end());
  return decode_bpm(f.data(), kDecodeRadius, conf);
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

struct StreamState {
  LoadedModel* model;
  StreamWindower* windower;
  OnlineFilter* filter;
  RowSink* sink;
  int channels, length;
  const AccAwareOptions* acc;
  PreprocessConfig acc_cfg;                // "ppg+acc" twin of the model's config (PPG-only models)
  StreamWindower* acc_windower = nullptr;  // its windows, in lockstep (PPG-only models)
};

// A windower for `cfg` and, with --acc-aware and a PPG-only model, the ppg+acc twin.
struct StreamWindowers {
  std::unique_ptr<StreamWindower> main, acc;
  StreamWindowers(StreamState& s, const PreprocessConfig& cfg, double fs, int ppg, bool has_acc) {
    main = std::make_unique<StreamWindower>(cfg, fs, ppg, has_acc);
    s.windower = main.get();
    if (s.acc->enabled && cfg.channels() < 4 && has_acc) {
      acc = std::make_unique<StreamWindower>(s.acc_cfg, fs, ppg, true);
      s.acc_windower = acc.get();
    }
  }
  void push(const float* const* ppg, const float* const* a, size_t n) {
    main->push(ppg, a, n);
    if (acc) acc->push(ppg, a, n);
  }
  void finish() {
    main->finish();
    if (acc) acc->finish();
  }
};

void drain(StreamState& s) {
  StreamWindow w, wa;
  while (s.windower->pop(&w)) {
    double hr = NAN, conf = 0, tracked, cadence = 0;
    // The twin releases the same windows at the same time (same rates and lengths).
    const bool twin = s.acc_windower && s.acc_windower->pop(&wa);
    if (w.finite) {
      auto p = posterior_of(*s.model->net, w, s.channels, s.length);
      if (s.acc->enabled) {
        const StreamWindow& src = twin ? wa : w;
        if (src.finite)
          cadence = window_cadence(src.x.data(), twin ? 4 : s.channels, s.length, s.acc_cfg.fs,
                                   s.acc->min_share)
                        .bpm;
      }
      tracked = decode_double(s.filter->update(p.data(), cadence), nullptr);
      penalise_posterior(p.data(), kNumClasses, cadence, s.acc->penalty());
      hr = decode_double(p, &conf);
    } else {
      tracked = decode_double(s.filter->predict_only(), nullptr);
    }
    std::string row = fmt_num("%.2f", w.t_end_s) + "," + fmt_num("%.3f", hr) + "," +
                      fmt_num("%.4f", conf) + "," + fmt_num("%.3f", tracked);
    if (s.acc->enabled) row += "," + fmt_num("%.1f", cadence);
    s.sink->write(row + "\n");
  }
}

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
void stream_csv(std::istream& in, const std::string& where, const CsvHeader& h, StreamState& s,
                StreamWindowers& windower) {
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
    windower.push(ppg_ptr, acc_ptr, 1);
    drain(s);
  }
  windower.finish();
  drain(s);
}

// Everything that can be checked before the first row is: the rate, the input and its header (or
// the whole .mat file), the windowing; only then is --out opened.
void run_stream(const PredictOptions& o, LoadedModel& m, const PreprocessConfig& cfg) {
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
  DecodeOptions dopt;
  dopt.temperature = o.temperature;
  dopt.cadence = o.acc.penalty();
  OnlineFilter filter(laplacian_transition(kNumClasses, o.transition_scale), dopt);
  PreprocessConfig acc_cfg = cfg;
  acc_cfg.inputs = "ppg+acc";
  StreamState s{&m, nullptr, &filter, nullptr, cfg.channels(), cfg.length(), &o.acc, acc_cfg};
  StreamWindowers windower =
      is_csv ? StreamWindowers(s, cfg, o.fs, 1, header.has_acc())
             : StreamWindowers(s, cfg, rec.fs, static_cast<int>(rec.ppg.size()), !rec.acc.empty());
  RowSink sink(o.out);
  s.sink = &sink;
  sink.write(o.acc.enabled ? "t_s,hr_bpm,confidence,tracked_bpm,cadence_bpm\n"
                           : "t_s,hr_bpm,confidence,tracked_bpm\n");
  if (is_csv) {
    stream_csv(*in, where, header, s, windower);
  } else {
    // A .mat file: replayed through the same causal path in 1 s chunks.
    const size_t chunk = static_cast<size_t>(std::max(1.0, std::round(rec.fs)));
    for (size_t i = 0; i < rec.num_samples(); i += chunk) {
      const size_t n = std::min(chunk, rec.num_samples() - i);
      std::vector<const float*> ppg, acc;
      for (const auto& ch : rec.ppg) ppg.push_back(ch.data() + i);
      for (const auto& ch : rec.acc) acc.push_back(ch.data() + i);
      windower.push(ppg.data(), acc.data(), n);
      drain(s);
    }
    windower.finish();
    drain(s);
  }
  sink.commit();
}

// ---------------------------------------------------------------------------- offline

void run_offline(const PredictOptions& o, LoadedModel& m, const PreprocessConfig& cfg) {
  if (o.input == "-") throw Error("stdin", "reading stdin needs --stream");
  Recording rec = read_unlabelled(o.input, o.fs);
  const size_t k_count = windows_that_fit(rec.num_samples(), rec.fs);
  for (size_t k = 0; k < k_count; ++k)
    rec.windows.push_back({static_cast<int>(k), k * cfg.step_s, 0.0});  // unlabelled
  const WindowSet ws = make_windows({rec}, cfg);
  for (const auto& [reason, n] : ws.dropped)
    std::fprintf(stderr, "ppgkd: note: %zu windows have no estimate (%s)\n", n, reason.c_str());
  std::vector<size_t> rows(ws.size());
  for (size_t i = 0; i < rows.size(); ++i) rows[i] = i;
  std::vector<double> prob;
  if (!rows.empty()) {
    auto p =
        torch::softmax(run_model(*m.net, ws, rows, 256).logits, 1).to(torch::kFloat64).contiguous();
    prob.assign(p.data_ptr<double>(), p.data_ptr<double>() + p.numel());
  }
  std::vector<double> cadence;
  if (o.acc.enabled) {
    std::unique_ptr<WindowSet> acc_ws;
    if (ws.channels < 4 && !rec.acc.empty()) {  // a PPG-only model: window the acc separately
      PreprocessConfig acc_cfg = cfg;
      acc_cfg.inputs = "ppg+acc";
      acc_ws = std::make_unique<WindowSet>(make_windows({rec}, acc_cfg));
    }
    cadence = row_cadences(ws, rows, acc_ws.get(), cfg.fs, o.acc.min_share);
  }
  std::vector<double> hr, conf, tracked, tconf;
  decode_rows("window", 0, 1, ws, rows, prob, &hr, &conf, cadence, o.acc.penalty());
  const bool track = o.decode != "window";
  if (track && !rows.empty())
    decode_rows(o.decode, o.transition_scale, o.temperature, ws, rows, prob, &tracked, &tconf,
                cadence, o.acc.penalty());
  std::string csv = track ? "t_s,hr_bpm,confidence,tracked_bpm" : "t_s,hr_bpm,confidence";
  csv += o.acc.enabled ? ",cadence_bpm\n" : "\n";
  // One row per window that fits. A window make_windows dropped (it touches a missing sample) has
  // no heart rate, as in --stream: hr_bpm (and tracked_bpm) nan, confidence 0, cadence 0.
  for (size_t k = 0, i = 0; k < k_count; ++k) {
    csv += fmt_num("%.2f", k * cfg.step_s);
    if (i < rows.size() && ws.window[i] == static_cast<int>(k)) {
      csv += "," + fmt_num("%.3f", hr[i]) + "," + fmt_num("%.4f", conf[i]);
      if (track) csv += "," + fmt_num("%.3f", tracked[i]);
      if (o.acc.enabled) csv += "," + fmt_num("%.1f", cadence[i]);
      ++i;
    } else {
      csv += ",nan,0.0000";
      if (track) csv += ",nan";
      if (o.acc.enabled) csv += ",0.0";
    }
    csv += "\n";
  }
  if (o.out.empty()) {
    std::fwrite(csv.data(), 1, csv.size(), stdout);
  } else {
    write_file_atomic(o.out, csv);
  }
}

void run_predict(const PredictOptions& given) {
  PredictOptions o = given;
  torch::set_num_threads(o.threads);
  LoadedModel m = load_model_dir(o.model);
  if (o.transition_scale < 0 || !std::isfinite(o.transition_scale))
    throw Error("predict", "--transition-scale must be > 0 (or 0: the model's own)");
  if (o.transition_scale == 0) o.transition_scale = recorded_transition_scale(m.info, nullptr);
  PreprocessConfig cfg = m.preprocess;
  std::vector<std::string> ignore;
  if (o.stream || o.causal) {
    cfg.causal = true;  // the streaming path cannot look ahead: knowingly causal
    ignore.push_back("causal");
  }
  check_compatible(o.model, m, cfg, ignore);
  if (o.stream) {
    if (o.decode != "window" && o.decode != "online")
      throw Error("predict", "--stream tracks online; --decode " + o.decode +
                                 " needs the whole "
                                 "recording");
    run_stream(o, m, cfg);
  } else {
    run_offline(o, m, cfg);
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
  sub->add_flag("--stream", o->stream,
                "Causal streaming: rows t_s(window end),hr_bpm,confidence,tracked_bpm as each "
                "window completes");
  sub->add_flag("--causal", o->causal, "Offline with causal filters (matches --stream)");
  sub->add_option("--decode", o->decode,
                  "Offline tracked_bpm column: window (none) | online | offline | viterbi")
      ->check(CLI::IsMember({"window", "online", "offline", "viterbi"}))
      ->capture_default_str();
  sub->add_option("--transition-scale", o->transition_scale,
                  "Laplacian scale of the HR change per 2 s step, BPM (0: the one fitted on the "
                  "model's training labels, recorded in model.json)")
      ->capture_default_str();
  sub->add_option("--temperature", o->temperature, "Emission tempering: posterior^T")
      ->capture_default_str();
  sub->add_option("--out", o->out, "Write the CSV here instead of stdout");
  sub->add_option("--threads", o->threads, "Torch threads")->capture_default_str();
  add_acc_options(sub, &o->acc);
  sub->callback([o] { run_predict(*o); });
}

}  // namespace ppgkd::cli
