// `ppgkd export --format onnx`: the ONNX checker on f32 and int8 (QDQ) models of every student
// rung, the graph's structure (opset 13, per-channel weight scales), refusals, the CLI, and parity
// under onnxruntime (npm's onnxruntime-node, run by ort_run.js): f32 ONNX against libtorch's
// eval() forward, int8 QDQ ONNX against the edge C runtime's int8 path, on real windows.
//
// Shapes: N windows, C channels, L = 200 samples, K = 180 classes.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "cli/cli_run.h"
#include "common/atomic_file.h"
#include "common/error.h"
#include "data/cache.h"
#include "data/dsp/class_map.h"
#include "export/edge_runner.h"
#include "export/exporter.h"
#include "export/lower.h"
#include "export/measure.h"
#include "export/onnx_export.h"
#include "test_util.h"
#include "train/model_dir.h"

namespace ppgkd {
namespace {

namespace fs = std::filesystem;

// f32: |ONNX logit - libtorch logit| <= kF32AbsTol + kF32RelTol * max|libtorch logit| (float
// summation order differs between onnxruntime's convolutions and libtorch's).
constexpr double kF32AbsTol = 1e-4;
constexpr double kF32RelTol = 1e-5;
// int8: onnxruntime requantises in float (round half to even), the edge runtime in fixed point
// (round half up), so an activation may differ by one step, and such steps propagate. Logits
// must agree within this many steps of the output scale.
constexpr double kInt8LogitSteps = 4.0;
// "Same BPM": decoded heart rates within this many BPM (a tenth of a class) ...
constexpr double kSameBpm = 0.1;
// ... on at least this share of the windows.
constexpr double kSameBpmShare = 0.99;

// ---------------------------------------------------------------------------- helpers

Net random_net(const std::string& spec, uint64_t seed) {
  torch::manual_seed(seed);
  Net net = make_net(ModelSpec::parse(resolve_spec(spec), 4, 200));
  randomise_batchnorm(*net, seed + 1);
  net->eval();
  return net;
}

torch::Tensor random_windows(int64_t n, uint64_t seed) {
  auto gen = at::detail::createCPUGenerator(seed);
  auto x = torch::randn({n, 4, 200}, gen).cumsum(2);
  return ((x - x.mean(2, true)) / x.std(2, true, true)).contiguous();
}

torch::Tensor gather_rows(const WindowSet& ws, const std::vector<size_t>& rows) {
  const int64_t per = int64_t{ws.channels} * ws.length;
  auto x = torch::empty({static_cast<int64_t>(rows.size()), ws.channels, ws.length});
  for (size_t i = 0; i < rows.size(); ++i)
    std::copy(ws.window_ptr(rows[i]), ws.window_ptr(rows[i]) + per, x.data_ptr<float>() + i * per);
  return x;
}

onnx::ModelProto parse(const std::string& bytes) {
  onnx::ModelProto m;
  EXPECT_TRUE(m.ParseFromString(bytes));
  return m;
}

const onnx::TensorProto* initializer(const onnx::GraphProto& g, const std::string& name) {
  for (const auto& t : g.initializer())
    if (t.name() == name) return &t;
  return nullptr;
}

const onnx::NodeProto* producer(const onnx::GraphProto& g, const std::string& tensor) {
  for (const auto& n : g.node())
    for (const auto& o : n.output())
      if (o == tensor) return &n;
  return nullptr;
}

std::map<std::string, int> op_counts(const onnx::GraphProto& g) {
  std::map<std::string, int> c;
  for (const auto& n : g.node()) ++c[n.op_type()];
  return c;
}

// BPM of each row of (N, K) logits with the protocol's decoder (softmax, radius 10).
std::vector<double> decode_rows(const torch::Tensor& logits) {
  const auto p = torch::softmax(logits.to(torch::kFloat32), 1).contiguous();
  std::vector<double> bpm(p.size(0));
  for (int64_t i = 0; i < p.size(0); ++i)
    bpm[i] = decode_bpm(p.data_ptr<float>() + i * p.size(1), kDecodeRadius, nullptr);
  return bpm;
}

double same_bpm_share(const std::vector<double>& a, const std::vector<double>& b) {
  size_t same = 0;
  for (size_t i = 0; i < a.size(); ++i) same += std::fabs(a[i] - b[i]) <= kSameBpm;
  return static_cast<double>(same) / static_cast<double>(a.size());
}

// ---------------------------------------------------------------------------- onnxruntime

// node and an onnxruntime-node install: $PPGKD_ONNXRUNTIME_DIR, else the directory
// scripts/install-deps.sh installs into (~/.cache/ppgkd/onnxruntime).
struct Ort {
  std::string modules;  // the directory holding node_modules/onnxruntime-node
  std::string missing;  // why it cannot run ("" when it can)
};

Ort find_onnxruntime() {
  Ort o;
  if (const char* d = std::getenv("PPGKD_ONNXRUNTIME_DIR"); d && *d) {
    o.modules = d;
  } else if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) {
    o.modules = std::string(xdg) + "/ppgkd/onnxruntime";
  } else if (const char* home = std::getenv("HOME"); home && *home) {
    o.modules = std::string(home) + "/.cache/ppgkd/onnxruntime";
  }
  if (std::system("command -v node >/dev/null 2>&1") != 0) {
    o.missing = "node is not on PATH";
  } else if (o.modules.empty() ||
             !fs::exists(o.modules + "/node_modules/onnxruntime-node/package.json")) {
    o.missing = "onnxruntime-node is not installed in '" + o.modules +
                "' (scripts/install-deps.sh installs it; or set PPGKD_ONNXRUNTIME_DIR)";
  }
  return o;
}

// Skips visibly without onnxruntime, or fails when PPGKD_REQUIRE_ONNXRUNTIME=1 (CI).
#define PPGKD_NEED_ONNXRUNTIME(var)                                                        \
  const Ort var = find_onnxruntime();                                                      \
  if (!var.missing.empty()) {                                                              \
    const char* req = std::getenv("PPGKD_REQUIRE_ONNXRUNTIME");                            \
    if (req && std::string(req) == "1") FAIL() << "onnxruntime required: " << var.missing; \
    GTEST_SKIP() << "onnxruntime unavailable (" << var.missing << "); skipping";           \
  }

// Runs the model under onnxruntime on x (N, C, L) -> (N, K) logits.
torch::Tensor run_ort(const Ort& ort, const std::string& model_bytes, const torch::Tensor& x,
                      const std::string& dir, const std::string& level = "all") {
  const auto xc = x.to(torch::kFloat32).contiguous();
  write_file_atomic(dir + "/model.onnx", model_bytes);
  write_file_atomic(dir + "/windows.bin",
                    std::string_view(reinterpret_cast<const char*>(xc.data_ptr<float>()),
                                     xc.numel() * sizeof(float)));
  const std::string cmd = fmt::format(
      "NODE_PATH='{}/node_modules' node '{}' '{}/model.onnx' '{}/windows.bin' {} {} {} "
      "'{}/logits.bin' {} >'{}/ort.out' 2>'{}/ort.err'",
      ort.modules, PPGKD_ORT_SCRIPT, dir, dir, x.size(0), x.size(1), x.size(2), dir, level, dir,
      dir);
  if (std::system(cmd.c_str()) != 0) {
    std::ifstream err(dir + "/ort.err");
    std::stringstream ss;
    ss << err.rdbuf();
    ADD_FAILURE() << "onnxruntime failed: " << ss.str();
    return torch::Tensor();
  }
  std::ifstream in(dir + "/logits.bin", std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const int64_t k = static_cast<int64_t>(bytes.size() / sizeof(float)) / x.size(0);
  auto y = torch::empty({x.size(0), k});
  std::memcpy(y.data_ptr<float>(), bytes.data(), y.numel() * sizeof(float));
  return y;
}

// Edge int8 runtime logits (N, K) of the blob on x.
torch::Tensor edge_logits(const std::string& blob, const torch::Tensor& x) {
  EdgeModel m(blob, "test");
  const auto xc = x.contiguous();
  auto y = torch::empty({x.size(0), m.num_classes()});
  for (int64_t i = 0; i < x.size(0); ++i)
    m.logits(xc.data_ptr<float>() + i * x.size(1) * x.size(2), y.data_ptr<float>() + i * y.size(1));
  return y;
}

std::vector<std::string> student_rungs() {
  return {"r1", "r2", "r3", "r4", "r5", "m1", "m2", "m3", "m4", "m5", "m6"};
}

// ---------------------------------------------------------------------------- checker, structure

TEST(OnnxChecker, F32AndInt8OfEveryStudentRungPass) {
  torch::set_num_threads(1);
  const auto calib = random_windows(64, 3);
  for (const std::string& rung : student_rungs()) {
    Net net = random_net(rung, 7);
    for (const std::string quant : {"f32", "int8"}) {
      ExportOptions opt;
      opt.quant = quant;
      const ExportResult r = export_net(*net, opt, calib, rung);
      const bool s8 = quant == "int8";
      const std::string bytes = onnx_model(r.graph, s8 ? &r.quant : nullptr, {{"k", "v"}});
      EXPECT_NO_THROW(check_onnx_model(bytes, rung)) << rung << " " << quant;
      const onnx::ModelProto m = parse(bytes);
      ASSERT_EQ(m.opset_import_size(), 1);
      EXPECT_EQ(m.opset_import(0).domain(), "");
      EXPECT_EQ(m.opset_import(0).version(), 13);
      const onnx::GraphProto& g = m.graph();
      auto counts = op_counts(g);
      // One Conv / Gemm per weighted op of the lowered graph; ADD and pooling one-to-one.
      int convs = 0, dense = 0;
      for (const EdgeOp& op : r.graph.ops) {
        convs += op.type == EdgeOpType::kConv1d;
        dense += op.type == EdgeOpType::kDense;
      }
      EXPECT_EQ(counts["Conv"], convs) << rung;
      EXPECT_EQ(counts["Gemm"], dense) << rung;
      EXPECT_EQ(counts.count("BatchNormalization"), 0u) << rung;  // folded
      if (!s8) {
        EXPECT_EQ(counts.count("QuantizeLinear"), 0u);
        continue;
      }
      // QDQ: every activation tensor quantised once; each weight and bias dequantised per output
      // channel (axis 0, one scale per row of the weight).
      EXPECT_EQ(counts["QuantizeLinear"], static_cast<int>(r.graph.tensors.size())) << rung;
      for (const auto& n : g.node()) {
        if (n.op_type() != "Conv" && n.op_type() != "Gemm") continue;
        for (int in = 1; in <= 2; ++in) {
          const onnx::NodeProto* dq = producer(g, n.input(in));
          ASSERT_NE(dq, nullptr) << n.name();
          EXPECT_EQ(dq->op_type(), "DequantizeLinear") << n.name();
          ASSERT_EQ(dq->attribute_size(), 1);
          EXPECT_EQ(dq->attribute(0).name(), "axis");
          EXPECT_EQ(dq->attribute(0).i(), 0);
          const onnx::TensorProto* q = initializer(g, dq->input(0));
          const onnx::TensorProto* s = initializer(g, dq->input(1));
          ASSERT_TRUE(q && s) << n.name();
          EXPECT_EQ(q->data_type(), in == 1 ? onnx::TensorProto::INT8 : onnx::TensorProto::INT32);
          ASSERT_EQ(s->dims_size(), 1);
          EXPECT_EQ(s->dims(0), q->dims(0)) << n.name() << ": one scale per output channel";
        }
      }
    }
  }
}

TEST(OnnxChecker, RejectsABrokenModel) {
  // The checker must be able to fail: a Conv whose weight initialiser is gone.
  Net net = random_net("r1", 7);
  const ExportResult r = export_net(*net, ExportOptions{}, torch::Tensor(), "r1");
  onnx::ModelProto m = parse(onnx_model(r.graph, nullptr, {}));
  m.mutable_graph()->mutable_initializer()->DeleteSubrange(0, 1);
  std::string bytes;
  m.SerializeToString(&bytes);
  try {
    check_onnx_model(bytes, "broken.onnx");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("broken.onnx: ONNX checker: ", 0), 0u) << e.what();
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
  }
}

// ---------------------------------------------------------------------------- model directories

std::string make_model_dir(const std::string& root, const std::string& spec) {
  torch::manual_seed(9);
  Net net = make_net(ModelSpec::parse(spec, 4, 200));
  randomise_batchnorm(*net, 10);
  ModelRecord rec;
  rec.data_root = "synthetic";
  const std::string dir = root + "/model";
  save_model_dir(dir, *net, PreprocessConfig{}, rec);
  return dir;
}

TEST(OnnxExportDir, RefusesSpectralModelsAndEnsemblesInOneLine) {
  for (const std::string spec :
       {"resnet1d:stem=8,stages=8-16,blocks=1,k=5,spectral=4", "ensemble:n=2;mlp:hidden=4"}) {
    const std::string root = testing::scratch_dir();
    ExportRequest req;
    req.model_dir = make_model_dir(root, spec);
    req.out_dir = root + "/out";
    const ModelSpec parsed = ModelSpec::parse(spec, 4, 200);
    const std::string reason =
        parsed.is_ensemble() ? ensemble_refusal(parsed) : spectral_refusal(parsed);
    for (const std::string quant : {"f32", "int8"}) {
      req.quant = quant;
      try {
        export_model_dir_onnx(req);
        FAIL() << "no error";
      } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()), req.model_dir + ": " + reason);
      }
    }
    EXPECT_FALSE(fs::exists(req.out_dir)) << spec;
  }
}

