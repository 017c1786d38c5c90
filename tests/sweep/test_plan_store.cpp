// Plans (parsing, JSON and TOML files, expansion, keys, arguments), the results store (claims,
// atomic completion, stale requeue) and child processes (exit status, logs, markers).
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "common/atomic_file.h"
#include "common/error.h"
#include "data/cache.h"
#include "sweep/child.h"
#include "sweep/plan.h"
#include "sweep/run_result.h"
#include "sweep/store.h"
#include "test_util.h"

namespace ppgkd {
namespace {

nlohmann::json tiny_plan() {
  return nlohmann::json::parse(R"({
    "data": "synthetic", "folds": 2, "seeds": [1, 2],
    "train": {"epochs": 1, "augment": true, "label_smoothing": 0.1},
    "teachers": ["r5", "r6"],
    "students": {"resnet": ["r1", "r2"], "mlp": ["m1"]},
    "strategies": [{"name": "none"}, {"name": "dkd", "alpha": 1, "beta": 8}]
  })");
}

std::string expect_error(const nlohmann::json& j) {
  try {
    SweepPlan::from_json(j, "plan.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

// ============================================================================ plans

TEST(SweepPlan, ExpandsTeachersFirstAndSharesScratchRuns) {
  const auto plan = SweepPlan::from_json(tiny_plan(), "plan.json");
  const auto runs = expand_plan(plan, "fp", "abc");
  // teachers 2 x 2 folds x 2 seeds = 8; students 3 x (scratch 1 + dkd 2 teachers) x 2 x 2 = 36.
  ASSERT_EQ(runs.size(), 8u + 36u);
  for (size_t i = 0; i < runs.size(); ++i) {
    EXPECT_EQ(runs[i].index, i);
    EXPECT_EQ(runs[i].kind, i < 8 ? "teacher" : "student");
  }
  std::set<std::string> keys;
  for (const auto& r : runs) keys.insert(r.key);
  EXPECT_EQ(keys.size(), runs.size());
  for (const auto& r : runs) {
    if (r.kind == "student" && r.strategy == "dkd") {
      ASSERT_FALSE(r.teacher_key.empty());
      // The teacher runs on the same fold and seed and comes earlier.
      bool found = false;
      for (const auto& t : runs)
        if (t.key == r.teacher_key) {
          found = true;
          EXPECT_EQ(t.fold, r.fold);
          EXPECT_EQ(t.seed, r.seed);
          EXPECT_LT(t.index, r.index);
        }
      EXPECT_TRUE(found);
    }
    if (r.strategy == "none") {
      EXPECT_TRUE(r.teacher_key.empty());
    }
  }
}

TEST(SweepPlan, KeysDependOnConfigDataAndCode) {
  const auto plan = SweepPlan::from_json(tiny_plan(), "plan.json");
  const auto a = expand_plan(plan, "fp", "abc");
  EXPECT_EQ(a[0].key, expand_plan(plan, "fp", "abc")[0].key);
  EXPECT_NE(a[0].key, expand_plan(plan, "fp2", "abc")[0].key);
  EXPECT_NE(a[0].key, expand_plan(plan, "fp", "abd")[0].key);
  auto j = tiny_plan();
  j["train"]["epochs"] = 2;
  EXPECT_NE(a[0].key, expand_plan(SweepPlan::from_json(j, "p"), "fp", "abc")[0].key);
}

// A ladder rung and the spec it stands for are one run: the key hashes the canonical spec. The
// specs below are the ladder's (model_spec.cpp) written with their keys in another order and the
// default blocks=1 left out, so only resolution and canonical form can make them agree.
TEST(SweepPlan, RungsKeyTheSameRunsAsTheirSpecs) {
  const std::string r1 = "resnet1d:k=3,stages=3-3-4-4-4,stem=3";
  const std::string r5 = "resnet1d:stages=8-12-16-32-48,k=7,stem=8";
  const std::string r6k5 = "resnet1d:stem=8,stages=8-16-24-48-64,k=5";
  EXPECT_EQ(canonical_model("r1", "ppg+acc"), "resnet1d:stem=3,stages=3-3-4-4-4,blocks=1,k=3");
  EXPECT_EQ(canonical_model(r1, "ppg+acc"), canonical_model("r1", "ppg+acc"));
  EXPECT_EQ(canonical_model("r6,k=5", "ppg"), canonical_model(r6k5, "ppg"));
  EXPECT_EQ(canonical_model("m4", "ppg"), "mlp:hidden=64-64");
  EXPECT_EQ(canonical_model("fake:1000", "ppg"), "fake:1000");  // not a spec: as written
  EXPECT_EQ(canonical_model("r99", "ppg"), "r99");              // refused by the plan check

  auto rungs = tiny_plan();
  rungs["teachers"] = {"r5", "r6,k=5"};
  rungs["students"] = {{"resnet", {"r1"}}, {"mlp", {"m4"}}};
  auto specs = rungs;
  specs["teachers"] = {r5, r6k5};
  specs["students"] = {{"resnet", {r1}}, {"mlp", {"mlp:hidden=64-64"}}};
  const auto a = expand_plan(SweepPlan::from_json(rungs, "a.json"), "fp", "abc");
  const auto b = expand_plan(SweepPlan::from_json(specs, "b.json"), "fp", "abc");
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].key, b[i].key) << a[i].model << " vs " << b[i].model;
    EXPECT_EQ(a[i].teacher_key, b[i].teacher_key);
  }
  EXPECT_EQ(a[0].model, "r5");  // the run still shows the model as the plan wrote it
  EXPECT_EQ(b[0].model, r5);

  // Another spec is another run: r2 for r1 changes exactly the r1 students, 2 folds x 2 seeds x
  // (scratch + dkd from each of 2 teachers) = 12 runs.
  auto other = rungs;
  other["students"] = {{"resnet", {"r2"}}, {"mlp", {"m4"}}};
  const auto c = expand_plan(SweepPlan::from_json(other, "c.json"), "fp", "abc");
  ASSERT_EQ(c.size(), a.size());
  size_t differ = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].key != c[i].key, a[i].model == "r1") << i;
    differ += a[i].key != c[i].key;
  }
  EXPECT_EQ(differ, 12u);
}

