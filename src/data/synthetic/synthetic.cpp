// The synthetic dataset generator (see synthetic.h for the signal model). One pass per recording
// over the samples: trajectories are advanced sample by sample, phases are integrated from them,
// and the PPG and accelerometer are assembled from the phases. Not here: resampling, filtering,
// windowing for training (preprocess does that as for any reader).
#include "data/synthetic/synthetic.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <complex>
#include <random>
#include <string>
#include <vector>

#include "common/error.h"

namespace ppgkd {
namespace {

constexpr double kTwoPi = 6.283185307179586476925286766559;
constexpr double kMinHrBpm = 50;
constexpr double kMaxHrBpm = 190;

// ---------------------------------------------------------------------------- random numbers
// mt19937_64's output sequence is fixed by the C++ standard but std::*_distribution is not, so
// uniform and normal variates are made here: a seed gives the same data with any standard library.
class Rng {
 public:
  explicit Rng(uint64_t seed) : eng_(seed) {}
  double uniform() { return static_cast<double>(eng_() >> 11) * 0x1.0p-53; }  // [0, 1)
  double uniform(double a, double b) { return a + (b - a) * uniform(); }
  double log_uniform(double a, double b) { return std::exp(uniform(std::log(a), std::log(b))); }
  double normal() {  // Marsaglia's polar method (no trigonometry); the second variate is kept
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u, v, q;
    do {
      u = uniform(-1, 1);
      v = uniform(-1, 1);
      q = u * u + v * v;
    } while (q >= 1 || q == 0);
    const double r = std::sqrt(-2 * std::log(q) / q);
    spare_ = v * r;
    has_spare_ = true;
    return u * r;
  }

 private:
  std::mt19937_64 eng_;
  double spare_ = 0;
  bool has_spare_ = false;
};

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Independent streams per (subject, recording) so a recording does not depend on how many others
// were generated before it. Recording 0 is the subject's own parameter stream.
uint64_t stream_seed(uint64_t seed, uint64_t subject, uint64_t recording) {
  return splitmix64(splitmix64(splitmix64(seed) ^ subject) ^ (recording << 32));
}

// ---------------------------------------------------------------------------- slow variations
// A zero-mean random slow signal: four sinusoids with random frequencies in [f_lo, f_hi] and
// random phases, of total standard deviation `sd`. Advanced one sample at a time by rotating
// phasors, which costs a complex multiply per sinusoid instead of a sin().
class SlowWave {
 public:
  SlowWave(Rng& rng, double f_lo, double f_hi, double sd, double fs) {
    const double amp = sd / std::sqrt(2.0);  // four sinusoids of variance amp^2 / 2 sum to sd^2
    for (int j = 0; j < 4; ++j) {
      const double f = rng.uniform(f_lo, f_hi);
      z_[j] = std::polar(amp, kTwoPi * rng.uniform());
      rot_[j] = std::polar(1.0, kTwoPi * f / fs);
    }
  }
  double next() {
    double v = 0;
    for (int j = 0; j < 4; ++j) {
      v += z_[j].imag();
      z_[j] *= rot_[j];
    }
    return v;
  }

 private:
  std::array<std::complex<double>, 4> z_, rot_;
};

double smoothstep(double x) {
  x = std::clamp(x, 0.0, 1.0);
  return x * x * (3 - 2 * x);
}

// ---------------------------------------------------------------------------- pulse shape
// A beat as two periodic Gaussian bumps (von Mises shapes, smooth across the beat boundary) in
// beat phase phi in [0, 1): systolic peak of height 1 at phase 0.25, dicrotic wave after it.
struct PulseShape {
  double sys_kappa, dic_kappa;       // concentration = 1 / (2 pi sigma)^2, sigma in beat fractions
  double dic_cos, dic_sin, dic_amp;  // cos and sin of 2 pi * the dicrotic wave's phase
  double fundamental;                // amplitude of the first harmonic of one beat

