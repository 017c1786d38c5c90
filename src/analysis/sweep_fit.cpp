// Stage 2 of the sweep report: one scaling-law analysis per curve (family, strategy, teacher).
#include "analysis/sweep_report_parts.h"
#include "common/error.h"

namespace ppgkd {

using report::curve_cells;
using report::curves_of;

std::vector<CurveFit> fit_curves(const SweepResults& r, int n_boot, uint64_t seed) {
  std::vector<CurveFit> out;
  for (const auto& [family, strategy, teacher] : curves_of(r)) {
    CurveFit cf{family, strategy, teacher, {}};
    std::vector<SizeSubjects> sizes;
    for (const auto* c : curve_cells(r, family, strategy, teacher))
      sizes.push_back({static_cast<double>(c->params), c->subject_mae});
    for (auto law : all_laws()) {
      try {
        cf.laws.push_back(analyse_law(law, sizes, n_boot, seed));
      } catch (const Error&) {
        // Too few sizes for this law: the report lists what could be fitted.
      }
    }
    out.push_back(cf);
  }
  return out;
}

}  // namespace ppgkd
