// The demo's stages that need libtorch (models, distillation, report); a build without libtorch
// says so instead.
#pragma once

#include <cstdint>
#include <string>

#include "data/preprocess.h"

namespace ppgkd::cli {

struct DemoOptions {
  std::string out = "out/demo";
  uint64_t seed = 42;
  int threads = 2;
};

void run_demo_model_stages(const DemoOptions& opt, const WindowSet& ws);

}  // namespace ppgkd::cli
