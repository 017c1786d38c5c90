// Model spec strings: parsing, the canonical form, closed-form parameter and MAC counts, and the
// two capacity ladders. No libtorch is used here; networks.cpp builds what these numbers describe.
#include "models/model_spec.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>

#include "common/error.h"
#include "data/dsp/class_map.h"
#include "data/recording.h"

namespace ppgkd {

// ------------------------------------------------------------------------------- parsing

namespace {

const char* kWhere = "model spec";

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t p = s.find(sep, start);
    out.push_back(s.substr(start, p == std::string::npos ? std::string::npos : p - start));
    if (p == std::string::npos) break;
    start = p + 1;
  }
  return out;
}

int parse_positive(const std::string& spec, const std::string& key, const std::string& v) {
  char* end = nullptr;
  long n = v.empty() ? 0 : std::strtol(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || n <= 0 || n > 1000000)
    throw Error(kWhere, fmt::format("'{}': {} must be a positive integer, got '{}'", spec, key, v));
  return static_cast<int>(n);
}

int parse_non_negative(const std::string& spec, const std::string& key, const std::string& v) {
  char* end = nullptr;
  long n = v.empty() ? -1 : std::strtol(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || n < 0 || n > 1000000)
    throw Error(kWhere,
                fmt::format("'{}': {} must be a non-negative integer, got '{}'", spec, key, v));
  return static_cast<int>(n);
}

std::vector<int> parse_widths(const std::string& spec, const std::string& key,
                              const std::string& v) {
  std::vector<int> out;
  for (const auto& part : split(v, '-')) out.push_back(parse_positive(spec, key, part));
  return out;
}

std::string join(const std::vector<int>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "-" : "") + std::to_string(v[i]);
  return s;
}

}  // namespace