TEST(OnnxExportDir, CliWritesACheckedModelAndItsSummary) {
  const std::string root = testing::scratch_dir();
  const std::string dir = make_model_dir(root, "resnet1d:stem=4,stages=4-6,blocks=1,k=5");
  for (const std::string quant : {"f32", "int8"}) {
    const std::string out = root + "/out_" + quant;
    const auto res = testing::run(
        fmt::format("export --model {} --out {} --format onnx --quant {} --calib-windows 64", dir,
                    out, quant),
        root + "/err.txt");
    ASSERT_EQ(res.status, 0) << res.out;
    EXPECT_NE(res.out.find("model.onnx"), std::string::npos) << res.out;
    EXPECT_TRUE(fs::exists(out + "/model.onnx"));
    EXPECT_FALSE(fs::exists(out + "/model.ppgm"));  // ONNX only
    std::ifstream js(out + "/onnx.json");
    const auto j = nlohmann::json::parse(js);
    EXPECT_EQ(j["opset"], 13);
    EXPECT_EQ(j["quant"], quant);
    EXPECT_EQ(j["onnx_bytes"].get<int64_t>(),
              static_cast<int64_t>(fs::file_size(out + "/model.onnx")));
    std::ifstream f(out + "/model.onnx", std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    EXPECT_NO_THROW(check_onnx_model(bytes, out));
    std::map<std::string, std::string> meta;
    const onnx::ModelProto m = parse(bytes);
    for (const auto& p : m.metadata_props()) meta[p.key()] = p.value();
    EXPECT_EQ(meta["ppgkd.quant"], quant);
    EXPECT_EQ(meta["ppgkd.decode_radius"], "10");
    EXPECT_TRUE(meta.count("ppgkd.preprocess"));
    if (quant == "int8") {
      EXPECT_EQ(j["calibration"]["windows"], 64);
    }
  }
  // A bad format is refused by the option check, before any work.
  const auto bad = testing::run(
      fmt::format("export --model {} --out {}/x --format tflite", dir, root), root + "/err.txt");
  EXPECT_NE(bad.status, 0);
  EXPECT_FALSE(fs::exists(root + "/x"));
}

// ---------------------------------------------------------------------------- onnxruntime parity

struct ParityStats {
  double max_f32_diff = 0, f32_tol = 0, f32_same = 0;
  double max_int8_steps = 0, int8_same = 0, int8_vs_torch_same = 0;
};

// One rung on windows x: f32 ONNX vs libtorch, int8 QDQ ONNX vs the edge int8 runtime.
ParityStats parity(const Ort& ort, const std::string& rung, const torch::Tensor& calib,
                   const torch::Tensor& x, const std::string& dir) {
  ParityStats s;
  Net net = random_net(rung, 21);
  torch::NoGradGuard no_grad;
  const auto ref = net->forward(x).contiguous();
  const auto ref_bpm = decode_rows(ref);

  const ExportResult f32 = export_net(*net, ExportOptions{}, torch::Tensor(), rung);
  const auto y32 = run_ort(ort, onnx_model(f32.graph, nullptr, {}), x, dir);
  if (!y32.defined()) return s;
  s.max_f32_diff = (y32 - ref).abs().max().item<double>();
  s.f32_tol = kF32AbsTol + kF32RelTol * ref.abs().max().item<double>();
  s.f32_same = same_bpm_share(decode_rows(y32), ref_bpm);

  ExportOptions opt;
  opt.quant = "int8";
  const ExportResult s8 = export_net(*net, opt, calib, rung);
  const auto y8 = run_ort(ort, onnx_model(s8.graph, &s8.quant, {}), x, dir);
  if (!y8.defined()) return s;
  const auto e8 = edge_logits(s8.blob, x);
  const double out_scale = s8.quant.act.at(s8.graph.output).scale;
  s.max_int8_steps = (y8 - e8).abs().max().item<double>() / out_scale;
  const auto bpm8 = decode_rows(y8);
  s.int8_same = same_bpm_share(bpm8, decode_rows(e8));
  s.int8_vs_torch_same = same_bpm_share(bpm8, ref_bpm);
  return s;
}

void expect_parity(const Ort& ort, const torch::Tensor& calib, const torch::Tensor& x,
                   const std::string& what) {
  const std::string dir = testing::scratch_dir();
  for (const std::string& rung : student_rungs()) {
    const ParityStats s = parity(ort, rung, calib, x, dir);
    std::printf(
        "[ onnx %s ] %s over %lld windows: f32 max |ort - libtorch| %.3g (tol %.3g), same BPM "
        "%.1f%%; int8 max |ort - edge| %.2f output steps, same BPM as edge int8 %.1f%% "
        "(as libtorch f32 %.1f%%)\n",
        what.c_str(), rung.c_str(), static_cast<long long>(x.size(0)), s.max_f32_diff, s.f32_tol,
        100 * s.f32_same, s.max_int8_steps, 100 * s.int8_same, 100 * s.int8_vs_torch_same);
    EXPECT_LE(s.max_f32_diff, s.f32_tol) << rung;
    EXPECT_GE(s.f32_same, kSameBpmShare) << rung;
    EXPECT_LE(s.max_int8_steps, kInt8LogitSteps) << rung;
    EXPECT_GE(s.int8_same, kSameBpmShare) << rung;
  }
}

TEST(OnnxParity, OnnxruntimeMatchesLibtorchAndEdgeInt8OnRealWindows) {
  PPGKD_NEED_ONNXRUNTIME(ort);
  PPGKD_NEED_REAL_DATA(root);
  torch::set_num_threads(1);
  const WindowSet ws = load_windows(root + "/ieee_spc2015", PreprocessConfig{}, "", nullptr);
  ASSERT_GT(ws.size(), 1000u);
  // Evenly spaced over every recording: even picks calibrate, odd picks are compared.
  std::vector<size_t> calib_rows, test_rows;
  for (size_t i = 0; i < 1000; ++i)
    (i % 2 ? test_rows : calib_rows).push_back(i * ws.size() / 1000);
  expect_parity(ort, gather_rows(ws, calib_rows), gather_rows(ws, test_rows), "ieee_spc2015");
}

TEST(OnnxParity, OnnxruntimeMatchesLibtorchAndEdgeInt8OnSyntheticWindows) {
  PPGKD_NEED_ONNXRUNTIME(ort);
  torch::set_num_threads(1);
  const WindowSet ws = load_windows("synthetic", PreprocessConfig{}, "", nullptr);
  ASSERT_GT(ws.size(), 600u);
  std::vector<size_t> calib_rows, test_rows;
  for (size_t i = 0; i < 600; ++i) (i % 2 ? test_rows : calib_rows).push_back(i * ws.size() / 600);
  expect_parity(ort, gather_rows(ws, calib_rows), gather_rows(ws, test_rows), "synthetic");
}

}  // namespace
}  // namespace ppgkd
