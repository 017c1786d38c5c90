// Sweep figures: one fixed colour per strategy, PNG and SVG written side by side, bands and
// markers present in the gnuplot script that drew them.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <set>

#include "analysis/gnuplot.h"
#include "analysis/sweep_plots.h"
#include "test_util.h"

namespace ppgkd {
namespace {

std::string read(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(SweepPlots, EachStrategyHasItsOwnFixedColour) {
  const std::set<std::string> colors = {strategy_color("none"), strategy_color("hard"),
                                        strategy_color("soft"), strategy_color("dkd"),
                                        strategy_color("feature")};
  EXPECT_EQ(colors.size(), 5u);
  EXPECT_EQ(strategy_color("none"), "#000000");
  EXPECT_EQ(strategy_color("dkd"), strategy_color("dkd"));
  EXPECT_EQ(colors.count(strategy_color("dkd-b8")), 0u);  // another label: a further colour
}

TEST(SweepPlots, WritesPngAndSvgWithBandsAndMarkers) {
  const std::string dir = testing::scratch_dir();
  LinePlot p{"MAE vs parameters: mlp", "parameters", "MAE (BPM)", true, false, {}};
  PlotSeries a;
  a.label = "soft <- r6";
  a.color = strategy_color("soft");
  a.marker = 1;
  a.points = {{1000, 9.0}, {10000, 7.0}};
  a.band = {{1000, 8.5, 9.5}, {10000, 6.4, 7.6}};
  a.curve = "2*(x/3000)**(-0.5)+5";
  PlotSeries b;
  b.label = "none";
  b.color = strategy_color("none");
  b.points = {{1000, 10.0}, {10000, 8.0}};
  p.series = {a, b};
  EXPECT_EQ(draw_line_plot(dir, "fig", p), "fig.png");
  EXPECT_TRUE(is_png_file(dir + "/fig.png"));
  const std::string svg = read(dir + "/fig.svg");
  EXPECT_NE(svg.find("<svg"), std::string::npos);
  EXPECT_NE(svg.find("soft &lt;- r6"), std::string::npos);  // the legend made it into the SVG
  EXPECT_EQ(read(dir + "/fig-0-band.dat"), "1000 8.5 9.5\n10000 6.4 7.6\n");
  const std::string gp = read(dir + "/fig.gp");
  EXPECT_NE(gp.find("fig-0-band.dat' using 1:2:3 with filledcurves lc rgb '" + a.color + "'"),
            std::string::npos);
  EXPECT_NE(gp.find("lc rgb '" + a.color + "' pt 5 "), std::string::npos);  // marker 1: square
  EXPECT_NE(gp.find("lc rgb '#000000' pt 7 "), std::string::npos);          // marker 0: circle
  EXPECT_EQ(gp.find("fig-1-band.dat"), std::string::npos);                  // no band asked
}

}  // namespace
}  // namespace ppgkd
