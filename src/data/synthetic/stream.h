// An endless, deterministic stream of preprocessed synthetic windows for pre-training: synthetic
// recordings (synthetic.h) are generated chunk by chunk with fresh seeds, preprocessed into
// windows in memory exactly as any reader's recordings are (preprocess.h), shuffled within their
// chunk, and never written to disk.
//
// Chunk c (0, 1, 2, ...) is `recordings_per_chunk` recordings of `duration_s` seconds from
//   seed_c = hash(seed, c), each chunk drawing its own motion_scale, noise_scale and native rate
// from the ranges below (the generator's own draws vary HR, cadence, bouts and pulse shape per
// recording). Every chunk yields the same number of windows W, so window i of the stream is
// window i mod W of chunk i / W, and any range of the stream is a pure function of (config, range):
// a resumed training run sees exactly the windows an uninterrupted one would.
//
// Generation runs ahead in a background thread (prefetch_chunks > 0); get() blocks only when the
// consumer outruns it. No libtorch.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "data/preprocess.h"

namespace ppgkd {

struct SyntheticStreamConfig {
  uint64_t seed = 1;
  int recordings_per_chunk = 8;  // distinct synthetic subjects per chunk
  double duration_s = 120;       // per recording: (duration_s - 8) / 2 + 1 windows
  double motion_scale_lo = 0.0, motion_scale_hi = 2.0;  // uniform per chunk
  double noise_scale_lo = 0.5, noise_scale_hi = 2.0;    // log-uniform per chunk
  std::vector<double> rates = {125, 50};                // native rate, one drawn per chunk

  nlohmann::json to_json() const;
  void validate() const;  // throws Error("synthetic stream", ...)
};

class SyntheticStream {
 public:
  // prefetch_chunks = 0: generate synchronously inside get().
  SyntheticStream(const SyntheticStreamConfig& cfg, const PreprocessConfig& pp,
                  int prefetch_chunks = 4);
  ~SyntheticStream();
  SyntheticStream(const SyntheticStream&) = delete;
  SyntheticStream& operator=(const SyntheticStream&) = delete;

  int channels() const { return channels_; }
  int length() const { return length_; }
  size_t windows_per_chunk() const { return per_chunk_; }

  // Windows [first, first + n) of the stream: x receives n * C * L floats (row-major (n, C, L)),
  // hr n reference BPM. Calls should move forward (chunks before `first` are dropped; asking for
  // them again regenerates them, which is correct but slow).
  void get(uint64_t first, size_t n, float* x, float* hr);

  struct Stats {
    uint64_t chunks = 0, windows = 0;  // generated so far
    double generate_seconds = 0;       // generator time (sum over chunks, any thread)
    double wait_seconds = 0;           // time get() spent waiting for the generator
    double windows_per_second() const {
      return generate_seconds > 0 ? windows / generate_seconds : 0;
    }
  };
  Stats stats() const;

 private:
  struct Chunk {
    std::vector<float> x, hr;  // (W, C, L), (W), shuffled
  };
  std::shared_ptr<const Chunk> make_chunk(uint64_t c);  // pure function of (cfg, pp, c)
  std::shared_ptr<const Chunk> chunk(uint64_t c);       // waits for / generates chunk c
  void worker();

  SyntheticStreamConfig cfg_;
  PreprocessConfig pp_;
  int channels_ = 0, length_ = 0;
  size_t per_chunk_ = 0;
  int prefetch_ = 0;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<uint64_t, std::shared_ptr<const Chunk>> ready_;
  std::map<uint64_t, bool> in_progress_;
  uint64_t want_ = 0;  // lowest chunk still needed
  bool stop_ = false;
  std::exception_ptr error_;  // a generation failure in the worker
  Stats stats_;
  std::thread thread_;
};

}  // namespace ppgkd
