// Starting a training run from another model's weights (`ppgkd train --init DIR`, and a model dir
// written by `ppgkd pretrain`). The rules:
//   - same spec (family, widths, kernel, input channels and length) and the same class map: every
//     parameter and BN buffer is copied;
//   - same spec but a different class map (count, lowest BPM or bin width in model.json's
//     "classes") or a head of another shape: everything but the head (the final classifier
//     layer, `head.*`) is copied and the head keeps the fresh initialisation the caller drew
//     from its seed;
//   - any other difference is refused with one Error naming DIR/model.json and the mismatch;
//   - a seed ensemble (`ppgkd ensemble`) is refused: it is several networks (distil it instead).
// Not here: training, or writing the new model's directory (the caller records to_json()).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "models/networks.h"

namespace ppgkd {

struct InitRecord {
  std::string dir;               // as given
  std::string spec;              // DIR/model.json "spec" (canonical)
  std::string data_fingerprint;  // DIR/model.json data.fingerprint ("" when absent)
  std::string data_root;         // DIR/model.json data.root ("" when absent)
  bool head_loaded = false;      // false: head freshly initialised
  std::string head_reason;       // why the head was not loaded ("" when it was)
  int tensors_loaded = 0;        // parameters and buffers copied
  // DIR/model.json's split train and validation subjects: a later run must not test on them.
  std::vector<std::string> seen_subjects;
  nlohmann::json to_json() const;
};

// Copies the weights of the model directory `dir` into `net` (built by init_model with the run's
// seed) by the rules above. Throws Error(dir + "/model.json", ...) for an incompatible model and
// Error(dir + "/model.pt", ...) for weights that do not fit their own model.json.
InitRecord init_from_model_dir(const std::string& dir, NetImpl& net);

}  // namespace ppgkd
