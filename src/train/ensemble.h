// An ensemble as a model directory (`ppgkd ensemble --members DIR1,DIR2,... --out DIR`): the
// trained members of one fold, combined into one network (models/networks.h, EnsembleImpl: the
// mean of the members' posteriors) and written as a normal model dir, so eval, predict, validate
// and distill --teacher use it unchanged through load_model_dir.
//
// The members must agree on the input shape, preprocessing, class map and the split's test
// subjects (one fold), and be at least 2, distinct, and single networks; anything else is refused
// with one Error naming the offending member's model.json. Their specs may differ: members of one
// spec (usually several seeds) make a seed ensemble, others a mixed one. OUT/model.json records:
//   spec             "ensemble:n=N;<member spec>", or one spec per member when they differ
//   training         kind "seed ensemble" or "mixed ensemble", the member count and their seeds
//   split            the members' kind, fold and test subjects; train subjects = the union of the
//                    members' train subjects, val subjects = the union of their val subjects less
//                    those (a subject any member fitted on counts as a training subject)
//   data             the members' root and fingerprint when they all agree, else empty
//   extra.ensemble   the members: dir (absolute), seed, spec, fold, metrics; and the combination
//   extra.transition_scale_bpm  the mean of the members' recorded scales (those that record one)
// Not here: training the members (train, distill) or evaluating the ensemble (eval).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ppgkd {

// Builds and writes the ensemble (save_model_dir: model.pt then model.json, each atomically).
// Returns the written model.json.
nlohmann::json build_ensemble(const std::vector<std::string>& member_dirs,
                              const std::string& out_dir);

}  // namespace ppgkd
