// `ppgkd ensemble` end to end (issue 11): two tiny trained members of one fold combined into a
// seed-ensemble model dir (and members of two specs into a mixed one), which eval, predict,
// validate and distill --teacher then use unchanged; its posterior is the members' mean (computed
// here independently, per window); the refusals of `ensemble`, `train --init`, `train --model
// ensemble:...` and `export`, by exact message.
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <set>

#include "cli_run.h"
#include "common/atomic_file.h"
#include "data/cache.h"
#include "data/synthetic/synthetic.h"
#include "train/inference.h"
#include "train/metrics.h"
#include "train/model_dir.h"

namespace ppgkd {
namespace {

namespace fs = std::filesystem;

using testing::run;

nlohmann::json read_json(const std::string& path) {
  return nlohmann::json::parse(read_file(path));
}

// Copies model dir `from` to `to` with model.json changed by `edit`.
template <typename Edit>
std::string edited_copy(const std::string& from, const std::string& to, Edit edit) {
  fs::create_directories(to);
  fs::copy_file(from + "/model.pt", to + "/model.pt");
  auto j = read_json(from + "/model.json");
  edit(j);
  write_file_atomic(to + "/model.json", j.dump(2));
  return to;
}

std::set<std::string> as_set(const nlohmann::json& a) {
  std::set<std::string> s;
  for (const auto& v : a) s.insert(v.get<std::string>());
  return s;
}

// One fixture for the whole suite: two members trained once (seeds 1 and 2, fold 0 of 4), in a
// directory of this process (ctest runs each test as its own process, possibly in parallel).
class EnsembleCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = (fs::temp_directory_path() / ("ppgkd_EnsembleCli_" + std::to_string(getpid()))).string();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    for (int seed : {1, 2}) {
      const std::string out = dir_ + "/m" + std::to_string(seed);
      auto r =
          run("train --data synthetic --model mlp:hidden=8 --epochs 1 --folds 4 --fold 0 "
              "--threads 1 --seed " +
                  std::to_string(seed) + " --out " + out,
              dir_ + "/train_err.txt");
      ASSERT_EQ(r.status, 0) << read_file(dir_ + "/train_err.txt");
    }
    auto r =
        run("ensemble --members " + m1() + "," + m2() + " --out " + ens(), dir_ + "/ens_err.txt");
    ASSERT_EQ(r.status, 0) << read_file(dir_ + "/ens_err.txt");
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }
  static std::string m1() { return dir_ + "/m1"; }
  static std::string m2() { return dir_ + "/m2"; }
  static std::string ens() { return dir_ + "/ens"; }
  static std::string dir_;
};
std::string EnsembleCli::dir_;

TEST_F(EnsembleCli, RecordsTheMembersSplitAndScale) {
  const auto j = read_json(ens() + "/model.json"), a = read_json(m1() + "/model.json"),
             b = read_json(m2() + "/model.json");
  EXPECT_EQ(j["spec"], "ensemble:n=2;mlp:hidden=8");
  EXPECT_EQ(j["family"], "ensemble");
  EXPECT_EQ(j["params"].get<int64_t>(), 2 * a["params"].get<int64_t>());
  EXPECT_EQ(j["macs_per_window"].get<int64_t>(), 2 * a["macs_per_window"].get<int64_t>());
  EXPECT_EQ(j["preprocess"], a["preprocess"]);
  EXPECT_EQ(j["classes"], a["classes"]);
  EXPECT_EQ(j["split"]["test_subjects"], a["split"]["test_subjects"]);
  EXPECT_EQ(j["split"]["fold"], 0);
  EXPECT_EQ(j["split"]["folds"], 4);
  // Every subject either member trained or validated on, and none twice.
  std::set<std::string> seen_members, seen;
  for (const auto* m : {&a, &b})
    for (const char* key : {"train_subjects", "val_subjects"})
      for (const auto& s : (*m)["split"][key]) seen_members.insert(s.get<std::string>());
  const auto train = as_set(j["split"]["train_subjects"]), val = as_set(j["split"]["val_subjects"]);
  seen = train;
  seen.insert(val.begin(), val.end());
  EXPECT_EQ(seen, seen_members);
  EXPECT_EQ(seen.size(), train.size() + val.size());
  for (const auto* m : {&a, &b})
    for (const auto& s : (*m)["split"]["train_subjects"]) EXPECT_TRUE(train.count(s));
  const auto& members = j["extra"]["ensemble"]["members"];
  ASSERT_EQ(members.size(), 2u);
  EXPECT_EQ(members[0]["seed"], 1);
  EXPECT_EQ(members[1]["seed"], 2);
  EXPECT_EQ(members[0]["dir"], fs::canonical(m1()).string());
  EXPECT_EQ(members[1]["metrics"], b["metrics"]);
  EXPECT_EQ(j["training"]["seeds"], nlohmann::json::array({1, 2}));
  EXPECT_NEAR(j["extra"]["transition_scale_bpm"].get<double>(),
              0.5 * (a["extra"]["transition_scale_bpm"].get<double>() +
                     b["extra"]["transition_scale_bpm"].get<double>()),
              1e-12);
}

