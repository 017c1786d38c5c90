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

// "(16x800)"
std::string shape_str(const std::vector<int64_t>& sizes) {
  std::string s;
  for (auto d : sizes) s += (s.empty() ? "" : "x") + std::to_string(d);
  return "(" + s + ")";
}

}  // namespace

void save_weights(const std::string& path, torch::nn::Module& m) {
  torch::serialize::OutputArchive ar;
  m.save(ar);
  write_archive(path, ar);
}

void load_weights(const std::string& path, torch::nn::Module& m, const std::string& model) {
  torch::serialize::InputArchive ar;
  read_archive(path, ar);
  // Module::load replaces each tensor with the file's whatever its shape (the mismatch would only
  // surface at the next forward pass, deep inside libtorch): compare the shapes after loading.
  std::vector<std::pair<std::string, torch::Tensor>> tensors;
  std::vector<std::vector<int64_t>> shapes;
  for (const auto& p : m.named_parameters()) tensors.emplace_back(p.key(), p.value());
  for (const auto& b : m.named_buffers()) tensors.emplace_back(b.key(), b.value());
  for (const auto& [name, t] : tensors) shapes.push_back(t.sizes().vec());
  try {
    m.load(ar);
  } catch (const c10::Error& e) {
    const std::string what = e.what_without_backtrace();
    throw Error(path, "does not fit " + model + ": " + what.substr(0, what.find('\n')));
  }
  for (size_t i = 0; i < tensors.size(); ++i)
    if (tensors[i].second.sizes().vec() != shapes[i])
      throw Error(path, "does not fit " + model + ": tensor " + tensors[i].first + " is " +
                            shape_str(tensors[i].second.sizes().vec()) + " in the file, " +
                            shape_str(shapes[i]) + " in the network");
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
