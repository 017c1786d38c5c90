// The progress of one training run as its checkpoint records it: where the run stands, its
// early-stopping state and its history. The trainer keeps one; a grouped run keeps one per member.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

#include "train/trainer.h"

namespace ppgkd {

struct RunState {
  int epoch = 0;            // the epoch in progress (or next to start)
  int64_t step = 0;         // next step within the epoch
  int64_t global_step = 0;  // optimiser steps taken
  double loss_sum = 0;      // this epoch so far
  int64_t loss_batches = 0;
  double best_val_mae = std::numeric_limits<double>::quiet_NaN();
  int best_epoch = -1;
  int bad_epochs = 0;
  bool finished = false, stopped_early = false;
  std::vector<EpochRecord> history;
};

// The state with the identity its checkpoint must match (non-finite numbers as null), and back.
nlohmann::json run_state_to_json(const RunState& st, const nlohmann::json& identity);
RunState run_state_from_json(const nlohmann::json& j);

}  // namespace ppgkd