ModelSpec ModelSpec::parse(const std::string& s, int in_channels, int length) {
  if (in_channels <= 0 || length <= 0)
    throw Error(kWhere, fmt::format("'{}': input shape must be positive, got C={} L={}", s,
                                    in_channels, length));
  ModelSpec m;
  m.in_channels = in_channels;
  m.length = length;
  size_t colon = s.find(':');
  m.family = s.substr(0, colon);
  if (m.family == "ensemble") {  // "ensemble:n=N;MEMBER" or "ensemble:n=N;MEMBER_1;...;MEMBER_N"
    const std::string rest = colon == std::string::npos ? "" : s.substr(colon + 1);
    const size_t semi = rest.find(';');
    if (semi == std::string::npos || rest.rfind("n=", 0) != 0)
      throw Error(kWhere, fmt::format("'{}': expected ensemble:n=N;MEMBER_SPEC", s));
    const int n = parse_positive(s, "n", rest.substr(2, semi - 2));
    const auto parts = split(rest.substr(semi + 1), ';');
    for (const auto& part : parts)
      if (part.substr(0, part.find(':')) == "ensemble")
        throw Error(kWhere, fmt::format("'{}': an ensemble's members may not be ensembles", s));
    if (parts.size() != 1 && static_cast<int>(parts.size()) != n)
      throw Error(kWhere, fmt::format("'{}': n={} needs one member spec or {}, got {}", s, n, n,
                                      parts.size()));
    for (int i = 0; i < n; ++i) {
      if (i > 0 && parts.size() == 1) {  // a seed ensemble: every member is the first's spec
        m.member_specs.push_back(m.member_specs[0]);
        continue;
      }
      m.member_specs.push_back(std::make_shared<ModelSpec>(parse(parts[i], in_channels, length)));
    }
    return m;
  }
  std::map<std::string, std::string> kv;
  if (colon != std::string::npos) {
    for (const auto& item : split(s.substr(colon + 1), ',')) {
      size_t eq = item.find('=');
      if (eq == std::string::npos)
        throw Error(kWhere, fmt::format("'{}': expected key=value, got '{}'", s, item));
      std::string key = item.substr(0, eq);
      if (!kv.emplace(key, item.substr(eq + 1)).second)
        throw Error(kWhere, fmt::format("'{}': key '{}' given twice", s, key));
    }
  }
  auto take = [&](const char* key) -> std::string {
    auto it = kv.find(key);
    if (it == kv.end()) return {};
    std::string v = it->second;
    kv.erase(it);
    return v;
  };
  if (m.family == "resnet1d") {
    std::string stem = take("stem"), stages = take("stages"), blocks = take("blocks"),
                k = take("k"), spectral = take("spectral"), harmonics = take("harmonics");
    if (stages.empty()) throw Error(kWhere, fmt::format("'{}': resnet1d needs stages=", s));
    m.stages = parse_widths(s, "stages", stages);
    if (!stem.empty()) m.stem = parse_positive(s, "stem", stem);
    if (!blocks.empty()) m.blocks = parse_positive(s, "blocks", blocks);
    if (!k.empty()) m.kernel = parse_positive(s, "k", k);
    if (m.kernel % 2 == 0)
      throw Error(kWhere, fmt::format("'{}': k must be odd, got {}", s, m.kernel));
    if (!spectral.empty()) m.spectral = parse_non_negative(s, "spectral", spectral);
    // The band's last bin must exist in the one-sided spectrum (n / 2 + 1 bins): fs >= 7 Hz.
    if (m.spectral > 0 &&
        (m.length > kSpectralFftSize ||
         m.spectral_first_bin() + m.spectral_num_bins() > kSpectralFftSize / 2 + 1))
      throw Error(kWhere, fmt::format("'{}': spectral needs 56 <= L <= {} (8 s windows at 7 Hz or "
                                      "more, an FFT of {}), got L={}",
                                      s, kSpectralFftSize, kSpectralFftSize, m.length));
    if (!harmonics.empty()) {
      if (harmonics != "0" && harmonics != "1" && harmonics != "ppg")
        throw Error(kWhere,
                    fmt::format("'{}': harmonics must be 0, 1 or ppg, got '{}'", s, harmonics));
      m.harmonics = harmonics == "1" ? kHarmonicsAll : harmonics == "ppg" ? kHarmonicsPpg : 0;
    }
    if (m.harmonics && m.spectral == 0)
      throw Error(kWhere, fmt::format("'{}': harmonics needs a spectral branch (spectral=N)", s));
    if (m.harmonics &&
        2 * (m.spectral_first_bin() + m.spectral_num_bins() - 1) > kSpectralFftSize / 2)
      throw Error(kWhere, fmt::format("'{}': harmonics needs L >= 112 (8 s windows at 14 Hz or "
                                      "more, so that twice the band fits the spectrum), got L={}",
                                      s, m.length));
  } else if (m.family == "mlp") {
    std::string hidden = take("hidden");
    if (hidden.empty()) throw Error(kWhere, fmt::format("'{}': mlp needs hidden=", s));
    m.hidden = parse_widths(s, "hidden", hidden);
  } else {
    throw Error(kWhere, fmt::format("'{}': unknown model family '{}' (expected resnet1d, mlp or "
                                    "ensemble)",
                                    s, m.family));
  }
  if (!kv.empty())
    throw Error(kWhere,
                fmt::format("'{}': unknown key '{}' for {}", s, kv.begin()->first, m.family));
  return m;
}

std::string ModelSpec::str() const {
  if (is_ensemble()) {
    std::string s = fmt::format("ensemble:n={};{}", members(), member_specs[0]->str());
    if (is_mixed_ensemble())
      for (size_t i = 1; i < member_specs.size(); ++i) s += ";" + member_specs[i]->str();
    return s;
  }
  if (family == "resnet1d")
    return fmt::format("resnet1d:stem={},stages={},blocks={},k={}{}{}", stem, join(stages), blocks,
                       kernel, spectral > 0 ? fmt::format(",spectral={}", spectral) : "",
                       harmonics == kHarmonicsAll   ? ",harmonics=1"
                       : harmonics == kHarmonicsPpg ? ",harmonics=ppg"
                                                    : "");
  return "mlp:hidden=" + join(hidden);
}