TEST_F(EnsembleCli, EvalFoldTestUsesTheMembersMeanPosterior) {
  const std::string err = dir_ + "/eval_err.txt";
  auto r = run("eval --model " + ens() + " --data synthetic --fold-test", err);
  ASSERT_EQ(r.status, 0) << read_file(err);
  const auto j = nlohmann::json::parse(r.out);
  const auto info = read_json(ens() + "/model.json");
  EXPECT_EQ(as_set(j["subjects"]), as_set(info["split"]["test_subjects"]));
  EXPECT_TRUE(j["held_out"].get<bool>());

  // Independently: the members' softmax per test window, averaged in double, decoded.
  LoadedModel e = load_model_dir(ens()), a = load_model_dir(m1()), b = load_model_dir(m2());
  const WindowSet ws = load_windows("synthetic", a.preprocess, "", nullptr);
  std::vector<std::string> test;
  for (const auto& s : info["split"]["test_subjects"]) test.push_back(s.get<std::string>());
  const auto rows = ws.rows_of_subjects(test);
  ASSERT_FALSE(rows.empty());
  auto x = torch::empty({static_cast<int64_t>(rows.size()), ws.channels, ws.length});
  const int64_t per = int64_t{ws.channels} * ws.length;
  for (size_t i = 0; i < rows.size(); ++i)
    std::copy(ws.window_ptr(rows[i]), ws.window_ptr(rows[i]) + per,
              x.data_ptr<float>() + static_cast<int64_t>(i) * per);
  torch::NoGradGuard no_grad;
  const auto mean = 0.5 * (torch::softmax(a.net->forward(x).to(torch::kFloat64), 1) +
                           torch::softmax(b.net->forward(x).to(torch::kFloat64), 1));
  const auto got = torch::softmax(e.net->forward(x).to(torch::kFloat64), 1);
  EXPECT_LT((got - mean).abs().max().item<double>(), 1e-6);

  const std::vector<double> bpm = decode_posteriors(mean);
  std::vector<WindowEstimate> est;
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& rec = ws.recordings[ws.recording[rows[i]]];
    est.push_back({bpm[i], ws.hr[rows[i]], rec.subject, rec.dataset});
  }
  const HrMetrics m = compute_metrics(est);
  EXPECT_EQ(j["windows"].get<size_t>(), rows.size());
  EXPECT_NEAR(j["metrics"]["mae_bpm"].get<double>(), m.mae_bpm, 1e-4);
}

TEST_F(EnsembleCli, PredictValidateAndDistillTakeIt) {
  const std::string err = dir_ + "/use_err.txt";
  // predict: a synthetic recording as CSV.
  SyntheticConfig sc;
  sc.subjects = 1;
  sc.recordings_per_subject = 1;
  sc.duration_s = 30;
  const Recording rec = make_synthetic(sc).at(0);
  std::string csv = "ppg,acc_x,acc_y,acc_z\n";
  for (size_t i = 0; i < rec.num_samples(); ++i)
    csv += std::to_string(rec.ppg[0][i]) + "," + std::to_string(rec.acc[0][i]) + "," +
           std::to_string(rec.acc[1][i]) + "," + std::to_string(rec.acc[2][i]) + "\n";
  write_file_atomic(dir_ + "/a.csv", csv);
  auto p = run("predict --model " + ens() + " --input " + dir_ + "/a.csv --fs 125", err);
  ASSERT_EQ(p.status, 0) << read_file(err);
  EXPECT_EQ(p.out.rfind("t_s,hr_bpm,confidence\n", 0), 0u) << p.out;

  auto v = run(
      "validate --model " + ens() + " --data synthetic --fold-test --out " + dir_ + "/report", err);
  ASSERT_EQ(v.status, 0) << read_file(err);
  EXPECT_TRUE(fs::is_regular_file(dir_ + "/report/report.md"));

  auto d = run("distill --teacher " + ens() +
                   " --student mlp:hidden=4 --strategy soft --data synthetic --folds 4 --fold 0 "
                   "--epochs 1 --threads 1 --out " +
                   dir_ + "/student",
               err);
  ASSERT_EQ(d.status, 0) << read_file(err);
  const auto s = read_json(dir_ + "/student/model.json");
  EXPECT_EQ(s["extra"]["teacher"]["spec"], "ensemble:n=2;mlp:hidden=8");
  EXPECT_EQ(s["split"]["test_subjects"],
            read_json(ens() + "/model.json")["split"]["test_subjects"]);
}

