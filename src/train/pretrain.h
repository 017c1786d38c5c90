// Supervised pre-training on labelled datasets mixed with an endless synthetic stream
// (data/synthetic/stream.h), optionally plus a contrastive objective (ssl.h). It is train_model
// with TrainHooks: each step takes `real` windows of the labelled data in the trainer's epoch order
// and appends `synthetic` windows of the stream (step t takes stream windows [t*S, (t+1)*S)), so
// progress, checkpoints, SIGINT handling and exact --resume are the trainer's. The weights it
// leaves are an ordinary model for save_model_dir and `train --init`.
//
// Not here: reading data, model directories (the CLI, cli/pretrain.cpp, does both).
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/synthetic/stream.h"
#include "train/trainer.h"

namespace ppgkd {

class DataParallel;

struct PretrainOptions {
  TrainConfig cfg;               // cfg.batch = windows per step, labelled + synthetic
  double synthetic_share = 0.5;  // share of every batch drawn from the stream, in [0, 1)
  SyntheticStreamConfig stream;
  int prefetch_chunks = 4;         // chunks generated ahead in a background thread (0: inline)
  int64_t steps = 0;               // > 0: run length in steps, rounded up to whole epochs
  int64_t synthetic_windows = 0;   // > 0 (and steps = 0): run until the stream gave this many
  int64_t checkpoint_every = 500;  // steps (0: epoch ends and interrupts only)
  double ssl_weight = 0;           // weight of NT-Xent (0: supervised only)
  double ssl_temperature = 0.1;
  int ssl_projection = 64;  // projection head output width

  int real_per_batch() const;       // max(1, round(batch * (1 - share)))
  int synthetic_per_batch() const;  // batch - real_per_batch()
  // The options that change the result (the TrainConfig is recorded on its own).
  nlohmann::json to_json() const;
  void validate() const;  // throws Error("pretrain", ...)
  // Throws Error("pretrain", ...) unless both per-step counts divide among `ranks` processes.
  void check_ranks(int ranks) const;
};

struct PretrainResult {
  TrainResult train;
  TrainConfig cfg;  // as run: batch = labelled windows per step, epochs resolved
  int64_t steps = 0;
  int64_t synthetic_windows_seen = 0;  // distinct stream windows the run trained on
  SyntheticStream::Stats synthetic;    // generation in this process (not across a resume)
};

// Pre-trains `net` on rows `fit_rows` of `ws` plus the stream (preprocessed with `pp`, which must
// give ws's channels and length), early-stopping on `val_rows` as train_model does. `state_dir`,
// `resume` and interrupts behave as in train_model; on_step (may be empty) sees each global step.
// With `dp` (data_parallel.h) this process is one of dp->world() ranks: it trains on its slice of
// every batch (labelled and synthetic windows alike; both counts must divide by the world size)
// and averages gradients with the others; every rank must be given the same arguments, except
// state_dir, which must differ between ranks on a shared file system.
PretrainResult pretrain(NetImpl& net, const WindowSet& ws, const std::vector<size_t>& fit_rows,
                        const std::vector<size_t>& val_rows, const PreprocessConfig& pp,
                        const PretrainOptions& o, const std::string& state_dir, bool resume,
                        const std::function<void(int64_t)>& on_step = {},
                        const std::string& progress_label = "pretrain", DataParallel* dp = nullptr);

}  // namespace ppgkd
