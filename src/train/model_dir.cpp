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
                    const ModelRecord& record) {
  const auto& spec = net.spec();
  save_weights(dir + "/model.pt", net);
  ModelRecord r = record;
  r.schema = kModelDirSchema;
  r.spec = spec.str();
  r.family = spec.family;
  r.params = spec.num_params();
  r.macs_per_window = spec.macs();
  r.weight_bytes_f32 = spec.weight_bytes_f32();
  r.inputs = preprocess.inputs;
  r.channels = spec.in_channels;
  r.length = spec.length;
  r.preprocess = preprocess;
  r.class_count = kNumClasses;
  r.class_min_bpm = kMinBpm;
  r.class_bin_bpm = 1.0;
  r.class_rule = "class c covers [30 + c, 31 + c) BPM; rates outside are clamped";
  r.decode_rule = fmt::format(
      "the posterior smoothed by a Gaussian of {} BPM (taps within 3 sigma), then the mean of bin "
      "centres (30.5 + c) weighted by it within +-radius bins of its argmax",
      kPosteriorSmoothBpm);
  r.decode_radius = kDecodeRadius;
  r.context = run_context();
  write_file_atomic(dir + "/model.json", r.to_json().dump(2) + "\n");
}

LoadedModel load_model_dir(const std::string& dir) {
  const std::string json_path = dir + "/model.json";
  if (!std::filesystem::is_directory(dir)) throw Error(dir, "not a model directory");
  LoadedModel m;
  m.record = ModelRecord::read(json_path);
  const ModelRecord& r = m.record;
  m.preprocess = r.preprocess;
  const auto spec = ModelSpec::parse(r.spec, r.channels, r.length);
  if (spec.in_channels != m.preprocess.channels() || spec.length != m.preprocess.length())
    throw Error(json_path, fmt::format("inputs (C={}, L={}) disagree with the preprocessing "
                                       "(C={}, L={})",
                                       spec.in_channels, spec.length, m.preprocess.channels(),
                                       m.preprocess.length()));
  if (r.class_count != kNumClasses)
    throw Error(json_path, fmt::format("class count {} is not {}", r.class_count, kNumClasses));
  m.net = make_net(spec);
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
