// The sweep report's figures: line plots with a log-x option and optional fitted curves, drawn by
// gnuplot (pngcairo) from data files written beside the script. Not here: what the lines mean
// (sweep_report.cpp decides) or running gnuplot (gnuplot.h).
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace ppgkd {

struct PlotSeries {
  std::string label;
  std::vector<std::pair<double, double>> points;  // (x, y), drawn as points joined by lines
  std::string curve;  // optional gnuplot expression in x drawn dashed (a fitted law), "" = none
};

struct LinePlot {
  std::string title, xlabel, ylabel;
  bool log_x = true;
  bool zero_line = false;  // a horizontal line at y = 0 (gains)
  std::vector<PlotSeries> series;
};

// Writes STEM.gp, STEM-i.dat and STEM.png in `dir`; returns the PNG's file name.
// Throws Error (gnuplot.h) when gnuplot fails.
std::string draw_line_plot(const std::string& dir, const std::string& stem, const LinePlot& plot);

}  // namespace ppgkd