// Members of different specs make a mixed ensemble: one spec per member in the string, the
// members' counts summed, and the posterior still the members' mean (computed here per window).
TEST_F(EnsembleCli, MembersOfDifferentSpecsMakeAMixedEnsemble) {
  const std::string err = dir_ + "/mixed_err.txt", wide = dir_ + "/wide", mixed = dir_ + "/mixed";
  auto r =
      run("train --data synthetic --model mlp:hidden=12-6 --epochs 1 --folds 4 --fold 0 "
          "--threads 1 --seed 3 --out " +
              wide,
          err);
  ASSERT_EQ(r.status, 0) << read_file(err);
  r = run("ensemble --members " + m1() + "," + wide + " --out " + mixed, err);
  ASSERT_EQ(r.status, 0) << read_file(err);
  const auto j = read_json(mixed + "/model.json"), a = read_json(m1() + "/model.json"),
             b = read_json(wide + "/model.json");
  EXPECT_EQ(j["spec"], "ensemble:n=2;mlp:hidden=8;mlp:hidden=12-6");
  EXPECT_EQ(j["training"]["kind"], "mixed ensemble");
  EXPECT_EQ(j["training"]["seeds"], nlohmann::json::array({1, 3}));
  // By hand: 800 * 8 + 8 + 8 * 180 + 180 and 800 * 12 + 12 + 12 * 6 + 6 + 6 * 180 + 180.
  EXPECT_EQ(a["params"].get<int64_t>(), 8028);
  EXPECT_EQ(b["params"].get<int64_t>(), 10950);
  EXPECT_EQ(j["params"].get<int64_t>(), 8028 + 10950);
  EXPECT_EQ(j["extra"]["ensemble"]["members"][1]["spec"], b["spec"]);

  LoadedModel e = load_model_dir(mixed), m = load_model_dir(m1()), w = load_model_dir(wide);
  torch::manual_seed(5);
  const auto x = torch::randn({7, 4, 200});
  torch::NoGradGuard no_grad;
  const auto mean = 0.5 * (torch::softmax(m.net->forward(x).to(torch::kFloat64), 1) +
                           torch::softmax(w.net->forward(x).to(torch::kFloat64), 1));
  const auto got = torch::softmax(e.net->forward(x).to(torch::kFloat64), 1);
  EXPECT_LT((got - mean).abs().max().item<double>(), 1e-6);
  r = run("eval --model " + mixed + " --data synthetic --fold-test", err);
  EXPECT_EQ(r.status, 0) << read_file(err);
  // It teaches: soft distillation takes its posterior; feature distillation needs one feature
  // shape, and the members' first hidden layers are 8 and 12 wide.
  const std::string distill = "distill --teacher " + mixed +
                              " --student mlp:hidden=4 --data synthetic --folds 4 --fold 0 "
                              "--epochs 1 --threads 1 --out " +
                              dir_ + "/mixed-";
  r = run(distill + "soft --strategy soft", err);
  ASSERT_EQ(r.status, 0) << read_file(err);
  EXPECT_EQ(read_json(dir_ + "/mixed-soft/model.json")["extra"]["teacher"]["spec"], j["spec"]);
  r = run(distill + "feature --strategy feature", err);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(read_file(err).find("the members' features at stage 0 differ in shape (8 for member "
                                "0, 12 for member 1); their mean needs one shape"),
            std::string::npos)
      << read_file(err);
  EXPECT_FALSE(fs::exists(dir_ + "/mixed-feature/model.json"));
}

