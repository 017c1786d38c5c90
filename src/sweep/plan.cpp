#include "sweep/plan.h"

#include <toml++/toml.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <set>
#include <tuple>

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/hash.h"
#include "data/data_spec.h"
#include "data/preprocess.h"
#include "models/model_spec.h"

namespace ppgkd {

// ============================================================================ reading the plan

namespace {

const std::set<std::string> kPlanKeys = {"name",     "data",          "inputs",     "cache",
                                         "folds",    "fold_list",     "split_seed", "seeds",
                                         "train",    "teacher_train", "distill",    "teachers",
                                         "students", "strategies",    "group_size"};
const std::set<std::string> kStrategies = {"none", "hard", "soft", "dkd", "feature"};

std::string get_string(const nlohmann::json& j, const char* key, const std::string& where,
                       const std::string& def) {
  if (!j.contains(key)) return def;
  if (!j[key].is_string() || j[key].get<std::string>().empty())
    throw Error(where, std::string("\"") + key + "\" must be a non-empty string");
  return j[key];
}

std::vector<std::string> get_string_list(const nlohmann::json& j, const std::string& what,
                                         const std::string& where) {
  if (!j.is_array()) throw Error(where, what + " must be an array of strings");
  std::vector<std::string> out;
  for (const auto& v : j) {
    if (!v.is_string() || v.get<std::string>().empty())
      throw Error(where, what + " must be an array of strings");
    out.push_back(v);
  }
  return out;
}

bool is_non_negative_integer(const nlohmann::json& v) {
  return v.is_number_unsigned() || (v.is_number_integer() && v.get<int64_t>() >= 0);
}

// Flag objects: scalar values only, so every value has one command-line spelling.
nlohmann::json get_flags(const nlohmann::json& j, const char* key, const std::string& where) {
  if (!j.contains(key)) return nlohmann::json::object();
  const auto& o = j[key];
  if (!o.is_object()) throw Error(where, std::string("\"") + key + "\" must be an object");
  for (auto it = o.begin(); it != o.end(); ++it)
    if (!(it->is_number() || it->is_string() || it->is_boolean()))
      throw Error(where, std::string("\"") + key + "." + it.key() +
                             "\" must be a number, a string or a boolean");
  return o;
}

}  // namespace

SweepPlan SweepPlan::from_json(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object()) throw Error(where, "a plan must be a JSON object");
  for (auto it = j.begin(); it != j.end(); ++it)
    if (!kPlanKeys.count(it.key())) throw Error(where, "unknown key \"" + it.key() + "\"");
  SweepPlan p;
  p.name = get_string(j, "name", where, p.name);
  if (!j.contains("data")) throw Error(where, "\"data\" is required");
  p.data = get_string(j, "data", where, "");
  try {
    parse_data_spec(p.data);  // the children's parser: a bad "synthetic:x" fails the plan now
  } catch (const Error& e) {
    throw Error(where, std::string("\"data\": ") + e.what());
  }
  p.inputs = get_string(j, "inputs", where, p.inputs);
  if (p.inputs != "ppg" && p.inputs != "ppg+acc")
    throw Error(where, "\"inputs\" must be \"ppg\" or \"ppg+acc\"");
  p.cache = j.contains("cache") ? get_string(j, "cache", where, "") : "";
  if (j.contains("folds")) {
    if (!j["folds"].is_number_integer() || j["folds"].get<int>() < 1)
      throw Error(where, "\"folds\" must be an integer >= 1");
    p.folds = j["folds"];
  }
  if (j.contains("fold_list")) {
    if (!j["fold_list"].is_array() || j["fold_list"].empty())
      throw Error(where, "\"fold_list\" must be a non-empty array of fold indices");
    for (const auto& f : j["fold_list"]) {
      if (!f.is_number_integer() || f.get<int>() < 0 || f.get<int>() >= p.folds)
        throw Error(where, "\"fold_list\" holds " + f.dump() + ", not a fold in 0.." +
                               std::to_string(p.folds - 1));
      p.fold_list.push_back(f);
    }
  }
  if (j.contains("split_seed")) {
    if (!is_non_negative_integer(j["split_seed"]))
      throw Error(where, "\"split_seed\" must be a non-negative integer");
    p.split_seed = j["split_seed"].get<uint64_t>();
  }
  if (j.contains("seeds")) {
    if (!j["seeds"].is_array() || j["seeds"].empty())
      throw Error(where, "\"seeds\" must be a non-empty array of non-negative integers");
    p.seeds.clear();
    for (const auto& s : j["seeds"]) {
      if (!is_non_negative_integer(s))
        throw Error(where, "\"seeds\" must be a non-empty array of non-negative integers");
      p.seeds.push_back(s.get<uint64_t>());
    }
  }
  if (j.contains("group_size")) {
    if (!j["group_size"].is_number_integer() || j["group_size"].get<int>() < 1)
      throw Error(where, "\"group_size\" must be an integer >= 1");
    p.group_size = j["group_size"];
  }
  p.train = get_flags(j, "train", where);
  p.teacher_train = get_flags(j, "teacher_train", where);
  p.distill = get_flags(j, "distill", where);
  if (j.contains("teachers")) p.teachers = get_string_list(j["teachers"], "\"teachers\"", where);
  if (j.contains("students")) {
    if (!j["students"].is_object())
      throw Error(where, "\"students\" must be an object: family -> array of models");
    for (auto it = j["students"].begin(); it != j["students"].end(); ++it)
      p.students.push_back(
          {it.key(), get_string_list(*it, "\"students." + it.key() + "\"", where)});
  }
  if (p.teachers.empty() && p.students.empty())
    throw Error(where, "the plan names no teachers and no students");
  if (!p.students.empty()) {
    if (!j.contains("strategies") || !j["strategies"].is_array() || j["strategies"].empty())
      throw Error(where, "\"strategies\" must be a non-empty array when students are given");
    std::set<std::string> labels;
    for (const auto& s : j["strategies"]) {
      if (!s.is_object() || !s.contains("name") || !s["name"].is_string())
        throw Error(where, "each strategy must be an object with a \"name\"");
      StrategySpec st;
      st.name = s["name"];
      if (!kStrategies.count(st.name))
        throw Error(where, "unknown strategy \"" + st.name +
                               "\" (expected none, hard, soft, dkd or feature)");
      st.label = s.contains("label") ? get_string(s, "label", where, "") : st.name;
      if (!labels.insert(st.label).second)
        throw Error(where, "two strategies are labelled \"" + st.label + "\"");
      nlohmann::json params = s;
      params.erase("name");
      params.erase("label");
      nlohmann::json wrapped = {{"strategy " + st.label, params}};
      st.params = get_flags(wrapped, ("strategy " + st.label).c_str(), where);
      if (st.name != "none" && p.teachers.empty())
        throw Error(where, "strategy \"" + st.label + "\" needs at least one teacher");
      p.strategies.push_back(st);
    }
  }
  return p;
}