// The sweep keys its runs on the data fingerprint its children record: the one load_windows
// reports (CacheInfo::fingerprint, written to model.json), for every form of "data".
TEST(SweepPlan, DataFingerprintIsTheChildrens) {
  auto j = tiny_plan();
  std::vector<std::string> datas = {"synthetic", "synthetic:5", "synthetic:5,synthetic:6"};
  const std::string real = testing::real_data_root();
  if (real.empty()) {
    const char* req = std::getenv("PPGKD_REQUIRE_DATA");
    if (req && std::string(req) == "1") ADD_FAILURE() << "real data required but absent";
    std::printf("note: real data absent; the folder cases are not run (set PPGKD_DATA)\n");
  } else {
    datas.push_back(real + "/ieee_spc2015");
    datas.push_back(real + "/ieee_spc2015,synthetic:5");
  }
  for (const std::string& data : datas) {
    j["data"] = data;
    const auto plan = SweepPlan::from_json(j, "plan.json");
    CacheInfo child;
    load_windows(data, PreprocessConfig{}, "", &child);
    EXPECT_EQ(plan_data_fingerprint(plan), child.fingerprint) << data;
    EXPECT_EQ(child.fingerprint.size(), 16u);
  }
  j["data"] = "synthetic:x";  // the children's parser, when the plan loads
  EXPECT_EQ(expect_error(j),
            "plan.json: \"data\": synthetic:x: synthetic seed must be a non-negative integer");
  j["data"] = "synthetic,";
  EXPECT_EQ(expect_error(j), "plan.json: \"data\": synthetic,: empty entry in the data list");
}

