// Ensembles as model directories (see ensemble.h): the members' checks, the record, the write.
#include "train/ensemble.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <filesystem>

#include "common/error.h"
#include "train/model_dir.h"

namespace ppgkd {

namespace {

namespace fs = std::filesystem;

std::string canonical_dir(const std::string& dir) {
  return fs::weakly_canonical(fs::absolute(dir)).lexically_normal().string();
}

// Refuses member `m` (directory `dir`) unless it matches the first member `first` (`first_dir`) in
// input shape, preprocessing, class map and test subjects.
void check_same(const std::string& first_dir, const LoadedModel& first, const std::string& dir,
                const LoadedModel& m) {
  const std::string where = dir + "/model.json";
  const ModelSpec &a = first.net->spec(), &b = m.net->spec();
  if (a.in_channels != b.in_channels || a.length != b.length)
    throw Error(where, fmt::format("input shape (C={}, L={}) differs from the first member's "
                                   "(C={}, L={}) ({})",
                                   b.in_channels, b.length, a.in_channels, a.length, first_dir));
  const auto pa = first.preprocess.to_json(), pb = m.preprocess.to_json();
  for (const auto* keys : {&pa, &pb})
    for (const auto& item : keys->items()) {
      const auto va = pa.value(item.key(), nlohmann::json()),
                 vb = pb.value(item.key(), nlohmann::json());
      if (va != vb)
        throw Error(where, fmt::format("preprocessing {} = {} differs from the first member's {} "
                                       "({})",
                                       item.key(), vb.dump(), va.dump(), first_dir));
    }
  const ModelRecord &ra = first.record, &rb = m.record;
  // Written as JSON numbers, so 30.0 reads "30.0" as in model.json.
  const std::pair<const char*, std::pair<nlohmann::json, nlohmann::json>> class_map[] = {
      {"count", {ra.class_count, rb.class_count}},
      {"min_bpm", {ra.class_min_bpm, rb.class_min_bpm}},
      {"bin_bpm", {ra.class_bin_bpm, rb.class_bin_bpm}}};
  for (const auto& [key, values] : class_map)
    if (values.first != values.second)
      throw Error(where, fmt::format("class map {} = {} differs from the first member's {} ({})",
                                     key, values.second.dump(), values.first.dump(), first_dir));
  auto ta = ra.test_subjects, tb = rb.test_subjects;
  std::sort(ta.begin(), ta.end());
  std::sort(tb.begin(), tb.end());
  if (ta != tb)
    throw Error(where, fmt::format("test subjects [{}] differ from the first member's [{}] ({}); "
                                   "the members of an ensemble come from one fold",
                                   fmt::join(tb, ", "), fmt::join(ta, ", "), first_dir));
}

// Appends the elements of `add` not yet in `v` (keeping first-seen order).
void append_new(std::vector<std::string>* v, const std::vector<std::string>& add) {
  for (const auto& s : add)
    if (std::find(v->begin(), v->end(), s) == v->end()) v->push_back(s);
}

}  // namespace

nlohmann::json build_ensemble(const std::vector<std::string>& dirs, const std::string& out_dir) {
  if (dirs.size() < 2)
    throw Error("ensemble", fmt::format("needs at least 2 members, got {}", dirs.size()));
  if (out_dir.empty()) throw Error("ensemble", "no output directory given");
  const std::string out_path = canonical_dir(out_dir);
  std::vector<LoadedModel> ms;
  std::vector<std::string> paths;
  for (const auto& dir : dirs) {
    const std::string where = dir + "/model.json", path = canonical_dir(dir);
    if (path == out_path)
      throw Error(where, "is the output directory; write the ensemble elsewhere");
    if (std::find(paths.begin(), paths.end(), path) != paths.end())
      throw Error(where, "is given twice; an ensemble's members are distinct models");
    paths.push_back(path);
    LoadedModel m = load_model_dir(dir);
    if (m.net->spec().is_ensemble())
      throw Error(where, "is itself an ensemble; members must be single networks");
    if (!ms.empty()) check_same(dirs[0], ms[0], dir, m);
    ms.push_back(std::move(m));
  }

  std::string spec_str = fmt::format("ensemble:n={}", ms.size());
  for (const auto& m : ms) spec_str += ";" + m.net->spec().str();
  const ModelSpec& first = ms[0].net->spec();
  const ModelSpec spec = ModelSpec::parse(spec_str, first.in_channels, first.length);
  std::vector<Net> nets;
  for (const auto& m : ms) nets.push_back(m.net);
  auto ens = std::make_shared<EnsembleImpl>(spec, nets);
  ens->eval();

  ModelRecord rec;
  const ModelRecord& r0 = ms[0].record;
  rec.split = r0.split.empty() ? "none" : r0.split;
  rec.fold = r0.fold;
  rec.folds = r0.folds;
  rec.test_subjects = r0.test_subjects;
  std::vector<std::string> val;
  nlohmann::json members = nlohmann::json::array(), seeds = nlohmann::json::array();
  double scale_sum = 0;
  int scales = 0;
  bool same_data = true;
  for (size_t i = 0; i < ms.size(); ++i) {
    const ModelRecord& r = ms[i].record;
    append_new(&rec.train_subjects, r.train_subjects);
    append_new(&val, r.val_subjects);
    same_data =
        same_data && r.data_root == r0.data_root && r.data_fingerprint == r0.data_fingerprint;
    const auto seed =
        r.training.is_object() ? r.training.value("seed", nlohmann::json()) : nlohmann::json();
    seeds.push_back(seed);
    nlohmann::json member = {
        {"dir", paths[i]},
        {"seed", seed},
        {"spec", r.spec},
        {"fold", r.fold},
        {"metrics", r.metrics.is_null() ? nlohmann::json::object() : r.metrics}};
    const double scale = r.transition_scale_bpm();
    if (scale > 0) {
      member["transition_scale_bpm"] = scale;
      scale_sum += scale;
      ++scales;
    }
    members.push_back(std::move(member));
  }
  for (const auto& s : val)  // a subject any member fitted on is a training subject
    if (std::find(rec.train_subjects.begin(), rec.train_subjects.end(), s) ==
        rec.train_subjects.end())
      rec.val_subjects.push_back(s);
  if (same_data) {
    rec.data_root = r0.data_root;
    rec.data_fingerprint = r0.data_fingerprint;
  }
  const char* combination =
      "log of the mean of the members' softmax posteriors (softmax of the logits = mean posterior)";
  rec.training = {{"kind", spec.is_mixed_ensemble() ? "mixed ensemble" : "seed ensemble"},
                  {"members", ms.size()},
                  {"seeds", seeds}};
  rec.metrics = nlohmann::json::object();
  rec.extra = {{"ensemble", {{"members", members}, {"combination", combination}}}};
  if (scales > 0) rec.extra["transition_scale_bpm"] = scale_sum / scales;
  fs::create_directories(out_dir);
  save_model_dir(out_dir, *ens, ms[0].preprocess, rec);
  return ModelRecord::read(out_dir + "/model.json").to_json();
}

}  // namespace ppgkd