namespace {

// A TOML value as JSON: tables -> objects, arrays -> arrays, strings, integers (int64), floats and
// booleans as themselves. `key` is the value's dotted path ("train.lr", "strategies[1].alpha") for
// the errors: dates and times, and inf/nan, have no JSON form.
nlohmann::json toml_to_json(const toml::node& node, const std::string& key,
                            const std::string& where) {
  if (const auto* t = node.as_table()) {
    nlohmann::json o = nlohmann::json::object();
    for (const auto& [k, v] : *t) {
      const std::string name(k.str());
      o[name] = toml_to_json(v, key.empty() ? name : key + "." + name, where);
    }
    return o;
  }
  if (const auto* a = node.as_array()) {
    nlohmann::json o = nlohmann::json::array();
    for (size_t i = 0; i < a->size(); ++i)
      o.push_back(toml_to_json(*a->get(i), key + "[" + std::to_string(i) + "]", where));
    return o;
  }
  if (const auto* v = node.as_string()) return v->get();
  if (const auto* v = node.as_integer()) return static_cast<int64_t>(v->get());
  if (const auto* v = node.as_boolean()) return v->get();
  const auto line = std::to_string(node.source().begin.line);
  if (const auto* v = node.as_floating_point()) {
    if (!std::isfinite(v->get()))
      throw Error(where, "\"" + key + "\" (line " + line + ") is " +
                             (std::isnan(v->get()) ? "nan" : "inf") +
                             "; plan numbers must be finite");
    return v->get();
  }
  const char* what = node.is_date() ? "date" : node.is_time() ? "time" : "date-time";
  throw Error(where, "\"" + key + "\" (line " + line + ") is a TOML " + what +
                         "; plans hold only strings, numbers, booleans, arrays and tables");
}

}  // namespace