bool ModelSpec::is_mixed_ensemble() const {
  for (const auto& m : member_specs)
    if (*m != *member_specs[0]) return true;
  return false;
}

bool ModelSpec::operator==(const ModelSpec& o) const {
  return str() == o.str() && in_channels == o.in_channels && length == o.length;
}

// ------------------------------------------------------------------------------- counts
// ResNet1D, one window (C input channels, L samples, K classes):
//   stem     conv C->S (k taps, no bias) + BN(S)
//   stage i  blocks; the first has stride 2 when i > 0 and input width w_{i-1} (w_{-1} = S):
//              conv w_in->w (k, stride s, no bias) + BN(w), conv w->w (k, no bias) + BN(w),
//              shortcut conv w_in->w (1 tap, stride s, no bias) + BN(w) when w_in != w or s != 1
//   head     global average pool, linear w_last->K (+ bias)
//   spectral (N = spectral > 0, F = spectral_num_bins(), k_s = kSpectralKernel):
//            conv C'->N (k_s, no bias) + BN(N), conv N->N (k_s, no bias) + BN(N),
//            conv N->1 (1 tap, no bias), scale (1); the interpolation is a buffer, not a parameter
// MACs count the convolution and linear multiply-accumulates only: folded BN becomes a bias, and
// the residual adds, ReLUs and the pooling sums are additions. The spectral branch adds its three
// convolutions over the F bins and 2 MACs per class for the interpolation (the scale folds into
// it); the window, FFT, magnitude, log1p and normalisation are not counted. C' = C, or 3C with
// harmonics (spectral_in_channels()).

double ModelSpec::sample_rate_hz() const {
  return length / kWindowSeconds;
}

namespace {
// Fractional FFT bin of class c's centre: (30.5 + c) BPM / 60 -> Hz, times n / fs.
double class_bin(int c, double fs) {
  return (kMinBpm + c + 0.5) / 60.0 * ModelSpec::kSpectralFftSize / fs;
}
}  // namespace

int ModelSpec::spectral_first_bin() const {
  return static_cast<int>(std::floor(class_bin(0, sample_rate_hz())));
}

int ModelSpec::spectral_num_bins() const {
  const int last = static_cast<int>(std::floor(class_bin(kNumClasses - 1, sample_rate_hz()))) + 1;
  return last - spectral_first_bin() + 1;
}

std::vector<float> ModelSpec::spectral_interp() const {
  const int first = spectral_first_bin(), nb = spectral_num_bins();
  std::vector<float> w(static_cast<size_t>(nb) * kNumClasses, 0.0f);
  for (int c = 0; c < kNumClasses; ++c) {
    const double p = class_bin(c, sample_rate_hz()) - first;
    const int j = static_cast<int>(std::floor(p));
    const double t = p - j;  // in [0, 1); j + 1 < nb by construction of spectral_num_bins()
    w[static_cast<size_t>(j) * kNumClasses + c] = static_cast<float>(1.0 - t);
    w[static_cast<size_t>(j + 1) * kNumClasses + c] = static_cast<float>(t);
  }
  return w;
}

int ModelSpec::stage_length(int stage) const {
  int len = length;
  for (int i = 1; i <= stage; ++i) len = (len - 1) / 2 + 1;
  return len;
}

int ModelSpec::num_stages() const {
  if (is_ensemble()) {
    int n = member_specs[0]->num_stages();
    for (const auto& m : member_specs) n = std::min(n, m->num_stages());
    return n;
  }
  return static_cast<int>(family == "resnet1d" ? stages.size() : hidden.size());
}

