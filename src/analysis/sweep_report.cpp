#include "analysis/sweep_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <tuple>

#include "analysis/sweep_plots.h"
#include "common/atomic_file.h"
#include "common/error.h"
#include "common/run_record.h"
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
  Store store(db);
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
    c.bytes_int8 = row.model_json.contains("weight_bytes_int8")
                       ? row.model_json["weight_bytes_int8"].get<int64_t>()
                       : approx_int8_bytes(c.spec, c.params);
    ++c.runs;
    c.wall_s += row.wall_s;
    for (const auto& m : subjects[row.key]) per_subject[k][m.subject].push_back(m.mae_bpm);
  }
  for (auto& [k, c] : cells) {
    for (const auto& [subj, v] : per_subject[k]) {
      double s = 0;
      for (double x : v) s += x / v.size();
      c.subject_mae[subj] = s;
    }
    c.mae_bpm = mean_of(c.subject_mae);
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

namespace {

// The fields of one CSV line: comma-separated, a field in double quotes may hold commas and
// doubled quotes. Throws Error(where, ...) on an unterminated quote.
std::vector<std::string> csv_split(const std::string& line, const std::string& where) {
  std::vector<std::string> out(1);
  bool quoted = false, was_quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char ch = line[i];
    if (quoted) {
      if (ch != '"') {
        out.back() += ch;
      } else if (i + 1 < line.size() && line[i + 1] == '"') {
        out.back() += '"';
        ++i;
      } else {
        quoted = false;
      }
    } else if (ch == ',') {
      out.emplace_back();
      was_quoted = false;
    } else if (ch == '"' && out.back().empty() && !was_quoted) {
      quoted = was_quoted = true;
    } else {
      out.back() += ch;
    }
  }
  if (quoted) throw Error(where, "unterminated quoted field");
  return out;
}

}  // namespace

std::map<std::string, M4Measurements> read_m4_csv(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error(path, "cannot open the M4 measurements (bench/m4_ladder.sh's CSV)");
  const std::vector<std::string> required = {
      "rung", "spec", "quant", "weight_bytes", "blob_bytes",  "arena_bytes",
      "fits", "text", "data",  "bss",          "stack_bytes", "instr_per_inference"};
  std::map<std::string, size_t> col;
  std::vector<std::string> header;
  std::map<std::string, M4Measurements> out;
  std::map<std::string, size_t> first_line;  // "spec|quant" -> line
  std::string line;
  size_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const std::string where = fmt::format("{}:{}", path, n);
    if (n == 1) {
      header = csv_split(line, where);
      for (size_t i = 0; i < header.size(); ++i) col[header[i]] = i;
      for (const auto& c : required)
        if (!col.count(c)) throw Error(where, "missing column '" + c + "'");
      continue;
    }
    if (line.empty()) continue;
    const auto f = csv_split(line, where);
    if (f.size() != header.size())
      throw Error(where, fmt::format("{} fields, the header has {}", f.size(), header.size()));
    auto field = [&](const std::string& c) -> const std::string& { return f[col.at(c)]; };
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
  if (n == 0) throw Error(path, "empty file (no header line)");
  return out;
}

// ============================================================================ fits

namespace {

std::string curve_name(const std::string& family, const std::string& strategy,
                       const std::string& teacher) {
  return family + " / " + strategy + (teacher.empty() ? "" : " / teacher " + teacher);
}

// The students of one curve, by size.
std::vector<const SweepCell*> curve_cells(const SweepResults& r, const std::string& family,
                                          const std::string& strategy, const std::string& teacher) {
  std::vector<const SweepCell*> out;
  for (const auto& c : r.students)
    if (c.family == family && c.strategy == strategy && c.teacher_model == teacher)
      out.push_back(&c);
  return out;
}

std::set<std::tuple<std::string, std::string, std::string>> curves_of(const SweepResults& r) {
  std::set<std::tuple<std::string, std::string, std::string>> out;
  for (const auto& c : r.students) out.insert({c.family, c.strategy, c.teacher_model});
  return out;
}

}  // namespace

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

// ============================================================================ the report

