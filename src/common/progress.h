// A one-line progress bar on stderr with rate and ETA, redrawn at most a few times a second.
#pragma once

#include <chrono>
#include <string>

namespace ppgkd {

class Progress {
 public:
  Progress(std::string label, size_t total);
  // Advances to `done` of `total`; `extra` is appended (e.g. "loss 1.23 val 4.5").
  void update(size_t done, const std::string& extra = "");
  void finish(const std::string& extra = "");

 private:
  void draw(size_t done, const std::string& extra, bool final);
  std::string label_;
  size_t total_;
  std::chrono::steady_clock::time_point start_, last_draw_;
  bool tty_;
};

std::string format_duration(double seconds);  // "1h02m", "3m05s", "12s"

}  // namespace ppgkd
