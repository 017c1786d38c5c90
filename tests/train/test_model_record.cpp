// model.json typed (train/model_record.h), without libtorch: a record survives to_json and back;
// a field of the wrong type or a missing required field is refused naming the file and the field;
// a model.json written by ppgkd before the record was typed (a distilled student of `make demo`,
// paths made relative) loads and is written back unchanged.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <string>

#include "common/atomic_file.h"
#include "common/error.h"
#include "test_util.h"
#include "train/model_record.h"

namespace ppgkd {
namespace {

const std::string kWhere = "run/model.json";

using ppgkd::testing::error_of;

// A record with every field set to a value other than its default.
ModelRecord full_record() {
  ModelRecord r;
  r.spec = "mlp:hidden=12";
  r.family = "mlp";
  r.params = 11952;
  r.macs_per_window = 11904;
  r.weight_bytes_f32 = 47808;
  r.inputs = "ppg";
  r.preprocess.inputs = "ppg";
  r.preprocess.causal = true;
  r.channels = 1;
  r.length = 200;
  r.class_count = 180;
  r.class_min_bpm = 30.0;
  r.class_bin_bpm = 1.0;
  r.class_rule = "class c covers [30 + c, 31 + c) BPM";
  r.decode_rule = "posterior-weighted mean";
  r.decode_radius = 7;
  r.training = {{"epochs", 3}, {"seed", 5}};
  r.data_root = "synthetic:42";
  r.data_fingerprint = "b3ea40517ef8fcf6";
  r.train_subjects = {"s01", "s03"};
  r.val_subjects = {"s02"};
  r.test_subjects = {"s04"};
  r.fold = 2;
  r.folds = 4;
  r.split = "loso";
  r.metrics = {{"test", {{"mae_bpm", 4.5}}}};
  r.history = nlohmann::json::array({{{"epoch", 0}, {"train_loss", 3.25}}});
  r.extra = {{"transition_scale_bpm", 1.5}, {"split_seed", 9}};
  r.context = {{"host", "vm"}};
  return r;
}

nlohmann::json edited(const std::function<void(nlohmann::json&)>& edit) {
  nlohmann::json j = full_record().to_json();
  edit(j);
  return j;
}

std::string refusal(const std::function<void(nlohmann::json&)>& edit) {
  return error_of([&] { ModelRecord::from_json(edited(edit), kWhere); });
}

// ------------------------------------------------------------------------------ round trip

TEST(ModelRecord, RoundTripKeepsEveryField) {
  const ModelRecord a = full_record();
  const nlohmann::json j = a.to_json();
  // The layout model.json has always had (model_dir.h).
  EXPECT_EQ(j.at("inputs"), nlohmann::json({{"name", "ppg"}, {"channels", 1}, {"length", 200}}));
  EXPECT_EQ(j.at("split").at("kind"), "loso");
  EXPECT_EQ(j.at("split").at("fold"), 2);
  EXPECT_EQ(j.at("data"),
            nlohmann::json({{"root", "synthetic:42"}, {"fingerprint", "b3ea40517ef8fcf6"}}));
  EXPECT_EQ(j.at("decoding").at("radius"), 7);

  const ModelRecord b = ModelRecord::from_json(j, kWhere);
  EXPECT_EQ(b.spec, a.spec);
  EXPECT_EQ(b.family, a.family);
  EXPECT_EQ(b.params, a.params);
  EXPECT_EQ(b.macs_per_window, a.macs_per_window);
  EXPECT_EQ(b.weight_bytes_f32, a.weight_bytes_f32);
  EXPECT_EQ(b.inputs, a.inputs);
  EXPECT_EQ(b.channels, 1);
  EXPECT_EQ(b.length, 200);
  EXPECT_EQ(b.preprocess.to_json(), a.preprocess.to_json());
  EXPECT_TRUE(b.preprocess.causal);
  EXPECT_EQ(b.class_count, 180);
  EXPECT_EQ(b.class_min_bpm, 30.0);
  EXPECT_EQ(b.class_bin_bpm, 1.0);
  EXPECT_EQ(b.class_rule, a.class_rule);
  EXPECT_EQ(b.decode_rule, a.decode_rule);
  EXPECT_EQ(b.decode_radius, 7);
  EXPECT_EQ(b.training, a.training);
  EXPECT_EQ(b.data_root, "synthetic:42");
  EXPECT_EQ(b.data_fingerprint, "b3ea40517ef8fcf6");
  EXPECT_EQ(b.train_subjects, std::vector<std::string>({"s01", "s03"}));
  EXPECT_EQ(b.val_subjects, std::vector<std::string>({"s02"}));
  EXPECT_EQ(b.test_subjects, std::vector<std::string>({"s04"}));
  EXPECT_EQ(b.fold, 2);
  EXPECT_EQ(b.folds, 4);
  EXPECT_EQ(b.split, "loso");
  EXPECT_EQ(b.metrics, a.metrics);
  EXPECT_EQ(b.history, a.history);
  EXPECT_EQ(b.extra, a.extra);
  EXPECT_EQ(b.context, a.context);
  EXPECT_EQ(b.transition_scale_bpm(), 1.5);
  EXPECT_EQ(b.to_json(), j);
}

TEST(ModelRecord, AbsentOptionalFieldsKeepTheirDefaults) {
  // Only the required fields.
  const nlohmann::json j = {{"schema", 1},
                            {"spec", "mlp:hidden=8"},
                            {"inputs", {{"channels", 4}, {"length", 200}}},
                            {"preprocess", nlohmann::json::object()},
                            {"classes", {{"count", 180}}}};
  const ModelRecord r = ModelRecord::from_json(j, kWhere);
  EXPECT_EQ(r.spec, "mlp:hidden=8");
  EXPECT_EQ(r.fold, -1);
  EXPECT_EQ(r.folds, 0);
  EXPECT_TRUE(r.train_subjects.empty());
  EXPECT_EQ(r.decode_radius, 10);
  EXPECT_TRUE(r.extra.is_null());
  EXPECT_EQ(r.transition_scale_bpm(), 0.0);  // not recorded
  EXPECT_EQ(r.preprocess.to_json(), PreprocessConfig{}.to_json());
  // Written back, the absent containers are empty ones and "split" says "none".
  const nlohmann::json w = r.to_json();
  EXPECT_EQ(w.at("split").at("kind"), "none");
  EXPECT_EQ(w.at("metrics"), nlohmann::json::object());
  EXPECT_EQ(w.at("history"), nlohmann::json::array());
  EXPECT_FALSE(w.contains("extra"));
}

// ------------------------------------------------------------------------------ refusals

TEST(ModelRecord, AFieldOfTheWrongTypeIsNamed) {
  const std::string at = kWhere + ": field ";
  EXPECT_EQ(refusal([](nlohmann::json& j) { j["spec"] = 7; }), at + "\"spec\" must be a string");
  EXPECT_EQ(refusal([](nlohmann::json& j) { j["params"] = "11952"; }),
            at + "\"params\" must be an integer");
  EXPECT_EQ(refusal([](nlohmann::json& j) { j["params"] = 1.5; }),
            at + "\"params\" must be an integer");
  EXPECT_EQ(refusal([](nlohmann::json& j) { j["inputs"]["channels"] = "4"; }),
            at + "\"inputs.channels\" must be an integer");
  EXPECT_EQ(refusal([](nlohmann::json& j) { j["inputs"] = "ppg"; }),
            at + "\"inputs\" must be an object");
  EXPECT_EQ(refusal([](nlohmann::json& j) { j["classes"]["min_bpm"] = "30"; }),
            at + "\"classes.min_bpm\" must be a number");
  EXPECT_EQ(refusal([](nlohmann::json& j) { j["decoding"]["radius"] = true; }),
            at + "\"decoding.radius\" must be an integer");
  EXPECT_EQ(refusal([](nlohmann::json& j) { j["data"]["root"] = nullptr; }),
            at + "\"data.root\" must be a string");
  EXPECT_EQ(refusal([](nlohmann::json& j) { j["split"]["fold"] = "0"; }),
            at + "\"split.fold\" must be an integer");
  EXPECT_EQ(refusal([](nlohmann::json& j) { j["split"]["test_subjects"] = "s04"; }),
            at + "\"split.test_subjects\" must be an array of strings");
  EXPECT_EQ(refusal([](nlohmann::json& j) { j["split"]["train_subjects"][1] = 3; }),
            at + "\"split.train_subjects[1]\" must be a string");
  EXPECT_EQ(refusal([](nlohmann::json& j) { j["metrics"] = nlohmann::json::array(); }),
            at + "\"metrics\" must be an object");
  EXPECT_EQ(refusal([](nlohmann::json& j) { j["history"] = nlohmann::json::object(); }),
            at + "\"history\" must be an array");
  EXPECT_EQ(refusal([](nlohmann::json& j) { j["training"] = 3; }),
            at + "\"training\" must be an object");
  EXPECT_EQ(refusal([](nlohmann::json& j) { j["extra"]["transition_scale_bpm"] = "1.5"; }),
            at + "\"extra.transition_scale_bpm\" must be a number");
  // The preprocessing is checked by its own reader, inside the field's name.
  EXPECT_EQ(refusal([](nlohmann::json& j) { j["preprocess"]["fs"] = "25"; }),
            at + "\"preprocess\": preprocess config: 'fs' must be a number");
  EXPECT_EQ(refusal([](nlohmann::json& j) { j["schema"] = 2; }),
            kWhere + ": schema 2 is not supported (expected 1)");
  EXPECT_EQ(error_of([] { ModelRecord::from_json(nlohmann::json::array(), kWhere); }),
            kWhere + ": must be a JSON object");
}

TEST(ModelRecord, AMissingRequiredFieldIsNamed) {
  const std::string at = kWhere + ": field ";
  EXPECT_EQ(refusal([](nlohmann::json& j) { j.erase("schema"); }), at + "\"schema\" is missing");
  EXPECT_EQ(refusal([](nlohmann::json& j) { j.erase("spec"); }), at + "\"spec\" is missing");
  EXPECT_EQ(refusal([](nlohmann::json& j) { j.erase("inputs"); }), at + "\"inputs\" is missing");
  EXPECT_EQ(refusal([](nlohmann::json& j) { j["inputs"].erase("length"); }),
            at + "\"inputs.length\" is missing");
  EXPECT_EQ(refusal([](nlohmann::json& j) { j.erase("preprocess"); }),
            at + "\"preprocess\" is missing");
  EXPECT_EQ(refusal([](nlohmann::json& j) { j["classes"].erase("count"); }),
            at + "\"classes.count\" is missing");
  // Optional fields may go.
  for (const char* key : {"family", "params", "data", "split", "metrics", "history", "extra",
                          "context", "training", "decoding"})
    EXPECT_EQ(refusal([&](nlohmann::json& j) { j.erase(key); }), "(no error)") << key;
}

TEST(ModelRecord, ReadNamesTheFile) {
  const std::string dir = ::testing::TempDir() + "/ppgkd_model_record";
  std::filesystem::create_directories(dir);
  write_file_atomic(dir + "/model.json", "{\"schema\": 1,");
  EXPECT_EQ(error_of([&] {
              ModelRecord::read(dir + "/model.json");
            }).rfind(dir + "/model.json: not valid JSON: ", 0),
            0u);
  write_file_atomic(dir + "/model.json", full_record().to_json().dump());
  EXPECT_EQ(ModelRecord::read(dir + "/model.json").spec, "mlp:hidden=12");
  EXPECT_EQ(
      error_of([&] { ModelRecord::read(dir + "/absent.json"); }).rfind(dir + "/absent.json", 0),
      0u);
}

// ------------------------------------------------------------------------------ existing files

TEST(ModelRecord, AModelJsonWrittenBeforeTheTypedRecordLoadsAndIsWrittenBackUnchanged) {
  // tests/train/data/model_v1_distilled.json: a soft-distilled mlp:hidden=12 of `make demo`
  // (commit 2b6c0f3), its absolute teacher and cache paths made relative.
  const std::string text = read_file(PPGKD_MODEL_RECORD_FIXTURE);
  const nlohmann::json file = nlohmann::json::parse(text);
  const ModelRecord r = ModelRecord::read(PPGKD_MODEL_RECORD_FIXTURE);
  EXPECT_EQ(r.spec, "mlp:hidden=12");
  EXPECT_EQ(r.family, "mlp");
  EXPECT_EQ(r.params, 11952);
  EXPECT_EQ(r.channels, 4);
  EXPECT_EQ(r.length, 200);
  EXPECT_EQ(r.inputs, "ppg+acc");
  EXPECT_EQ(r.preprocess.inputs, "ppg+acc");
  EXPECT_EQ(r.class_count, 180);
  EXPECT_EQ(r.decode_radius, 10);
  EXPECT_EQ(r.data_root, "synthetic:42");
  EXPECT_EQ(r.data_fingerprint, "b3ea40517ef8fcf6");
  EXPECT_EQ(r.split, "kfold");
  EXPECT_EQ(r.fold, 0);
  EXPECT_EQ(r.folds, 4);
  EXPECT_EQ(r.test_subjects.size(), 6u);
  EXPECT_EQ(r.test_subjects.front(), "synthetic/s05");
  EXPECT_EQ(r.train_subjects.size() + r.val_subjects.size(), 18u);
  EXPECT_EQ(r.training.at("distillation").at("strategy"), "soft");
  EXPECT_EQ(r.extra.at("teacher").at("dir"), "runs/e265d4dd60946ee7");
  EXPECT_EQ(r.transition_scale_bpm(), 1.3525334246445282);
  EXPECT_EQ(r.history.size(), 12u);
  EXPECT_EQ(r.to_json(), file);
  EXPECT_EQ(r.to_json().dump(2) + "\n", text);  // byte for byte, as save_model_dir writes it
}

}  // namespace
}  // namespace ppgkd
