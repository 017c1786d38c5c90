#include "analysis/sweep_plots.h"

#include <fmt/format.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "analysis/gnuplot.h"
#include "common/atomic_file.h"
#include "common/error.h"

namespace ppgkd {
namespace {

// Colour-blind-safe palette (Okabe and Ito) after black.
constexpr std::array<const char*, 7> kPalette = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                                 "#E69F00", "#56B4E9", "#F0E442"};
// gnuplot point types: filled circle, square, triangle up, triangle down, diamond, then open ones.
constexpr std::array<int, 8> kMarkers = {7, 5, 9, 11, 13, 6, 4, 8};

bool is_svg_file(const std::string& path) {
  std::ifstream in(path);
  const std::string head((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return head.find("<svg") != std::string::npos && head.find("</svg>") != std::string::npos;
}

}  // namespace

std::string strategy_color(const std::string& strategy) {
  if (strategy == "none") return "#000000";
  if (strategy == "hard") return kPalette[0];
  if (strategy == "soft") return kPalette[1];
  if (strategy == "dkd") return kPalette[2];
  if (strategy == "feature") return kPalette[3];
  size_t h = 0;
  for (char c : strategy) h = h * 31 + static_cast<unsigned char>(c);
  return kPalette[4 + h % 3];
}

std::string draw_line_plot(const std::string& dir, const std::string& stem, const LinePlot& p) {
  std::string gp = "set title " + gnuplot_quote(p.title) + "\n";
  gp += "set xlabel " + gnuplot_quote(p.xlabel) + "\nset ylabel " + gnuplot_quote(p.ylabel) + "\n";
  gp += "set grid\nset key outside right top\nset samples 400\n";
  gp += "set style fill transparent solid 0.15 noborder\n";
  if (p.log_x) gp += "set logscale x\nset format x '1e%L'\n";
  std::string bands, lines;
  for (size_t i = 0; i < p.series.size(); ++i) {
    const auto& s = p.series[i];
    const std::string color =
        gnuplot_quote(s.color.empty() ? kPalette[i % kPalette.size()] : s.color);
    const std::string base = dir + "/" + stem + "-" + std::to_string(i);
    std::string dat;
    for (const auto& [x, y] : s.points) dat += fmt::format("{:.10g} {:.10g}\n", x, y);
    write_file_atomic(base + ".dat", dat);
    if (!s.band.empty()) {
      std::string band;
      for (const auto& [x, lo, hi] : s.band)
        band += fmt::format("{:.10g} {:.10g} {:.10g}\n", x, lo, hi);
      write_file_atomic(base + "-band.dat", band);
      bands += (bands.empty() ? "" : ", \\\n  ") + gnuplot_quote(base + "-band.dat") +
               " using 1:2:3 with filledcurves lc rgb " + color + " notitle";
    }
    lines += (lines.empty() ? "" : ", \\\n  ") + gnuplot_quote(base + ".dat") +
             fmt::format(" using 1:2 with linespoints lw 2 lc rgb {} pt {} ps 1.3 title ", color,
                         kMarkers[static_cast<size_t>(s.marker) % kMarkers.size()]) +
             gnuplot_quote(s.label);
    if (!s.curve.empty())
      lines += fmt::format(", \\\n  {} with lines lc rgb {} dt 2 notitle", s.curve, color);
  }
  if (p.zero_line) lines += ", \\\n  0 with lines lc rgb 'black' notitle";
  std::string plots = bands.empty() ? lines : bands + (lines.empty() ? "" : ", \\\n  " + lines);
  if (plots.empty()) plots = "NaN notitle";
  const std::string png = dir + "/" + stem + ".png", svg = dir + "/" + stem + ".svg";
  gp = "set terminal pngcairo size 900,600 noenhanced\nset output " + gnuplot_quote(png) + "\n" +
       gp + "plot " + plots + "\n" + "set terminal svg size 900,600 noenhanced\nset output " +
       gnuplot_quote(svg) + "\nreplot\nset output\n";
  std::error_code ec;
  std::filesystem::remove(svg, ec);  // a stale SVG must not pass for this run's
  run_gnuplot(dir + "/" + stem + ".gp", gp, png);
  if (!is_svg_file(svg)) throw Error(svg, "gnuplot did not write an SVG");
  return stem + ".png";
}

}  // namespace ppgkd
