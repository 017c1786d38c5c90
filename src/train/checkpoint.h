// Weights and training checkpoints on disk. Every write goes to a temporary file that is renamed
// over the target (common/atomic_file.h), so a crash or a signal mid-write leaves the previous file
// intact. Not here: what goes into the training state (trainer.cpp decides) or model.json.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ppgkd {

// Parameters and buffers of `m` (the torch::save format of a module), atomically.
void save_weights(const std::string& path, torch::nn::Module& m);
// Loads into an already-built module of the same architecture; throws Error naming the file when
// it is missing, unreadable or does not fit the module (one line: "does not fit <model>: tensor
// NAME is (AxB) in the file, (CxD) in the network"; `model` names the module for that message).
void load_weights(const std::string& path, torch::nn::Module& m,
                  const std::string& model = "the model");

// A resumable training checkpoint: the modules (the network, then any extra trainable modules
// such as a feature projector), the optimiser state, and a JSON state (epoch, step, early-stop
// counters, history, config) written as one archive.
void save_checkpoint(const std::string& path,
                     const std::vector<std::shared_ptr<torch::nn::Module>>& modules,
                     torch::optim::Optimizer& optimizer, const nlohmann::json& state);
// Restores modules and optimiser in place and returns the JSON state.
nlohmann::json load_checkpoint(const std::string& path,
                               const std::vector<std::shared_ptr<torch::nn::Module>>& modules,
                               torch::optim::Optimizer& optimizer);

}  // namespace ppgkd
