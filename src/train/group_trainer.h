// Training K students of one architecture together as one grouped network (group_net.h), each
// member exactly as train_model (trainer.h) would train it alone: its own initial weights, batch
// order, augmentation, loss, AdamW state, learning-rate schedule, validation, early stopping,
// checkpoint and resumption. Only the arithmetic is shared: at each tick every active member takes
// its next step, and members whose batches have the same size run as one grouped forward and
// backward pass. Not here: teachers and model directories (distill.h, distill_group), options.
//
// Why per-member results equal separate runs: the members' parameters are disjoint slices of the
// stacked tensors and the loss is the sum of the members' losses, so each member's gradient is the
// gradient of its own loss; grouped convolutions, BatchNorm over stacked channels and batched
// matrix products compute each member's outputs from its own slice alone. Only the order of float
// reductions may differ from the single model's kernels (tests/train/test_group_trainer.cpp states
// the tolerance).
//
// A member whose loss is not finite fails alone: it stops updating, the others go on.
// Checkpoints: STATE_DIR/group-checkpoint.pt per member at the end of each of its epochs (and on
// SIGINT/SIGTERM), STATE_DIR/best.pt as in train_model; resume = true continues each member from
// its own checkpoint, so a group may be re-formed from members at different epochs.
//
// Shapes: B batch, C channels, L samples, K = 180 classes.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "data/preprocess.h"
#include "models/networks.h"
#include "train/trainer.h"

namespace ppgkd {

struct GroupMember {
  TrainConfig cfg;  // batch and threads must be the group's
  // The member's loss: BatchLoss called with a network whose forward returns this member's
  // slice of the grouped outputs. Empty: cross-entropy with cfg.label_smoothing (as train_model).
  BatchLoss loss;
  // Extra trainable modules of this member alone (a feature projector), optimised and
  // checkpointed with it (their own AdamW, same groups and schedule as train_model).
  std::vector<std::shared_ptr<torch::nn::Module>> extra_modules;
  int feature_stage = kNoFeature;  // the stage the loss asks for (kNoFeature: none)
  std::vector<size_t> fit_rows, val_rows;
  std::string state_dir;
  nlohmann::json identity;  // more that its checkpoint must match (TrainHooks::identity)
};

struct GroupMemberResult {
  bool ok = false;
  std::string error;  // when !ok
  TrainResult result;
};

struct GroupHooks {
  std::function<void(int64_t tick)> on_tick;  // after every tick (tests simulate interrupts)
  std::string progress_label = "group";       // empty: no progress bar
};

// Trains the members; `nets[i]` holds member i's initial weights on entry (init_model(spec,
// cfg.seed), as a single run) and its best weights on return (ok members). Throws Error for
// members that cannot share a group (another spec, batch or thread count) or a checkpoint of
// another run; an interrupt checkpoints every member and throws.
std::vector<GroupMemberResult> train_group(const WindowSet& ws, std::vector<Net>& nets,
                                           std::vector<GroupMember>& members, bool resume,
                                           const GroupHooks& hooks = {});

}  // namespace ppgkd
