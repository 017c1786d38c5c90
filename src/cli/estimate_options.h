// Command-line options of the estimation engine (eval/): the estimate options shared by eval and
// validate, and the accelerometer-aware decoding options shared by eval, validate and predict.
#pragma once

#include <CLI/CLI.hpp>

#include "eval/acc_aware.h"
#include "eval/estimates.h"

namespace ppgkd::cli {

// Registers --acc-aware, --acc-depth, --acc-width, --acc-min-share, --acc-half.
void add_acc_options(CLI::App* sub, AccAwareOptions* acc);

// Registers the EstimateRequest options (--model, --data, --subjects, ...) and the acc options.
void add_estimate_options(CLI::App* sub, EstimateRequest* req);

}  // namespace ppgkd::cli