TEST(SweepPlan, ArgumentsCarryFlagsTeacherAndOneThread) {
  const auto plan = SweepPlan::from_json(tiny_plan(), "plan.json");
  const auto runs = expand_plan(plan, "fp", "abc");
  const auto t = run_arguments(runs[0], "OUT");
  const std::vector<std::string> want = {"train",
                                         "--data",
                                         "synthetic",
                                         "--model",
                                         "r5",
                                         "--inputs",
                                         "ppg+acc",
                                         "--folds",
                                         "2",
                                         "--fold",
                                         "0",
                                         "--split-seed",
                                         "1",
                                         "--seed",
                                         "1",
                                         "--augment",
                                         "--epochs",
                                         "1",
                                         "--label-smoothing",
                                         "0.1",
                                         "--out",
                                         "OUT/runs/" + runs[0].key,
                                         "--resume",
                                         "--threads",
                                         "1"};
  EXPECT_EQ(t, want);
  for (const auto& r : runs)
    if (r.strategy == "dkd") {
      const auto a = run_arguments(r, "OUT");
      EXPECT_EQ(a[0], "distill");
      EXPECT_EQ(a[3], "--student");
      EXPECT_EQ(a[5], "--strategy");
      EXPECT_EQ(a[6], "dkd");
      auto it = std::find(a.begin(), a.end(), "--teacher");
      ASSERT_NE(it, a.end());
      EXPECT_EQ(*(it + 1), "OUT/runs/" + r.teacher_key);
      EXPECT_NE(std::find(a.begin(), a.end(), "--beta"), a.end());
      break;
    }
}

// A plan takes a pre-trained teacher (teacher_train.init -> train --init) and train-only datasets
// for teachers and students alike (train.train_only -> --train-only on train and distill).
TEST(SweepPlan, PretrainedTeachersAndTrainOnlyDatasets) {
  auto j = tiny_plan();
  j["teacher_train"] = {{"init", "pre/r6"}};
  j["train"]["train_only"] = "bami2";
  const auto runs = expand_plan(SweepPlan::from_json(j, "plan.json"), "fp", "abc");
  auto has = [](const std::vector<std::string>& a, const std::string& flag,
                const std::string& value) {
    auto it = std::find(a.begin(), a.end(), flag);
    return it != a.end() && it + 1 != a.end() && *(it + 1) == value;
  };
  int teachers = 0, students = 0;
  for (const auto& r : runs) {
    const auto a = run_arguments(r, "OUT");
    EXPECT_TRUE(has(a, "--train-only", "bami2")) << a[0];
    if (a[0] == "train" && r.teacher_key.empty() && has(a, "--model", "r6")) {
      EXPECT_TRUE(has(a, "--init", "pre/r6"));
      ++teachers;
    }
    if (a[0] == "distill") {
      EXPECT_EQ(std::find(a.begin(), a.end(), "--init"), a.end());
      ++students;
    }
  }
  EXPECT_GT(teachers, 0);
  EXPECT_GT(students, 0);
}

TEST(SweepPlan, RejectsBadPlansWithExactMessages) {
  auto j = tiny_plan();
  j["folds"] = 0;
  EXPECT_EQ(expect_error(j), "plan.json: \"folds\" must be an integer >= 1");
  j = tiny_plan();
  j["colour"] = 1;
  EXPECT_EQ(expect_error(j), "plan.json: unknown key \"colour\"");
  j = tiny_plan();
  j["strategies"][1]["name"] = "magic";
  EXPECT_EQ(expect_error(j),
            "plan.json: unknown strategy \"magic\" (expected none, hard, soft, dkd or feature)");
  j = tiny_plan();
  j.erase("teachers");
  EXPECT_EQ(expect_error(j), "plan.json: strategy \"dkd\" needs at least one teacher");
  j = tiny_plan();
  j["fold_list"] = {3};
  EXPECT_EQ(expect_error(j), "plan.json: \"fold_list\" holds 3, not a fold in 0..1");
  j = tiny_plan();
  j["train"]["lr"] = nlohmann::json::array();
  EXPECT_EQ(expect_error(j), "plan.json: \"train.lr\" must be a number, a string or a boolean");
  j = tiny_plan();
  j.erase("data");
  EXPECT_EQ(expect_error(j), "plan.json: \"data\" is required");
}

// ============================================================================ plan files

