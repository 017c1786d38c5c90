#include <cstdio>

#include "cli/demo_stages.h"

namespace ppgkd::cli {

void run_demo_model_stages(const DemoOptions&, const WindowSet&) {
  std::printf("== 4. models: skipped, this build has no libtorch (PPGKD_WITH_TORCH=OFF)\n");
}

}  // namespace ppgkd::cli
