// model.json to and from ModelRecord (see model_record.h).
#include "train/model_record.h"

#include <fmt/format.h>

#include "common/atomic_file.h"
#include "common/error.h"

namespace ppgkd {

// ------------------------------------------------------------------------------ writing

nlohmann::json ModelRecord::to_json() const {
  nlohmann::json j;
  j["schema"] = schema;
  j["spec"] = spec;
  j["family"] = family;
  j["params"] = params;
  j["macs_per_window"] = macs_per_window;
  j["weight_bytes_f32"] = weight_bytes_f32;
  j["inputs"] = {{"name", inputs}, {"channels", channels}, {"length", length}};
  j["preprocess"] = preprocess.to_json();
  j["classes"] = {{"count", class_count},
                  {"min_bpm", class_min_bpm},
                  {"bin_bpm", class_bin_bpm},
                  {"rule", class_rule}};
  j["decoding"] = {{"rule", decode_rule}, {"radius", decode_radius}};
  j["training"] = training.is_null() ? nlohmann::json::object() : training;
  j["data"] = {{"root", data_root}, {"fingerprint", data_fingerprint}};
  j["split"] = {{"kind", split.empty() ? "none" : split},
                {"fold", fold},
                {"folds", folds},
                {"train_subjects", train_subjects},
                {"val_subjects", val_subjects},
                {"test_subjects", test_subjects}};
  j["metrics"] = metrics.is_null() ? nlohmann::json::object() : metrics;
  j["history"] = history.is_null() ? nlohmann::json::array() : history;
  if (!extra.is_null()) j["extra"] = extra;
  j["context"] = context.is_null() ? nlohmann::json::object() : context;
  return j;
}

// ------------------------------------------------------------------------------ reading

namespace {

// Typed reads of one object's fields; `prefix` names the object ("split.") in errors.
class Fields {
 public:
  Fields(const nlohmann::json& j, std::string where, std::string prefix)
      : j_(j), where_(std::move(where)), prefix_(std::move(prefix)) {}

  // Each returns false when the field is absent and not required (leaving *out as it is).
  bool str(const char* key, std::string* out, bool required = false) const {
    const auto* v = find(key, required);
    if (!v) return false;
    if (!v->is_string()) bad(key, "must be a string");
    *out = v->get<std::string>();
    return true;
  }
  template <typename Int>
  bool integer(const char* key, Int* out, bool required = false) const {
    const auto* v = find(key, required);
    if (!v) return false;
    if (!v->is_number_integer()) bad(key, "must be an integer");
    *out = v->get<Int>();
    return true;
  }
  bool number(const char* key, double* out, bool required = false) const {
    const auto* v = find(key, required);
    if (!v) return false;
    if (!v->is_number()) bad(key, "must be a number");
    *out = v->get<double>();
    return true;
  }
  bool strings(const char* key, std::vector<std::string>* out) const {
    const auto* v = find(key, false);
    if (!v) return false;
    if (!v->is_array()) bad(key, "must be an array of strings");
    out->clear();
    for (size_t i = 0; i < v->size(); ++i) {
      if (!(*v)[i].is_string()) bad(fmt::format("{}[{}]", key, i), "must be a string");
      out->push_back((*v)[i].get<std::string>());
    }
    return true;
  }
  // An object of numbers, e.g. {"syn/s0": 3.1, ...}.
  bool numbers(const char* key, std::map<std::string, double>* out, bool required = false) const {
    const auto* v = find(key, required);
    if (!v) return false;
    if (!v->is_object()) bad(key, "must be an object of numbers");
    out->clear();
    for (const auto& [name, x] : v->items()) {
      if (!x.is_number()) bad(fmt::format("{}.{}", key, name), "must be a number");
      (*out)[name] = x.get<double>();
    }
    return true;
  }
  // An object (or array, when `array`) kept as JSON; `required` objects must be present.
  bool json(const char* key, nlohmann::json* out, bool array = false) const {
    const auto* v = find(key, false);
    if (!v || v->is_null()) return false;
    if (array ? !v->is_array() : !v->is_object())
      bad(key, array ? "must be an array" : "must be an object");
    *out = *v;
    return true;
  }
  // The sub-object `key` (an empty one when absent and not required).
  Fields object(const char* key, bool required = false) const {
    static const nlohmann::json empty = nlohmann::json::object();
    const auto* v = find(key, required);
    if (!v) return Fields(empty, where_, prefix_ + key + ".");
    if (!v->is_object()) bad(key, "must be an object");
    return Fields(*v, where_, prefix_ + key + ".");
  }
  [[noreturn]] void bad(const std::string& key, const std::string& what) const {
    throw Error(where_, fmt::format("field \"{}{}\" {}", prefix_, key, what));
  }
  const nlohmann::json* find(const char* key, bool required) const {
    const auto it = j_.find(key);
    if (it != j_.end()) return &*it;
    if (required) bad(key, "is missing");
    return nullptr;
  }

