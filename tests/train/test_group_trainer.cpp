// Grouped student training against separate runs. The oracle is the single-model code path that
// ppgkd already tests (networks.h forward, train_model, distill_fold): a group of K members must
// give each member what its own run gives, up to the order of float reductions.
//
// Tolerance. The grouped network computes every member's outputs from that member's weights
// alone, but through different kernels than the single model (group_conv1d's direct loops or a
// grouped convolution instead of K plain ones, baddbmm instead of addmm, and an AdamW written
// over stacked tensors with addcmul instead of add-with-alpha). Each of these rounds differently
// in the last bit, so one forward pass agrees to ~1e-6 relative (checked below at 1e-5), and
// training amplifies the differences step by step. Over the 4 epochs x 3 steps of these runs
// (learning rate 2e-3) the per-epoch mean training losses were measured to agree to ~1e-7 relative
// and validation / test MAE to ~1e-7 BPM (x86-64, OpenBLAS); the tolerances below, 1e-5 relative
// and 0.01 BPM, leave room for other CPUs and BLAS builds, while a wrong member slice, schedule,
// batch order or loss would differ by orders of magnitude more (the losses move by ~1e-1 per
// epoch).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>

#include "common/atomic_file.h"
#include "common/error.h"
#include "epoch_log_check.h"
#include "test_trainer_data.h"
#include "test_util.h"
#include "train/distill.h"
#include "train/distill_group.h"
#include "train/group_net.h"
#include "train/group_trainer.h"
#include "train/interrupt.h"
#include "train/model_dir.h"

