// `ppgkd export --int8-head per-tensor|per-channel`: the int8 logits layer quantised with one
// weight scale (one requantisation entry, the default) or one per class. Checked against the blob
// itself, decoded here from docs/FORMAT.md rather than through the exporter's own structures: the
// op writing the graph output carries the PER_TENSOR flag exactly in the per-tensor export, and
// the two blobs differ by exactly the head's requantisation constant (180 entries of 3 bytes =
// 540 B against one entry padded to 4 B), every other size being equal.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <string>

#include "cli/commands.h"
#include "common/atomic_file.h"
#include "data/cache.h"
#include "export/measure.h"
#include "models/networks.h"
#include "test_util.h"
#include "train/model_dir.h"

namespace ppgkd {
namespace {

namespace fs = std::filesystem;

uint32_t u32_at(const std::string& b, size_t at) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i)
    v |= static_cast<uint32_t>(static_cast<uint8_t>(b[at + i])) << (8 * i);
  return v;
}
uint32_t u16_at(const std::string& b, size_t at) {
  return static_cast<uint32_t>(static_cast<uint8_t>(b[at])) |
         static_cast<uint32_t>(static_cast<uint8_t>(b[at + 1])) << 8;
}

// The flags byte of the op whose output is the graph output (header word 7), walking the op
// table (68-byte header, records of 10/6/8/6/10 bytes by type 1..5, docs/FORMAT.md); -1 if none.
int output_op_flags(const std::string& blob) {
  const uint32_t output = u32_at(blob, 7 * 4), ops_bytes = u32_at(blob, 16 * 4);
  const int record_bytes[6] = {0, 10, 6, 8, 6, 10};
  int flags = -1;
  for (size_t at = 68; at < 68 + ops_bytes;) {
    const int type = static_cast<uint8_t>(blob[at]);
    if (type < 1 || type > 5) return -2;
    if (u16_at(blob, at + 4) == output) flags = static_cast<uint8_t>(blob[at + 1]);
    at += static_cast<size_t>(record_bytes[type]);
  }
  return flags;
}

// A small ResNet model directory on the synthetic data (its training subjects calibrate int8).
std::string make_model(const std::string& root) {
  CacheInfo info;
  const WindowSet ws = load_windows("synthetic", PreprocessConfig{}, "", &info);
  torch::manual_seed(3);
  Net net = make_net(ModelSpec::parse("resnet1d:stem=4,stages=4-8,blocks=1,k=5", 4, 200));
  randomise_batchnorm(*net, 5);
  ModelRecord rec;
  rec.data_root = "synthetic";
  rec.data_fingerprint = info.fingerprint;
  const auto subjects = ws.subjects();
  for (size_t i = 0; i < subjects.size(); ++i)
    (i < 18 ? rec.train_subjects : rec.test_subjects).push_back(subjects[i]);
  rec.split = "kfold";
  const std::string dir = root + "/model";
  save_model_dir(dir, *net, PreprocessConfig{}, rec);
  return dir;
}

void run_cli(const std::string& args) {
  CLI::App app;
  cli::setup_export(app);
  app.parse("export " + args, false);
}

TEST(ExportCli, Int8HeadPerTensorOrPerChannel) {
  constexpr uint8_t kPerTensorFlag = 4;  // op flag bit 2
  const std::string root = testing::scratch_dir();
  const std::string model = make_model(root);
  const std::string common = "--model " + model + " --quant int8 --calib-windows 16 --out " + root;
  run_cli(common + "/default");
  run_cli(common + "/tensor --int8-head per-tensor");
  run_cli(common + "/channel --int8-head per-channel");
  const std::string dflt = read_file(root + "/default/model.ppgm");
  const std::string tensor = read_file(root + "/tensor/model.ppgm");
  const std::string channel = read_file(root + "/channel/model.ppgm");
  EXPECT_EQ(dflt, tensor);  // per tensor is the default
  const int f_tensor = output_op_flags(tensor), f_channel = output_op_flags(channel);
  ASSERT_GE(f_tensor, 0);
  ASSERT_GE(f_channel, 0);
  EXPECT_EQ(f_tensor & kPerTensorFlag, kPerTensorFlag);
  EXPECT_EQ(f_channel & kPerTensorFlag, 0);
  EXPECT_EQ(f_tensor & ~kPerTensorFlag, f_channel);  // nothing else differs in the record
  EXPECT_EQ(channel.size(), tensor.size() + 540 - 4);
  EXPECT_EQ(u32_at(channel, 15 * 4), u32_at(tensor, 15 * 4) + 540 - 4);  // data_size
  for (const auto& [dir, head] : {std::pair{"tensor", "per-tensor"}, {"channel", "per-channel"}})
    EXPECT_EQ(nlohmann::json::parse(read_file(root + "/" + dir + "/export.json"))["int8_head"],
              head);
  EXPECT_THROW(run_cli(common + "/bad --int8-head per-row"), CLI::ValidationError);
  EXPECT_FALSE(fs::exists(root + "/bad"));
}

}  // namespace
}  // namespace ppgkd