namespace {

std::string num(double v, int digits = 3) {
  return std::isfinite(v) ? fmt::format("{:.{}f}", v, digits) : "n/a";
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

// A gnuplot expression for a fitted law (x = parameter count).
std::string gnuplot_curve(const LawFit& f) {
  switch (f.law) {
    case ScalingLaw::kExpLog10:
      return fmt::format("{:.10g}*exp(-{:.10g}*log10(x))+{:.10g}", f.a, f.b, f.c);
    case ScalingLaw::kPower:
      return fmt::format("{:.10g}*x**(-{:.10g})+{:.10g}", f.a, f.b, f.c);
    case ScalingLaw::kLogLinear:
      return fmt::format("{:.10g}-{:.10g}*log10(x)", f.a, f.b);
  }
  return "";
}

const LawAnalysis* find_law(const CurveFit& cf, ScalingLaw law) {
  for (const auto& l : cf.laws)
    if (l.fit.law == law) return &l;
  return nullptr;
}

// Scratch MAE of the same family and model (nullptr when absent).
const SweepCell* scratch_of(const SweepResults& r, const SweepCell& c) {
  for (const auto& s : r.students)
    if (s.family == c.family && s.strategy == "none" && s.model == c.model) return &s;
  return nullptr;
}

// A measured size or count; "" (CSV) or "-" (Markdown) when absent.
std::string measured(int64_t v, bool md) {
  return v >= 0 ? std::to_string(v) : md ? "-" : "";
}

// Students' memory and compute, one row per (family, model).
std::vector<const SweepCell*> memory_rows(const SweepResults& r) {
  std::vector<const SweepCell*> out;
  std::set<std::string> seen;
  for (const auto& c : r.students)
    if (seen.insert(c.family + "|" + c.model).second) out.push_back(&c);
  return out;
}

}  // namespace

std::string write_sweep_report(const std::string& sweep_dir, const ReportOptions& o) {
  const auto r = load_sweep_results(sweep_dir);
  // The M4 measurements first, so a malformed CSV fails before anything is written.
  std::map<std::string, M4Measurements> m4;
  if (!o.edge_csv.empty()) m4 = read_m4_csv(o.edge_csv);
  auto m4_of = [&](const SweepCell& c) -> const M4Measurements* {
    auto it = m4.find(c.spec);
    return it == m4.end() ? nullptr : &it->second;
  };
  const std::string dir = sweep_dir + "/report";
  fs::create_directories(dir);
  const auto fits = fit_curves(r, o.n_boot, o.seed);
  std::set<std::string> families;
  for (const auto& c : r.students) families.insert(c.family);

  // ---- CSVs
  std::string students =
      "family,strategy,teacher,model,spec,params,macs,bytes_f32,bytes_int8,"
      "mae_bpm,subjects,runs\n";
  for (const auto& c : r.students)
    students += fmt::format("{},{},{},{},{},{},{},{},{},{:.6f},{},{}\n", csv_field(c.family),
                            csv_field(c.strategy), csv_field(c.teacher_model), csv_field(c.model),
                            csv_field(c.spec), c.params, c.macs, c.bytes_f32, c.bytes_int8,
                            c.mae_bpm, c.subject_mae.size(), c.runs);
  write_file_atomic(dir + "/students.csv", students);
  std::string teachers = "model,spec,params,macs,bytes_f32,mae_bpm,subjects,runs\n";
  for (const auto& c : r.teachers)
    teachers += fmt::format("{},{},{},{},{},{:.6f},{},{}\n", csv_field(c.model), csv_field(c.spec),
                            c.params, c.macs, c.bytes_f32, c.mae_bpm, c.subject_mae.size(), c.runs);
  write_file_atomic(dir + "/teachers.csv", teachers);
  std::string gains = "family,strategy,teacher,model,params,scratch_mae_bpm,mae_bpm,gain_bpm\n";
  for (const auto& c : r.students) {
    if (c.strategy == "none") continue;
    const auto* s = scratch_of(r, c);
    if (!s) continue;
    gains += fmt::format("{},{},{},{},{},{:.6f},{:.6f},{:.6f}\n", csv_field(c.family),
                         csv_field(c.strategy), csv_field(c.teacher_model), csv_field(c.model),
                         c.params, s->mae_bpm, c.mae_bpm, s->mae_bpm - c.mae_bpm);
  }
  write_file_atomic(dir + "/gains.csv", gains);
  std::map<std::string, int64_t> teacher_params;
  for (const auto& t : r.teachers) teacher_params[t.model] = t.params;
  std::string teff = "family,model,params,strategy,teacher,teacher_params,mae_bpm\n";
  for (const auto& c : r.students)
    if (!c.teacher_model.empty())
      teff += fmt::format("{},{},{},{},{},{},{:.6f}\n", csv_field(c.family), csv_field(c.model),
                          c.params, csv_field(c.strategy), csv_field(c.teacher_model),
                          teacher_params[c.teacher_model], c.mae_bpm);
  write_file_atomic(dir + "/teacher_effect.csv", teff);
  std::string fcsv =
      "family,strategy,teacher,law,formula,a,a_lo,a_hi,b,b_lo,b_hi,c,c_lo,c_hi,r2,points,"
      "boot_ok,extrap_params,extrap_pred,extrap_obs,extrap_err\n";
  for (const auto& cf : fits)
    for (const auto& l : cf.laws)
      fcsv += fmt::format(
          "{},{},{},{},{},{:.8g},{:.8g},{:.8g},{:.8g},{:.8g},{:.8g},{:.8g},{:.8g},{:.8g},{:.8g},{},"
          "{},{},{},{},{}\n",
          csv_field(cf.family), csv_field(cf.strategy), csv_field(cf.teacher_model),
          law_name(l.fit.law), csv_field(law_formula(l.fit.law)), l.fit.a, l.a_ci.lo, l.a_ci.hi,
          l.fit.b, l.b_ci.lo, l.b_ci.hi, l.fit.c, l.c_ci.lo, l.c_ci.hi, l.fit.r2, l.fit.points,
          l.boot_ok, l.extrapolation_ok ? fmt::format("{:.0f}", l.extrapolated_n) : "",
          l.extrapolation_ok ? fmt::format("{:.6f}", l.extrapolated_pred) : "",
          l.extrapolation_ok ? fmt::format("{:.6f}", l.extrapolated_obs) : "",
          l.extrapolation_ok ? fmt::format("{:.6f}", l.extrapolation_err) : "");
  write_file_atomic(dir + "/fits.csv", fcsv);
  // memory.csv: without M4 measurements the int8 bytes are the approximation; with them, the
  // int8 export's exact weight bytes where measured (bytes_int8_exact = 1), and per quantisation
  // the M4 columns (empty where not measured).
  std::string mem = "family,model,spec,params,macs_per_window,bytes_f32,";
  if (o.edge_csv.empty()) {
    mem += "bytes_int8_approx\n";
  } else {
    mem += "bytes_int8,bytes_int8_exact";
    for (const char* q : {"int8", "f32"})
      mem += fmt::format(
          ",{0}_m4_rung,{0}_fits,{0}_blob_bytes,{0}_flash_bytes,{0}_ram_bytes,{0}_arena_bytes,"
          "{0}_instr_per_inference",
          q);
    mem += "\n";
  }
  for (const auto* c : memory_rows(r)) {
    mem += fmt::format("{},{},{},{},{},{},", csv_field(c->family), csv_field(c->model),
                       csv_field(c->spec), c->params, c->macs, c->bytes_f32);
    if (o.edge_csv.empty()) {
      mem += fmt::format("{}\n", c->bytes_int8);
      continue;
    }
    const auto* e = m4_of(*c);
    const bool exact = e && e->int8;
    mem += fmt::format("{},{}", exact ? e->int8->weight_bytes : c->bytes_int8, exact ? 1 : 0);
    for (const auto* q : {e ? &e->int8 : nullptr, e ? &e->f32 : nullptr}) {
      if (!q || !*q) {
        mem += ",,,,,,,";
        continue;
      }
      const auto& m = **q;
      mem += fmt::format(",{},{},{},{},{},{},{}", csv_field(m.rung), m.fits, m.blob_bytes,
                         measured(m.flash_bytes, false), measured(m.ram_bytes, false),
                         m.arena_bytes, measured(m.instr_per_inference, false));
    }
    mem += "\n";
  }
  write_file_atomic(dir + "/memory.csv", mem);

  // ---- plots
  std::map<std::string, std::vector<std::string>> pngs;  // family -> files
  if (o.plots)
    for (const auto& fam : families) {
      LinePlot p{"MAE vs parameters: " + fam, "parameters", "MAE (BPM)", true, false, {}};
      LinePlot g{
          "Gain over scratch: " + fam, "parameters", "scratch MAE - MAE (BPM)", true, true, {}};
      for (const auto& cf : fits) {
        if (cf.family != fam) continue;
        PlotSeries s{
            cf.strategy + (cf.teacher_model.empty() ? "" : " <- " + cf.teacher_model), {}, ""};
        PlotSeries gs = s;
        for (const auto* c : curve_cells(r, cf.family, cf.strategy, cf.teacher_model)) {
          s.points.push_back({double(c->params), c->mae_bpm});
          if (const auto* sc = scratch_of(r, *c); sc && cf.strategy != "none")
            gs.points.push_back({double(c->params), sc->mae_bpm - c->mae_bpm});
        }
        if (const auto* l = find_law(cf, ScalingLaw::kPower)) s.curve = gnuplot_curve(l->fit);
        p.series.push_back(s);
        if (!gs.points.empty()) g.series.push_back(gs);
      }
      pngs[fam].push_back(draw_line_plot(dir, "mae_vs_params_" + fam, p));
      pngs[fam].push_back(draw_line_plot(dir, "gain_" + fam, g));
      // Teacher size at fixed student size: one line per (strategy, student).
      LinePlot t{"Effect of teacher size: " + fam,
                 "teacher parameters",
                 "student MAE (BPM)",
                 true,
                 false,
                 {}};
      std::map<std::string, PlotSeries> lines;
      for (const auto& c : r.students)
        if (c.family == fam && !c.teacher_model.empty()) {
          auto& s = lines[c.strategy + " " + c.model];
          s.label = c.strategy + " " + c.model;
          s.points.push_back({double(teacher_params[c.teacher_model]), c.mae_bpm});
        }
      for (auto& [k, s] : lines) {
        std::sort(s.points.begin(), s.points.end());
        t.series.push_back(s);
      }
      if (r.teachers.size() > 1 && !t.series.empty())
        pngs[fam].push_back(draw_line_plot(dir, "teacher_effect_" + fam, t));
    }

  // ---- report.md
  std::string md = "# Capacity sweep report\n\n";
  md += fmt::format(
      "Sweep `{}`, plan {}: {} runs, {} done, {} failed. Generated {} by ppgkd "
      "(commit {}). MAE is subject-averaged (each subject's MAE averaged over "
      "seeds, then over subjects); intervals are {}-replicate percentile bootstraps "
      "over subjects (seed {}).\n\n",
      sweep_dir, r.plan_hash, r.runs_total, r.runs_done, r.runs_failed,
      run_context()["date"].get<std::string>(), git_commit(), o.n_boot, o.seed);
  md +=
      "## Teachers\n\n| model | spec | params | MACs/window | MAE (BPM) | subjects | runs |\n"
      "|---|---|---:|---:|---:|---:|---:|\n";
  for (const auto& c : r.teachers)
    md += fmt::format("| {} | `{}` | {} | {} | {} | {} | {} |\n", c.model, c.spec, c.params, c.macs,
                      num(c.mae_bpm), c.subject_mae.size(), c.runs);
  for (const auto& fam : families) {
    md += "\n## Students: " + fam + "\n\n";
    for (const auto& png : pngs[fam]) md += "![" + png + "](" + png + ")\n\n";
    md +=
        "| strategy | teacher | model | params | MAE (BPM) | gain over scratch | subjects | runs "
        "|\n"
        "|---|---|---|---:|---:|---:|---:|---:|\n";
    for (const auto& c : r.students) {
      if (c.family != fam) continue;
      const auto* s = scratch_of(r, c);
      md +=
          fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} |\n", c.strategy,
                      c.teacher_model.empty() ? "-" : c.teacher_model, c.model, c.params,
                      num(c.mae_bpm), s && c.strategy != "none" ? num(s->mae_bpm - c.mae_bpm) : "-",
                      c.subject_mae.size(), c.runs);
    }
  }
  md +=
      "\n## Scaling laws\n\nFitted to each curve's subject-mean MAE per size. exp-log10 and "
      "power are one family (b_exp = b_pow ln 10). The extrapolation column refits without the "
      "largest size and gives predicted - observed MAE there.\n\n"
      "| curve | law | a [CI] | b [CI] | c [CI] | R^2 | sizes | extrapolation error (BPM) |\n"
      "|---|---|---|---|---|---:|---:|---:|\n";
  for (const auto& cf : fits) {
    if (cf.laws.empty())
      md += fmt::format("| {} | (too few sizes) | | | | | | |\n",
                        curve_name(cf.family, cf.strategy, cf.teacher_model));
    for (const auto& l : cf.laws)
      md += fmt::format(
          "| {} | `{}` | {} [{}, {}] | {} [{}, {}] | {} | {} | {} | {} |\n",
          curve_name(cf.family, cf.strategy, cf.teacher_model), law_formula(l.fit.law),
          num(l.fit.a), num(l.a_ci.lo), num(l.a_ci.hi), num(l.fit.b, 4), num(l.b_ci.lo, 4),
          num(l.b_ci.hi, 4),
          l.fit.law == ScalingLaw::kLogLinear
              ? std::string("-")
              : fmt::format("{} [{}, {}]", num(l.fit.c), num(l.c_ci.lo), num(l.c_ci.hi)),
          num(l.fit.r2, 4), l.fit.points,
          l.extrapolation_ok ? num(l.extrapolation_err) : std::string("n/a"));
  }
  md += "\n## Memory and compute per student\n\n";
  if (o.edge_csv.empty()) {
    md +=
        "int8 bytes are approximate: one byte per parameter plus a 4-byte scale per output "
        "channel.\n\n"
        "| family | model | params | MACs/window | float32 bytes | int8 bytes |\n"
        "|---|---|---:|---:|---:|---:|\n";
    for (const auto* c : memory_rows(r))
      md += fmt::format("| {} | {} | {} | {} | {} | {} |\n", c->family, c->model, c->params,
                        c->macs, c->bytes_f32, c->bytes_int8);
  } else {
    const auto rows = memory_rows(r);
    size_t matched = 0;
    for (const auto* c : rows) matched += m4_of(*c) != nullptr;
    md += fmt::format(
        "Measured on an emulated Cortex-M4 (`{}`, from bench/m4_ladder.sh; {} of {} students "
        "measured, joined by canonical spec; \"-\": not measured). int8 bytes: the int8 "
        "export's weight and bias bytes, exact where measured, else approximate (one byte per "
        "parameter plus a 4-byte scale per output channel). blob: the exported model file. "
        "flash: text + data of a firmware image with only the runtime and the model; RAM: its "
        "bss (arena and one input window) + the stack high-water mark of `ppgkd_run`; arena: "
        "the activations' share of RAM. instructions: per inference (forward pass + decoding), "
        "under `qemu-system-arm -icount`. \"does not fit\": the image exceeds the emulator's "
        "4 MiB of flash or RAM.\n\n"
        "| family | model | params | MACs/window | float32 bytes | int8 bytes | int8 blob B | "
        "int8 flash B | int8 RAM B | int8 arena B | int8 M4 instructions | f32 flash B | "
        "f32 RAM B | f32 M4 instructions |\n"
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
        o.edge_csv, matched, rows.size());
    // blob, flash, RAM, arena, instructions of one quantisation ("-" where not measured).
    auto cells = [](const std::optional<M4Measurement>& m, bool with_blob_arena) {
      std::vector<std::string> v;
      if (!m) {
        v.assign(with_blob_arena ? 5 : 3, "-");
      } else {
        const bool no_fit = m->fits == "no";
        if (with_blob_arena) v.push_back(std::to_string(m->blob_bytes));
        v.push_back(no_fit ? "does not fit" : measured(m->flash_bytes, true));
        v.push_back(measured(m->ram_bytes, true));
        if (with_blob_arena) v.push_back(std::to_string(m->arena_bytes));
        v.push_back(m->fits == "bench" ? "bench image does not fit"
                                       : measured(m->instr_per_inference, true));
      }
      std::string out;
      for (const auto& x : v) out += " " + x + " |";
      return out;
    };
    for (const auto* c : rows) {
      const auto* e = m4_of(*c);
      const std::optional<M4Measurement> none;
      const auto& i8 = e ? e->int8 : none;
      const auto& f32 = e ? e->f32 : none;
      md += fmt::format("| {} | {} | {} | {} | {} | {} |{}{}\n", c->family, c->model, c->params,
                        c->macs, c->bytes_f32,
                        i8 ? fmt::format("{} (exact)", i8->weight_bytes)
                           : fmt::format("{} (approx.)", c->bytes_int8),
                        cells(i8, true), cells(f32, false));
    }
  }
  md += "\nCSV: students.csv, teachers.csv, gains.csv, teacher_effect.csv, fits.csv, memory.csv.\n";
  write_file_atomic(dir + "/report.md", md);
  return dir + "/report.md";
}