namespace ppgkd {
namespace {

namespace fs = std::filesystem;
using ppgkd::testing::scratch_dir;
using ppgkd::testing::sinusoid_windows;

const char* kTeacherSpec = "resnet1d:stem=8,stages=8-16,blocks=1,k=5";
const char* kResnetStudent = "resnet1d:stem=4,stages=4-6,blocks=1,k=3";
const char* kMlpStudent = "mlp:hidden=16-8";
constexpr int kSubjects = 8, kWindowsPerSubject = 24, kChannels = 4, kFolds = 4;
constexpr double kForwardTol = 1e-5;  // one pass (relative to the output scale)
constexpr double kLossTol = 1e-5;     // per-epoch mean training loss, relative
constexpr double kMaeTol = 0.01;      // BPM

ModelSpec spec_of(const std::string& s) {
  PreprocessConfig pp;
  return ModelSpec::parse(s, pp.channels(), pp.length());
}

// ------------------------------------------------------------------------------ the network

void expect_forward_matches(const std::string& spec_str) {
  torch::set_num_threads(1);
  const auto spec = spec_of(spec_str);
  const int K = 3, B = 5;
  std::vector<Net> nets;
  GroupNet group(spec, K);
  for (int k = 0; k < K; ++k) {
    nets.push_back(init_model(spec, 100 + k));
    group.put(k, *nets[k]);
  }
  torch::manual_seed(7);
  auto x = torch::randn({K, B, spec.in_channels, spec.length});
  // Train mode on all members, then eval mode on the subset {0, 2}.
  auto out = group.forward(x, {0, 1, 2}, true);
  for (int k = 0; k < K; ++k) {
    nets[k]->train();
    auto single = nets[k]->forward_with_feature(x[k], 0);
    EXPECT_TRUE(torch::allclose(out.logits[k], single.logits, kForwardTol, kForwardTol))
        << spec_str << " member " << k;
    EXPECT_TRUE(torch::allclose(out.stages[0][k], single.feature, kForwardTol, kForwardTol));
  }
  // Running statistics moved exactly as the single models' did.
  for (int k = 0; k < K; ++k) {
    auto copy = make_net(spec);
    group.take(k, *copy);
    auto a = copy->named_buffers(), b = nets[k]->named_buffers();
    for (const auto& kv : b)
      EXPECT_TRUE(torch::allclose(a[kv.key()].to(torch::kDouble), kv.value().to(torch::kDouble),
                                  kForwardTol, kForwardTol))
          << kv.key();
  }
  auto sub = group.forward(torch::stack({x[0], x[2]}), {0, 2}, false);
  for (int j = 0; j < 2; ++j) {
    const int k = j == 0 ? 0 : 2;
    nets[k]->eval();
    EXPECT_TRUE(torch::allclose(sub.logits[j], nets[k]->forward(x[k]), kForwardTol, kForwardTol));
  }
}

TEST(GroupNet, ForwardEqualsSingleModels) {
  expect_forward_matches(kResnetStudent);
  expect_forward_matches("resnet1d:stem=4,stages=4-8-8,blocks=2,k=5");
  expect_forward_matches(kMlpStudent);
}

TEST(GroupNet, PutTakeRoundTripAndRefusals) {
  const auto spec = spec_of(kResnetStudent);
  GroupNet g(spec, 2);
  auto a = init_model(spec, 1), b = make_net(spec);
  g.put(1, *a);
  g.take(1, *b);
  for (const auto& kv : a->named_parameters())
    EXPECT_TRUE(torch::equal(kv.value(), b->named_parameters()[kv.key()]));
  EXPECT_THROW(GroupNet(spec_of("resnet1d:stem=4,stages=4-6,k=3,spectral=4"), 2), Error);
  EXPECT_THROW(GroupNet(spec, 0), Error);
}

// ------------------------------------------------------------------------------ distillation

std::string write_teacher(const std::string& dir, const std::vector<std::string>& train_subjects) {
  PreprocessConfig pp;
  auto net = init_model(spec_of(kTeacherSpec), 11);
  ModelRecord rec;
  rec.train_subjects = train_subjects;
  rec.split = "kfold";
  save_model_dir(dir, *net, pp, rec);
  return dir;
}

struct Fixture {
  WindowSet ws = sinusoid_windows(kSubjects, kWindowsPerSubject, kChannels, 5);
  std::vector<Fold> folds = kfold_by_subject(ws.subjects(), kFolds, 1);
  DistillData data() const {
    DistillData d;
    d.ws = &ws;
    d.data_root = "hand-built";
    d.data_key = "0123456789abcdef";
    d.fingerprint = "fedcba9876543210";
    return d;
  }
  // Members differ in strategy, seed (so validation subjects, batch order and weights) and lr.
  std::vector<DistillJob> jobs(const std::string& student, const std::string& teacher,
                               const std::string& out) const {
    const std::vector<std::string> strategies = {"none", "hard", "soft", "dkd", "feature"};
    std::vector<DistillJob> js;
    for (size_t i = 0; i < strategies.size(); ++i) {
      DistillJob j;
      j.student = spec_of(student);
      j.train.epochs = 4;
      j.train.batch = 48;
      j.train.lr = i == 2 ? 3e-3 : 2e-3;
      j.train.patience = 0;
      j.train.val_fraction = 0.2;
      j.train.seed = 1 + i % 3;
      j.train.threads = 1;
      j.distill = DistillConfig::defaults(strategies[i]);
      if (strategies[i] == "soft") j.distill.temperature = 3;
      j.teacher_dir = teacher;
      j.fold = folds[0];
      j.out_dir = out + "/" + std::to_string(i) + "-" + strategies[i];
      j.progress_label = "";
      js.push_back(j);
    }
    return js;
  }
};

nlohmann::json model_json(const std::string& dir) {
  return nlohmann::json::parse(read_file(dir + "/model.json"));
}

void expect_group_equals_separate(const std::string& student) {
  Fixture f;
  const auto dir = scratch_dir();
  const auto teacher = write_teacher(dir + "/teacher", f.folds[0].train_subjects);
  const auto data = f.data();
  auto separate = f.jobs(student, teacher, dir + "/separate");
  auto grouped = f.jobs(student, teacher, dir + "/grouped");
  for (const auto& j : separate) distill_fold(data, j);
  const auto res = distill_group(data, grouped);
  ASSERT_EQ(res.size(), grouped.size());
  for (size_t i = 0; i < grouped.size(); ++i) {
    ASSERT_TRUE(res[i].ok) << res[i].error;
    const auto a = model_json(separate[i].out_dir), b = model_json(grouped[i].out_dir);
    const auto& ha = a.at("history");
    const auto& hb = b.at("history");
    ASSERT_EQ(ha.size(), 4u);
    ASSERT_EQ(hb.size(), ha.size());
    for (size_t e = 0; e < ha.size(); ++e) {
      const double la = ha[e].at("train_loss"), lb = hb[e].at("train_loss");
      EXPECT_NEAR(lb, la, kLossTol * std::abs(la)) << student << " member " << i << " epoch " << e;
      EXPECT_NEAR(hb[e].at("val_mae").get<double>(), ha[e].at("val_mae").get<double>(), kMaeTol);
      EXPECT_EQ(hb[e].at("lr"), ha[e].at("lr"));
    }
    EXPECT_NEAR(b["metrics"]["test"]["mae_bpm"].get<double>(),
                a["metrics"]["test"]["mae_bpm"].get<double>(), kMaeTol);
    EXPECT_EQ(b["metrics"]["best_epoch"], a["metrics"]["best_epoch"]);
    // Same model directory: same record apart from timings, and weights a single load reads.
    for (const char* key : {"spec", "training", "split", "preprocess", "inputs", "classes",
                            "decoding", "data", "params"})
      EXPECT_EQ(b.at(key), a.at(key)) << key;
    EXPECT_EQ(b["extra"]["distillation"], a["extra"]["distillation"]);
    auto loaded = load_model_dir(grouped[i].out_dir);
    EXPECT_EQ(loaded.net->spec(), spec_of(student));
  }
}

TEST(GroupTrainer, ResnetGroupEqualsSeparateRuns) {
  expect_group_equals_separate(kResnetStudent);
}

TEST(GroupTrainer, MlpGroupEqualsSeparateRuns) {
  expect_group_equals_separate(kMlpStudent);
}

// ------------------------------------------------------------------------------ failure, resume

std::vector<GroupMember> plain_members(const WindowSet& ws, const std::string& dir, int n,
                                       std::vector<Net>* nets) {
  std::vector<GroupMember> ms;
  const auto subjects = ws.subjects();
  for (int i = 0; i < n; ++i) {
    GroupMember m;
    m.cfg.epochs = 3;
    m.cfg.batch = 40;
    m.cfg.lr = 2e-3;
    m.cfg.patience = 0;
    m.cfg.seed = 10 + i;
    m.cfg.threads = 1;
    m.fit_rows = ws.rows_of_subjects({subjects.begin(), subjects.end() - 2});
    m.val_rows = ws.rows_of_subjects({subjects.end() - 2, subjects.end()});
    m.state_dir = dir + "/m" + std::to_string(i);
    ms.push_back(m);
    nets->push_back(init_model(spec_of(kResnetStudent), m.cfg.seed));
  }
  return ms;
}

TEST(GroupTrainer, FailingMemberDoesNotStopTheOthers) {
  const auto ws = sinusoid_windows(6, 20, kChannels, 3);
  const auto dir = scratch_dir();
  std::vector<Net> nets, ref_nets;
  auto ms = plain_members(ws, dir + "/g", 3, &nets);
  // Member 1's loss turns NaN at its 4th step.
  int calls = 0;
  ms[1].loss = [&calls](NetImpl& net, const torch::Tensor& x, const torch::Tensor& y,
                        const torch::Tensor&, int) {
    auto l = torch::nn::functional::cross_entropy(net.forward(x), y);
    return ++calls >= 4 ? l * std::numeric_limits<float>::quiet_NaN() : l;
  };
  auto res = train_group(ws, nets, ms, false);
  EXPECT_TRUE(res[0].ok);
  EXPECT_FALSE(res[1].ok);
  EXPECT_NE(res[1].error.find("not finite"), std::string::npos) << res[1].error;
  EXPECT_TRUE(res[2].ok);
  EXPECT_EQ(calls, 4);  // never called again
  // The survivors trained exactly as without the failing member.
  auto ref = plain_members(ws, dir + "/ref", 3, &ref_nets);
  std::vector<GroupMember> two = {ref[0], ref[2]};
  std::vector<Net> two_nets = {ref_nets[0], ref_nets[2]};
  auto ref_res = train_group(ws, two_nets, two, false);
  for (int j = 0; j < 2; ++j)
    for (size_t e = 0; e < 3; ++e)
      EXPECT_NEAR(res[j * 2].result.history[e].train_loss, ref_res[j].result.history[e].train_loss,
                  kLossTol * ref_res[j].result.history[e].train_loss);
}

TEST(GroupTrainer, HrBalanceIsRefusedNotIgnored) {
  const auto ws = sinusoid_windows(6, 20, kChannels, 3);
  std::vector<Net> nets;
  auto ms = plain_members(ws, scratch_dir() + "/g", 2, &nets);
  ms[1].cfg.hr_balance = 0.5;
  try {
    train_group(ws, nets, ms, false);
    FAIL() << "a member with hr_balance was trained";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("member 1: hr_balance is not supported"),
              std::string::npos)
        << e.what();
  }
}

TEST(GroupTrainer, InterruptedGroupResumesToTheSameWeights) {
  const auto ws = sinusoid_windows(6, 20, kChannels, 3);
  const auto dir = scratch_dir();
  std::vector<Net> full_nets, nets;
  auto full = plain_members(ws, dir + "/full", 3, &full_nets);
  auto full_res = train_group(ws, full_nets, full, false);
  // Interrupt after 5 ticks (2 steps an epoch: mid-way through epoch 3), then resume; a second
  // group starts from the checkpoints alone. Same members, same kernels: bit-for-bit equal.
  auto ms = plain_members(ws, dir + "/cut", 3, &nets);
  GroupHooks hooks;
  hooks.on_tick = [](int64_t tick) {
    if (tick == 5) request_interrupt();
  };
  EXPECT_THROW(train_group(ws, nets, ms, false, hooks), Error);
  clear_interrupt();
  // Each member's epochs.jsonl holds the 2 epochs its checkpoint does.
  for (int k = 0; k < 3; ++k)
    EXPECT_EQ(testing::read_epoch_log(ms[k].state_dir + "/epochs.jsonl").size(), 2u) << k;
  EXPECT_THROW(train_group(ws, nets, ms, false), Error);  // refuses without resume
  std::vector<Net> fresh;
  auto again = plain_members(ws, dir + "/cut", 3, &fresh);
  auto res = train_group(ws, fresh, again, true);
  for (int k = 0; k < 3; ++k) {
    ASSERT_TRUE(res[k].ok);
    ASSERT_EQ(res[k].result.history.size(), 3u);
    for (size_t e = 0; e < 3; ++e)
      EXPECT_EQ(res[k].result.history[e].train_loss, full_res[k].result.history[e].train_loss);
    // After the resume: the 3 epochs once each, as the member's history records them.
    testing::expect_epoch_log_matches(again[k].state_dir + "/epochs.jsonl",
                                      res[k].result.history_json(), 3);
    auto a = fresh[k]->named_parameters(), b = full_nets[k]->named_parameters();
    for (const auto& kv : b) EXPECT_TRUE(torch::equal(a[kv.key()], kv.value())) << kv.key();
  }
}

TEST(GroupTrainer, EarlyStoppedMemberKeepsItsBestAndStops) {
  const auto ws = sinusoid_windows(6, 20, kChannels, 3);
  const auto dir = scratch_dir();
  std::vector<Net> nets;
  auto ms = plain_members(ws, dir, 2, &nets);
  ms[0].cfg.epochs = 12;
  ms[0].cfg.patience = 1;
  ms[0].cfg.lr = 1e-7;  // barely moves: validation stops improving within a few epochs
  ms[1].cfg.epochs = 6;
  auto res = train_group(ws, nets, ms, false);
  ASSERT_TRUE(res[0].ok && res[1].ok);
  EXPECT_TRUE(res[0].result.stopped_early);
  EXPECT_LT(res[0].result.history.size(), 12u);
  EXPECT_EQ(res[1].result.history.size(), 6u);
  // Its weights are its best epoch's (best.pt), whose validation MAE the history records.
  const auto& h = res[0].result.history;
  double best = h[0].val_mae;
  for (const auto& e : h) best = std::min(best, e.val_mae);
  EXPECT_EQ(res[0].result.best_val_mae, best);
  EXPECT_EQ(h[res[0].result.best_epoch].val_mae, best);
  EXPECT_NEAR(evaluate_mae(*nets[0], ws, ms[0].val_rows, 256), best, 1e-3);
}

}  // namespace
}  // namespace ppgkd