// Writes `text` to `path` and loads it as a plan; returns the error message ("no error" if none).
std::string load_error(const std::string& path, const std::string& text) {
  write_file_atomic(path, text);
  try {
    SweepPlan::load(path);
  } catch (const Error& e) {
    EXPECT_EQ(e.where(), path);
    return e.what();
  }
  return "no error";
}

const char* kMixedJson = R"({
  "name": "mixed", "data": "synthetic:7", "inputs": "ppg",
  "folds": 3, "fold_list": [0, 2], "split_seed": 5, "seeds": [1, 2],
  "train": {"epochs": 2, "lr": 0.002, "augment": true, "label_smoothing": 0.1},
  "teacher_train": {"epochs": 4},
  "distill": {"kd_warmup": 1},
  "teachers": ["r5"],
  "students": {"resnet": ["r1", "r2"], "mlp": ["m1"]},
  "strategies": [{"name": "none"},
                 {"name": "dkd", "alpha": 1, "beta": 8, "temperature": 4.5},
                 {"name": "soft", "label": "soft-T2", "temperature": 2}]
})";

// The same plan in TOML: top-level keys, an inline table, a dotted key, tables, array of tables.
const char* kMixedToml = R"(# a comment
name = "mixed"
data = "synthetic:7"
inputs = "ppg"
folds = 3
fold_list = [0, 2]
split_seed = 5
seeds = [1, 2]
teachers = ["r5"]
teacher_train = { epochs = 4 }
distill.kd_warmup = 1

[train]
epochs = 2
lr = 0.002
augment = true
label_smoothing = 0.1

[students]
resnet = ["r1", "r2"]
mlp = ["m1"]

[[strategies]]
name = "none"

[[strategies]]
name = "dkd"
alpha = 1
beta = 8
temperature = 4.5

[[strategies]]
name = "soft"
label = "soft-T2"
temperature = 2
)";

TEST(SweepPlanFile, TomlAndJsonGiveTheSameCanonicalFormAndHash) {
  const auto dir = testing::scratch_dir();
  write_file_atomic(dir + "/plan.json", kMixedJson);
  write_file_atomic(dir + "/plan.toml", kMixedToml);
  const auto from_json = SweepPlan::load(dir + "/plan.json");
  const auto from_toml = SweepPlan::load(dir + "/plan.toml");
  // Written by hand: defaults filled in, keys sorted, strategies labelled.
  const std::string canonical =
      R"({"cache":"","data":"synthetic:7","distill":{"kd_warmup":1},"fold_list":[0,2],"folds":3,)"
      R"("inputs":"ppg","name":"mixed","seeds":[1,2],"split_seed":5,"strategies":[{"label":"none",)"
      R"("name":"none"},{"alpha":1,"beta":8,"label":"dkd","name":"dkd","temperature":4.5},)"
      R"({"label":"soft-T2","name":"soft","temperature":2}],"students":{"mlp":["m1"],)"
      R"("resnet":["r1","r2"]},"teacher_train":{"epochs":4},"teachers":["r5"],"train":{)"
      R"("augment":true,"epochs":2,"label_smoothing":0.1,"lr":0.002}})";
  EXPECT_EQ(from_json.to_json().dump(), canonical);
  EXPECT_EQ(from_toml.to_json().dump(), canonical);
  // 64-bit FNV-1a of `canonical`, computed outside ppgkd (a few lines of Python).
  EXPECT_EQ(from_json.hash(), "c0764c4111dc422e");
  EXPECT_EQ(from_toml.hash(), "c0764c4111dc422e");
  // Same runs, same keys.
  const auto a = expand_plan(from_json, "fp", "abc");
  const auto b = expand_plan(from_toml, "fp", "abc");
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].key, b[i].key);
}

TEST(SweepPlanFile, TomlPlansAreValidatedLikeJsonPlans) {
  const auto dir = testing::scratch_dir();
  const auto p = dir + "/plan.toml";
  EXPECT_EQ(load_error(p, "data = \"synthetic\"\nfolds = 0\nteachers = [\"r5\"]\n"),
            p + ": \"folds\" must be an integer >= 1");
  EXPECT_EQ(load_error(p, "data = \"synthetic\"\nteachers = [\"r5\"]\n[train]\nlr = [1, 2]\n"),
            p + ": \"train.lr\" must be a number, a string or a boolean");
  EXPECT_EQ(load_error(p, "data = \"synthetic\"\nteachers = [\"r5\"]\ncolour = 1\n"),
            p + ": unknown key \"colour\"");
}