std::vector<int64_t> ModelSpec::feature_shape(int stage) const {
  int n = num_stages();
  int s = stage < 0 ? n + stage : stage;
  if (s < 0 || s >= n)
    throw Error(kWhere,
                fmt::format("'{}': feature stage {} out of range (0..{})", str(), stage, n - 1));
  if (is_ensemble()) {
    const auto shape = member_specs[0]->feature_shape(s);
    for (size_t i = 1; i < member_specs.size(); ++i)
      if (member_specs[i]->feature_shape(s) != shape)
        throw Error(kWhere, fmt::format("'{}': the members' features at stage {} differ in shape "
                                        "({} for member 0, {} for member {}); their mean needs "
                                        "one shape",
                                        str(), s, fmt::join(shape, "x"),
                                        fmt::join(member_specs[i]->feature_shape(s), "x"), i));
    return shape;
  }
  if (family == "resnet1d") return {stages[s], stage_length(s)};
  return {hidden[s]};
}

int64_t ModelSpec::num_params() const {
  if (is_ensemble()) {
    int64_t n = 0;
    for (const auto& m : member_specs) n += m->num_params();
    return n;
  }
  const int64_t K = kNumClasses;
  int64_t n = 0;
  if (family == "resnet1d") {
    const int64_t k = kernel;
    n += int64_t{in_channels} * stem * k + 2 * stem;
    int64_t w_in = stem;
    for (size_t i = 0; i < stages.size(); ++i) {
      const int64_t w = stages[i];
      for (int b = 0; b < blocks; ++b) {
        bool first = b == 0;
        int stride = (first && i > 0) ? 2 : 1;
        n += w_in * w * k + 2 * w + w * w * k + 2 * w;
        if (w_in != w || stride != 1) n += w_in * w + 2 * w;
        w_in = w;
      }
    }
    n += w_in * K + K;
    if (spectral > 0) {
      const int64_t N = spectral, ks = kSpectralKernel;
      n += int64_t{spectral_in_channels()} * N * ks + 2 * N + N * N * ks + 2 * N + N + 1;
    }
  } else {
    int64_t d = int64_t{in_channels} * length;
    for (int h : hidden) {
      n += d * h + h;
      d = h;
    }
    n += d * K + K;
  }
  return n;
}

int64_t ModelSpec::macs() const {
  if (is_ensemble()) {  // the averaging is not counted
    int64_t n = 0;
    for (const auto& m : member_specs) n += m->macs();
    return n;
  }
  const int64_t K = kNumClasses;
  int64_t m = 0;
  if (family == "resnet1d") {
    const int64_t k = kernel;
    m += int64_t{in_channels} * stem * k * length;
    int64_t w_in = stem;
    for (size_t i = 0; i < stages.size(); ++i) {
      const int64_t w = stages[i];
      const int64_t len = stage_length(static_cast<int>(i));
      for (int b = 0; b < blocks; ++b) {
        int stride = (b == 0 && i > 0) ? 2 : 1;
        m += (w_in * w * k + w * w * k) * len;
        if (w_in != w || stride != 1) m += w_in * w * len;
        w_in = w;
      }
    }
    m += w_in * K;
    if (spectral > 0) {
      const int64_t N = spectral, ks = kSpectralKernel, F = spectral_num_bins();
      m += (int64_t{spectral_in_channels()} * N * ks + N * N * ks + N) * F + 2 * K;
    }
  } else {
    int64_t d = int64_t{in_channels} * length;
    for (int h : hidden) {
      m += d * h;
      d = h;
    }
    m += d * K;
  }
  return m;
}

