// A sweep plan: the data and protocol, the teachers, the student ladders and the distillation
// strategies of a capacity study, read from a JSON or TOML file and expanded into runs. Teacher
// runs come first (teacher x fold x seed), then student runs (student x strategy x teacher x fold x
// seed; strategy "none" trains from scratch, needs no teacher and is therefore shared by all
// teachers). A run's key hashes its resolved config (its models as canonical specs, so a ladder
// rung and the spec it stands for are one run), the data fingerprint (the one its children record)
// and the code version, so the same run is recognised across restarts, shards and machines. Not
// here: executing runs (runner.h) or remembering results (store.h).
//
// Plan file (JSON; every key but "data", "teachers"/"students" and "strategies" is optional):
//   {
//     "name": "headline",
//     "data": "/path/to/data" | "synthetic" | "synthetic:SEED" | "DIR,synthetic:3",  // data_spec.h
//     "inputs": "ppg+acc",            "cache": "/path/to/window/cache",
//     "folds": 4, "fold_list": [0, 1], "split_seed": 1, "seeds": [1, 2],
//     "group_size": 16,               // students trained together per process (see runner.h)
//     "train":         {"epochs": 12, "batch": 256, "lr": 0.002, "augment": true},
//     "teacher_train": {"epochs": 20},          // overrides "train" for teacher runs
//     "distill":       {"kd_warmup": 2},        // extra flags for distilled (not scratch) students
//     "teachers": ["r7", "resnet1d:stem=48,stages=48-96-192-192,blocks=1,k=5"],
//     "students": {"resnet": ["r1", "r2", "r3"], "mlp": ["m1", "m2"]},
//     "strategies": [{"name": "none"}, {"name": "dkd", "alpha": 1, "beta": 8, "temperature": 4},
//                    {"name": "soft", "label": "soft-T2", "temperature": 2}]
//   }
// The same plan as TOML (.toml): objects are tables, the strategies an array of tables. It is
// converted to the JSON above before validation, so both forms give the same canonical form and
// hash; TOML dates and times, and inf/nan, are refused.
//   name = "headline"
//   data = "synthetic"
//   seeds = [1, 2]
//   teachers = ["r7"]
//   [train]
//   epochs = 12
//   lr = 0.002
//   [students]
//   resnet = ["r1", "r2", "r3"]
//   [[strategies]]
//   name = "none"
//   [[strategies]]
//   name = "dkd"
//   temperature = 4
// Option keys become child flags: "label_smoothing": 0.1 -> "--label-smoothing 0.1"; true -> a
// bare flag; false -> omitted. The child (ppgkd train / distill) validates them.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ppgkd {

struct StrategySpec {
  std::string name;       // none | hard | soft | dkd | feature
  std::string label;      // shown in reports; defaults to name
  nlohmann::json params;  // object: flag name -> value (alpha, beta, temperature, ...)
};

struct StudentLadder {
  std::string family;               // plan label, e.g. "resnet" or "mlp"
  std::vector<std::string> models;  // specs or ladder rungs
};

struct SweepPlan {
  std::string name = "sweep";
  std::string data;
  std::string inputs = "ppg+acc";
  std::string cache;  // window cache directory for the children ("" = none)
  int folds = 4;
  std::vector<int> fold_list;  // empty: every fold
  uint64_t split_seed = 1;
  std::vector<uint64_t> seeds = {1};
  nlohmann::json train = nlohmann::json::object();
  nlohmann::json teacher_train = nlohmann::json::object();
  nlohmann::json distill = nlohmann::json::object();
  std::vector<std::string> teachers;
  std::vector<StudentLadder> students;
  std::vector<StrategySpec> strategies;
  // Up to this many student runs that share student, fold and batch train as one grouped network
  // in one process (`ppgkd group`); 1 = one run per process. `sweep --group-size` overrides it.
  int group_size = 1;

  // Throws Error(where, ...) naming the first bad key, e.g. `"folds" must be an integer >= 1`.
  static SweepPlan from_json(const nlohmann::json& j, const std::string& where);
  static SweepPlan load(const std::string& path);  // .json or .toml; throws Error(path, ...)
  nlohmann::json to_json() const;                  // canonical form (defaults filled in)
  std::string hash() const;                        // 16 hex digits of the canonical form
  std::vector<int> folds_to_run() const;
};

struct PlannedRun {
  size_t index = 0;         // position in the expanded plan (teachers first); used by --shard
  std::string key;          // 16 hex digits
  std::string kind;         // "teacher" or "student"
  std::string model;        // spec or rung as written in the plan
  std::string family;       // "teacher", or the student ladder's label
  std::string strategy;     // strategy label ("" for teachers; "none" = scratch)
  std::string teacher_key;  // the teacher run this run needs ("" when none)
  std::string teacher_model;
  int fold = 0;
  uint64_t seed = 1;
  nlohmann::json config;          // the resolved config the key hashes
  std::vector<std::string> args;  // child arguments without --out/--teacher/--threads
};

// Data fingerprint for run keys: data_fingerprint(plan.data) (data/data_spec.h), the fingerprint
// every child computes for its --data and records in its model.json.
std::string plan_data_fingerprint(const SweepPlan& plan);

// The canonical spec string (ModelSpec::str) of a plan's model for `inputs` ("ppg" or "ppg+acc"),
// ladder rungs and their overrides resolved ("r3" -> "resnet1d:stem=..."): what run keys hash. A
// model that does not parse comes back as written (the plan check refuses it, naming the run).
std::string canonical_model(const std::string& model, const std::string& inputs);

// Expands the plan: teachers first, then students; duplicate runs (scratch students shared by
// several teachers) appear once. Throws Error("plan", ...) when the plan expands to no runs.
std::vector<PlannedRun> expand_plan(const SweepPlan& plan, const std::string& data_fingerprint,
                                    const std::string& code_version);

// The child's full argument list (after the executable) for a run whose directory is
// OUT/runs/KEY: args + --out, --resume, --teacher OUT/runs/TEACHER_KEY when needed, --threads 1.
std::vector<std::string> run_arguments(const PlannedRun& run, const std::string& out_dir);
std::string run_directory(const std::string& out_dir, const std::string& key);

}  // namespace ppgkd