SweepPlan SweepPlan::load(const std::string& path) {
  const auto ext = std::filesystem::path(path).extension().string();
  nlohmann::json j;
  if (ext == ".json") {
    try {
      j = nlohmann::json::parse(read_file(path));
    } catch (const nlohmann::json::exception& e) {
      throw Error(path, std::string("not valid JSON: ") + e.what());
    }
  } else if (ext == ".toml") {
    const std::string text = read_file(path);
    toml::table table;
    try {
      table = toml::parse(text, path);
    } catch (const toml::parse_error& e) {
      throw Error(path, "not valid TOML: line " + std::to_string(e.source().begin.line) +
                            ", column " + std::to_string(e.source().begin.column) + ": " +
                            std::string(e.description()));
    }
    j = toml_to_json(table, "", path);
  } else {
    throw Error(path,
                "plan files are JSON (.json) or TOML (.toml), not " +
                    (ext.empty() ? std::string("a file without an extension") : "\"" + ext + "\""));
  }
  return from_json(j, path);
}

nlohmann::json SweepPlan::to_json() const {
  nlohmann::json j = {{"name", name},       {"data", data},
                      {"inputs", inputs},   {"cache", cache},
                      {"folds", folds},     {"fold_list", folds_to_run()},
                      {"seeds", seeds},     {"split_seed", split_seed},
                      {"train", train},     {"teacher_train", teacher_train},
                      {"distill", distill}, {"teachers", teachers}};
  j["students"] = nlohmann::json::object();
  for (const auto& l : students) j["students"][l.family] = l.models;
  j["strategies"] = nlohmann::json::array();
  for (const auto& s : strategies) {
    nlohmann::json o = s.params;
    o["name"] = s.name;
    o["label"] = s.label;
    j["strategies"].push_back(o);
  }
  // How runs execute, not what they compute: kept out of the canonical form (and the hash) unless
  // set, so plans written before the key hash as they did.
  if (group_size != 1) j["group_size"] = group_size;
  return j;
}

std::string SweepPlan::hash() const {
  return Hasher().update(to_json().dump()).hex();
}

std::vector<int> SweepPlan::folds_to_run() const {
  if (!fold_list.empty()) return fold_list;
  std::vector<int> all;
  for (int f = 0; f < folds; ++f) all.push_back(f);
  return all;
}

// ============================================================================ expansion

std::string plan_data_fingerprint(const SweepPlan& plan) {
  return data_fingerprint(plan.data);
}

std::string canonical_model(const std::string& model, const std::string& inputs) {
  PreprocessConfig pre;  // the children's window shape: the default rate and window, these inputs
  pre.inputs = inputs;
  try {
    return ModelSpec::parse(resolve_spec(model), pre.channels(), pre.length()).str();
  } catch (const Error&) {
    return model;
  }
}

namespace {

// {"label_smoothing": 0.1, "augment": true} -> --label-smoothing 0.1 --augment
void append_flags(const nlohmann::json& flags, std::vector<std::string>* args) {
  for (auto it = flags.begin(); it != flags.end(); ++it) {
    std::string flag = "--" + it.key();
    for (auto& ch : flag)
      if (ch == '_') ch = '-';
    if (it->is_boolean()) {
      if (it->get<bool>()) args->push_back(flag);
      continue;
    }
    args->push_back(flag);
    args->push_back(it->is_string() ? it->get<std::string>() : it->dump());
  }
}

std::string run_key(const nlohmann::json& config, const std::string& fingerprint,
                    const std::string& code_version) {
  return Hasher()
      .update(config.dump())
      .update("\n")
      .update(fingerprint)
      .update("\n")
      .update(code_version)
      .hex();
}

}  // namespace

