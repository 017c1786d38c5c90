// Pre-training: synthetic windows join the batches, an interrupted or crashed run resumes to the
// weights of an uninterrupted one (with the contrastive term on), the stream's config is part of
// the checkpoint's identity, and the result is a model `train --init` accepts.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <thread>

#include "common/error.h"
#include "test_trainer_data.h"
#include "test_util.h"
#include "train/data_parallel.h"
#include "train/init_from.h"
#include "train/interrupt.h"
#include "train/model_dir.h"
#include "train/pretrain.h"

namespace ppgkd {
namespace {

using ppgkd::testing::scratch_dir;
using ppgkd::testing::sinusoid_windows;

bool same_weights(torch::nn::Module& a, torch::nn::Module& b) {
  auto pb = b.named_parameters();
  for (const auto& item : a.named_parameters())
    if (!torch::equal(item.value(), pb[item.key()])) return false;
  auto bb = b.named_buffers();
  for (const auto& item : a.named_buffers())
    if (!torch::equal(item.value(), bb[item.key()])) return false;
  return true;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no error)";
}

struct PretrainSetup {
  WindowSet ws = sinusoid_windows(4, 24, 1, 3);
  PreprocessConfig pp;
  std::vector<size_t> fit, val;
  PretrainOptions o;
  ModelSpec spec;
  PretrainSetup() {
    pp.inputs = "ppg";
    fit = ws.rows_of_subjects({"subj0", "subj1", "subj2"});
    val = ws.rows_of_subjects({"subj3"});
    o.cfg.epochs = 2;
    o.cfg.batch = 16;  // 8 labelled + 8 synthetic: 9 steps an epoch over 72 windows
    o.cfg.patience = 0;
    o.cfg.seed = 7;
    o.cfg.threads = 1;
    o.synthetic_share = 0.5;
    o.stream.seed = 21;
    o.stream.recordings_per_chunk = 2;
    o.stream.duration_s = 30;
    o.prefetch_chunks = 2;
    o.checkpoint_every = 4;
    o.ssl_weight = 0.5;
    o.ssl_projection = 8;
    spec = ModelSpec::parse("resnet1d:stem=4,stages=4-8,blocks=1,k=5", 1, 200);
  }
};

TEST(Pretrain, ResumeEqualsUninterruptedRun) {
  PretrainSetup s;
  const std::string dir = scratch_dir();
  auto whole = init_model(s.spec, s.o.cfg.seed);
  auto res = pretrain(*whole, s.ws, s.fit, s.val, s.pp, s.o, dir + "/whole", false, {}, "");
  EXPECT_EQ(res.steps, 18);
  EXPECT_EQ(res.cfg.batch, 8);
  EXPECT_EQ(res.synthetic_windows_seen, 18 * 8);
  EXPECT_GE(res.synthetic.windows, 18u * 8u);
  ASSERT_EQ(res.train.history.size(), 2u);

  // SIGINT after step 6 (mid-epoch 1): the trainer checkpoints and stops; --resume finishes.
  auto part = init_model(s.spec, s.o.cfg.seed);
  auto stop_at_6 = [](int64_t step) {
    if (step == 6) request_interrupt();
  };
  EXPECT_NE(error_of([&] {
              pretrain(*part, s.ws, s.fit, s.val, s.pp, s.o, dir + "/part", false, stop_at_6, "");
            }).find("interrupted at epoch 1 step 6"),
            std::string::npos);
  clear_interrupt();
  auto resumed = init_model(s.spec, 99);
  auto res2 = pretrain(*resumed, s.ws, s.fit, s.val, s.pp, s.o, dir + "/part", true, {}, "");
  EXPECT_TRUE(same_weights(*whole, *resumed));
  ASSERT_EQ(res2.train.history.size(), 2u);
  for (size_t e = 0; e < 2; ++e)
    EXPECT_DOUBLE_EQ(res2.train.history[e].train_loss, res.train.history[e].train_loss);

  // A crash at step 14 (no handler runs): the periodic checkpoint of step 12 (every 4) is where
  // --resume continues, and the result is still the uninterrupted run's.
  auto crash = init_model(s.spec, s.o.cfg.seed);
  auto crash_at_14 = [](int64_t step) {
    if (step == 14) throw std::runtime_error("killed");
  };
  EXPECT_EQ(error_of([&] {
              pretrain(*crash, s.ws, s.fit, s.val, s.pp, s.o, dir + "/crash", false, crash_at_14,
                       "");
            }),
            "killed");
  int64_t first_step = -1;
  auto note = [&](int64_t step) {
    if (first_step < 0) first_step = step;
  };
  auto resumed2 = init_model(s.spec, 98);
  pretrain(*resumed2, s.ws, s.fit, s.val, s.pp, s.o, dir + "/crash", true, note, "");
  EXPECT_EQ(first_step, 13);  // resumed after step 12
  EXPECT_TRUE(same_weights(*whole, *resumed2));

  // Another stream is another run: --resume refuses it.
  auto other = s.o;
  other.stream.seed = 22;
  auto net = init_model(s.spec, 1);
  EXPECT_NE(error_of([&] {
              pretrain(*net, s.ws, s.fit, s.val, s.pp, other, dir + "/whole", true, {}, "");
            }).find("checkpoint belongs to a different run: extra was"),
            std::string::npos);
}

TEST(Pretrain, SyntheticWindowsChangeTheResultAndOutputInitialisesTraining) {
  PretrainSetup s;
  s.o.ssl_weight = 0;
  const std::string dir = scratch_dir();
  auto mixed = init_model(s.spec, s.o.cfg.seed);
  pretrain(*mixed, s.ws, s.fit, s.val, s.pp, s.o, dir + "/mixed", false, {}, "");
  // Share 0 with the same labelled batch: the same labelled windows alone give other weights.
  auto only = s.o;
  only.synthetic_share = 0;
  only.cfg.batch = 8;
  auto real = init_model(s.spec, s.o.cfg.seed);
  auto r = pretrain(*real, s.ws, s.fit, s.val, s.pp, only, dir + "/real", false, {}, "");
  EXPECT_EQ(r.synthetic_windows_seen, 0);
  EXPECT_EQ(r.synthetic.windows, 0u);
  EXPECT_FALSE(same_weights(*mixed, *real));

  // --synthetic-windows sets the run length: 200 windows at 8 a step = 25 steps -> 3 epochs.
  auto budget = s.o;
  budget.cfg.epochs = 1;
  budget.synthetic_windows = 200;
  auto b = init_model(s.spec, 1);
  auto rb = pretrain(*b, s.ws, s.fit, {}, s.pp, budget, dir + "/budget", false, {}, "");
  EXPECT_EQ(rb.cfg.epochs, 3);
  EXPECT_EQ(rb.synthetic_windows_seen, 27 * 8);

  ModelRecord rec;
  save_model_dir(dir + "/model", *mixed, s.pp, rec);
  auto net = init_model(s.spec, 5);
  auto init = init_from_model_dir(dir + "/model", *net);
  EXPECT_TRUE(init.head_loaded);
  EXPECT_TRUE(same_weights(*mixed, *net));
}

// Two ranks (threads here; processes under mpirun in the CLI) each with half of every batch, the
// gradients all-reduced through Gloo, against one rank with the whole batch: an MLP (no BatchNorm),
// no augmentation, 18 steps. Tolerance: 1e-5 absolute on every weight (float rounding of the two
// half-batch means against one whole-batch mean, carried through AdamW).
TEST(DataParallel, TwoRanksWithHalfBatchesMatchOneRankWithTheWholeBatch) {
  PretrainSetup s;
  s.o.ssl_weight = 0;
  s.spec = ModelSpec::parse("mlp:hidden=32-16", 1, 200);
  const std::string dir = scratch_dir();
  auto whole = init_model(s.spec, s.o.cfg.seed);
  pretrain(*whole, s.ws, s.fit, s.val, s.pp, s.o, dir + "/one", false, {}, "");

  std::vector<Net> nets = {init_model(s.spec, s.o.cfg.seed), init_model(s.spec, s.o.cfg.seed)};
  std::vector<std::string> errors(2);
  std::vector<std::thread> ranks;
  for (int r = 0; r < 2; ++r)
    ranks.emplace_back([&, r] {
      try {
        DataParallel dp(r, 2, "file:" + dir + "/store");
        pretrain(*nets[r], s.ws, s.fit, s.val, s.pp, s.o, dir + "/rank" + std::to_string(r), false,
                 {}, "", &dp);
      } catch (const std::exception& e) {
        errors[r] = e.what();
      }
    });
  for (auto& t : ranks) t.join();
  ASSERT_EQ(errors[0], "");
  ASSERT_EQ(errors[1], "");
  EXPECT_TRUE(same_weights(*nets[0], *nets[1]));  // the ranks agree exactly
  double worst = 0;
  auto pw = whole->named_parameters();
  for (const auto& item : nets[0]->named_parameters())
    worst = std::max(worst, (item.value() - pw[item.key()]).abs().max().item<double>());
  std::printf("2 ranks vs 1 rank after 18 steps: max |weight difference| = %.3g\n", worst);
  EXPECT_LT(worst, 1e-5);
  EXPECT_GT(torch::cat({pw["fc0.weight"].flatten(), pw["head.weight"].flatten()})
                .abs()
                .sum()
                .item<double>(),
            0);

  // Batches that do not divide among the ranks are refused (checked before any rendezvous in
  // the CLI, and again in pretrain).
  auto odd = s.o;
  odd.cfg.batch = 18;  // 9 labelled + 9 synthetic
  EXPECT_EQ(error_of([&] { odd.check_ranks(2); }),
            "pretrain: 9 labelled and 9 synthetic windows a step do not divide among 2 ranks");
  odd.check_ranks(3);
}

}  // namespace
}  // namespace ppgkd