  // From c = cos(2 pi phi) and s = sin(2 pi phi), so the caller needs one sin/cos pair per sample;
  // cos(2 pi (phi - 0.25)) = s.
  double at(double c, double s) const {
    const double sys = std::exp(sys_kappa * (s - 1));
    const double dic = std::exp(dic_kappa * (c * dic_cos + s * dic_sin - 1));
    return sys + dic_amp * dic;
  }
};

PulseShape make_pulse(Rng& rng) {
  PulseShape p{};
  const double sys_sigma = rng.uniform(0.055, 0.08);
  const double dic_sigma = rng.uniform(0.08, 0.12);
  p.sys_kappa = 1 / std::pow(kTwoPi * sys_sigma, 2);
  p.dic_kappa = 1 / std::pow(kTwoPi * dic_sigma, 2);
  const double dic_phase = 0.25 + rng.uniform(0.2, 0.3);
  p.dic_cos = std::cos(kTwoPi * dic_phase);
  p.dic_sin = std::sin(kTwoPi * dic_phase);
  p.dic_amp = rng.uniform(0.25, 0.5);
  // The artefact amplitude is set relative to this, so "artefact gain 2" means the step
  // component is twice the pulse's own spectral line.
  constexpr int kN = 512;
  std::complex<double> c1 = 0;
  for (int i = 0; i < kN; ++i) {
    const double a = kTwoPi * i / kN;
    c1 += p.at(std::cos(a), std::sin(a)) * std::polar(1.0, -a);
  }
  p.fundamental = 2 * std::abs(c1) / kN;
  return p;
}

// ---------------------------------------------------------------------------- parameters
struct Subject {
  double rest_hr, max_hr;
  PulseShape pulse;
  double resp_rest_hz, resp_exercise_hz;
};

Subject make_subject(Rng& rng) {
  Subject s{};
  s.rest_hr = rng.uniform(52, 82);
  s.max_hr = rng.uniform(165, 192);
  s.pulse = make_pulse(rng);
  s.resp_rest_hz = rng.uniform(0.2, 0.28);
  s.resp_exercise_hz = rng.uniform(0.32, 0.4);
  return s;
}

// One bout of movement. The accelerometer and the PPG artefact follow a step cadence that changes
// once, smoothly, at a random time; the heart rate is pulled towards targets that change at their
// own random time. The draws are independent of each other (except that the cadence avoids the
// targets, see make_bout), so neither the cadence, the movement's amplitude nor the bout's timing
// tells the heart rate: an estimator has to find the pulse in the PPG.
struct Bout {
  double t0, t1;                    // movement spans [t0, t1], s
  double cad_a, cad_b, cad_switch;  // cadence before / after a change centred on cad_switch, Hz
  double target_a, target_b, target_switch;  // HR targets before / after target_switch, BPM
  double art_gain, acc_amp;  // PPG artefact (in pulse fundamentals), accelerometer amplitude (g)
};

struct Plan {
  std::vector<Bout> bouts;  // in time order, separated by rest
  double tau_up, tau_down;  // HR time constants towards a higher / lower target, s
  double rsa_bpm;
  double art_harm, art_ph1, art_ph2;
  double acc_harm;
  std::array<double, 3> acc_w1, acc_w2, acc_ph1, acc_ph2, gravity;
  double resp_am, resp_bl, resp_bl_ph;
  double ppg_gain, ppg_offset;
};

constexpr double kCadenceChangeS = 20;  // duration of a cadence change
constexpr double kMaxHrSlope = 2;       // BPM/s, the fastest the HR follows its target

std::array<double, 3> unit_vector(Rng& rng) {
  std::array<double, 3> v{};
  double norm = 0;
  while (norm < 1e-3) {  // rejects the (practically impossible) near-zero draw
    for (double& x : v) x = rng.normal();
    norm = std::sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
  }
  for (double& x : v) x /= norm;
  return v;
}

// A cadence in 1.5–3 Hz, redrawn while it sits within 15 BPM of either HR target, at most 8
// times, except when allow_coincide: coinciding HR and cadence happen in real data and must stay
// possible, but rarely.
double draw_cadence(Rng& rng, const Bout& b, bool allow_coincide) {
  double hz = rng.uniform(1.5, 3.0);
  const auto near = [&](double h) {
    return std::abs(60 * h - b.target_a) < 15 || std::abs(60 * h - b.target_b) < 15;
  };
  for (int i = 0; i < 8 && !allow_coincide && near(hz); ++i) hz = rng.uniform(1.5, 3.0);
  return hz;
}

Bout make_bout(Rng& rng, const Subject& s, double t0, double t1) {
  Bout b{};
  b.t0 = t0;
  b.t1 = t1;
  b.target_a = s.rest_hr + rng.uniform(0.25, 1.0) * (s.max_hr - s.rest_hr);
  b.target_b = s.rest_hr + rng.uniform(0.25, 1.0) * (s.max_hr - s.rest_hr);
  b.target_switch = t0 + (t1 - t0) * rng.uniform(0.2, 0.8);
  const bool allow_coincide = rng.uniform() < 0.1;
  b.cad_a = draw_cadence(rng, b, allow_coincide);
  b.cad_b = draw_cadence(rng, b, allow_coincide);
  b.cad_switch = t0 + (t1 - t0) * rng.uniform(0.2, 0.8);
  b.art_gain = rng.log_uniform(0.7, 3.0);
  b.acc_amp = rng.uniform(0.25, 0.8);
  return b;
}

// Rest for the first 6–15% of the recording, then 1–3 bouts covering 50–70% of it in total, each
// followed by rest; bout and rest lengths are random shares of those totals.
Plan make_plan(Rng& rng, const Subject& s, double duration) {
  Plan p{};
  const int n_bouts = 1 + static_cast<int>(rng.uniform() * 3);
  const double rest0 = duration * rng.uniform(0.06, 0.15);
  const double moving = duration * rng.uniform(0.5, 0.7);
  const double resting = duration - rest0 - moving;
  std::vector<double> move_w(n_bouts), rest_w(n_bouts);
  double move_sum = 0, rest_sum = 0;
  for (int i = 0; i < n_bouts; ++i) {
    move_sum += move_w[i] = rng.uniform(0.6, 1.4);
    rest_sum += rest_w[i] = rng.uniform(0.3, 1.0);
  }
  double t = rest0;
  for (int i = 0; i < n_bouts; ++i) {
    const double t1 = t + moving * move_w[i] / move_sum;
    p.bouts.push_back(make_bout(rng, s, t, t1));
    t = t1 + resting * rest_w[i] / rest_sum;
  }
  p.tau_up = rng.uniform(15, 35);
  p.tau_down = rng.uniform(25, 60);
  p.rsa_bpm = rng.uniform(0.5, 2);
  p.art_harm = rng.uniform(0.2, 0.6);
  p.art_ph1 = kTwoPi * rng.uniform();
  p.art_ph2 = kTwoPi * rng.uniform();
  p.acc_harm = rng.uniform(0.2, 0.6);
  p.acc_w1 = unit_vector(rng);
  p.acc_w2 = unit_vector(rng);
  for (int a = 0; a < 3; ++a) {
    p.acc_ph1[a] = kTwoPi * rng.uniform();
    p.acc_ph2[a] = kTwoPi * rng.uniform();
  }
  p.gravity = unit_vector(rng);
  p.resp_am = rng.uniform(0.05, 0.2);
  p.resp_bl = rng.uniform(0.05, 0.2);
  p.resp_bl_ph = kTwoPi * rng.uniform();
  p.ppg_gain = rng.log_uniform(0.5, 2.0);
  p.ppg_offset = rng.uniform(-2, 2);
  return p;
}

// The bout that is under way or comes next at time t (nullptr after the last one): the only one
// whose movement can be nonzero at t.
const Bout* current_bout(const Plan& p, double t) {
  for (const Bout& b : p.bouts)
    if (t < b.t1) return &b;
  return nullptr;
}

// The HR target at time t: the subject's resting HR outside bouts.
double hr_target(const Bout* b, const Subject& s, double t) {
  if (b == nullptr || t < b->t0) return s.rest_hr;
  return t < b->target_switch ? b->target_a : b->target_b;
}

double cadence_hz(const Bout& b, double t) {
  return b.cad_a + (b.cad_b - b.cad_a) * smoothstep((t - b.cad_switch) / kCadenceChangeS + 0.5);
}

// 0 at rest, 1 in motion, with smooth edges of up to 3 s inside [t0, t1].
double motion_envelope(const Bout& b, double t) {
  const double edge = std::min(3.0, (b.t1 - b.t0) / 4);
  return smoothstep((t - b.t0) / edge) * smoothstep((b.t1 - t) / edge);
}

// ---------------------------------------------------------------------------- one recording
Recording make_recording(const SyntheticConfig& cfg, const Subject& s, Rng& rng, int subject,
                         int index) {
  const double fs = cfg.fs;
  const size_t n = static_cast<size_t>(std::lround(cfg.duration_s * fs));
  const Plan p = make_plan(rng, s, cfg.duration_s);
  SlowWave hrv(rng, 0.005, 0.05, rng.uniform(1.0, 2.5), fs);
  SlowWave wander(rng, 0.01, 0.12, rng.uniform(0.1, 0.3), fs);
  SlowWave cadence_drift(rng, 0.005, 0.03, 0.04, fs);
  SlowWave art_mod(rng, 0.02, 0.2, 0.2, fs);
  const double red_a = std::exp(-kTwoPi * 1.0 / fs);  // red noise corner at 1 Hz
  const double red_in = std::sqrt(1 - red_a * red_a);
  constexpr double kWhiteSd = 0.04, kRedSd = 0.05;           // PPG, in pulse heights
  constexpr double kAccRestSd = 0.005, kAccMotionSd = 0.02;  // g

  Recording rec;
  rec.dataset = dataset::kSynthetic;
  rec.name = fmt::format("s{:02d}_r{}", subject + 1, index + 1);
  rec.subject = fmt::format("{}/s{:02d}", dataset::kSynthetic, subject + 1);
  rec.path = fmt::format("synthetic:{}", cfg.seed);
  rec.label_path = rec.path;
  rec.fs = fs;
  rec.ppg.assign(1, std::vector<float>(n));
  rec.acc.assign(3, std::vector<float>(n));
  std::vector<double> hr(n);

  double beat_phase = rng.uniform(), resp_phase = kTwoPi * rng.uniform();
  double step_phase = kTwoPi * rng.uniform(), red = 0;
  double base = s.rest_hr;  // HR before variability, following the targets
  // sin(x + a) = sin x cos a + cos x sin a: with the fixed offsets' cos and sin precomputed, one
  // sin/cos pair per phase and sample gives every component.
  const double art_c1 = std::cos(p.art_ph1), art_s1 = std::sin(p.art_ph1);
  const double art_c2 = std::cos(p.art_ph2), art_s2 = std::sin(p.art_ph2);
  const double bl_c = std::cos(p.resp_bl_ph), bl_s = std::sin(p.resp_bl_ph);
  std::array<double, 3> acc_c1, acc_s1, acc_c2, acc_s2;
  for (int a = 0; a < 3; ++a) {
    acc_c1[a] = std::cos(p.acc_ph1[a]);
    acc_s1[a] = std::sin(p.acc_ph1[a]);
    acc_c2[a] = std::cos(p.acc_ph2[a]);
    acc_s2[a] = std::sin(p.acc_ph2[a]);
  }
  for (size_t i = 0; i < n; ++i) {
    const double t = i / fs;
    const double rs = std::sin(resp_phase), rc = std::cos(resp_phase);
    const Bout* bout = current_bout(p, t);
    const double effort = std::clamp((base - s.rest_hr) / (s.max_hr - s.rest_hr), 0.0, 1.0);
    // RSA fades with effort, as vagal tone does.
    hr[i] = std::clamp(base + hrv.next() + p.rsa_bpm * (1 - effort) * rs, kMinHrBpm, kMaxHrBpm);
    const double env = bout ? motion_envelope(*bout, t) : 0.0;
    const double cad = (bout ? cadence_hz(*bout, t) : 2.0) + cadence_drift.next();
    const double art_amp = bout ? cfg.motion_scale * bout->art_gain * s.pulse.fundamental : 0.0;
    const double acc_amp = bout ? bout->acc_amp : 0.0;
    const double mod = std::max(0.2, 1 + art_mod.next());
    red = red_a * red + red_in * kRedSd * rng.normal();
    const double s1 = std::sin(step_phase), c1 = std::cos(step_phase);
    const double s2 = 2 * s1 * c1, c2 = c1 * c1 - s1 * s1;

    const double pulse = s.pulse.at(std::cos(kTwoPi * beat_phase), std::sin(kTwoPi * beat_phase));
    double ppg = pulse * (1 + p.resp_am * rs) + p.resp_bl * (rs * bl_c + rc * bl_s) + wander.next();
    ppg += art_amp * env * mod *
           (s1 * art_c1 + c1 * art_s1 + p.art_harm * (s2 * art_c2 + c2 * art_s2));
    ppg += cfg.noise_scale * (kWhiteSd * rng.normal() + red);
    rec.ppg[0][i] = static_cast<float>(p.ppg_gain * ppg + p.ppg_offset);

    const double acc_sd = cfg.noise_scale * (kAccRestSd + kAccMotionSd * env);
    for (int a = 0; a < 3; ++a) {
      const double move = p.acc_w1[a] * (s1 * acc_c1[a] + c1 * acc_s1[a]) +
                          p.acc_harm * p.acc_w2[a] * (s2 * acc_c2[a] + c2 * acc_s2[a]);
      rec.acc[a][i] =
          static_cast<float>(p.gravity[a] + acc_amp * env * mod * move + acc_sd * rng.normal());
    }

    // Phases and the HR advance after the sample, so sample i shows the phase integrated up to t.
    const double target = hr_target(bout, s, t);
    const double tau = target > base ? p.tau_up : p.tau_down;
    base += std::clamp((target - base) / tau, -kMaxHrSlope, kMaxHrSlope) / fs;
    const double resp_hz = s.resp_rest_hz + (s.resp_exercise_hz - s.resp_rest_hz) * effort;
    beat_phase += hr[i] / 60 / fs;
    beat_phase -= std::floor(beat_phase);
    resp_phase = std::fmod(resp_phase + kTwoPi * resp_hz / fs, kTwoPi);
    step_phase = std::fmod(step_phase + kTwoPi * cad / fs, kTwoPi);
  }

  // Labels: the exact mean of the trajectory over each window's samples, via prefix sums.
  std::vector<double> prefix(n + 1, 0.0);
  for (size_t i = 0; i < n; ++i) prefix[i + 1] = prefix[i] + hr[i];
  const size_t len = static_cast<size_t>(std::lround(kWindowSeconds * fs));
  const size_t step = static_cast<size_t>(std::lround(kStepSeconds * fs));
  const size_t count = windows_that_fit(n, fs);
  rec.windows.resize(count);
  for (size_t k = 0; k < count; ++k) {
    rec.windows[k].index = static_cast<int>(k);
    rec.windows[k].t_start_s = k * kStepSeconds;
    rec.windows[k].hr_bpm = (prefix[k * step + len] - prefix[k * step]) / len;
  }
  return rec;
}

void check_config(const SyntheticConfig& cfg) {
  const char* where = "synthetic";
  if (cfg.subjects < 1)
    throw Error(where, fmt::format("subjects must be at least 1, got {}", cfg.subjects));
  if (cfg.recordings_per_subject < 1)
    throw Error(where, fmt::format("recordings_per_subject must be at least 1, got {}",
                                   cfg.recordings_per_subject));
  // 20 Hz keeps the step harmonic (up to 6 Hz) and the pulse shape below Nyquist.
  if (!(cfg.fs >= 20)) throw Error(where, fmt::format("fs must be at least 20 Hz, got {}", cfg.fs));
  if (!(cfg.duration_s >= kWindowSeconds))
    throw Error(where, fmt::format("duration_s must be at least {} s (one window), got {}",
                                   kWindowSeconds, cfg.duration_s));
  if (!(cfg.motion_scale >= 0))
    throw Error(where, fmt::format("motion_scale must be non-negative, got {}", cfg.motion_scale));
  if (!(cfg.noise_scale >= 0))
    throw Error(where, fmt::format("noise_scale must be non-negative, got {}", cfg.noise_scale));
}

}  // namespace

// ---------------------------------------------------------------------------- public API
std::vector<Recording> make_synthetic(const SyntheticConfig& cfg) {
  check_config(cfg);
  std::vector<Recording> out;
  out.reserve(static_cast<size_t>(cfg.subjects) * cfg.recordings_per_subject);
  for (int s = 0; s < cfg.subjects; ++s) {
    Rng subject_rng(stream_seed(cfg.seed, s, 0));
    const Subject subject = make_subject(subject_rng);
    for (int r = 0; r < cfg.recordings_per_subject; ++r) {
      Rng rng(stream_seed(cfg.seed, s, r + 1));
      out.push_back(make_recording(cfg, subject, rng, s, r));
    }
  }
  return out;
}

bool synthetic_window_in_motion(const Recording& rec, double t_start_s) {
  if (rec.acc.size() != 3)
    throw Error(rec.path, fmt::format("recording {} has no 3-axis accelerometer", rec.name));
  const long start = std::lround(t_start_s * rec.fs);
  const long len = std::lround(kWindowSeconds * rec.fs);
  const long n = static_cast<long>(rec.acc[0].size());
  if (start < 0 || start + len > n)
    throw Error(rec.path, fmt::format("window at {} s does not fit in recording {} ({} s)",
                                      t_start_s, rec.name, n / rec.fs));
  double power = 0;  // sum over axes of the variance about the window mean
  for (const auto& axis : rec.acc) {
    double sum = 0, sum2 = 0;
    for (long i = start; i < start + len; ++i) sum += axis[i];
    const double mean = sum / len;
    for (long i = start; i < start + len; ++i) sum2 += (axis[i] - mean) * (axis[i] - mean);
    power += sum2 / len;
  }
  return std::sqrt(power) > kMotionAccRmsG;
}

}  // namespace ppgkd