 private:
  const nlohmann::json& j_;
  std::string where_, prefix_;
};

}  // namespace

ModelRecord ModelRecord::from_json(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object()) throw Error(where, "must be a JSON object");
  const Fields f(j, where, "");
  ModelRecord r;
  f.integer("schema", &r.schema, true);
  if (r.schema != kModelDirSchema)
    throw Error(where,
                fmt::format("schema {} is not supported (expected {})", r.schema, kModelDirSchema));
  f.str("spec", &r.spec, true);
  f.str("family", &r.family);
  f.integer("params", &r.params);
  f.integer("macs_per_window", &r.macs_per_window);
  f.integer("weight_bytes_f32", &r.weight_bytes_f32);

  const Fields in = f.object("inputs", true);
  in.str("name", &r.inputs);
  in.integer("channels", &r.channels, true);
  in.integer("length", &r.length, true);

  f.find("preprocess", true);
  try {
    r.preprocess = PreprocessConfig::from_json(j.at("preprocess"));
  } catch (const Error& e) {
    throw Error(where, fmt::format("field \"preprocess\": {}", e.what()));
  }

  const Fields classes = f.object("classes", true);
  classes.integer("count", &r.class_count, true);
  classes.number("min_bpm", &r.class_min_bpm);
  classes.number("bin_bpm", &r.class_bin_bpm);
  classes.str("rule", &r.class_rule);
  const Fields decoding = f.object("decoding");
  decoding.str("rule", &r.decode_rule);
  decoding.integer("radius", &r.decode_radius);

  f.json("training", &r.training);
  const Fields data = f.object("data");
  data.str("root", &r.data_root);
  data.str("fingerprint", &r.data_fingerprint);

  const Fields split = f.object("split");
  split.str("kind", &r.split);
  split.integer("fold", &r.fold);
  split.integer("folds", &r.folds);
  split.strings("train_subjects", &r.train_subjects);
  split.strings("val_subjects", &r.val_subjects);
  split.strings("test_subjects", &r.test_subjects);

  f.json("metrics", &r.metrics);
  f.json("history", &r.history, /*array=*/true);
  f.json("extra", &r.extra);
  f.json("context", &r.context);
  // The one extra field readers rely on (the decoders' transition scale).
  double scale = 0;
  f.object("extra").number("transition_scale_bpm", &scale);
  return r;
}

ModelRecord ModelRecord::read(const std::string& path) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(read_file(path));
  } catch (const nlohmann::json::exception& e) {
    throw Error(path, std::string("not valid JSON: ") + e.what());
  }
  return from_json(j, path);
}

RecordedTest ModelRecord::test_metrics(const std::string& where) const {
  static const nlohmann::json empty = nlohmann::json::object();
  const Fields f(metrics.is_null() ? empty : metrics, where, "metrics.");
  const Fields test = f.object("test", true);
  RecordedTest t;
  test.number("mae_bpm", &t.mae_bpm, true);
  test.numbers("subject_mae_bpm", &t.subject_mae_bpm, true);
  test.numbers("dataset_mae_bpm", &t.dataset_mae_bpm);
  return t;
}

double ModelRecord::transition_scale_bpm() const {
  if (!extra.is_object()) return 0;
  const auto it = extra.find("transition_scale_bpm");
  return it != extra.end() && it->is_number() && it->get<double>() > 0 ? it->get<double>() : 0;
}

}  // namespace ppgkd
