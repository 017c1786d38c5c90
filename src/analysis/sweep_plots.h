// The sweep report's figures: line plots with a log-x option, optional fitted curves and shaded
// intervals, drawn by gnuplot as PNG (pngcairo) and SVG from data files written beside the
// script. Not here: what the lines mean (sweep_figures.cpp decides) or running gnuplot
// (gnuplot.h).
#pragma once

#include <array>
#include <string>
#include <utility>
#include <vector>

namespace ppgkd {

struct PlotSeries {
  std::string label;
  std::vector<std::pair<double, double>> points;  // (x, y), drawn as points joined by lines
  std::string curve;  // optional gnuplot expression in x drawn dashed (a fitted law), "" = none
  std::vector<std::array<double, 3>> band;  // optional (x, lo, hi), shaded in the series' colour
  std::string color;                        // "#rrggbb"; "" = a palette colour by position
  int marker = 0;  // index into the marker list (one per teacher); 0 = filled circle
};

struct LinePlot {
  std::string title, xlabel, ylabel;
  bool log_x = true;
  bool zero_line = false;  // a horizontal line at y = 0 (gains)
  std::vector<PlotSeries> series;
};

// The colour of a distillation strategy, the same in every figure: scratch ("none") black, then
// hard, soft, dkd and feature in four distinct colours; any other label a further palette colour
// chosen by its name.
std::string strategy_color(const std::string& strategy);

// Writes STEM.gp, STEM-i.dat (and STEM-i-band.dat), STEM.png and STEM.svg in `dir`; returns the
// PNG's file name. Throws Error (gnuplot.h) when gnuplot fails or an image is missing.
std::string draw_line_plot(const std::string& dir, const std::string& stem, const LinePlot& plot);

}  // namespace ppgkd
