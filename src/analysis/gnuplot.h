// Running gnuplot headless to draw PNGs (pngcairo terminal). The script and its data files are
// kept beside the PNG so a plot can be redrawn or restyled by hand. Not here: what to plot.
#pragma once

#include <string>

namespace ppgkd {

// Writes `script` to script_path and runs `gnuplot script_path` (its messages go to
// script_path + ".log"). Throws
// Error(script_path, ...) when gnuplot cannot be run or fails, or Error(png, ...) when the PNG it
// was to write is missing or not a PNG.
void run_gnuplot(const std::string& script_path, const std::string& script,
                 const std::string& png_path);

// True when the file starts with the 8-byte PNG signature.
bool is_png_file(const std::string& path);

// A string as a gnuplot single-quoted literal ('' escapes a quote).
std::string gnuplot_quote(const std::string& s);

}  // namespace ppgkd
