// Warm starts from a model directory (see init_from.h). The weights are read tensor by tensor from
// model.pt's archive (the torch::save format of the module: one sub-archive per child module), so
// the head can be skipped and every shape is checked before anything is copied into the net.
#include "train/init_from.h"

#include <fmt/format.h>

#include <sstream>

#include "common/atomic_file.h"
#include "common/error.h"
#include "data/dsp/class_map.h"
#include "train/model_record.h"

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

std::string class_map_difference(const ModelRecord& theirs) {
  // As JSON numbers, so the message reads as model.json does ("30.0").
  const std::pair<const char*, std::pair<nlohmann::json, nlohmann::json>> fields[] = {
      {"count", {kNumClasses, theirs.class_count}},
      {"min_bpm", {kMinBpm, theirs.class_min_bpm}},
      {"bin_bpm", {1.0, theirs.class_bin_bpm}}};
  for (const auto& [key, values] : fields)
    if (values.first.get<double>() != values.second.get<double>())
      return fmt::format("class map differs ({} {} here, {} in the init model)", key,
                         values.first.dump(), values.second.dump());
  return "";
}

}  // namespace

InitRecord init_from_model_dir(const std::string& dir, NetImpl& net) {
  const std::string json_path = dir + "/model.json", pt_path = dir + "/model.pt";
  InitRecord rec;
  rec.dir = dir;
  const ModelRecord info = ModelRecord::read(json_path);

  // The backbone must be the same network on the same input shape.
  const auto& want = net.spec();
  ModelSpec theirs;
  try {
    theirs = ModelSpec::parse(info.spec, info.channels, info.length);
  } catch (const Error& e) {
    throw Error(json_path, "init model spec: " + std::string(e.what()));
  }
  if (theirs.is_ensemble())
    throw Error(json_path, fmt::format("init model is an ensemble of {} networks; --init "
                                       "needs one network (distil the ensemble into one with "
                                       "`ppgkd distill --teacher {}` and start from that)",
                                       theirs.members(), dir));
  if (theirs != want)
    throw Error(json_path,
                fmt::format("init model is {} on (C={}, L={}) windows but this run trains {} on "
                            "(C={}, L={}) windows; only the head may differ",
                            theirs.str(), theirs.in_channels, theirs.length, want.str(),
                            want.in_channels, want.length));
  rec.spec = theirs.str();
  rec.data_root = info.data_root;
  rec.data_fingerprint = info.data_fingerprint;
  rec.head_reason = class_map_difference(info);
  rec.seen_subjects = info.train_subjects;
  rec.seen_subjects.insert(rec.seen_subjects.end(), info.val_subjects.begin(),
                           info.val_subjects.end());

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
