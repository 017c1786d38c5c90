// The synthetic window stream (see stream.h): chunk generation, the prefetching worker and the
// random-access read that makes a resumed run see the same windows.
#include "data/synthetic/stream.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>

#include "common/error.h"
#include "data/synthetic/synthetic.h"

namespace ppgkd {

namespace {

uint64_t mix(uint64_t x) {  // splitmix64's finaliser
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// A tiny portable generator for the per-chunk draws and the shuffle (std::shuffle and the
// std:: distributions differ between standard libraries).
struct Draws {
  uint64_t state;
  uint64_t next() { return state = mix(state); }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  size_t below(size_t n) { return static_cast<size_t>(uniform() * n); }
};

size_t windows_per_recording(const SyntheticStreamConfig& cfg, double fs) {
  return windows_that_fit(static_cast<size_t>(std::lround(cfg.duration_s * fs)), fs);
}

}  // namespace

nlohmann::json SyntheticStreamConfig::to_json() const {
  return {{"seed", seed},
          {"recordings_per_chunk", recordings_per_chunk},
          {"duration_s", duration_s},
          {"motion_scale", {motion_scale_lo, motion_scale_hi}},
          {"noise_scale", {noise_scale_lo, noise_scale_hi}},
          {"rates", rates}};
}

void SyntheticStreamConfig::validate() const {
  auto bad = [](const std::string& what) { throw Error("synthetic stream", what); };
  if (recordings_per_chunk < 1)
    bad(fmt::format("recordings_per_chunk must be >= 1, got {}", recordings_per_chunk));
  if (!(duration_s >= kWindowSeconds))
    bad(fmt::format("duration_s must be >= {}, got {}", kWindowSeconds, duration_s));
  if (!(motion_scale_lo >= 0 && motion_scale_hi >= motion_scale_lo))
    bad(fmt::format("motion_scale range [{}, {}] is invalid", motion_scale_lo, motion_scale_hi));
  if (!(noise_scale_lo > 0 && noise_scale_hi >= noise_scale_lo))
    bad(fmt::format("noise_scale range [{}, {}] is invalid", noise_scale_lo, noise_scale_hi));
  if (rates.empty()) bad("rates must not be empty");
  for (double fs : rates)
    if (windows_per_recording(*this, fs) != windows_per_recording(*this, rates[0]))
      bad(fmt::format("duration_s {} gives a different window count at {} Hz than at {} Hz",
                      duration_s, fs, rates[0]));
}

SyntheticStream::SyntheticStream(const SyntheticStreamConfig& cfg, const PreprocessConfig& pp,
                                 int prefetch_chunks)
    : cfg_(cfg), pp_(pp), prefetch_(std::max(0, prefetch_chunks)) {
  cfg_.validate();
  pp_.validate();
  channels_ = pp_.channels();
  length_ = pp_.length();
  per_chunk_ = cfg_.recordings_per_chunk * windows_per_recording(cfg_, cfg_.rates[0]);
  if (prefetch_ > 0) thread_ = std::thread([this] { worker(); });
}

SyntheticStream::~SyntheticStream() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::shared_ptr<const SyntheticStream::Chunk> SyntheticStream::make_chunk(uint64_t c) {
  const auto t0 = std::chrono::steady_clock::now();
  Draws d{mix(mix(cfg_.seed) ^ mix(c + 0x5eedull))};
  SyntheticConfig sc;
  sc.seed = d.next();
  sc.subjects = cfg_.recordings_per_chunk;
  sc.recordings_per_subject = 1;
  sc.duration_s = cfg_.duration_s;
  sc.motion_scale =
      cfg_.motion_scale_lo + (cfg_.motion_scale_hi - cfg_.motion_scale_lo) * d.uniform();
  sc.noise_scale = cfg_.noise_scale_lo *
                   std::exp(std::log(cfg_.noise_scale_hi / cfg_.noise_scale_lo) * d.uniform());
  sc.fs = cfg_.rates[d.below(cfg_.rates.size())];
  const WindowSet ws = make_windows(make_synthetic(sc), pp_);
  if (ws.size() != per_chunk_)
    throw Error("synthetic stream",
                fmt::format("chunk {} has {} windows, expected {}", c, ws.size(), per_chunk_));
  // Shuffle so a batch mixes recordings rather than taking overlapping neighbours of one.
  std::vector<size_t> order(per_chunk_);
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[d.below(i)]);
  auto ch = std::make_shared<Chunk>();
  const size_t row = static_cast<size_t>(channels_) * length_;
  ch->x.resize(per_chunk_ * row);
  ch->hr.resize(per_chunk_);
  for (size_t i = 0; i < per_chunk_; ++i) {
    std::memcpy(ch->x.data() + i * row, ws.window_ptr(order[i]), row * sizeof(float));
    ch->hr[i] = ws.hr[order[i]];
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::lock_guard<std::mutex> lk(mu_);
  stats_.chunks += 1;
  stats_.windows += per_chunk_;
  stats_.generate_seconds += s;
  return ch;
}

void SyntheticStream::worker() {
  std::unique_lock<std::mutex> lk(mu_);
  while (!stop_) {
    uint64_t c = 0;
    bool found = false;
    for (uint64_t k = want_; k < want_ + static_cast<uint64_t>(prefetch_) && !found; ++k)
      if (!ready_.count(k) && !in_progress_.count(k)) c = k, found = true;
    if (!found) {
      cv_.wait(lk);
      continue;
    }
    in_progress_[c] = true;
    lk.unlock();
    std::shared_ptr<const Chunk> ch;
    std::exception_ptr err;
    try {
      ch = make_chunk(c);
    } catch (...) {
      err = std::current_exception();
    }
    lk.lock();
    in_progress_.erase(c);
    if (err) {
      error_ = err;  // get() rethrows it; the worker stops
      cv_.notify_all();
      return;
    }
    if (c >= want_) ready_[c] = std::move(ch);
    cv_.notify_all();
  }
}

std::shared_ptr<const SyntheticStream::Chunk> SyntheticStream::chunk(uint64_t c) {
  std::unique_lock<std::mutex> lk(mu_);
  want_ = c;
  ready_.erase(ready_.begin(), ready_.lower_bound(c));
  if (auto it = ready_.find(c); it != ready_.end()) {
    auto ch = it->second;
    cv_.notify_all();  // a chunk was consumed: the worker may run further ahead
    return ch;
  }
  if (prefetch_ == 0) {
    lk.unlock();
    auto ch = make_chunk(c);
    lk.lock();
    ready_[c] = ch;
    return ch;
  }
  cv_.notify_all();
  const auto t0 = std::chrono::steady_clock::now();
  cv_.wait(lk, [&] { return ready_.count(c) > 0 || error_; });
  if (error_) std::rethrow_exception(error_);
  stats_.wait_seconds +=
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return ready_.at(c);
}

void SyntheticStream::get(uint64_t first, size_t n, float* x, float* hr) {
  const size_t row = static_cast<size_t>(channels_) * length_;
  size_t done = 0;
  while (done < n) {
    const uint64_t i = first + done;
    const uint64_t c = i / per_chunk_;
    const size_t k = static_cast<size_t>(i % per_chunk_);
    const size_t take = std::min(n - done, per_chunk_ - k);
    auto ch = chunk(c);
    std::memcpy(x + done * row, ch->x.data() + k * row, take * row * sizeof(float));
    std::memcpy(hr + done, ch->hr.data() + k, take * sizeof(float));
    done += take;
  }
}

SyntheticStream::Stats SyntheticStream::stats() const {
  std::lock_guard<std::mutex> lk(mu_);
  return stats_;
}

}  // namespace ppgkd