// ============================================================================ recommendation

namespace {

Interval mean_ci(const std::map<std::string, double>& subject_mae, int n_boot, uint64_t seed) {
  std::vector<double> v;
  for (const auto& [k, x] : subject_mae) v.push_back(x);
  if (v.empty()) return {std::nan(""), std::nan("")};
  std::mt19937_64 rng(seed);
  std::vector<double> means;
  for (int b = 0; b < n_boot; ++b) {
    double s = 0;
    for (size_t i = 0; i < v.size(); ++i) s += v[rng() % v.size()];
    means.push_back(s / v.size());
  }
  return {quantile(means, 0.025), quantile(means, 0.975)};
}

}  // namespace

Recommendation recommend(const SweepResults& r, const Budget& b, int n_boot, uint64_t seed) {
  Recommendation rec;
  auto bytes = [&](const SweepCell& c) { return b.int8 ? c.bytes_int8 : c.bytes_f32; };
  auto fits_budget = [&](const SweepCell& c) {
    return bytes(c) <= b.max_bytes && (b.max_macs <= 0 || c.macs <= b.max_macs);
  };
  std::map<std::string, const SweepCell*> best_per_strategy;
  for (const auto& c : r.students) {
    if (!fits_budget(c) || !std::isfinite(c.mae_bpm)) continue;
    auto& slot = best_per_strategy[c.family + " / " + c.strategy];
    if (!slot || c.mae_bpm < slot->mae_bpm) slot = &c;
    if (!rec.found || c.mae_bpm < rec.best.mae_bpm) rec.best = c, rec.found = true;
  }
  const std::string unit = b.int8 ? "int8" : "float32";
  if (!rec.found) {
    rec.text = fmt::format("No measured student fits {} {} weight bytes{}.\n", b.max_bytes, unit,
                           b.max_macs > 0 ? fmt::format(" and {} MACs", b.max_macs) : "");
    return rec;
  }
  for (const auto& [k, c] : best_per_strategy)
    if (!(c->family == rec.best.family && c->strategy == rec.best.strategy &&
          c->model == rec.best.model && c->teacher_model == rec.best.teacher_model))
      rec.alternatives.push_back(*c);
  rec.mae_ci = mean_ci(rec.best.subject_mae, n_boot, seed);
  const auto& c = rec.best;
  rec.text = fmt::format(
      "Best measured under {} {} bytes{}: {} student {} ({}) with strategy {}{}\n"
      "  {} params, {} MACs/window, {} {} bytes; MAE {} BPM (95% CI {} to {}, {} subjects)\n",
      b.max_bytes, unit, b.max_macs > 0 ? fmt::format(" and {} MACs", b.max_macs) : "", c.family,
      c.model, c.spec, c.strategy,
      c.teacher_model.empty() ? "" : " from teacher " + c.teacher_model, c.params, c.macs, bytes(c),
      unit, num(c.mae_bpm, 2), num(rec.mae_ci.lo, 2), num(rec.mae_ci.hi, 2), c.subject_mae.size());
  for (const auto& a : rec.alternatives)
    rec.text += fmt::format("  alternative: {} / {}{} {} ({} params): MAE {} BPM\n", a.family,
                            a.strategy, a.teacher_model.empty() ? "" : " <- " + a.teacher_model,
                            a.model, a.params, num(a.mae_bpm, 2));
  // The fitted law of the best curve at the largest size the budget allows, scaling bytes and
  // MACs with parameters as the curve's largest measured student does.
  std::vector<SizeSubjects> sizes;
  const SweepCell* largest = nullptr;
  for (const auto* cell : curve_cells(r, c.family, c.strategy, c.teacher_model)) {
    sizes.push_back({double(cell->params), cell->subject_mae});
    if (!largest || cell->params > largest->params) largest = cell;
  }
  try {
    const auto law = analyse_law(ScalingLaw::kPower, sizes, n_boot, seed);
    double n_max = b.max_bytes * double(largest->params) / double(bytes(*largest));
    if (b.max_macs > 0)
      n_max = std::min(n_max, b.max_macs * double(largest->params) / double(largest->macs));
    rec.law_ok = true;
    rec.law_params = n_max;
    rec.law_mae = law.fit.predict(n_max);
    rec.law_ci = law.prediction_ci(n_max);
    rec.law_extrapolates = n_max > double(largest->params);
    rec.text += fmt::format(
        "Fitted law ({}, R^2 {}): at ~{:.0f} params (the most the budget allows for this curve) "
        "expected MAE {} BPM (95% CI {} to {}){}\n",
        law_formula(ScalingLaw::kPower), num(law.fit.r2, 3), n_max, num(rec.law_mae, 2),
        num(rec.law_ci.lo, 2), num(rec.law_ci.hi, 2),
        rec.law_extrapolates ? "; this extrapolates beyond the largest measured student" : "");
  } catch (const Error&) {
    rec.text += "Fitted law: too few sizes on this curve to fit MAE = a*N^(-b) + c.\n";
  }
  return rec;
}

}  // namespace ppgkd