TEST(SweepPlanFile, TomlSyntaxErrorNamesFileLineAndColumn) {
  const auto dir = testing::scratch_dir();
  const auto p = dir + "/broken.toml";
  const auto msg = load_error(p, "name = \"broken\"\ndata = \"synthetic\"\nfolds = = 4\n");
  const std::string prefix = p + ": not valid TOML: line 3, column 9: ";
  EXPECT_EQ(msg.substr(0, prefix.size()), prefix) << msg;
  EXPECT_GT(msg.size(), prefix.size()) << "the parser's description is missing: " << msg;
  // An unterminated string on line 2.
  const auto msg2 = load_error(p, "name = \"broken\"\ndata = \"synthetic\nfolds = 4\n");
  EXPECT_NE(msg2.find(p + ": not valid TOML: line 2, column "), std::string::npos) << msg2;
}

TEST(SweepPlanFile, TomlDatesTimesAndNonFiniteNumbersAreRefused) {
  const auto dir = testing::scratch_dir();
  const auto p = dir + "/plan.toml";
  const std::string head = "data = \"synthetic\"\nteachers = [\"r5\"]\n";
  EXPECT_EQ(load_error(p, head + "[train]\nepochs = 1\nsince = 2024-05-01\n"),
            p + ": \"train.since\" (line 5) is a TOML date; plans hold only strings, numbers, " +
                "booleans, arrays and tables");
  EXPECT_EQ(load_error(p, head + "seeds = [1, 07:30:00]\n"),
            p + ": \"seeds[1]\" (line 3) is a TOML time; plans hold only strings, numbers, " +
                "booleans, arrays and tables");
  EXPECT_EQ(load_error(p, head + "[[strategies]]\nname = \"none\"\nat = 2024-05-01T07:30:00Z\n"),
            p + ": \"strategies[0].at\" (line 5) is a TOML date-time; plans hold only strings, " +
                "numbers, booleans, arrays and tables");
  EXPECT_EQ(load_error(p, head + "[train]\nlr = nan\n"),
            p + ": \"train.lr\" (line 4) is nan; plan numbers must be finite");
  EXPECT_EQ(load_error(p, head + "[train]\nlr = -inf\n"),
            p + ": \"train.lr\" (line 4) is inf; plan numbers must be finite");
}

TEST(SweepPlanFile, OtherExtensionsAreRefused) {
  const auto dir = testing::scratch_dir();
  EXPECT_EQ(load_error(dir + "/plan.yaml", "data: synthetic\n"),
            dir + "/plan.yaml: plan files are JSON (.json) or TOML (.toml), not \".yaml\"");
  EXPECT_EQ(load_error(dir + "/plan", "{}"),
            dir + "/plan: plan files are JSON (.json) or TOML (.toml), not a file without an " +
                "extension");
}

// ============================================================================ store

std::vector<PlannedRun> small_runs() {
  auto j = tiny_plan();
  j["seeds"] = {1};
  j["folds"] = 2;
  j["fold_list"] = {0};
  return expand_plan(SweepPlan::from_json(j, "p"), "fp", "abc");
}

nlohmann::json result_json(double mae) {
  return testing::run_result_json(
      "resnet1d:x", 1234, 5678, 4936,
      {{"mae_bpm", mae},
       {"subject_mae_bpm", {{"spc2015/a", mae - 1}, {"bami1/b", mae + 1}}},
       {"dataset_mae_bpm", {{"spc2015", mae - 1}, {"bami1", mae + 1}}}});
}

