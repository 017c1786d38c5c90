// Causal stream windowing (see stream_windows.h). The resampler is run over a moving segment of
// the raw buffer that starts on a multiple of q and reaches back far enough that every output
// taken from it sums exactly the taps, in the same order, as the offline resample_poly over the
// whole recording: that is what makes the windows bit-identical.
#include "decode/stream_windows.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "common/error.h"
#include "data/dsp/resample.h"
#include "data/dsp/standardise.h"

namespace ppgkd {

namespace {
constexpr const char* kWhere = "stream";
// Buffers are trimmed in blocks, so the front erase is amortised over many samples.
constexpr size_t kTrimBlock = 4096;
}  // namespace

StreamWindower::StreamWindower(const PreprocessConfig& cfg, double fs_in, int ppg_channels,
                               bool has_acc)
    : cfg_(cfg), fs_in_(fs_in), ppg_channels_(ppg_channels), has_acc_(has_acc) {
  cfg_.validate();
  if (!cfg_.causal) throw Error(kWhere, "streaming needs causal filters (causal = true)");
  if (ppg_channels < 1) throw Error(kWhere, "the stream has no PPG channel");
  if (cfg_.ppg_channel != "mean") {
    ppg_index_ = std::stoi(cfg_.ppg_channel);
    if (ppg_index_ >= ppg_channels)
      throw Error(kWhere, fmt::format("PPG channel {} requested but the stream has {}", ppg_index_,
                                      ppg_channels));
  }
  try {
    rational_ratio(fs_in, cfg_.fs, &p_, &q_);
  } catch (const Error& e) {
    throw Error(kWhere, e.problem());
  }
  // resample_poly's filter half length (kHalfLenPerFactor = 10 upsampled-rate taps per factor).
  half_ = (p_ == 1 && q_ == 1) ? 0 : 10 * std::max(p_, q_);
  step_n_ = static_cast<size_t>(std::lround(cfg_.step_s * fs_in));
  len_n_ = static_cast<size_t>(std::lround(cfg_.window_s * fs_in));
  const size_t used = 1 + ((cfg_.inputs == "ppg+acc" && has_acc_) ? 3 : 0);
  raw_.resize(used);
  out_.resize(used);
  last_finite_.assign(used, 0.0f);
  const Sos band = butter_bandpass(cfg_.band_order, cfg_.band_lo_hz, cfg_.band_hi_hz, cfg_.fs);
  filters_.emplace_back(band);
  if (used > 1) {
    const Sos high = butter_highpass(cfg_.acc_order, cfg_.acc_highpass_hz, cfg_.fs);
    for (int a = 0; a < 3; ++a) filters_.emplace_back(high);
  }
}

void StreamWindower::push(const float* const* ppg, const float* const* acc, size_t n) {
  if (finished_) throw Error(kWhere, "samples pushed after finish()");
  const size_t used = raw_.size();
  for (size_t i = 0; i < n; ++i) {
    // The PPG value exactly as preprocess.cpp forms it (float sum in channel order, then divide).
    float v;
    bool finite = true;
    if (ppg_index_ >= 0) {
      v = ppg[ppg_index_][i];
      finite = std::isfinite(v);
    } else {
      v = 0.0f;
      for (int c = 0; c < ppg_channels_; ++c) {
        v += ppg[c][i];
        finite = finite && std::isfinite(ppg[c][i]);
      }
      v /= static_cast<float>(ppg_channels_);
    }
    float vals[4] = {v, 0, 0, 0};
    for (size_t a = 1; a < used; ++a) {
      vals[a] = acc[a - 1][i];
      finite = finite && std::isfinite(vals[a]);
    }
    if (!finite) bad_.push_back(n_raw_);
    for (size_t c = 0; c < used; ++c) {
      if (std::isfinite(vals[c])) {
        last_finite_[c] = vals[c];
      } else {
        vals[c] = last_finite_[c];  // causal stand-in for the offline interpolation
      }
      raw_[c].push_back(vals[c]);
    }
    ++n_raw_;
  }
  advance(false);
}

void StreamWindower::finish() {
  if (finished_) return;
  finished_ = true;
  advance(true);
}

bool StreamWindower::pop(StreamWindow* w) {
  if (ready_.empty()) return false;
  *w = std::move(ready_.front());
  ready_.pop_front();
  return true;
}

void StreamWindower::resample_channel(size_t ch, long long j_end) {
  const long long j0 = n_out_;
  if (j_end <= j0) return;
  std::vector<float> fresh;
  fresh.reserve(static_cast<size_t>(j_end - j0));
  const std::vector<float>& raw = raw_[ch];
  if (p_ == 1 && q_ == 1) {
    for (long long j = j0; j < j_end; ++j) fresh.push_back(raw[static_cast<size_t>(j) - raw_base_]);
  } else {
    // First input the output j0 reads (offline: k_lo = ceil((j0*q - half) / p)), rounded down to
    // a multiple of q so the segment's outputs fall on the global output grid.
    const long long m = j0 * q_ - half_;
    const long long k_lo = m <= 0 ? 0 : (m + p_ - 1) / p_;
    const long long s = (k_lo / q_) * q_;
    if (static_cast<size_t>(s) < raw_base_)
      throw Error(kWhere, "internal: raw buffer trimmed too far");
    std::vector<float> seg(raw.begin() + (s - static_cast<long long>(raw_base_)), raw.end());
    const std::vector<float> y = resample_poly(seg, p_, q_, ResampleEdge::kHold);
    const long long off = (s / q_) * p_;
    if (j_end - 1 - off >= static_cast<long long>(y.size()))
      throw Error(kWhere, "internal: resampled segment too short");
    for (long long j = j0; j < j_end; ++j) fresh.push_back(y[static_cast<size_t>(j - off)]);
  }
  SosFilter& f = filters_[ch];
  for (size_t i = 0; i < fresh.size(); ++i) {
    if (j0 + static_cast<long long>(i) == 0) f.prime(fresh[i]);
    out_[ch].push_back(f.step(fresh[i]));
  }
}

void StreamWindower::advance(bool at_end) {
  // Resampled outputs whose every input has arrived (all of them at the end, with the last
  // sample held beyond it, as resample_poly's kHold does offline).
  const long long total = (static_cast<long long>(n_raw_) * p_ + q_ - 1) / q_;
  long long j_end;
  if (at_end) {
    j_end = total;
  } else {
    const long long top = static_cast<long long>(n_raw_) * p_ - 1 - half_;
    j_end = top < 0 ? 0 : std::min(total, top / q_ + 1);
  }
  for (size_t c = 0; c < raw_.size(); ++c) resample_channel(c, j_end);
  n_out_ = std::max(n_out_, j_end);

  const size_t C = static_cast<size_t>(cfg_.channels()), L = static_cast<size_t>(cfg_.length());
  for (;;) {
    const size_t start_n = static_cast<size_t>(next_window_) * step_n_;
    if (start_n + len_n_ > n_raw_) break;
    const size_t start = static_cast<size_t>(std::llround(start_n * cfg_.fs / fs_in_));
    if (static_cast<long long>(start + L) > n_out_) break;  // at the end: past the signal, never
    StreamWindow w;
    w.index = next_window_;
    w.t_start_s = next_window_ * cfg_.step_s;
    w.t_end_s = w.t_start_s + cfg_.window_s;
    auto it = std::lower_bound(bad_.begin(), bad_.end(), start_n);
    w.finite = it == bad_.end() || *it >= start_n + len_n_;
    w.x.assign(C * L, 0.0f);
    for (size_t c = 0; c < C && c < out_.size(); ++c) {
      const float* src = out_[c].data() + (start - out_base_);
      std::copy(src, src + L, w.x.begin() + c * L);
    }
    for (size_t c = 0; c < C; ++c) standardise(w.x.data() + c * L, L);
    ready_.push_back(std::move(w));
    ++next_window_;
  }

  // Trim what no future window or resampled output can read.
  const size_t next_start_n = static_cast<size_t>(next_window_) * step_n_;
  const size_t next_start = static_cast<size_t>(std::llround(next_start_n * cfg_.fs / fs_in_));
  const long long m = n_out_ * q_ - half_;
  const long long k_lo = m <= 0 ? 0 : (m + p_ - 1) / p_;
  const size_t keep_raw = std::min(next_start_n, static_cast<size_t>((k_lo / q_) * q_));
  if (keep_raw > raw_base_ + kTrimBlock) {
    for (auto& r : raw_) r.erase(r.begin(), r.begin() + (keep_raw - raw_base_));
    raw_base_ = keep_raw;
    bad_.erase(bad_.begin(), std::lower_bound(bad_.begin(), bad_.end(), keep_raw));
  }
  if (next_start > out_base_ + kTrimBlock && next_start <= out_base_ + out_[0].size()) {
    for (auto& o : out_) o.erase(o.begin(), o.begin() + (next_start - out_base_));
    out_base_ = next_start;
  }
}

}  // namespace ppgkd
