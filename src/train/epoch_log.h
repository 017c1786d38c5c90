// epochs.jsonl: a training run's per-epoch metrics as JSON lines, one object per finished epoch,
// each line flushed when its epoch's checkpoint is on disk, so an external tool can follow a run
// (`tail -f`) and prune it. A line:
//   {"epoch": 0, "epochs": 30, "train_loss": 4.1, "val_mae": 9.8, "lr": 0.005,
//    "epoch_seconds": 2.1, "elapsed_seconds": 2.1, "best_val_mae": 9.8, "best_epoch": 0}
// epoch is 0-based as in model.json's history; val_mae and best_val_mae are null without
// validation (best_epoch -1); elapsed_seconds sums the epochs' wall times (resumed runs included).
// A resumed run rewrites the file from its checkpoint's history first, so an epoch written after
// the last checkpoint (a run killed in between) is never listed twice.
// Not here: model.json's history (TrainResult::history_json) or the checkpoints (trainer.h).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "train/trainer.h"

namespace ppgkd {

// The file name inside a run's state directory.
inline constexpr const char* kEpochLogName = "epochs.jsonl";

class EpochLog {
 public:
  // Rewrites `path` (atomically) with the lines of `history`, the epochs a run has done, out of
  // `epochs` planned. Throws Error naming the file when it cannot be written.
  EpochLog(std::string path, int epochs, const std::vector<EpochRecord>& history);
  // Appends the line of the next epoch and flushes it. Throws Error naming the file.
  void append(const EpochRecord& rec);

 private:
  nlohmann::json line(const EpochRecord& rec);  // updates the running best and elapsed time

  std::string path_;
  int epochs_ = 0;
  double elapsed_ = 0;
  double best_val_ = 0;
  int best_epoch_ = -1;
};

}  // namespace ppgkd