TEST(SweepStore, ClaimIsExclusiveAndDoneRecordsMetrics) {
  const auto dir = testing::scratch_dir();
  const auto runs = small_runs();
  Store s(dir + "/sweep.db");
  s.sync_plan("h1", {{"x", 1}}, runs);
  EXPECT_EQ(s.counts().queued, runs.size());
  EXPECT_TRUE(s.claim(runs[0].key, 11, "hostA", "w", 100.0));
  EXPECT_FALSE(s.claim(runs[0].key, 12, "hostA", "w", 100.0));  // already running
  {
    Store other(dir + "/sweep.db");  // a second process's view
    EXPECT_FALSE(other.claim(runs[0].key, 13, "hostB", "w", 100.0));
  }
  s.mark_done(runs[0].key, result_json(5.0), 12.5, 200.0, "m.json");
  const auto r = s.run(runs[0].key);
  EXPECT_EQ(r.status, "done");
  EXPECT_EQ(r.params, 1234);
  EXPECT_EQ(r.macs, 5678);
  EXPECT_EQ(r.weight_bytes, 4936);
  EXPECT_DOUBLE_EQ(r.mae_bpm, 5.0);
  EXPECT_DOUBLE_EQ(r.wall_s, 12.5);
  EXPECT_EQ(r.attempts, 1);
  const auto sm = s.subject_metrics();
  ASSERT_EQ(sm.size(), 2u);
  EXPECT_EQ(sm[0].subject, "bami1/b");
  EXPECT_EQ(sm[0].dataset, "bami1");
  EXPECT_DOUBLE_EQ(sm[0].mae_bpm, 6.0);
  EXPECT_EQ(s.counts().done, 1u);
  // Re-syncing the same plan keeps the result.
  s.sync_plan("h1", {{"x", 1}}, runs);
  EXPECT_EQ(s.run(runs[0].key).status, "done");
}

TEST(SweepStore, MalformedResultChangesNothing) {
  const auto dir = testing::scratch_dir();
  const auto runs = small_runs();
  Store s(dir + "/sweep.db");
  s.sync_plan("h1", {}, runs);
  ASSERT_TRUE(s.claim(runs[0].key, 11, "hostA", "w", 100.0));
  // Each is one error naming the file and the field, and leaves the run as it was.
  const auto mark = [&](const std::function<void(nlohmann::json&)>& spoil) {
    auto bad = result_json(5.0);
    spoil(bad);
    return testing::error_of([&] { s.mark_done(runs[0].key, bad, 1.0, 2.0, "m.json"); });
  };
  EXPECT_EQ(mark([](auto& j) { j["metrics"]["test"].erase("subject_mae_bpm"); }),
            "m.json: field \"metrics.test.subject_mae_bpm\" is missing");
  EXPECT_EQ(mark([](auto& j) { j["metrics"]["test"]["mae_bpm"] = "5.0"; }),
            "m.json: field \"metrics.test.mae_bpm\" must be a number");
  EXPECT_EQ(mark([](auto& j) { j["metrics"]["test"]["subject_mae_bpm"]["bami1/b"] = nullptr; }),
            "m.json: field \"metrics.test.subject_mae_bpm.bami1/b\" must be a number");
  EXPECT_EQ(mark([](auto& j) {
              j["metrics"]["test"]["dataset_mae_bpm"] = {1, 2};
            }),
            "m.json: field \"metrics.test.dataset_mae_bpm\" must be an object of numbers");
  EXPECT_EQ(mark([](auto& j) { j["metrics"].erase("test"); }),
            "m.json: field \"metrics.test\" is missing");
  EXPECT_EQ(mark([](auto& j) { j["params"] = 12.5; }),
            "m.json: field \"params\" must be an integer");
  EXPECT_EQ(mark([](auto& j) { j["params"] = 0; }),
            "m.json: field \"params\" must be a positive integer");
  EXPECT_EQ(mark([](auto& j) { j["spec"] = 3; }), "m.json: field \"spec\" must be a string");
  EXPECT_EQ(mark([](auto& j) { j["inputs"].erase("length"); }),
            "m.json: field \"inputs.length\" is missing");
  EXPECT_EQ(s.run(runs[0].key).status, "running");
  EXPECT_TRUE(s.subject_metrics().empty());
  // The untouched record is accepted (so each error above came from its one spoiled field).
  s.mark_done(runs[0].key, result_json(5.0), 1.0, 2.0, "m.json");
  EXPECT_EQ(s.run(runs[0].key).status, "done");
}

