// Warm starts from a model directory (see init_from.h). The weights are read tensor by tensor from
// model.pt's archive (the torch::save format of the module: one sub-archive per child module), so
// the head can be skipped and every shape is checked before anything is copied into the net.
#include "train/init_from.h"

#include <fmt/format.h>

#include <sstream>

#include "common/atomic_file.h"
#include "common/error.h"
#include "data/dsp/class_map.h"

namespace ppgkd {

nlohmann::json InitRecord::to_json() const {
  return {{"dir", dir},
          {"spec", spec},
          {"data_root", data_root},
          {"data_fingerprint", data_fingerprint},
          {"head_loaded", head_loaded},
          {"head_reason", head_reason},
          {"tensors_loaded", tensors_loaded}};
}

namespace {

std::string shape_str(const torch::Tensor& t) {
  std::string s;
  for (auto d : t.sizes()) s += (s.empty() ? "" : "x") + std::to_string(d);
  return "(" + s + ")";
}

// A named tensor of `m` (recursively, "a.b.weight") and the archive it is read from.
struct Slot {
  std::string name;
  torch::Tensor dst;
  torch::Tensor src;
};

// Reads every parameter and buffer of `m` from `ar` into slots (without copying), recursing into
// children; the root's child `skip` (if non-empty) is left out.
void read_module(torch::serialize::InputArchive& ar, torch::nn::Module& m,
                 const std::string& prefix, const std::string& skip, const std::string& where,
                 std::vector<Slot>* out) {
  auto take = [&](const std::string& key, const torch::Tensor& dst, bool buffer) {
    torch::Tensor src;
    if (!ar.try_read(key, src, buffer))
      throw Error(where, fmt::format("has no tensor {}{}", prefix, key));
    out->push_back({prefix + key, dst, src});
  };
  for (const auto& p : m.named_parameters(/*recurse=*/false)) take(p.key(), p.value(), false);
  for (const auto& b : m.named_buffers(/*recurse=*/false)) take(b.key(), b.value(), true);
  for (const auto& child : m.named_children()) {
    if (child.key() == skip) continue;
    torch::serialize::InputArchive sub;
    if (!ar.try_read(child.key(), sub))
      throw Error(where, fmt::format("has no module {}{}", prefix, child.key()));
    read_module(sub, *child.value(), prefix + child.key() + ".", "", where, out);
  }
}

std::string class_map_difference(const nlohmann::json& classes) {
  const nlohmann::json ours = {{"count", kNumClasses}, {"min_bpm", kMinBpm}, {"bin_bpm", 1.0}};
  for (const auto& [key, value] : ours.items()) {
    const auto theirs = classes.value(key, nlohmann::json());
    if (theirs.is_number() && theirs.get<double>() == value.get<double>()) continue;
    return fmt::format("class map differs ({} {} here, {} in the init model)", key, value.dump(),
                       theirs.dump());
  }
  return "";
}

}  // namespace

InitRecord init_from_model_dir(const std::string& dir, NetImpl& net) {
  const std::string json_path = dir + "/model.json", pt_path = dir + "/model.pt";
  InitRecord rec;
  rec.dir = dir;
  nlohmann::json info;
  try {
    info = nlohmann::json::parse(read_file(json_path));
  } catch (const nlohmann::json::exception& e) {
    throw Error(json_path, std::string("not valid JSON: ") + e.what());
  }

  // The backbone must be the same network on the same input shape.
  const auto& want = net.spec();
  try {
    const auto& in = info.at("inputs");
    const int channels = in.at("channels"), length = in.at("length");
    ModelSpec theirs;
    try {
      theirs = ModelSpec::parse(info.at("spec").get<std::string>(), channels, length);
    } catch (const Error& e) {
      throw Error(json_path, "init model spec: " + std::string(e.what()));
    }
    if (theirs.member)
      throw Error(json_path, fmt::format("init model is a seed ensemble of {} networks; --init "
                                         "needs one network (distil the ensemble into one with "
                                         "`ppgkd distill --teacher {}` and start from that)",
                                         theirs.members, dir));
    if (theirs != want)
      throw Error(json_path,
                  fmt::format("init model is {} on (C={}, L={}) windows but this run trains {} on "
                              "(C={}, L={}) windows; only the head may differ",
                              theirs.str(), theirs.in_channels, theirs.length, want.str(),
                              want.in_channels, want.length));
    rec.spec = theirs.str();
    if (info.contains("data") && info.at("data").is_object()) {
      rec.data_root = info.at("data").value("root", "");
      rec.data_fingerprint = info.at("data").value("fingerprint", "");
    }
    rec.head_reason = class_map_difference(info.at("classes"));
    if (info.contains("split") && info.at("split").is_object())
      for (const char* key : {"train_subjects", "val_subjects"})
        for (const auto& subject : info.at("split").value(key, nlohmann::json::array()))
          rec.seen_subjects.push_back(subject.get<std::string>());
  } catch (const nlohmann::json::exception& e) {
    throw Error(json_path, std::string("malformed: ") + e.what());
  }

  torch::serialize::InputArchive ar;
  std::string bytes = read_file(pt_path);
  try {
    std::istringstream in(bytes);
    ar.load_from(in);
  } catch (const c10::Error& e) {
    throw Error(pt_path,
                std::string("not a readable torch archive: ") + e.what_without_backtrace());
  }

  std::vector<Slot> body, head;
  try {
    read_module(ar, net, "", "head", pt_path, &body);
    // The head is read on its own: a head of another shape is replaced rather than refused.
    auto head_module = net.named_children()["head"];
    torch::serialize::InputArchive sub;
    if (rec.head_reason.empty() && ar.try_read("head", sub))
      read_module(sub, *head_module, "head.", "", pt_path, &head);
  } catch (const c10::Error& e) {
    throw Error(pt_path, std::string("unreadable weights: ") + e.what_without_backtrace());
  }
  for (const auto& s : body)
    if (!s.src.sizes().equals(s.dst.sizes()))
      throw Error(pt_path, fmt::format("tensor {} is {} but the model needs {}", s.name,
                                       shape_str(s.src), shape_str(s.dst)));
  if (rec.head_reason.empty()) {
    for (const auto& s : head)
      if (!s.src.sizes().equals(s.dst.sizes())) {
        rec.head_reason = fmt::format("head shape differs ({} {} in the init model, {} here)",
                                      s.name, shape_str(s.src), shape_str(s.dst));
        break;
      }
    if (head.empty() && rec.head_reason.empty()) rec.head_reason = "init model has no head";
  }
  rec.head_loaded = rec.head_reason.empty();
  if (rec.head_loaded) body.insert(body.end(), head.begin(), head.end());

  torch::NoGradGuard no_grad;
  for (auto& s : body) s.dst.copy_(s.src);
  rec.tensors_loaded = static_cast<int>(body.size());
  return rec;
}

}  // namespace ppgkd
