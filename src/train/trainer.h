// Supervised training of one model on one split: AdamW with linear warm-up and cosine decay,
// cross-entropy over the 180 classes (optionally label-smoothed, or any loss the caller passes),
// optional augmentation, early stopping on validation-subject MAE, an atomic checkpoint every
// epoch and on SIGINT/SIGTERM, and exact resumption. Distillation reuses it through TrainHooks.
// Not here: folds (folds.h), model directories (model_dir.h), metrics (metrics.h).
//
// Shapes: B batch, C channels, L samples, K = 180 classes, E extra windows per batch.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/preprocess.h"
#include "models/networks.h"

namespace ppgkd {

struct TrainConfig {
  int epochs = 30;
  int batch = 256;
  double lr = 5e-3;              // peak learning rate (after warm-up; see docs/RESULTS.md)
  double weight_decay = 1e-2;    // AdamW's decoupled decay
  double warmup_epochs = 1.0;    // linear warm-up from ~0 to lr
  double min_lr_ratio = 0.01;    // cosine decays to lr * min_lr_ratio at the last step
  double label_smoothing = 0.1;  // of the ground-truth cross-entropy (see docs/RESULTS.md)
  double label_sigma = 0;        // Gaussian-blurred labels of this SD in BPM (gaussian_label_ce,
                                 // losses.h); supervised training only; 0 = one-hot
  double hr_balance = 0;         // class weights (n_c + 1)^-hr_balance in the cross-entropy
                                 // (losses.h); supervised training only; 0 = off
  bool augment = false;          // amplitude scaling, circular time shift, noise (HR preserved)
  std::string motion_augment = "none";  // none|synthetic|transfer|both|varied (augment.h)
  double motion_prob = 0.5;             // share of windows given a motion artefact
  double harmonic_prob = 0;   // share of windows whose pulse gets a boosted second harmonic
                              // (augment_harmonic, augment.h); 0 = off
  int patience = 8;           // epochs without validation improvement before stopping; 0 = never
  double val_fraction = 0.2;  // share of the training subjects held out for validation
  uint64_t seed = 1;          // weights init, data order, augmentation, validation subjects
  int threads = 2;            // torch intra-op threads (libtorch defaults to 1 here)

  // Everything except `threads`, which does not change the result at 1 thread and is
  // allowed to differ on resume.
  nlohmann::json to_json() const;
  static TrainConfig from_json(const nlohmann::json& j);  // missing keys keep defaults
  void validate() const;                                  // throws Error("train config", ...)
};

struct EpochRecord {
  int epoch = 0;
  double train_loss = 0;
  double val_mae = std::numeric_limits<double>::quiet_NaN();  // NaN without validation
  double lr = 0;                                              // at the epoch's last step
  double seconds = 0;                                         // wall time (not deterministic)
};

struct TrainResult {
  std::vector<EpochRecord> history;
  int best_epoch = -1;  // epoch whose weights the model holds at the end
  double best_val_mae = std::numeric_limits<double>::quiet_NaN();
  bool stopped_early = false;
  double windows_per_second = 0;  // training throughput of the last run segment
  nlohmann::json history_json() const;
};

// The loss of one batch. x (B, C, L) after augmentation, y (B) int64 classes, rows (B) int64
// indices into the WindowSet (to look up cached teacher outputs; -1 for TrainHooks::extra_windows),
// epoch the 0-based epoch.
// Returns a 0-dim tensor.
using BatchLoss =
    std::function<torch::Tensor(NetImpl& net, const torch::Tensor& x, const torch::Tensor& y,
                                const torch::Tensor& rows, int epoch)>;

struct TrainHooks {
  BatchLoss loss;  // empty: cross-entropy with cfg.label_smoothing and cfg.label_sigma
  // Extra trainable modules (e.g. a feature projector): optimised and checkpointed with the net.
  std::vector<std::shared_ptr<torch::nn::Module>> extra_modules;
  // Called after every optimiser step with the global step count (tests simulate an interrupt).
  std::function<void(int64_t global_step)> on_step;
  std::string progress_label = "train";  // empty: no progress bar
  // Windows appended to every batch after its WindowSet rows, before augmentation (pretrain mixes
  // a synthetic stream in this way): x (E, C, L) float and y (E) int64 classes for a global step.
  // Must be a function of the step alone, or resumption is no longer exact.
  std::function<std::pair<torch::Tensor, torch::Tensor>(int64_t global_step)> extra_windows;
  int64_t checkpoint_every = 0;  // also checkpoint every this many steps (0: epoch ends only)
  // More that a checkpoint must match to be resumed (e.g. the synthetic stream's config).
  nlohmann::json identity;
  // Data parallelism (data_parallel.h): this process trains on slice shard_rank of shard_count of
  // every batch's rows, and after_backward (the gradient all-reduce) runs before each step.
  int shard_rank = 0, shard_count = 1;
  std::function<void()> after_backward;
};

// Builds the network for `spec` with its initial weights drawn from `seed`. Refuses an ensemble
// spec (members are trained one by one and combined by `ppgkd ensemble`, train/ensemble.h).
Net init_model(const ModelSpec& spec, uint64_t seed);

// Trains `net` on rows `fit_rows` of `ws`, early-stopping on the subject-averaged MAE of
// `val_rows` (may be empty: then the last epoch's weights are kept). `state_dir` receives
// checkpoint.pt (every epoch and on interrupt), best.pt (the weights returned) and epochs.jsonl
// (one JSON line per checkpointed epoch, epoch_log.h).
//   resume = false: refuses a state_dir that already holds a checkpoint.
//   resume = true:  continues from state_dir/checkpoint.pt when present (the config must match),
//                   giving the same weights as an uninterrupted run; starts fresh when absent.
// On SIGINT/SIGTERM (interrupt.h) it finishes the step, checkpoints and throws Error.
TrainResult train_model(NetImpl& net, const WindowSet& ws, const std::vector<size_t>& fit_rows,
                        const std::vector<size_t>& val_rows, const TrainConfig& cfg,
                        const std::string& state_dir, bool resume, const TrainHooks& hooks = {});

// Subject-averaged MAE (BPM) of the model on `rows` (metrics.h compute_metrics).
double evaluate_mae(NetImpl& net, const WindowSet& ws, const std::vector<size_t>& rows, int batch);

// The configured augmentations of one batch at global step `step` (basic, then the harmonic
// boost, then motion artefacts; augment.h), each from its own generator seeded by (cfg.seed,
// step). fs: samples per second of the windows. Shared by train_model and grouped training.
torch::Tensor augment_batch(const torch::Tensor& x, const TrainConfig& cfg, double fs,
                            int64_t step);

// Learning rate at global step t of `total` steps (warm-up then cosine). Exposed for tests.
double lr_at(const TrainConfig& cfg, int64_t t, int64_t total, int64_t steps_per_epoch);

}  // namespace ppgkd
