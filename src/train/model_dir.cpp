// Model directories: writing, loading and the compatibility check (see model_dir.h).
#include "train/model_dir.h"

#include <fmt/format.h>

#include <filesystem>

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/run_record.h"
#include "data/dsp/class_map.h"
#include "train/checkpoint.h"
#include "train/inference.h"

namespace ppgkd {

void save_model_dir(const std::string& dir, NetImpl& net, const PreprocessConfig& preprocess,
                    const ModelRecord& rec) {
  const auto& spec = net.spec();
  save_weights(dir + "/model.pt", net);
  nlohmann::json j;
  j["schema"] = kModelDirSchema;
  j["spec"] = spec.str();
  j["family"] = spec.family;
  j["params"] = spec.num_params();
  j["macs_per_window"] = spec.macs();
  j["weight_bytes_f32"] = spec.weight_bytes_f32();
  j["inputs"] = {
      {"name", preprocess.inputs}, {"channels", spec.in_channels}, {"length", spec.length}};
  j["preprocess"] = preprocess.to_json();
  j["classes"] = {{"count", kNumClasses},
                  {"min_bpm", kMinBpm},
                  {"bin_bpm", 1.0},
                  {"rule", "class c covers [30 + c, 31 + c) BPM; rates outside are clamped"}};
  j["decoding"] = {{"rule",
                    "posterior-weighted mean of bin centres (30.5 + c) within +-radius "
                    "bins of the argmax"},
                   {"radius", kDecodeRadius}};
  j["training"] = rec.training;
  j["data"] = {{"root", rec.data_root}, {"fingerprint", rec.data_fingerprint}};
  j["split"] = {{"kind", rec.split.empty() ? "none" : rec.split},
                {"fold", rec.fold},
                {"folds", rec.folds},
                {"train_subjects", rec.train_subjects},
                {"val_subjects", rec.val_subjects},
                {"test_subjects", rec.test_subjects}};
  j["metrics"] = rec.metrics.is_null() ? nlohmann::json::object() : rec.metrics;
  j["history"] = rec.history.is_null() ? nlohmann::json::array() : rec.history;
  if (!rec.extra.is_null()) j["extra"] = rec.extra;
  j["context"] = run_context();
  write_file_atomic(dir + "/model.json", j.dump(2) + "\n");
}

LoadedModel load_model_dir(const std::string& dir) {
  const std::string json_path = dir + "/model.json";
  if (!std::filesystem::is_directory(dir)) throw Error(dir, "not a model directory");
  LoadedModel m;
  try {
    m.info = nlohmann::json::parse(read_file(json_path));
  } catch (const nlohmann::json::exception& e) {
    throw Error(json_path, std::string("not valid JSON: ") + e.what());
  }
  try {
    const int schema = m.info.at("schema");
    if (schema != kModelDirSchema)
      throw Error(json_path,
                  fmt::format("schema {} is not supported (expected {})", schema, kModelDirSchema));
    m.preprocess = PreprocessConfig::from_json(m.info.at("preprocess"));
    const auto& in = m.info.at("inputs");
    auto spec =
        ModelSpec::parse(m.info.at("spec").get<std::string>(), in.at("channels"), in.at("length"));
    if (spec.in_channels != m.preprocess.channels() || spec.length != m.preprocess.length())
      throw Error(json_path, fmt::format("inputs (C={}, L={}) disagree with the preprocessing "
                                         "(C={}, L={})",
                                         spec.in_channels, spec.length, m.preprocess.channels(),
                                         m.preprocess.length()));
    if (m.info.at("classes").at("count") != kNumClasses)
      throw Error(json_path, fmt::format("class count {} is not {}",
                                         m.info.at("classes").at("count").dump(), kNumClasses));
    m.net = make_net(spec);
  } catch (const nlohmann::json::exception& e) {
    throw Error(json_path, std::string("malformed: ") + e.what());
  }
  // Every command loads its models here: a model.pt of another network is one line naming both.
  load_weights(dir + "/model.pt", *m.net,
               "the network of " + json_path + " (spec " + m.net->spec().str() + ")");
  m.net->eval();
  return m;
}

void check_compatible(const std::string& dir, const LoadedModel& model,
                      const PreprocessConfig& data, const std::vector<std::string>& ignore) {
  auto want = model.preprocess.to_json(), have = data.to_json();
  for (const auto& key : ignore) want.erase(key), have.erase(key);
  for (const auto& [key, value] : want.items()) {
    auto other = have.value(key, nlohmann::json());
    if (other != value)
      throw Error(dir + "/model.json",
                  fmt::format("model expects preprocessing {} = {} but the data has {}", key,
                              value.dump(), other.dump()));
  }
  for (const auto& [key, value] : have.items())
    if (!want.contains(key))
      throw Error(dir + "/model.json",
                  fmt::format("model expects preprocessing {} = null but the data has {}", key,
                              value.dump()));
}

}  // namespace ppgkd
