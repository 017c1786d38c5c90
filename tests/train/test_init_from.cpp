// Warm starts (`train --init`): the same spec copies every weight, a different class map or head
// shape keeps the fresh head, and an incompatible backbone is refused with one line naming
// DIR/model.json. Small models, one thread.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>

#include "common/atomic_file.h"
#include "common/error.h"
#include "test_trainer_data.h"
#include "test_util.h"
#include "train/checkpoint.h"
#include "train/inference.h"
#include "train/init_from.h"
#include "train/model_dir.h"
#include "train/trainer.h"

namespace ppgkd {
namespace {

using ppgkd::testing::scratch_dir;
using ppgkd::testing::sinusoid_windows;

const char* kSpec = "resnet1d:stem=8,stages=8-16,blocks=1,k=5";

bool equal_except(torch::nn::Module& a, torch::nn::Module& b, const std::string& prefix) {
  auto pb = b.named_parameters();
  for (const auto& item : a.named_parameters())
    if (item.key().rfind(prefix, 0) != 0 && !torch::equal(item.value(), pb[item.key()]))
      return false;
  auto bb = b.named_buffers();
  for (const auto& item : a.named_buffers())
    if (item.key().rfind(prefix, 0) != 0 && !torch::equal(item.value(), bb[item.key()]))
      return false;
  return true;
}
bool same_head(torch::nn::Module& a, torch::nn::Module& b) {
  auto pa = a.named_parameters(), pb = b.named_parameters();
  return torch::equal(pa["head.weight"], pb["head.weight"]) &&
         torch::equal(pa["head.bias"], pb["head.bias"]);
}

using ppgkd::testing::error_of;

// A model dir of `spec` (seed 3) whose BN statistics are not the defaults (one training-mode
// forward), so buffers are checked too.
Net write_init_dir(const std::string& dir, const std::string& spec_str, const std::string& inputs) {
  PreprocessConfig pp;
  pp.inputs = inputs;
  auto net = init_model(ModelSpec::parse(spec_str, pp.channels(), pp.length()), 3);
  {
    torch::NoGradGuard ng;
    net->train();
    net->forward(torch::randn({4, pp.channels(), pp.length()}));
  }
  ModelRecord rec;
  rec.data_root = "some/data";
  rec.data_fingerprint = "0123456789abcdef";
  save_model_dir(dir, *net, pp, rec);
  return net;
}

void edit_json(const std::string& path, const std::function<void(nlohmann::json&)>& f) {
  auto j = nlohmann::json::parse(read_file(path));
  f(j);
  write_file_atomic(path, j.dump(2));
}

TEST(InitFrom, SameSpecReproducesTheInitModel) {
  const std::string dir = scratch_dir() + "/init";
  auto src = write_init_dir(dir, kSpec, "ppg+acc");
  auto net = init_model(src->spec(), 4);
  ASSERT_FALSE(equal_except(*src, *net, "head."));
  auto rec = init_from_model_dir(dir, *net);
  EXPECT_TRUE(rec.head_loaded);
  EXPECT_EQ(rec.head_reason, "");
  EXPECT_TRUE(equal_except(*src, *net, "") && same_head(*src, *net));
  EXPECT_EQ(rec.spec, src->spec().str());
  EXPECT_EQ(rec.data_fingerprint, "0123456789abcdef");
  EXPECT_EQ(rec.data_root, "some/data");
  EXPECT_EQ(rec.to_json().at("dir"), dir);
  // Before any step the logits are the init model's.
  auto ws = sinusoid_windows(1, 6, 4, 1);
  std::vector<size_t> rows = {0, 1, 2, 3, 4, 5};
  EXPECT_TRUE(
      torch::equal(run_model(*src, ws, rows, 4).logits, run_model(*net, ws, rows, 4).logits));
  // And training from it starts at those weights (one epoch changes them, deterministically).
  auto loaded = load_model_dir(dir);
  EXPECT_TRUE(equal_except(*loaded.net, *net, ""));
}

TEST(InitFrom, ClassMapOrHeadShapeDifferenceReplacesTheHead) {
  const std::string dir = scratch_dir() + "/init";
  auto src = write_init_dir(dir, kSpec, "ppg");
  edit_json(dir + "/model.json", [](nlohmann::json& j) { j["classes"]["min_bpm"] = 40.0; });
  auto fresh = init_model(src->spec(), 9);
  auto net = init_model(src->spec(), 9);
  auto rec = init_from_model_dir(dir, *net);
  EXPECT_FALSE(rec.head_loaded);
  EXPECT_EQ(rec.head_reason, "class map differs (min_bpm 30.0 here, 40.0 in the init model)");
  EXPECT_TRUE(equal_except(*src, *net, "head."));  // backbone from the init model
  EXPECT_TRUE(same_head(*fresh, *net));            // head as drawn from the run's seed
  EXPECT_FALSE(same_head(*src, *net));

  // Same class map but a head of another shape (a 100-class model): also replaced.
  const std::string dir2 = scratch_dir() + "/init100";
  auto src2 = write_init_dir(dir2, kSpec, "ppg");
  auto* resnet = dynamic_cast<ResNet1dImpl*>(src2.get());
  ASSERT_NE(resnet, nullptr);
  resnet->head = resnet->replace_module("head", torch::nn::Linear(16, 100));
  save_weights(dir2 + "/model.pt", *src2);
  auto net2 = init_model(src2->spec(), 9);
  auto rec2 = init_from_model_dir(dir2, *net2);
  EXPECT_FALSE(rec2.head_loaded);
  EXPECT_EQ(rec2.head_reason,
            "head shape differs (head.weight (100x16) in the init model, (180x16) here)");
  EXPECT_TRUE(equal_except(*src2, *net2, "head."));
  EXPECT_TRUE(same_head(*fresh, *net2));
}

TEST(InitFrom, IncompatibleBackboneRefused) {
  const std::string dir = scratch_dir() + "/init";
  write_init_dir(dir, kSpec, "ppg+acc");
  auto other = init_model(ModelSpec::parse("resnet1d:stem=8,stages=8-32,blocks=1,k=5", 4, 200), 1);
  EXPECT_EQ(error_of([&] { init_from_model_dir(dir, *other); }),
            dir +
                "/model.json: init model is resnet1d:stem=8,stages=8-16,blocks=1,k=5 on (C=4, "
                "L=200) windows but this run trains resnet1d:stem=8,stages=8-32,blocks=1,k=5 on "
                "(C=4, L=200) windows; only the head may differ");
  auto ppg_only = init_model(ModelSpec::parse(kSpec, 1, 200), 1);
  EXPECT_EQ(error_of([&] { init_from_model_dir(dir, *ppg_only); }),
            dir +
                "/model.json: init model is resnet1d:stem=8,stages=8-16,blocks=1,k=5 on (C=4, "
                "L=200) windows but this run trains resnet1d:stem=8,stages=8-16,blocks=1,k=5 on "
                "(C=1, L=200) windows; only the head may differ");
  auto mlp = init_model(ModelSpec::parse("mlp:hidden=16", 4, 200), 1);
  EXPECT_NE(error_of([&] { init_from_model_dir(dir, *mlp); }).find("only the head may differ"),
            std::string::npos);
  EXPECT_EQ(error_of([&] {
              init_from_model_dir(dir + "/absent", *mlp);
            }).rfind(dir + "/absent/model.json", 0),
            0u);
  // Weights that do not fit their own model.json are refused naming model.pt.
  const std::string bad = scratch_dir() + "/bad";
  write_init_dir(bad, kSpec, "ppg+acc");
  auto wider = init_model(ModelSpec::parse("resnet1d:stem=12,stages=8-16,blocks=1,k=5", 4, 200), 1);
  save_weights(bad + "/model.pt", *wider);
  auto net = init_model(ModelSpec::parse(kSpec, 4, 200), 1);
  EXPECT_EQ(error_of([&] { init_from_model_dir(bad, *net); }),
            bad + "/model.pt: tensor stem_conv.weight is (12x4x5) but the model needs (8x4x5)");
}

}  // namespace
}  // namespace ppgkd
