#include "analysis/sweep_paired.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <tuple>

namespace ppgkd {

PairedComparison compare_cells(const SweepCell& x, const SweepCell& b, int n_boot, uint64_t seed,
                               double level) {
  PairedComparison out;
  out.family = x.family;
  out.model = x.model;
  out.params = x.params;
  out.teacher_model = x.teacher_model.empty() ? b.teacher_model : x.teacher_model;
  out.strategy = x.strategy;
  out.baseline = b.strategy;
  // subject -> its paired differences (one per shared fold and seed)
  std::map<std::string, std::vector<double>> per_subject;
  for (const auto& [unit, mae] : x.unit_mae) {
    auto it = b.unit_mae.find(unit);
    if (it == b.unit_mae.end()) continue;
    per_subject[std::get<2>(unit)].push_back(mae - it->second);
    ++out.pairs;
  }
  std::vector<double> d;
  for (const auto& [subject, v] : per_subject) d.push_back(mean(v));
  out.subjects = d.size();
  out.mean_diff = mean(d);
  out.ci = bootstrap_mean_ci(d, n_boot, seed, level);
  out.wilcoxon = wilcoxon_signed_rank(d);
  out.p_holm = d.empty() ? std::numeric_limits<double>::quiet_NaN() : out.wilcoxon.p;
  out.resolved = !d.empty() && (out.ci.lo > 0 || out.ci.hi < 0);
  return out;
}

std::vector<PairedComparison> paired_comparisons(const SweepResults& r, int n_boot, uint64_t seed) {
  using Key = std::tuple<std::string, std::string, std::string, std::string>;  // fam, model, strat,
                                                                               // teacher
  std::map<Key, const SweepCell*> cell;
  for (const auto& c : r.students) cell[{c.family, c.model, c.strategy, c.teacher_model}] = &c;
  auto by_size = [](const SweepCell* a, const SweepCell* b) {
    return std::tie(a->family, a->params, a->model, a->teacher_model, a->strategy) <
           std::tie(b->family, b->params, b->model, b->teacher_model, b->strategy);
  };
  std::vector<const SweepCell*> distilled;
  for (const auto& c : r.students)
    if (c.strategy != "none") distilled.push_back(&c);
  std::sort(distilled.begin(), distilled.end(), by_size);

  std::vector<PairedComparison> out;
  for (const auto* c : distilled) {
    auto s = cell.find({c->family, c->model, "none", ""});
    if (s != cell.end()) out.push_back(compare_cells(*c, *s->second, n_boot, seed));
  }
  for (const auto* c : distilled) {
    if (c->strategy != "dkd") continue;
    auto s = cell.find({c->family, c->model, "soft", c->teacher_model});
    if (s != cell.end()) out.push_back(compare_cells(*c, *s->second, n_boot, seed));
  }
  std::vector<double> p;
  for (const auto& c : out) p.push_back(c.p_holm);
  const auto adjusted = holm_adjust(p);
  for (size_t i = 0; i < out.size(); ++i) out[i].p_holm = adjusted[i];
  return out;
}

}  // namespace ppgkd