TEST_F(EnsembleCli, RefusalsSayWhich) {
  const std::string err = dir_ + "/refuse_err.txt";
  // The whole of stderr is the one-line error (train prints its fold line first: its last line).
  auto expect_refusal = [&](const std::string& args, const std::string& message) {
    auto r = run(args, err);
    EXPECT_EQ(r.status, 1) << args;
    std::string text = read_file(err);
    if (args.rfind("train ", 0) == 0) {
      const size_t nl = text.rfind('\n', text.size() - 2);
      if (nl != std::string::npos) text = text.substr(nl + 1);
    }
    EXPECT_EQ(text, "ppgkd: error: " + message + "\n") << args;
  };
  const std::string out = " --out " + dir_ + "/never";
  expect_refusal("ensemble --members " + m1() + out, "ensemble: needs at least 2 members, got 1");
  expect_refusal("ensemble --members " + m1() + "," + m1() + out,
                 m1() + "/model.json: is given twice; an ensemble's members are distinct models");
  expect_refusal("ensemble --members " + m1() + "," + ens() + out,
                 ens() + "/model.json: is itself an ensemble; members must be single networks");
  expect_refusal("ensemble --members " + m1() + "," + m2() + " --out " + m2(),
                 m2() + "/model.json: is the output directory; write the ensemble elsewhere");

  const std::string causal = edited_copy(
      m2(), dir_ + "/causal", [](nlohmann::json& j) { j["preprocess"]["causal"] = true; });
  const std::string classes =
      edited_copy(m2(), dir_ + "/classes", [](nlohmann::json& j) { j["classes"]["min_bpm"] = 40; });
  const std::string fold = edited_copy(m2(), dir_ + "/fold", [](nlohmann::json& j) {
    j["split"]["test_subjects"] = {"synthetic/s01"};
  });
  const auto a = read_json(m1() + "/model.json");
  // Another input shape (the PPG alone), on the same fold.
  const std::string ppg = dir_ + "/ppg";
  torch::manual_seed(1);
  PreprocessConfig pp;
  pp.inputs = "ppg";
  ModelRecord rec;
  for (const auto& s : a["split"]["test_subjects"])
    rec.test_subjects.push_back(s.get<std::string>());
  save_model_dir(ppg, *make_net(ModelSpec::parse("mlp:hidden=8", pp.channels(), pp.length())), pp,
                 rec);
  const std::string first = " (" + m1() + ")";
  expect_refusal("ensemble --members " + m1() + "," + ppg + out,
                 ppg +
                     "/model.json: input shape (C=1, L=200) differs from the first member's "
                     "(C=4, L=200)" +
                     first);
  expect_refusal("ensemble --members " + m1() + "," + causal + out,
                 causal +
                     "/model.json: preprocessing causal = true differs from the first "
                     "member's false" +
                     first);
  expect_refusal("ensemble --members " + m1() + "," + classes + out,
                 classes +
                     "/model.json: class map min_bpm = 40.0 differs from the first member's " +
                     a["classes"]["min_bpm"].dump() + first);
  std::string tests;
  for (const auto& s : a["split"]["test_subjects"])
    tests += (tests.empty() ? "" : ", ") + s.get<std::string>();
  expect_refusal("ensemble --members " + m1() + "," + fold + out,
                 fold +
                     "/model.json: test subjects [synthetic/s01] differ from the first "
                     "member's [" +
                     tests + "]" + first + "; the members of an ensemble come from one fold");
  EXPECT_FALSE(fs::exists(dir_ + "/never"));

  expect_refusal(
      "train --data synthetic --model mlp:hidden=8 --epochs 1 --folds 4 --fold 0 "
      "--threads 1 --init " +
          ens() + " --out " + dir_ + "/init",
      ens() +
          "/model.json: init model is an ensemble of 2 networks; --init needs one "
          "network (distil the ensemble into one with `ppgkd distill --teacher " +
          ens() + "` and start from that)");
  expect_refusal(
      "train --data synthetic --model 'ensemble:n=2;mlp:hidden=8' --epochs 1 --folds 4 "
      "--fold 0 --threads 1 --out " +
          dir_ + "/direct",
      "ensemble:n=2;mlp:hidden=8: an ensemble is not trained as one network: train "
      "its members with different --seed and combine them with `ppgkd ensemble`");
  for (const char* quant : {"f32", "int8"})
    expect_refusal("export --model " + ens() + " --quant " + quant + " --out " + dir_ + "/edge",
                   ens() +
                       ": cannot export an ensemble of 2 networks: the C runtime runs one "
                       "network (distil the ensemble into a student with `ppgkd distill "
                       "--teacher DIR` and export that)");
  expect_refusal("eval --model " + ens() + " --data synthetic --fold-test --runtime edge-f32",
                 ens() +
                     ": cannot export an ensemble of 2 networks: the C runtime runs one "
                     "network (distil the ensemble into a student with `ppgkd distill "
                     "--teacher DIR` and export that)");
}

}  // namespace
}  // namespace ppgkd
