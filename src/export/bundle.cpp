// The self-describing bundle (see bundle.h).
#include "export/bundle.h"

#include <fmt/format.h>

#include <cctype>
#include <cmath>

#include "common/error.h"
#include "data/dsp/class_map.h"
#include "data/dsp/resample.h"
#include "decode/temporal.h"

namespace ppgkd {

namespace {

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// A float literal that reads back as the same float ("%.9g" round-trips binary32).
std::string flit(double v) {
  std::string s = fmt::format("{:.9g}", static_cast<float>(v));
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s + "f";
}

nlohmann::json sos_json(const Sos& sos) {
  nlohmann::json a = nlohmann::json::array();
  for (const Biquad& q : sos) a.push_back({q.b0, q.b1, q.b2, q.a1, q.a2});
  return a;
}

std::string sos_array(const Sos& sos, const std::string& name) {
  std::string s = fmt::format("const ppgkd_biquad {}[{}] = {{\n", name, sos.size());
  for (const Biquad& q : sos)
    s += fmt::format("  {{{}, {}, {}, {}, {}}},\n", flit(q.b0), flit(q.b1), flit(q.b2), flit(q.a1),
                     flit(q.a2));
  return s + "};\n";
}

}  // namespace

Bundle make_bundle(const PreprocessConfig& cfg, const ModelRecord& record, double input_rate_hz,
                   int decode_radius) {
  cfg.validate();
  Bundle b;
  b.model_rate_hz = cfg.fs;
  b.input_rate_hz = input_rate_hz > 0 ? input_rate_hz : cfg.fs;
  try {
    rational_ratio(b.input_rate_hz, cfg.fs, &b.resample_up, &b.resample_down);
  } catch (const Error& e) {
    throw Error("export", fmt::format("--input-rate {}: {}", b.input_rate_hz, e.problem()));
  }
  if (b.resample_up != 1 || b.resample_down != 1) {
    b.resample_taps = resample_filter(b.resample_up, b.resample_down);
    b.resample_half = static_cast<int>(b.resample_taps.size() / 2);
  }
  b.inputs = cfg.inputs;
  b.channels = cfg.channels();
  b.window = cfg.length();
  b.window_s = cfg.window_s;
  b.step_s = cfg.step_s;
  b.step = static_cast<int>(std::lround(cfg.step_s * cfg.fs));
  b.ppg_channel = cfg.ppg_channel;
  b.band_lo_hz = cfg.band_lo_hz, b.band_hi_hz = cfg.band_hi_hz, b.band_order = cfg.band_order;
  b.ppg_sos = butter_bandpass(cfg.band_order, cfg.band_lo_hz, cfg.band_hi_hz, cfg.fs);
  if (cfg.channels() == 4) {
    b.acc_highpass_hz = cfg.acc_highpass_hz, b.acc_order = cfg.acc_order;
    b.acc_sos = butter_highpass(cfg.acc_order, cfg.acc_highpass_hz, cfg.fs);
  }
  b.num_classes = kNumClasses;
  b.bpm_lo = kMinBpm;
  b.bpm_step = 1.0;
  b.decode_radius = decode_radius;
  // The tracker as `ppgkd predict --stream` runs it: the scale the model recorded (fitted on
  // its training subjects' labels), else the documented default; an untruncated Laplacian.
  const double recorded = record.transition_scale_bpm();
  b.track_scale_bpm = recorded > 0 ? recorded : kDefaultTransitionScaleBpm;
  b.track_max_delta = kNumClasses - 1;
  b.track_gamma = kDefaultEmissionTemperature;
  b.track_floor = DecodeOptions{}.floor;
  return b;
}

nlohmann::json bundle_json(const Bundle& b) {
  nlohmann::json j;
  j["input_rate_hz"] = b.input_rate_hz;
  j["model_rate_hz"] = b.model_rate_hz;
  j["resample"] = {{"up", b.resample_up},
                   {"down", b.resample_down},
                   {"rule",
                    "y[i] = sum_k x[k] h[i*down - k*up + half]; inputs before the first / after "
                    "the last sample are that sample"},
                   {"half", b.resample_half},
                   {"taps", b.resample_taps}};
  j["inputs"] = b.inputs;
  j["channels"] =
      b.channels == 4 ? nlohmann::json{"ppg", "acc_x", "acc_y", "acc_z"} : nlohmann::json{"ppg"};
  j["ppg_channel"] = b.ppg_channel;
  j["window"] = {{"samples", b.window}, {"seconds", b.window_s}};
  j["step"] = {{"samples", b.step}, {"seconds", b.step_s}};
  const char* sos_rule =
      "causal cascade of biquads y = b0 x + b1 x[-1] + b2 x[-2] - a1 y[-1] - a2 y[-2] (transposed "
      "direct form II), each section [b0, b1, b2, a1, a2], started in the steady state of the "
      "first sample";
  j["ppg_filter"] = {
      {"type", "butterworth band-pass"}, {"order", b.band_order}, {"lo_hz", b.band_lo_hz},
      {"hi_hz", b.band_hi_hz},           {"rule", sos_rule},      {"sos", sos_json(b.ppg_sos)}};
  if (!b.acc_sos.empty())
    j["acc_filter"] = {{"type", "butterworth high-pass"},
                       {"order", b.acc_order},
                       {"cut_hz", b.acc_highpass_hz},
                       {"rule", sos_rule},
                       {"sos", sos_json(b.acc_sos)}};
  j["standardise"] = {{"rule",
                       "per window and channel: zero mean, unit population variance; a channel "
                       "with std < min_std becomes zeros"},
                      {"min_std", b.standardise_min_std}};
  j["classes"] = {{"count", b.num_classes},
                  {"bpm_lo", b.bpm_lo},
                  {"bpm_step", b.bpm_step},
                  {"rule", "class c covers [bpm_lo + c * bpm_step, bpm_lo + (c + 1) * bpm_step)"}};
  j["decode_radius"] = b.decode_radius;
  j["tracker"] = {{"transition", "laplacian"},
                  {"scale_bpm", b.track_scale_bpm},
                  {"max_delta_bins", b.track_max_delta},
                  {"gamma", b.track_gamma},
                  {"floor", b.track_floor}};
  return j;
}

std::string bundle_defines(const Bundle& b, const std::string& prefix) {
  const std::string P = upper(prefix);
  std::string s = fmt::format(
      "/* Preprocessing and decoding (the bundle; export.json \"bundle\" says the same in JSON).\n"
      " * Raw samples at INPUT_RATE_HZ are resampled by UP/DOWN with RESAMPLE_TAPS (when\n"
      " * RESAMPLE_HALF > 0), filtered causally (PPG_SOS, ACC_SOS; each filter started in the\n"
      " * steady state of its first sample), cut into WINDOW samples every STEP, standardised per\n"
      " * channel, run through the model and tracked (ppgkd_tracker_init with TRACK_*). */\n"
      "#define {0}_INPUT_RATE_HZ {1}\n"
      "#define {0}_RATE_HZ {2}\n"
      "#define {0}_RESAMPLE_UP {3}\n"
      "#define {0}_RESAMPLE_DOWN {4}\n"
      "#define {0}_RESAMPLE_HALF {5} /* taps: 2 * HALF + 1 (0: no resampling) */\n"
      "#define {0}_CHANNELS {6}      /* PPG{7} */\n"
      "#define {0}_WINDOW {8}\n"
      "#define {0}_STEP {9}\n"
      "#define {0}_PPG_SECTIONS {10}\n"
      "#define {0}_ACC_SECTIONS {11}\n"
      "#define {0}_STD_MIN {12}\n"
      "#define {0}_NUM_CLASSES {13}\n"
      "#define {0}_BPM_LO {14}\n"
      "#define {0}_BPM_STEP {15}\n"
      "#define {0}_DECODE_RADIUS {16}\n"
      "#define {0}_TRACK_SCALE_BPM {17}\n"
      "#define {0}_TRACK_MAX_DELTA {18}\n"
      "#define {0}_TRACK_GAMMA {19}\n"
      "#define {0}_TRACK_FLOOR {20}\n\n",
      P, flit(b.input_rate_hz), flit(b.model_rate_hz), b.resample_up, b.resample_down,
      b.resample_half, b.channels, b.channels == 4 ? ", acc x, y, z" : "", b.window, b.step,
      b.ppg_sos.size(), b.acc_sos.size(), flit(b.standardise_min_std), b.num_classes,
      flit(b.bpm_lo), flit(b.bpm_step), b.decode_radius, flit(b.track_scale_bpm), b.track_max_delta,
      flit(b.track_gamma), flit(b.track_floor));
  if (b.resample_half > 0)
    s += fmt::format("extern const float {}_resample_taps[2 * {}_RESAMPLE_HALF + 1];\n", prefix, P);
  s += fmt::format("extern const ppgkd_biquad {}_ppg_sos[{}_PPG_SECTIONS];\n", prefix, P);
  if (!b.acc_sos.empty())
    s += fmt::format("extern const ppgkd_biquad {}_acc_sos[{}_ACC_SECTIONS];\n", prefix, P);
  return s;
}

std::string bundle_arrays(const Bundle& b, const std::string& prefix) {
  std::string s = "\n/* The bundle's arrays (see model_data.h). */\n";
  if (b.resample_half > 0) {
    s += fmt::format("const float {}_resample_taps[{}] = {{\n", prefix, b.resample_taps.size());
    for (size_t i = 0; i < b.resample_taps.size(); i += 6) {
      s += " ";
      for (size_t j = i; j < std::min(b.resample_taps.size(), i + 6); ++j)
        s += " " + flit(b.resample_taps[j]) + ",";
      s += "\n";
    }
    s += "};\n";
  }
  s += sos_array(b.ppg_sos, prefix + "_ppg_sos");
  if (!b.acc_sos.empty()) s += sos_array(b.acc_sos, prefix + "_acc_sos");
  return s;
}

}  // namespace ppgkd
