// The spectral peak tracker (see spectral.h for the method).
#include "baseline/spectral.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "baseline/periodogram.h"
#include "common/error.h"

namespace ppgkd {

SpectralConfig spectral_plain_config() {
  SpectralConfig cfg;
  cfg.track = false;
  cfg.use_acc = false;
  return cfg;
}

SpectralTracker::SpectralTracker(double fs, size_t window_len, const SpectralConfig& cfg)
    : fs_(fs), len_(window_len), cfg_(cfg) {
  const char* where = "spectral";
  if (!(fs > 0) || window_len < 2)
    throw Error(where, fmt::format("need a positive rate and at least 2 samples, got {} Hz and {}",
                                   fs, window_len));
  if (!(cfg.lo_bpm > 0 && cfg.hi_bpm > cfg.lo_bpm && cfg.hi_bpm / 60 < fs / 2))
    throw Error(where, fmt::format("band [{}, {}] BPM must be increasing and inside (0, {}) BPM",
                                   cfg.lo_bpm, cfg.hi_bpm, fs / 2 * 60));
  if (!(cfg.resolution_bpm > 0))
    throw Error(where, fmt::format("resolution_bpm must be positive, got {}", cfg.resolution_bpm));
  nfft_ = periodogram_nfft(len_, fs_, cfg_.resolution_bpm);
  const double bin_bpm = fs_ * 60 / nfft_;
  k_lo_ = std::max<size_t>(1, static_cast<size_t>(std::ceil(cfg_.lo_bpm / bin_bpm)));
  k_hi_ = std::min(nfft_ / 2 - 1, static_cast<size_t>(std::floor(cfg_.hi_bpm / bin_bpm)));
}

void SpectralTracker::reset() {
  has_prev_ = false;
  prev_bpm_ = 0;
  misses_ = 0;
}

double SpectralTracker::update(const float* ppg, const float* const* acc) {
  const double bin_bpm = fs_ * 60 / nfft_;
  periodogram(ppg, len_, nfft_, &power_);
  std::vector<SpectralPeak> cands = spectral_peaks(power_, k_lo_, k_hi_);

  if (cfg_.use_acc && acc) {
    acc_power_.assign(nfft_ / 2 + 1, 0.0);
    for (int a = 0; a < 3; ++a) {
      periodogram(acc[a], len_, nfft_, &axis_power_);
      for (size_t k = 0; k < acc_power_.size(); ++k) acc_power_[k] += axis_power_[k];
    }
    // Only a peaked acc spectrum means periodic movement; at rest the acc is noise and its
    // largest bins are random places that must not knock out the pulse.
    std::vector<double> band(acc_power_.begin() + k_lo_, acc_power_.begin() + k_hi_ + 1);
    const double max_p = *std::max_element(band.begin(), band.end());
    std::nth_element(band.begin(), band.begin() + band.size() / 2, band.end());
    const double median = band[band.size() / 2];
    if (max_p > 0 && max_p >= cfg_.acc_min_prominence * median) {
      std::vector<double> motion_bpm;
      for (const SpectralPeak& pk : spectral_peaks(acc_power_, k_lo_, k_hi_))
        if (pk.power >= cfg_.acc_peak_fraction * max_p) motion_bpm.push_back(pk.bin * bin_bpm);
      auto near_motion = [&](const SpectralPeak& pk) {
        for (double m : motion_bpm)
          if (std::abs(pk.bin * bin_bpm - m) <= cfg_.acc_exclusion_bpm) return true;
        return false;
      };
      cands.erase(std::remove_if(cands.begin(), cands.end(), near_motion), cands.end());
    }
  }

  auto strongest = [&](double lo, double hi) -> const SpectralPeak* {
    const SpectralPeak* best = nullptr;
    for (const SpectralPeak& pk : cands) {
      const double bpm = pk.bin * bin_bpm;
      if (bpm >= lo && bpm <= hi && (!best || pk.power > best->power)) best = &pk;
    }
    return best;
  };

  const SpectralPeak* pick = strongest(0, 1e9);
  if (cfg_.track && has_prev_ && pick) {
    // A tiny in-range bump (a side lobe, noise) is not the pulse: it must carry a share of the
    // strongest candidate's power, or the track would wander among noise next to a clear peak.
    const SpectralPeak* near =
        strongest(prev_bpm_ - cfg_.track_radius_bpm, prev_bpm_ + cfg_.track_radius_bpm);
    if (near && near->power >= cfg_.track_min_power_ratio * pick->power) {
      pick = near;
    } else if (++misses_ < cfg_.reacquire_after) {
      pick = nullptr;  // hold the previous estimate
    }
  }
  if (pick) {
    misses_ = 0;
    prev_bpm_ = pick->bin * bin_bpm;
  } else if (!has_prev_) {
    prev_bpm_ = 0.5 * (cfg_.lo_bpm + cfg_.hi_bpm);
  }
  has_prev_ = true;
  return prev_bpm_;
}

std::vector<double> spectral_hr(const Recording& rec, const SpectralConfig& cfg) {
  if (rec.ppg.empty()) throw Error(rec.path, fmt::format("recording {} has no PPG", rec.name));
  if (!rec.acc.empty() && rec.acc.size() != 3)
    throw Error(rec.path, fmt::format("recording {} has {} acc axes, expected 3 or none", rec.name,
                                      rec.acc.size()));
  const size_t len = static_cast<size_t>(std::lround(kWindowSeconds * rec.fs));
  const size_t step = static_cast<size_t>(std::lround(kStepSeconds * rec.fs));
  const size_t n = rec.num_samples();
  for (const auto& axis : rec.acc)
    if (axis.size() != n)
      throw Error(rec.path,
                  fmt::format("recording {} has {} acc samples per axis but {} PPG samples",
                              rec.name, axis.size(), n));
  SpectralTracker tracker(rec.fs, len, cfg);
  std::vector<double> out;
  out.reserve(rec.windows.size());
  for (const WindowLabel& w : rec.windows) {
    const size_t start = static_cast<size_t>(w.index) * step;
    if (w.index < 0 || start + len > n)
      throw Error(rec.path, fmt::format("window {} of recording {} ends beyond its {} samples",
                                        w.index, rec.name, n));
    const float* acc[3] = {nullptr, nullptr, nullptr};
    if (rec.acc.size() == 3)
      for (int a = 0; a < 3; ++a) acc[a] = rec.acc[a].data() + start;
    out.push_back(tracker.update(rec.ppg[0].data() + start, rec.acc.empty() ? nullptr : acc));
  }
  return out;
}

}  // namespace ppgkd
