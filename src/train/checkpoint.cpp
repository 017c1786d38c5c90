// Atomic weight and checkpoint files (see checkpoint.h).
#include "train/checkpoint.h"

#include <sstream>

#include "common/atomic_file.h"
#include "common/error.h"

namespace ppgkd {

namespace {

void write_archive(const std::string& path, torch::serialize::OutputArchive& ar) {
  std::ostringstream bytes;
  ar.save_to(bytes);
  write_file_atomic(path, bytes.str());
}

void read_archive(const std::string& path, torch::serialize::InputArchive& ar) {
  std::string bytes = read_file(path);  // throws Error naming the file
  try {
    std::istringstream in(bytes);
    ar.load_from(in);
  } catch (const c10::Error& e) {
    throw Error(path, std::string("not a readable torch archive: ") + e.what_without_backtrace());
  }
}

}  // namespace

void save_weights(const std::string& path, torch::nn::Module& m) {
  torch::serialize::OutputArchive ar;
  m.save(ar);
  write_archive(path, ar);
}

void load_weights(const std::string& path, torch::nn::Module& m) {
  torch::serialize::InputArchive ar;
  read_archive(path, ar);
  try {
    m.load(ar);
  } catch (const c10::Error& e) {
    throw Error(path, std::string("weights do not fit the model: ") + e.what_without_backtrace());
  }
}

void save_checkpoint(const std::string& path,
                     const std::vector<std::shared_ptr<torch::nn::Module>>& modules,
                     torch::optim::Optimizer& optimizer, const nlohmann::json& state) {
  torch::serialize::OutputArchive ar;
  for (size_t i = 0; i < modules.size(); ++i) {
    torch::serialize::OutputArchive sub;
    modules[i]->save(sub);
    ar.write("module" + std::to_string(i), sub);
  }
  torch::serialize::OutputArchive opt;
  optimizer.save(opt);
  ar.write("optimizer", opt);
  ar.write("state", c10::IValue(state.dump()));
  write_archive(path, ar);
}

nlohmann::json load_checkpoint(const std::string& path,
                               const std::vector<std::shared_ptr<torch::nn::Module>>& modules,
                               torch::optim::Optimizer& optimizer) {
  torch::serialize::InputArchive ar;
  read_archive(path, ar);
  try {
    for (size_t i = 0; i < modules.size(); ++i) {
      torch::serialize::InputArchive sub;
      ar.read("module" + std::to_string(i), sub);
      modules[i]->load(sub);
    }
    torch::serialize::InputArchive opt;
    ar.read("optimizer", opt);
    optimizer.load(opt);
    c10::IValue state;
    ar.read("state", state);
    return nlohmann::json::parse(state.toStringRef());
  } catch (const c10::Error& e) {
    throw Error(path,
                std::string("checkpoint does not fit this run: ") + e.what_without_backtrace());
  }
}

}  // namespace ppgkd