TEST(SweepStore, RequeuesDeadOwnersAndSilentRuns) {
  const auto dir = testing::scratch_dir();
  const auto runs = small_runs();
  Store s(dir + "/sweep.db");
  s.sync_plan("h1", {}, runs);
  ASSERT_TRUE(s.claim(runs[0].key, 100, "here", "w", 1000.0));   // dead pid on this host
  ASSERT_TRUE(s.claim(runs[1].key, 200, "here", "w", 1000.0));   // alive pid on this host
  ASSERT_TRUE(s.claim(runs[2].key, 300, "there", "w", 1000.0));  // other host, fresh heartbeat
  ASSERT_TRUE(s.claim(runs[3].key, 400, "there", "w", 100.0));   // other host, silent
  auto alive = [](int64_t pid) { return pid == 200; };
  auto stale = s.requeue_stale("here", 1010.0, 600.0, alive);
  std::set<std::string> got(stale.begin(), stale.end());
  EXPECT_EQ(got, (std::set<std::string>{runs[0].key, runs[3].key}));
  EXPECT_EQ(s.run(runs[0].key).status, "queued");
  EXPECT_EQ(s.run(runs[1].key).status, "running");
  EXPECT_EQ(s.run(runs[2].key).status, "running");
  // A heartbeat keeps a run alive past the timeout.
  s.heartbeat({runs[2].key}, 1700.0);
  stale = s.requeue_stale("here", 1750.0, 600.0, alive);
  EXPECT_TRUE(stale.empty() || std::find(stale.begin(), stale.end(), runs[2].key) == stale.end());
  EXPECT_EQ(s.run(runs[2].key).status, "running");
  EXPECT_EQ(s.run(runs[0].key).attempts, 1);
  EXPECT_TRUE(s.claim(runs[0].key, 500, "here", "w", 1800.0));
  EXPECT_EQ(s.run(runs[0].key).attempts, 2);
}

TEST(SweepStore, NewPlanScopesCounts) {
  const auto dir = testing::scratch_dir();
  const auto runs = small_runs();
  Store s(dir + "/sweep.db");
  s.sync_plan("h1", {}, runs);
  std::vector<PlannedRun> two(runs.begin(), runs.begin() + 2);
  s.sync_plan("h2", {}, two);
  EXPECT_EQ(s.counts().total(), 2u);
  EXPECT_EQ(s.runs().size(), 2u);
  EXPECT_EQ(s.runs(true).size(), runs.size());
}

// The sweep.db schema table in docs/ARCHITECTURE.md names exactly the tables and columns a new
// store has (read from SQLite itself, not from the store's code).
TEST(SweepStore, ArchitectureDocumentsTheSchema) {
  const auto dir = testing::scratch_dir();
  { Store s(dir + "/sweep.db"); }
  std::map<std::string, std::set<std::string>> db_schema;
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2((dir + "/sweep.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr),
            SQLITE_OK);
  std::vector<std::string> tables;
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT name FROM sqlite_master WHERE type = 'table'", -1, &st,
                               nullptr),
            SQLITE_OK);
  while (sqlite3_step(st) == SQLITE_ROW)
    tables.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
  sqlite3_finalize(st);
  for (const auto& t : tables) {
    ASSERT_EQ(sqlite3_prepare_v2(db, ("PRAGMA table_info(" + t + ")").c_str(), -1, &st, nullptr),
              SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW)
      db_schema[t].insert(reinterpret_cast<const char*>(sqlite3_column_text(st, 1)));
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  ASSERT_EQ(db_schema.size(), 4u);  // meta, runs, subject_metrics, dataset_metrics
  // The doc's table: "| `table` | `col`, `col` | meaning |", continued by rows "| | ... |".
  std::ifstream in(std::string(PPGKD_SOURCE_DIR) + "/docs/ARCHITECTURE.md");
  ASSERT_TRUE(in) << "cannot read docs/ARCHITECTURE.md";
  std::string line, current;
  bool in_section = false;
  std::map<std::string, std::set<std::string>> doc_schema;
  auto names = [](const std::string& cell) {
    std::vector<std::string> out;
    for (size_t a = cell.find('`'); a != std::string::npos; a = cell.find('`', a + 1)) {
      const size_t b = cell.find('`', a + 1);
      if (b == std::string::npos) break;
      out.push_back(cell.substr(a + 1, b - a - 1));
      a = b;
    }
    return out;
  };
  while (std::getline(in, line)) {
    if (line.rfind("`sweep.db` (schema version", 0) == 0) in_section = true;
    if (!in_section) continue;
    if (line.rfind("Reading it from Python", 0) == 0) break;
    if (line.rfind("| ", 0) != 0 && line.rfind("||", 0) != 0) continue;
    std::vector<std::string> cells;
    std::stringstream ss(line.substr(1));
    std::string cell;
    while (std::getline(ss, cell, '|')) cells.push_back(cell);
    if (cells.size() < 3) continue;
    const auto t = names(cells[0]);
    if (!t.empty())
      current = t[0];
    else if (cells[0].find_first_not_of(' ') != std::string::npos)
      continue;  // the header
    for (const auto& c : names(cells[1])) doc_schema[current].insert(c);
  }
  EXPECT_EQ(doc_schema, db_schema);
}