std::vector<PlannedRun> expand_plan(const SweepPlan& plan, const std::string& fingerprint,
                                    const std::string& code_version) {
  nlohmann::json teacher_flags = plan.train;
  teacher_flags.update(plan.teacher_train);
  const nlohmann::json common = {{"data", plan.data},
                                 {"inputs", plan.inputs},
                                 {"folds", plan.folds},
                                 {"split_seed", plan.split_seed}};
  std::vector<PlannedRun> runs;
  std::set<std::string> seen;
  auto add = [&](PlannedRun r) {
    r.key = run_key(r.config, fingerprint, code_version);
    if (!seen.insert(r.key).second) return;
    r.index = runs.size();
    runs.push_back(std::move(r));
  };
  auto train_args = [&](const std::string& model, int fold, uint64_t seed,
                        const nlohmann::json& flags) {
    std::vector<std::string> a = {"train",
                                  "--data",
                                  plan.data,
                                  "--model",
                                  model,
                                  "--inputs",
                                  plan.inputs,
                                  "--folds",
                                  std::to_string(plan.folds),
                                  "--fold",
                                  std::to_string(fold),
                                  "--split-seed",
                                  std::to_string(plan.split_seed),
                                  "--seed",
                                  std::to_string(seed)};
    if (!plan.cache.empty()) a.insert(a.end(), {"--cache", plan.cache});
    append_flags(flags, &a);
    return a;
  };
  // Teachers: one per teacher x fold x seed.
  std::map<std::tuple<std::string, int, uint64_t>, std::string> teacher_keys;
  for (const auto& t : plan.teachers)
    for (int fold : plan.folds_to_run())
      for (uint64_t seed : plan.seeds) {
        PlannedRun r;
        r.kind = "teacher";
        r.model = t;
        r.family = "teacher";
        r.fold = fold;
        r.seed = seed;
        r.config = common;
        r.config.update({{"kind", "teacher"},
                         {"model", canonical_model(t, plan.inputs)},
                         {"fold", fold},
                         {"seed", seed},
                         {"train", teacher_flags},
                         {"cache", plan.cache}});
        r.args = train_args(t, fold, seed, teacher_flags);
        add(r);
        teacher_keys[{t, fold, seed}] = run_key(r.config, fingerprint, code_version);
      }
  // Students: student x strategy x teacher x fold x seed; scratch once per student x fold x seed.
  for (const auto& ladder : plan.students)
    for (const auto& s : ladder.models)
      for (const auto& st : plan.strategies) {
        const bool scratch = st.name == "none";
        const std::vector<std::string> teachers =
            scratch ? std::vector<std::string>{""} : plan.teachers;
        for (const auto& t : teachers)
          for (int fold : plan.folds_to_run())
            for (uint64_t seed : plan.seeds) {
              PlannedRun r;
              r.kind = "student";
              r.model = s;
              r.family = ladder.family;
              r.strategy = st.label;
              r.fold = fold;
              r.seed = seed;
              r.config = common;
              r.config.update({{"kind", "student"},
                               {"model", canonical_model(s, plan.inputs)},
                               {"family", ladder.family},
                               {"strategy", st.name},
                               {"strategy_params", st.params},
                               {"fold", fold},
                               {"seed", seed},
                               {"train", plan.train},
                               {"cache", plan.cache}});
              if (scratch) {
                r.args = train_args(s, fold, seed, plan.train);
              } else {
                r.teacher_model = t;
                r.teacher_key = teacher_keys.at({t, fold, seed});
                r.config["teacher_key"] = r.teacher_key;
                r.config["distill"] = plan.distill;
                // Same data, split and seed as the teacher: distill checks they agree.
                r.args = train_args(s, fold, seed, nlohmann::json::object());
                r.args[0] = "distill";
                r.args[3] = "--student";
                r.args.insert(r.args.begin() + 5, {"--strategy", st.name});
                append_flags(st.params, &r.args);
                append_flags(plan.train, &r.args);
                append_flags(plan.distill, &r.args);
              }
              add(r);
            }
      }
  if (runs.empty()) throw Error("plan", "the plan expands to no runs");
  return runs;
}

std::string run_directory(const std::string& out_dir, const std::string& key) {
  return out_dir + "/runs/" + key;
}

std::vector<std::string> run_arguments(const PlannedRun& run, const std::string& out_dir) {
  auto a = run.args;
  // --resume: a run whose earlier attempt was killed continues from its last checkpoint (a fresh
  // directory simply starts; a finished one is harvested and never relaunched).
  a.insert(a.end(), {"--out", run_directory(out_dir, run.key), "--resume"});
  if (!run.teacher_key.empty())
    a.insert(a.end(), {"--teacher", run_directory(out_dir, run.teacher_key)});
  a.insert(a.end(), {"--threads", "1"});
  return a;
}

}  // namespace ppgkd
