// Refits the scaling laws of a sweep report's student tables and prints, per curve and law, the
// leave-largest-out extrapolation error (refit without the largest size, predicted - observed
// MAE there), then how many curves are within a tolerance. For a report whose sweep.db is gone:
// only the cell MAEs are needed (no bootstrap, so no intervals and no conditioning verdict).
//
//   refit_report docs/paper-sweep/report.md [--tolerance 0.5]
//
// Reads the "## Students: FAMILY" tables of report.md (columns strategy | teacher | model |
// params | MAE ...), as `ppgkd report` writes them.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "analysis/scaling_fit.h"

namespace {

std::vector<std::string> cells_of(const std::string& row) {
  std::vector<std::string> out;
  size_t start = row.find('|');
  while (start != std::string::npos) {
    const size_t end = row.find('|', start + 1);
    if (end == std::string::npos) break;
    std::string c = row.substr(start + 1, end - start - 1);
    c.erase(0, c.find_first_not_of(' '));
    c.erase(c.find_last_not_of(' ') + 1);
    out.push_back(c);
    start = end;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: refit_report REPORT.md [--tolerance BPM]\n");
    return 2;
  }
  double tol = 0.5;
  for (int i = 2; i + 1 < argc; ++i)
    if (std::string(argv[i]) == "--tolerance") tol = std::stod(argv[i + 1]);
  std::ifstream in(argv[1]);
  if (!in) {
    std::fprintf(stderr, "refit_report: %s: cannot open\n", argv[1]);
    return 1;
  }
  using Curve = std::tuple<std::string, std::string, std::string>;  // family, strategy, teacher
  std::map<Curve, std::vector<std::pair<double, double>>> curves;   // (params, MAE)
  std::string line, family;
  while (std::getline(in, line)) {
    if (line.rfind("## ", 0) == 0) {
      family = line.rfind("## Students: ", 0) == 0 ? line.substr(13) : "";
      continue;
    }
    if (family.empty() || line.rfind("| ", 0) != 0) continue;
    const auto c = cells_of(line);
    if (c.size() < 5 || c[0] == "strategy") continue;
    try {
      curves[{family, c[0], c[1]}].push_back({std::stod(c[3]), std::stod(c[4])});
    } catch (const std::exception&) {
      continue;  // not a data row
    }
  }
  if (curves.empty()) {
    std::fprintf(stderr, "refit_report: %s: no student tables\n", argv[1]);
    return 1;
  }
  std::map<ppgkd::ScalingLaw, std::pair<int, int>> within;  // law -> (within tol, fitted)
  std::printf("curve\tsizes");
  for (auto law : ppgkd::all_laws()) std::printf("\t%s", ppgkd::law_name(law));
  std::printf("\n");
  for (auto& [curve, pts] : curves) {
    std::sort(pts.begin(), pts.end());
    std::vector<double> n, y;
    for (size_t i = 0; i + 1 < pts.size(); ++i)
      n.push_back(pts[i].first), y.push_back(pts[i].second);
    std::printf("%s / %s / %s\t%zu", std::get<0>(curve).c_str(), std::get<1>(curve).c_str(),
                std::get<2>(curve).c_str(), pts.size());
    for (auto law : ppgkd::all_laws()) {
      try {
        const auto f = ppgkd::fit_law(law, n, y);
        const double err = f.predict(pts.back().first) - pts.back().second;
        std::printf("\t%+.2f", err);
        auto& w = within[law];
        ++w.second;
        w.first += std::abs(err) <= tol;
      } catch (const std::exception&) {
        std::printf("\tn/a");
      }
    }
    std::printf("\n");
  }
  for (const auto& [law, w] : within)
    std::printf("%s: %d of %d curves within %.2f BPM (%.0f %%)\n", ppgkd::law_name(law), w.first,
                w.second, tol, 100.0 * w.first / w.second);
  return 0;
}
