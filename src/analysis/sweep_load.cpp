// Stage 1 of the sweep report: the sweep's store read into cells (load_sweep_results), the
// int8 size estimate, and the optional Cortex-M4 measurements CSV (read_m4_csv).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

#include "analysis/stats.h"
#include "analysis/sweep_report.h"
#include "common/csv.h"
#include "common/error.h"
#include "sweep/store.h"

namespace ppgkd {

namespace fs = std::filesystem;

// ============================================================================ loading

namespace {

std::vector<int> split_ints(const std::string& s) {
  std::vector<int> out;
  std::stringstream in(s);
  std::string tok;
  while (std::getline(in, tok, '-')) out.push_back(std::stoi(tok));
  return out;
}

// "key=value" fields of a spec "family:k=v,k=v".
std::map<std::string, std::string> spec_fields(const std::string& spec) {
  std::map<std::string, std::string> f;
  auto colon = spec.find(':');
  std::stringstream in(colon == std::string::npos ? "" : spec.substr(colon + 1));
  std::string tok;
  while (std::getline(in, tok, ',')) {
    auto eq = tok.find('=');
    if (eq != std::string::npos) f[tok.substr(0, eq)] = tok.substr(eq + 1);
  }
  return f;
}

double mean_of(const std::map<std::string, double>& m) {
  double s = 0;
  for (const auto& [k, v] : m) s += v / m.size();
  return m.empty() ? std::nan("") : s;
}

// The cell's spread over seeds and over folds (SweepCell), from its unit MAEs.
void set_spread(SweepCell& c) {
  std::map<uint64_t, std::map<std::string, std::vector<double>>>
      by_seed;  // seed -> subject -> MAEs
  std::map<int, std::set<std::string>> fold_subjects;
  for (const auto& [unit, mae] : c.unit_mae) {
    const auto& [fold, seed, subject] = unit;
    by_seed[seed][subject].push_back(mae);
    fold_subjects[fold].insert(subject);
  }
  std::vector<double> seed_mae, fold_mae;
  for (const auto& [seed, subjects] : by_seed) {
    std::vector<double> v;
    for (const auto& [subject, maes] : subjects) v.push_back(mean(maes));
    seed_mae.push_back(mean(v));
  }
  for (const auto& [fold, subjects] : fold_subjects) {
    std::vector<double> v;
    for (const auto& subject : subjects) v.push_back(c.subject_mae.at(subject));
    fold_mae.push_back(mean(v));
  }
  c.seeds = seed_mae.size();
  c.folds = fold_mae.size();
  c.sd_seeds = sample_sd(seed_mae);
  c.sd_folds = sample_sd(fold_mae);
}

}  // namespace

int64_t approx_int8_bytes(const std::string& spec, int64_t params) {
  constexpr int kClasses = 180;
  int64_t channels = kClasses;
  try {
    auto f = spec_fields(spec);
    if (spec.rfind("resnet1d:", 0) == 0) {
      const int stem = std::stoi(f.at("stem")), blocks = std::stoi(f.at("blocks"));
      const auto stages = split_ints(f.at("stages"));
      channels += stem;
      int in = stem;
      for (size_t s = 0; s < stages.size(); ++s) {
        channels += int64_t{2} * blocks * stages[s];
        if (s > 0 || in != stages[s]) channels += stages[s];  // projection shortcut
        in = stages[s];
      }
    } else if (spec.rfind("mlp:", 0) == 0) {
      for (int h : split_ints(f.at("hidden"))) channels += h;
    }
  } catch (const std::exception&) {
    channels = kClasses;
  }
  return params + 4 * channels;
}

SweepResults load_sweep_results(const std::string& sweep_dir) {
  const std::string db = sweep_dir + "/sweep.db";
  if (!fs::exists(db))
    throw Error(db, "no sweep store (run `ppgkd sweep --plan ... --out ...` first)");
  Store store(db, Store::Access::kReadOnly);
  SweepResults r;
  r.plan_hash = store.plan_hash();
  const auto rows = store.runs();
  std::map<std::string, std::vector<SubjectMetric>> subjects;
  for (const auto& m : store.subject_metrics()) subjects[m.run_key].push_back(m);
  // cell -> subject -> MAEs over seeds
  using CellKey = std::tuple<std::string, std::string, std::string, std::string>;
  std::map<CellKey, SweepCell> cells;
  std::map<CellKey, std::map<std::string, std::vector<double>>> per_subject;
  for (const auto& row : rows) {
    ++r.runs_total;
    r.runs_done += row.status == "done";
    r.runs_failed += row.status == "failed";
    if (row.status != "done") continue;
    const bool teacher = row.kind == "teacher";
    CellKey k{row.family, row.strategy, teacher || row.strategy == "none" ? "" : row.teacher_model,
              row.model};
    auto& c = cells[k];
    c.family = row.family;
    c.strategy = row.strategy;
    c.teacher_model = std::get<2>(k);
    c.model = row.model;
    c.spec = row.spec.empty() ? row.model : row.spec;
    c.params = row.params;
    c.macs = row.macs;
    c.bytes_f32 = row.weight_bytes;
    // model.json has no int8 size (export measures it), so the report derives it from the spec.
    c.bytes_int8 = approx_int8_bytes(c.spec, c.params);
    ++c.runs;
    c.wall_s += row.wall_s;
    for (const auto& m : subjects[row.key]) {
      per_subject[k][m.subject].push_back(m.mae_bpm);
      c.unit_mae[{row.fold, row.seed, m.subject}] = m.mae_bpm;
    }
  }
  for (auto& [k, c] : cells) {
    for (const auto& [subj, v] : per_subject[k]) c.subject_mae[subj] = mean(v);
    c.mae_bpm = mean_of(c.subject_mae);
    set_spread(c);
    (c.family == "teacher" ? r.teachers : r.students).push_back(c);
  }
  auto order = [](const SweepCell& a, const SweepCell& b) {
    return std::tie(a.family, a.strategy, a.teacher_model, a.params, a.model) <
           std::tie(b.family, b.strategy, b.teacher_model, b.params, b.model);
  };
  std::sort(r.teachers.begin(), r.teachers.end(), order);
  std::sort(r.students.begin(), r.students.end(), order);
  return r;
}

// ============================================================================ M4 measurements

std::map<std::string, M4Measurements> read_m4_csv(const std::string& path) {
  if (!std::ifstream(path))
    throw Error(path, "cannot open the M4 measurements (bench/m4_ladder.sh's CSV)");
  CsvReader csv(path);  // the header; ragged rows and quotes are its errors
  const std::vector<std::string> required = {
      "rung", "spec", "quant", "weight_bytes", "blob_bytes",  "arena_bytes",
      "fits", "text", "data",  "bss",          "stack_bytes", "instr_per_inference"};
  std::map<std::string, int> col;
  for (const auto& c : required) col[c] = csv.require(c);
  std::map<std::string, M4Measurements> out;
  std::map<std::string, size_t> first_line;  // "spec|quant" -> line
  while (csv.next()) {
    const size_t n = csv.line();
    const std::string where = csv.at();
    auto field = [&](const std::string& c) -> const std::string& { return csv.field(col.at(c)); };
    // A non-negative integer, or -1 for an empty field when `optional`.
    auto integer = [&](const std::string& c, bool optional) -> int64_t {
      const auto& v = field(c);
      if (v.empty()) {
        if (optional) return -1;
        throw Error(where, "column '" + c + "' is empty");
      }
      if (v.size() > 18 || v.find_first_not_of("0123456789") != std::string::npos)
        throw Error(where, "column '" + c + "': '" + v + "' is not a non-negative integer");
      return std::stoll(v);
    };
    M4Measurement m;
    m.rung = field("rung");
    const std::string spec = field("spec"), quant = field("quant");
    m.fits = field("fits");
    if (spec.empty()) throw Error(where, "column 'spec' is empty");
    if (quant != "f32" && quant != "int8")
      throw Error(where, "column 'quant': '" + quant + "' is not f32 or int8");
    if (m.fits != "yes" && m.fits != "no" && m.fits != "bench")
      throw Error(where, "column 'fits': '" + m.fits + "' is not yes, no or bench");
    m.weight_bytes = integer("weight_bytes", false);
    m.blob_bytes = integer("blob_bytes", false);
    m.arena_bytes = integer("arena_bytes", false);
    const bool fits = m.fits == "yes";  // every image linked and ran: all values present
    const int64_t text = integer("text", !fits), data = integer("data", !fits),
                  bss = integer("bss", !fits), stack = integer("stack_bytes", !fits);
    m.instr_per_inference = integer("instr_per_inference", !fits);
    if (text >= 0 && data >= 0) m.flash_bytes = text + data;
    if (bss >= 0 && stack >= 0) m.ram_bytes = bss + stack;
    const auto [it, fresh] = first_line.emplace(spec + "|" + quant, n);
    if (!fresh)
      throw Error(where,
                  fmt::format("spec '{}' quant {} is already on line {}", spec, quant, it->second));
    (quant == "int8" ? out[spec].int8 : out[spec].f32) = m;
  }
  return out;
}

}  // namespace ppgkd
