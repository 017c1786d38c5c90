#include "analysis/sweep_plots.h"

#include <fmt/format.h>

#include "analysis/gnuplot.h"
#include "common/atomic_file.h"

namespace ppgkd {

std::string draw_line_plot(const std::string& dir, const std::string& stem, const LinePlot& p) {
  std::string gp = "set terminal pngcairo size 900,600 noenhanced\n";
  gp += "set output " + gnuplot_quote(dir + "/" + stem + ".png") + "\n";
  gp += "set title " + gnuplot_quote(p.title) + "\n";
  gp += "set xlabel " + gnuplot_quote(p.xlabel) + "\nset ylabel " + gnuplot_quote(p.ylabel) + "\n";
  gp += "set grid\nset key outside right top\nset samples 400\n";
  if (p.log_x) gp += "set logscale x\nset format x '1e%L'\n";
  std::string plots;
  for (size_t i = 0; i < p.series.size(); ++i) {
    const auto& s = p.series[i];
    std::string dat;
    for (const auto& [x, y] : s.points) dat += fmt::format("{:.10g} {:.10g}\n", x, y);
    const std::string dat_path = dir + "/" + stem + "-" + std::to_string(i) + ".dat";
    write_file_atomic(dat_path, dat);
    const int color = static_cast<int>(i % 8) + 1;
    plots += (plots.empty() ? "" : ", \\\n  ") + gnuplot_quote(dat_path) +
             fmt::format(" using 1:2 with linespoints lc {} pt 7 title ", color) +
             gnuplot_quote(s.label);
    if (!s.curve.empty())
      plots += fmt::format(", \\\n  {} with lines lc {} dt 2 notitle", s.curve, color);
  }
  if (p.zero_line) plots += ", \\\n  0 with lines lc rgb 'black' notitle";
  if (plots.empty()) plots = "NaN notitle";
  gp += "plot " + plots + "\n";
  run_gnuplot(dir + "/" + stem + ".gp", gp, dir + "/" + stem + ".png");
  return stem + ".png";
}

}  // namespace ppgkd
