// Distillation of several students of one architecture on one fold as one grouped computation
// (group_trainer.h): each job is what distill_fold (distill.h) would run alone, with its own
// strategy, hyperparameters, seed, teacher and model directory; teacher outputs loaded from the
// same cache file are shared. A job that fails (bad teacher, non-finite loss) fails alone.
// Not here: forming groups (the sweep) or option parsing (cli/group.cpp).
#pragma once

#include <string>
#include <vector>

#include "train/distill.h"
#include "train/group_trainer.h"

namespace ppgkd {

struct GroupJobResult {
  bool ok = false;
  std::string error;     // when !ok
  DistillResult result;  // when ok: as distill_fold returns it
};

// Jobs must share the student spec, batch and thread count (Error otherwise); `data` is shared.
// Every ok job's out_dir holds a model directory exactly as distill_fold writes it.
std::vector<GroupJobResult> distill_group(const DistillData& data,
                                          const std::vector<DistillJob>& jobs,
                                          const GroupHooks& hooks = {});

}  // namespace ppgkd
