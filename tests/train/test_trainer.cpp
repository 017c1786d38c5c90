// The supervised trainer: it learns a task a constant cannot solve, is deterministic for a seed,
// resumes to bit-identical weights after an interrupt, and refuses mismatched checkpoints and
// models. Uses a hand-built sinusoid WindowSet (test_trainer_data.h), one thread.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>

#include "common/atomic_file.h"
#include "common/error.h"
#include "data/dsp/class_map.h"
#include "epoch_log_check.h"
#include "test_trainer_data.h"
#include "test_util.h"
#include "train/checkpoint.h"
#include "train/folds.h"
#include "train/inference.h"
#include "train/interrupt.h"
#include "train/model_dir.h"
#include "train/trainer.h"

namespace ppgkd {
namespace {

using ppgkd::testing::scratch_dir;
using ppgkd::testing::sinusoid_windows;

const char* kSpec = "resnet1d:stem=8,stages=8-16-16,blocks=1,k=5";

TrainConfig small_config() {
  TrainConfig c;
  c.epochs = 3;
  c.batch = 32;
  c.lr = 5e-3;
  c.patience = 0;
  c.seed = 7;
  c.threads = 1;
  return c;
}

TrainHooks quiet() {
  TrainHooks h;
  h.progress_label = "";
  return h;
}

std::vector<size_t> all_rows(const WindowSet& ws) {
  std::vector<size_t> r(ws.size());
  for (size_t i = 0; i < r.size(); ++i) r[i] = i;
  return r;
}

bool same_weights(torch::nn::Module& a, torch::nn::Module& b) {
  auto pa = a.named_parameters(), pb = b.named_parameters();
  for (const auto& item : pa)
    if (!torch::equal(item.value(), pb[item.key()])) return false;
  auto ba = a.named_buffers(), bb = b.named_buffers();
  for (const auto& item : ba)
    if (!torch::equal(item.value(), bb[item.key()])) return false;
  return true;
}

using ppgkd::testing::error_of;

// ------------------------------------------------------------------------------- schedule

// The three shares a stored config may carry (model.json "training", resumed state) are checked
// at both ends and against NaN, with a message naming the key and the value.
TEST(Trainer, ConfigRefusesSharesOutsideTheUnitInterval) {
  const std::vector<std::pair<std::string, std::string>> keys = {
      {"hr_balance", "hr_balance must be in [0, 1], got "},
      {"motion_prob", "motion_prob must be in [0, 1], got "},
      {"harmonic_prob", "harmonic_prob must be in [0, 1], got "}};
  for (const auto& [key, message] : keys) {
    for (double ok : {0.0, 1.0}) {
      nlohmann::json j = TrainConfig{}.to_json();
      j[key] = ok;
      EXPECT_EQ(TrainConfig::from_json(j).to_json()[key], ok) << key;
    }
    for (const auto& [bad, shown] :
         std::vector<std::pair<double, std::string>>{{-0.1, "-0.1"}, {1.5, "1.5"}}) {
      nlohmann::json j = TrainConfig{}.to_json();
      j[key] = bad;
      EXPECT_EQ(error_of([&] { TrainConfig::from_json(j); }), "train config: " + message + shown)
          << key;
    }
  }
  TrainConfig c;
  c.harmonic_prob = std::nan("");
  EXPECT_EQ(error_of([&] { c.validate(); }),
            "train config: harmonic_prob must be in [0, 1], got nan");
}

TEST(Trainer, ConfigChecksTheLabelSigma) {
  for (double ok : {0.0, 2.5, 30.0}) {
    nlohmann::json j = TrainConfig{}.to_json();
    j["label_sigma"] = ok;
    EXPECT_EQ(TrainConfig::from_json(j).to_json()["label_sigma"], ok);
  }
  EXPECT_EQ(TrainConfig{}.label_sigma, 0.0);  // one-hot labels unless asked
  for (const auto& [bad, shown] :
       std::vector<std::pair<double, std::string>>{{-0.5, "-0.5"}, {31, "31"}}) {
    nlohmann::json j = TrainConfig{}.to_json();
    j["label_sigma"] = bad;
    EXPECT_EQ(error_of([&] { TrainConfig::from_json(j); }),
              "train config: label_sigma must be in [0, 30] BPM, got " + shown);
  }
  TrainConfig c;
  c.label_sigma = std::nan("");
  EXPECT_EQ(error_of([&] { c.validate(); }),
            "train config: label_sigma must be in [0, 30] BPM, got nan");
  c.label_sigma = 2;
  c.hr_balance = 0.5;
  EXPECT_EQ(error_of([&] { c.validate(); }),
            "train config: hr_balance and label_sigma cannot be combined (the class weights "
            "apply to one-hot labels)");
}

TEST(Trainer, LearningRateSchedule) {
  TrainConfig c;
  c.lr = 1e-2;
  c.min_lr_ratio = 0.1;
  c.warmup_epochs = 2;
  const int64_t spe = 5, total = 50;                 // warm-up = 10 steps, then 40 cosine steps
  EXPECT_DOUBLE_EQ(lr_at(c, 0, total, spe), 1e-3);   // 1/10 of lr
  EXPECT_DOUBLE_EQ(lr_at(c, 4, total, spe), 5e-3);   // 5/10
  EXPECT_DOUBLE_EQ(lr_at(c, 10, total, spe), 1e-2);  // peak
  // Halfway through the cosine (progress 0.5): floor + (lr - floor) / 2 = 1e-3 + 4.5e-3.
  const double mid = 10 + 39.0 / 2;
  EXPECT_NEAR(lr_at(c, static_cast<int64_t>(mid), total, spe), 5.5e-3, 2.5e-4);
  EXPECT_DOUBLE_EQ(lr_at(c, total - 1, total, spe), 1e-3);  // floor at the last step
}

TEST(Trainer, DecodingMatchesClassCentres) {
  auto p = torch::zeros({2, kNumClasses});
  p[0][40] = 1.0;                    // one-hot at class 40 -> its centre, 70.5 BPM
  p[1][100] = 0.5, p[1][101] = 0.5;  // split evenly between 130.5 and 131.5
  auto bpm = decode_posteriors(p);
  EXPECT_DOUBLE_EQ(bpm[0], 70.5);
  EXPECT_DOUBLE_EQ(bpm[1], 131.0);
}

// ------------------------------------------------------------------------------- learning

TEST(Trainer, LearnsHeartRateFarBetterThanAConstant) {
  auto ws = sinusoid_windows(8, 60, 1, 1);
  auto fold = kfold_by_subject(ws.subjects(), 4, 3)[0];
  std::vector<std::string> fit, val;
  split_validation(fold.train_subjects, 0.2, 3, &fit, &val);
  auto fit_rows = ws.rows_of_subjects(fit), val_rows = ws.rows_of_subjects(val),
       test_rows = ws.rows_of_subjects(fold.test_subjects);

  auto cfg = small_config();
  cfg.epochs = 12;
  cfg.patience = 4;
  cfg.augment = true;
  auto spec = ModelSpec::parse(kSpec, 1, 200);
  auto net = init_model(spec, cfg.seed);
  auto res = train_model(*net, ws, fit_rows, val_rows, cfg, scratch_dir(), false, quiet());

  ASSERT_GE(res.history.size(), 2u);
  // The loss starts near ln(180) = 5.19 and must fall by more than 1 nat: the true class becomes
  // e times likelier on average.
  EXPECT_NEAR(res.history.front().train_loss, std::log(180.0), 0.5);
  EXPECT_LT(res.history.back().train_loss, res.history.front().train_loss - 1.0);
  EXPECT_EQ(res.best_val_mae, res.history[res.best_epoch].val_mae);

  // The constant predictor: the mean training HR for every test window.
  double mean = 0;
  for (size_t r : fit_rows) mean += ws.hr[r];
  mean /= fit_rows.size();
  auto pred = predict_bpm(*net, ws, test_rows, 64);
  double mae = 0, mae_const = 0;
  for (size_t i = 0; i < test_rows.size(); ++i) {
    mae += std::abs(pred[i] - ws.hr[test_rows[i]]);
    mae_const += std::abs(mean - ws.hr[test_rows[i]]);
  }
  mae /= test_rows.size();
  mae_const /= test_rows.size();
  // HR uniform on 50-170: a constant is ~30 BPM off; the model must be at least 3x better.
  std::printf("test MAE %.2f, constant %.2f\n", mae, mae_const);
  EXPECT_GT(mae_const, 20.0);
  EXPECT_LT(mae, mae_const / 3) << "model " << mae << " constant " << mae_const;
}

// ------------------------------------------------------------------------------- determinism

TEST(Trainer, SameSeedSameWeights) {
  auto ws = sinusoid_windows(4, 24, 4, 2);
  auto cfg = small_config();
  cfg.augment = true;  // the augmentation generator must be seeded too
  auto spec = ModelSpec::parse(kSpec, 4, 200);
  std::vector<size_t> fit = ws.rows_of_subjects({"subj0", "subj1", "subj2"}),
                      val = ws.rows_of_subjects({"subj3"});
  const std::string dir = scratch_dir();
  auto a = init_model(spec, cfg.seed), b = init_model(spec, cfg.seed);
  train_model(*a, ws, fit, val, cfg, dir + "/a", false, quiet());
  train_model(*b, ws, fit, val, cfg, dir + "/b", false, quiet());
  EXPECT_TRUE(same_weights(*a, *b));
  cfg.seed = 8;
  auto c = init_model(spec, cfg.seed);
  train_model(*c, ws, fit, val, cfg, dir + "/c", false, quiet());
  EXPECT_FALSE(same_weights(*a, *c));
}

// ------------------------------------------------------------------------------- resumption

TEST(Trainer, ResumeAfterInterruptGivesIdenticalWeights) {
  auto ws = sinusoid_windows(4, 24, 1, 3);
  auto cfg = small_config();
  cfg.augment = true;
  auto spec = ModelSpec::parse("mlp:hidden=16", 1, 200);
  std::vector<size_t> fit = ws.rows_of_subjects({"subj0", "subj1", "subj2"}),
                      val = ws.rows_of_subjects({"subj3"});
  const std::string dir = scratch_dir();

  auto whole = init_model(spec, cfg.seed);
  auto res_whole = train_model(*whole, ws, fit, val, cfg, dir + "/whole", false, quiet());

  // 72 windows at batch 32: 3 steps an epoch. Interrupt mid-epoch 2 (after global step 4).
  auto hooks = quiet();
  hooks.on_step = [](int64_t step) {
    if (step == 4) request_interrupt();
  };
  auto part = init_model(spec, cfg.seed);
  EXPECT_EQ(error_of([&] { train_model(*part, ws, fit, val, cfg, dir + "/part", false, hooks); }),
            dir +
                "/part/checkpoint.pt: interrupted at epoch 2 step 1; checkpoint saved, continue "
                "with --resume");
  clear_interrupt();
  EXPECT_FALSE(same_weights(*whole, *part));
  // epochs.jsonl lists the epochs checkpointed: the uninterrupted run's 3, the interrupted one's 1.
  testing::expect_epoch_log_matches(dir + "/whole/epochs.jsonl", res_whole.history_json(), 3);
  ASSERT_EQ(testing::read_epoch_log(dir + "/part/epochs.jsonl").size(), 1u);
  // Lines its checkpoint does not hold (as a run killed after writing them would leave) must not
  // survive the resume: give it the whole run's 3 lines and one more.
  const std::string whole_log = read_file(dir + "/whole/epochs.jsonl");
  write_file_atomic(dir + "/part/epochs.jsonl",
                    whole_log + whole_log.substr(0, whole_log.find('\n') + 1));

  // Without --resume the directory is refused.
  auto fresh = init_model(spec, 99);
  EXPECT_EQ(
      error_of([&] { train_model(*fresh, ws, fit, val, cfg, dir + "/part", false, quiet()); }),
      dir +
          "/part: already holds a training checkpoint; pass --resume to continue it or "
          "choose another output directory");
  // A different config is refused, naming the field.
  auto other = cfg;
  other.lr = 1e-3;
  EXPECT_EQ(
      error_of([&] { train_model(*fresh, ws, fit, val, other, dir + "/part", true, quiet()); }),
      dir +
          "/part/checkpoint.pt: checkpoint belongs to a different run: lr was 0.005 but is "
          "now 0.001");

  // Resume into a model with different initial weights: the checkpoint replaces them.
  auto resumed = init_model(spec, 99);
  auto res = train_model(*resumed, ws, fit, val, cfg, dir + "/part", true, quiet());
  EXPECT_TRUE(same_weights(*whole, *resumed));
  EXPECT_EQ(res.best_epoch, res_whole.best_epoch);
  ASSERT_EQ(res.history.size(), res_whole.history.size());
  for (size_t e = 0; e < res.history.size(); ++e) {
    EXPECT_DOUBLE_EQ(res.history[e].train_loss, res_whole.history[e].train_loss) << e;
    EXPECT_DOUBLE_EQ(res.history[e].val_mae, res_whole.history[e].val_mae) << e;
  }
  // The resumed log: the 3 epochs once each, as the resumed history records them.
  testing::expect_epoch_log_matches(dir + "/part/epochs.jsonl", res.history_json(), 3);
  // Resuming a finished run trains nothing and returns the same weights.
  auto again = init_model(spec, 5);
  train_model(*again, ws, fit, val, cfg, dir + "/part", true, quiet());
  EXPECT_TRUE(same_weights(*whole, *again));
}

// A loss that turns NaN at global step 5 (epoch 2, step 2): the run stops there with an error, the
// checkpoint of epoch 1 is left as it was (resuming it with a sane loss gives the uninterrupted
// run's weights), and no NaN weights reach best.pt.
TEST(Trainer, DivergenceStopsTheRunAndKeepsTheLastGoodCheckpoint) {
  auto ws = sinusoid_windows(4, 24, 1, 3);
  auto cfg = small_config();
  auto spec = ModelSpec::parse("mlp:hidden=16", 1, 200);
  std::vector<size_t> fit = ws.rows_of_subjects({"subj0", "subj1", "subj2"}),
                      val = ws.rows_of_subjects({"subj3"});
  const std::string dir = scratch_dir();
  auto whole = init_model(spec, cfg.seed);
  train_model(*whole, ws, fit, val, cfg, dir + "/whole", false, quiet());

  auto hooks = quiet();
  int calls = 0;
  hooks.loss = [&calls](NetImpl& net, const torch::Tensor& x, const torch::Tensor& y,
                        const torch::Tensor&, int) {
    auto loss = torch::nn::functional::cross_entropy(
        net.forward(x), y, torch::nn::functional::CrossEntropyFuncOptions().label_smoothing(0.1));
    return ++calls == 5 ? loss * std::numeric_limits<double>::quiet_NaN() : loss;
  };
  std::string epoch1;  // checkpoint.pt as epoch 1 left it
  hooks.on_step = [&](int64_t step) {
    if (step == 4) epoch1 = read_file(dir + "/part/checkpoint.pt");
  };
  auto part = init_model(spec, cfg.seed);
  EXPECT_EQ(error_of([&] { train_model(*part, ws, fit, val, cfg, dir + "/part", false, hooks); }),
            dir +
                "/part/checkpoint.pt: training diverged: the loss is nan at epoch 2 step 2; the "
                "last good checkpoint (after step 3) is kept (a lower --lr may help)");
  ASSERT_FALSE(epoch1.empty());
  EXPECT_EQ(read_file(dir + "/part/checkpoint.pt"), epoch1);
  auto best = init_model(spec, 99);
  load_weights(dir + "/part/best.pt", *best);
  for (const auto& p : best->parameters()) EXPECT_TRUE(torch::isfinite(p).all().item<bool>());

  auto resumed = init_model(spec, 99);
  train_model(*resumed, ws, fit, val, cfg, dir + "/part", true, quiet());
  EXPECT_TRUE(same_weights(*whole, *resumed));
}

// ------------------------------------------------------------------------------- model dirs

TEST(ModelDir, RoundTripAndIncompatibleDataRefused) {
  auto ws = sinusoid_windows(2, 8, 4, 4);
  PreprocessConfig pp;  // ppg+acc, 4 channels, 200 samples
  auto spec = ModelSpec::parse(kSpec, pp.channels(), pp.length());
  auto net = init_model(spec, 3);
  ModelRecord rec;
  rec.training = small_config().to_json();
  rec.train_subjects = {"subj0"};
  rec.test_subjects = {"subj1"};
  rec.fold = 0;
  rec.folds = 2;
  rec.split = "kfold";
  const std::string dir = scratch_dir();
  save_model_dir(dir, *net, pp, rec);

  auto loaded = load_model_dir(dir);
  EXPECT_EQ(loaded.net->spec(), spec);
  EXPECT_TRUE(same_weights(*net, *loaded.net));
  EXPECT_EQ(loaded.record.class_count, 180);
  EXPECT_EQ(loaded.record.test_subjects, std::vector<std::string>({"subj1"}));
  auto rows = all_rows(ws);
  EXPECT_TRUE(torch::equal(run_model(*net, ws, rows, 8).logits,
                           run_model(*loaded.net, ws, rows, 8).logits));

  check_compatible(dir, loaded, pp);  // same config: accepted
  PreprocessConfig ppg = pp;
  ppg.inputs = "ppg";
  EXPECT_EQ(error_of([&] { check_compatible(dir, loaded, ppg); }),
            dir +
                "/model.json: model expects preprocessing inputs = \"ppg+acc\" but the data "
                "has \"ppg\"");
  PreprocessConfig band = pp;
  band.band_hi_hz = 3.5;
  EXPECT_EQ(error_of([&] { check_compatible(dir, loaded, band); }),
            dir +
                "/model.json: model expects preprocessing band_hi_hz = 4.0 but the data has "
                "3.5");
  PreprocessConfig causal = pp;
  causal.causal = true;
  check_compatible(dir, loaded, causal, {"causal"});  // knowingly ignored

  // Data of the wrong shape is refused before any arithmetic.
  auto ws1 = sinusoid_windows(1, 2, 1, 5);
  EXPECT_EQ(error_of([&] {
              run_model(*loaded.net, ws1, {0, 1}, 8);
            }),
            spec.str() + ": model takes (C=4, L=200) windows but the data has (C=1, L=200)");
  EXPECT_EQ(error_of([&] { load_model_dir(dir + "/absent"); }),
            dir + "/absent: not a model directory");
}

TEST(Inference, FeaturesAndLogitsInBatches) {
  auto ws = sinusoid_windows(1, 10, 4, 6);
  auto spec = ModelSpec::parse(kSpec, 4, 200);
  auto net = init_model(spec, 1);
  auto rows = all_rows(ws);
  auto out = run_model(*net, ws, rows, 3, 1);  // batches of 3, 3, 3, 1
  EXPECT_EQ(out.logits.sizes(), (std::vector<int64_t>{10, 180}));
  EXPECT_EQ(out.features.sizes(), (std::vector<int64_t>{10, 16, 100}));
  EXPECT_TRUE(net->is_training());  // mode restored
  net->eval();
  torch::NoGradGuard ng;
  auto direct = net->forward(gather_windows(ws, rows));
  EXPECT_TRUE(torch::allclose(out.logits, direct, 1e-5, 1e-5));
}

}  // namespace
}  // namespace ppgkd