// ============================================================================ children

TEST(SweepChild, ExitStatusLogAndMarker) {
  const auto dir = testing::scratch_dir();
  const std::string log = dir + "/logs/x.log";
  pid_t p = spawn_child("/bin/sh", {"-c", "echo hello; echo oops >&2; exit 3"}, log);
  int ws = 0;
  ASSERT_EQ(::waitpid(p, &ws, 0), p);
  auto r = collect_run(dir + "/run", ws, 0.1, log);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error, "exit status 3: oops; log " + log + " ends:\nhello\noops");
  // The child's "ppgkd: error:" line is its error even when something follows it.
  std::filesystem::remove(log);
  p = spawn_child("/bin/sh", {"-c", "echo 'ppgkd: error: x.csv: bad' >&2; echo bye; exit 1"}, log);
  ASSERT_EQ(::waitpid(p, &ws, 0), p);
  r = collect_run(dir + "/run", ws, 0.1, log);
  EXPECT_EQ(r.error,
            "exit status 1: x.csv: bad; log " + log + " ends:\nppgkd: error: x.csv: bad\nbye");
  // Exit 0 without model.json is a failure too.
  p = spawn_child("/bin/sh", {"-c", "exit 0"}, log);
  ::waitpid(p, &ws, 0);
  r = collect_run(dir + "/run", ws, 0.1, log);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error, "the run exited 0 but " + dir + "/run/model.json is missing");
  // A model.json of the wrong shape is one line naming the file and the field.
  auto mistyped = result_json(3.0);
  mistyped["metrics"]["test"]["mae_bpm"] = "3.0";
  write_file_atomic(dir + "/run/model.json", mistyped.dump());
  r = collect_run(dir + "/run", ws, 0.1, log);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error, "the run exited 0 but " + dir +
                         "/run/model.json: field \"metrics.test.mae_bpm\" must be a number");
  write_file_atomic(dir + "/run/model.json", "{\"schema\": 1,");
  r = harvest_run(dir + "/run");
  EXPECT_FALSE(r.ok);
  write_file_atomic(dir + "/run/model.json", result_json(3.0).dump());
  r = collect_run(dir + "/run", ws, 0.1, log);
  EXPECT_TRUE(r.ok);
  EXPECT_TRUE(std::filesystem::exists(dir + "/run/sweep_done.json"));
  // A missing program: exec fails in the child, reported as 127 with the reason in the log.
  p = spawn_child(dir + "/no-such-program", {}, log);
  ::waitpid(p, &ws, 0);
  EXPECT_EQ(describe_wait_status(ws), "exit status 127");
  EXPECT_NE(tail_lines(log, 1).find("exec failed"), std::string::npos);
}

}  // namespace
}  // namespace ppgkd