// ------------------------------------------------------------------------------- ladders
// Parameter counts below are for ppg+acc (C = 4, L = 200); `ppgkd models` prints them.
//
// ResNet ladder: nine rungs from ~1.5k to ~2.2M parameters, x1.9-3.9 apart. Every rung has five
// or six stages, each after the first halving the length (200 -> 13 or 7 samples), with kernel
// 7 (smaller on the two tiniest): a wide receptive field is what separates the heart rate from
// the arm-swing frequency. On validation subjects of fold 0 (SPC 2015 train + BAMI-1, 12 epochs)
// three stages of k=5 at 22k parameters reached 10.2 BPM, five stages at 33-48k 5.9-6.1, with
// k=5, 7 or 9 within noise (docs/RESULTS.md, "Choosing the ResNet shape"). The largest rungs add a
// sixth stage at length 7 so that their parameters sit where they cost few multiply-accumulates:
// training time grows with width^2 * length, and they must stay trainable on two cores.
//
// MLP ladder: the flattened window has C*L = 800 inputs, and the 180-class output layer costs
// 181 parameters per hidden unit of the last layer, so the smallest sensible MLP is a bottleneck:
// 800 -> 4 -> 180 has 4,104 parameters. The ladder runs from there to ~2M, x2.5-3 apart.
const std::vector<LadderRung>& resnet_ladder() {
  static const std::vector<LadderRung> rungs = {
      {"r1", "resnet1d:stem=3,stages=3-3-4-4-4,blocks=1,k=3"},
      {"r2", "resnet1d:stem=4,stages=4-4-6-6-8,blocks=1,k=5"},
      {"r3", "resnet1d:stem=4,stages=4-6-8-12-12,blocks=1,k=7"},
      {"r4", "resnet1d:stem=6,stages=6-8-12-16-24,blocks=1,k=7"},
      {"r5", "resnet1d:stem=8,stages=8-12-16-32-48,blocks=1,k=7"},
      {"r6", "resnet1d:stem=8,stages=8-16-24-48-64,blocks=1,k=7"},
      {"r7", "resnet1d:stem=12,stages=12-24-48-64-128,blocks=1,k=7"},
      {"r8", "resnet1d:stem=12,stages=12-24-48-96-192-192,blocks=1,k=7"},
      {"r9", "resnet1d:stem=12,stages=12-24-48-96-192-384,blocks=1,k=7"},
  };
  return rungs;
}

const std::vector<LadderRung>& mlp_ladder() {
  static const std::vector<LadderRung> rungs = {
      {"m1", "mlp:hidden=4"},
      {"m2", "mlp:hidden=12"},
      {"m3", "mlp:hidden=32"},
      {"m4", "mlp:hidden=64-64"},
      {"m5", "mlp:hidden=160-128"},
      {"m6", "mlp:hidden=384-256"},
      {"m7", "mlp:hidden=1024-512-256"},
  };
  return rungs;
}

std::string resolve_spec(const std::string& name_or_spec) {
  if (name_or_spec.find(':') != std::string::npos) return name_or_spec;
  // "r6,spectral=16": a rung and overrides.
  const size_t comma = name_or_spec.find(',');
  const std::string name = name_or_spec.substr(0, comma);
  const LadderRung* rung = nullptr;
  for (const auto* ladder : {&resnet_ladder(), &mlp_ladder()})
    for (const auto& r : *ladder)
      if (r.name == name) rung = &r;
  if (!rung) {
    if (name_or_spec == "resnet1d" || name_or_spec == "mlp") return name_or_spec;  // parse explains
    throw Error(kWhere, fmt::format("unknown rung '{}' (expected r1..r{}, m1..m{} or a spec)", name,
                                    resnet_ladder().size(), mlp_ladder().size()));
  }
  if (comma == std::string::npos) return rung->spec;
  const size_t colon = rung->spec.find(':');
  std::vector<std::string> items = split(rung->spec.substr(colon + 1), ',');
  for (const auto& o : split(name_or_spec.substr(comma + 1), ',')) {
    const std::string key = o.substr(0, o.find('='));
    bool replaced = false;
    for (auto& item : items)
      if (item.substr(0, item.find('=')) == key) {
        item = o;
        replaced = true;
      }
    if (!replaced) items.push_back(o);
  }
  std::string out = rung->spec.substr(0, colon + 1);
  for (size_t i = 0; i < items.size(); ++i) out += (i ? "," : "") + items[i];
  return out;
}

}  // namespace ppgkd
