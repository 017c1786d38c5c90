#include "common/progress.h"

#include <unistd.h>

#include <cstdio>

namespace ppgkd {

std::string format_duration(double s) {
  if (s < 0) s = 0;
  long t = static_cast<long>(s + 0.5);
  char buf[32];
  if (t >= 3600)
    std::snprintf(buf, sizeof buf, "%ldh%02ldm", t / 3600, (t / 60) % 60);
  else if (t >= 60)
    std::snprintf(buf, sizeof buf, "%ldm%02lds", t / 60, t % 60);
  else
    std::snprintf(buf, sizeof buf, "%lds", t);
  return buf;
}

Progress::Progress(std::string label, size_t total)
    : label_(std::move(label)),
      total_(total),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_ - std::chrono::seconds(10)),
      tty_(::isatty(2)) {}

void Progress::update(size_t done, const std::string& extra) {
  auto now = std::chrono::steady_clock::now();
  // Off a terminal (logs, CI), draw rarely so logs stay readable.
  auto min_gap = tty_ ? std::chrono::milliseconds(200) : std::chrono::milliseconds(10000);
  if (now - last_draw_ < min_gap) return;
  last_draw_ = now;
  draw(done, extra, false);
}

void Progress::finish(const std::string& extra) { draw(total_, extra, true); }

void Progress::draw(size_t done, const std::string& extra, bool final) {
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  double frac = total_ ? static_cast<double>(done) / total_ : 1.0;
  double eta = frac > 0 ? elapsed * (1 - frac) / frac : 0;
  const int width = 24;
  int filled = static_cast<int>(frac * width);
  std::string bar(filled, '#');
  bar += std::string(width - filled, '.');
  std::fprintf(stderr, "%s%s [%s] %zu/%zu %s %s %s%s", tty_ ? "\r\033[K" : "", label_.c_str(),
               bar.c_str(), done, total_, format_duration(elapsed).c_str(),
               final ? "done" : ("eta " + format_duration(eta)).c_str(), extra.c_str(),
               (final || !tty_) ? "\n" : "");
  std::fflush(stderr);
}

}  // namespace ppgkd
