// int8 against f32 on a model trained here, and `ppgkd export` end to end: model directory in,
// model.ppgm + model_data.{c,h} + export.json out (checked through the C API, a C compiler and
// the JSON), bad inputs, and the CLI subcommand.
//
// Shapes: N windows, C channels, L = 200 samples, K = 180 classes.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <torch/torch.h>

#include <cmath>
#include <complex>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <regex>
#include <sstream>

#include "cli/commands.h"
#include "common/atomic_file.h"
#include "common/error.h"
#include "data/cache.h"
#include "data/dsp/class_map.h"
#include "decode/temporal.h"
#include "export/edge_runner.h"
#include "export/exporter.h"
#include "export/lower.h"
#include "export/measure.h"
#include "ppgkd_edge.h"
#include "test_util.h"
#include "train/model_dir.h"

namespace ppgkd {
namespace {

namespace fs = std::filesystem;

constexpr double kInt8MaeBar = 0.3;  // BPM: the bar for int8 MAE degradation
constexpr int kEpochs = 12;

torch::Tensor gather_rows(const WindowSet& ws, const std::vector<size_t>& rows) {
  const int64_t per = int64_t{ws.channels} * ws.length;
  auto x = torch::empty({static_cast<int64_t>(rows.size()), ws.channels, ws.length});
  for (size_t i = 0; i < rows.size(); ++i)
    std::copy(ws.window_ptr(rows[i]), ws.window_ptr(rows[i]) + per, x.data_ptr<float>() + i * per);
  return x;
}

std::vector<size_t> evenly(const std::vector<size_t>& rows, size_t n) {
  std::vector<size_t> out;
  for (size_t i = 0; i < std::min(n, rows.size()); ++i) out.push_back(rows[i * rows.size() / n]);
  return out;
}

// The synthetic dataset, split by subject: the first 18 of its 24 subjects train, the rest test.
struct Split {
  WindowSet ws;
  std::vector<std::string> train_subjects, test_subjects;
  std::vector<size_t> train, test;
  CacheInfo info;
};
const Split& synthetic_split() {
  static const Split s = [] {
    Split s;
    s.ws = load_windows("synthetic", PreprocessConfig{}, "", &s.info);
    const auto subjects = s.ws.subjects();
    for (size_t i = 0; i < subjects.size(); ++i)
      (i < 18 ? s.train_subjects : s.test_subjects).push_back(subjects[i]);
    s.train = s.ws.rows_of_subjects(s.train_subjects);
    s.test = s.ws.rows_of_subjects(s.test_subjects);
    return s;
  }();
  return s;
}

// A few epochs of plain cross-entropy training (Adam), enough for a small model to learn.
Net train_small(const std::string& spec, int epochs, uint64_t seed) {
  const Split& s = synthetic_split();
  torch::manual_seed(seed);
  Net net = make_net(ModelSpec::parse(spec, 4, 200));
  const auto x = gather_rows(s.ws, s.train);
  auto y = torch::empty({static_cast<int64_t>(s.train.size())}, torch::kInt64);
  for (size_t i = 0; i < s.train.size(); ++i) y[i] = bpm_to_class(s.ws.hr[s.train[i]]);
  torch::optim::Adam opt(net->parameters(), torch::optim::AdamOptions(3e-3));
  net->train();
  for (int e = 0; e < epochs; ++e) {
    const auto perm = torch::randperm(x.size(0));
    for (int64_t b = 0; b < x.size(0); b += 64) {
      const auto idx = perm.slice(0, b, std::min<int64_t>(x.size(0), b + 64));
      opt.zero_grad();
      auto loss = torch::nn::functional::cross_entropy(net->forward(x.index_select(0, idx)),
                                                       y.index_select(0, idx));
      loss.backward();
      opt.step();
    }
  }
  net->eval();
  return net;
}

// MAE in BPM as the protocol defines it: mean over each subject's windows, then over subjects.
double subject_mae(const WindowSet& ws, const std::vector<size_t>& rows,
                   const std::vector<double>& bpm) {
  std::map<std::string, std::pair<double, int>> per;
  for (size_t i = 0; i < rows.size(); ++i) {
    auto& p = per[ws.recordings[ws.recording[rows[i]]].subject];
    p.first += std::fabs(bpm[i] - ws.hr[rows[i]]);
    p.second += 1;
  }
  double sum = 0;
  for (const auto& [subject, p] : per) sum += p.first / p.second;
  return sum / static_cast<double>(per.size());
}

// ---------------------------------------------------------------------------- int8 vs f32

TEST(Int8, TrainedResNetDegradesLessThanTheBar) {
  torch::set_num_threads(1);
  const Split& s = synthetic_split();
  const auto calib = gather_rows(s.ws, evenly(s.train, 256));
  // "Learned" means beating the constant predictor (the training windows' median rate).
  std::vector<float> train_hr;
  for (size_t r : s.train) train_hr.push_back(s.ws.hr[r]);
  std::nth_element(train_hr.begin(), train_hr.begin() + train_hr.size() / 2, train_hr.end());
  const double mae_constant =
      subject_mae(s.ws, s.test, std::vector<double>(s.test.size(), train_hr[train_hr.size() / 2]));
  const std::string spec = "resnet1d:stem=8,stages=8-16-16,blocks=1,k=5";
  Net net = train_small(spec, kEpochs, 5);
  ExportOptions f32_opt;
  const ExportResult f32 = export_net(*net, f32_opt, calib, "test");
  EdgeModel ef(f32.blob, "f32");
  const double mae_f32 = subject_mae(s.ws, s.test, run_edge(ef, s.ws, s.test).bpm);
  // The model must have learned, or the comparison is vacuous.
  EXPECT_LT(mae_f32, mae_constant) << "the model did not learn; the comparison is vacuous";
  for (const std::string method : {"minmax", "percentile:99.99"}) {
    ExportOptions opt;
    opt.quant = "int8";
    opt.calib = CalibMethod::parse(method);
    const ExportResult s8 = export_net(*net, opt, calib, "test");
    EdgeModel es(s8.blob, "int8");
    const double mae_s8 = subject_mae(s.ws, s.test, run_edge(es, s.ws, s.test).bpm);
    std::printf(
        "[ int8 ] %s (%s): test MAE f32 %.3f, int8 %.3f BPM (degradation %+.3f; "
        "constant predictor %.3f) over %zu windows; blob %lld -> %lld B\n",
        spec.c_str(), method.c_str(), mae_f32, mae_s8, mae_s8 - mae_f32, mae_constant,
        s.test.size(), static_cast<long long>(f32.stats.blob_bytes),
        static_cast<long long>(s8.stats.blob_bytes));
    EXPECT_LE(mae_s8 - mae_f32, kInt8MaeBar) << spec << " " << method;
  }
}

// One dense layer of a ReLU MLP in double: y = W x + b, (M, N) row-major weights.
struct DenseLayer {
  int64_t m = 0, n = 0;
  std::vector<double> w, b;
};
DenseLayer dense_of(torch::nn::Linear& fc) {
  const auto w = fc->weight.detach().to(torch::kDouble).contiguous();
  const auto b = fc->bias.detach().to(torch::kDouble).contiguous();
  DenseLayer d;
  d.m = w.size(0);
  d.n = w.size(1);
  d.w.assign(w.data_ptr<double>(), w.data_ptr<double>() + w.numel());
  d.b.assign(b.data_ptr<double>(), b.data_ptr<double>() + b.numel());
  return d;
}

// The real interval an int8 activation with these parameters represents.
std::pair<double, double> representable(const QParams& q) {
  return {double{q.scale} * (-128 - q.zero_point), double{q.scale} * (127 - q.zero_point)};
}

// The error of a ReLU MLP's int8 logits on one window, predicted from the quantisation steps
// alone (an error model written out here, not the exporter's arithmetic). Every rounding to a step
// s is an independent error uniform in [-s/2, s/2], variance s^2 / 12, so a dense layer's output
// error has variance
//   sum_i W_ji^2 var_i                  the input's errors through the real weights
// + s_w[j]^2 / 12 * sum_i x_i^2          weights rounded to s_w[j] steps, times the input
// + (s_in * s_w[j])^2 / 12              the bias rounded to s_in * s_w[j] steps
// + s_out^2 / 12                        the output rounded to an s_out step
// (a hidden unit far below zero passes no error through its ReLU). Clamping to an activation's
// representable interval is not random: its error is bounded apart, worst case, by the distance
// of the value from the interval carried through sum_i |W_ji| (ReLU and clamping are
// 1-Lipschitz). The input is rounded to s_in steps after clamping.
struct LogitErrorModel {
  std::vector<double> real;   // (K) the real logits
  std::vector<double> sd;     // (K) standard deviation of the int8 logits' rounding error
  std::vector<double> clamp;  // (K) worst-case error from clamping
};
LogitErrorModel mlp_int8_error_model(const std::vector<DenseLayer>& layers,
                                     const std::vector<QParams>& act,  // input, then outputs
                                     const std::vector<std::vector<double>>& w_scale,
                                     const float* window) {
  std::vector<double> x(window, window + layers[0].n);
  std::vector<double> var(x.size(), double{act[0].scale} * act[0].scale / 12.0), clamp(x.size());
  {
    const auto [lo, hi] = representable(act[0]);
    for (size_t i = 0; i < x.size(); ++i) clamp[i] = std::max({0.0, lo - x[i], x[i] - hi});
  }
  for (size_t l = 0; l < layers.size(); ++l) {
    const DenseLayer& d = layers[l];
    const bool relu = l + 1 < layers.size();
    const double s_in = act[l].scale, s_out = act[l + 1].scale;
    const auto [lo, hi] = representable(act[l + 1]);
    double sum_x2 = 0;
    for (int64_t i = 0; i < d.n; ++i) sum_x2 += x[i] * x[i];
    std::vector<double> y(d.m), vy(d.m), cy(d.m);
    for (int64_t j = 0; j < d.m; ++j) {
      double pre = d.b[j], v = 0, c = 0;
      for (int64_t i = 0; i < d.n; ++i) {
        const double w = d.w[j * d.n + i];
        pre += w * x[i];
        v += w * w * var[i];
        c += std::fabs(w) * clamp[i];
      }
      const double sw = w_scale[l][j];
      v += sw * sw / 12.0 * sum_x2 + (s_in * sw) * (s_in * sw) / 12.0 + s_out * s_out / 12.0;
      y[j] = relu ? std::max(pre, 0.0) : pre;
      c += std::max({0.0, lo - y[j], y[j] - hi});
      // Far below zero (beyond 6 SD and the clamping error), int8 and real both give 0.
      const bool dead = relu && pre + 6.0 * std::sqrt(v) + c < 0;
      vy[j] = dead ? 0 : v;
      cy[j] = dead ? 0 : c;
    }
    x = std::move(y);
    var = std::move(vy);
    clamp = std::move(cy);
  }
  LogitErrorModel m;
  m.real = x;
  m.clamp = clamp;
  for (double v : var) m.sd.push_back(std::sqrt(v));
  return m;
}

TEST(Int8, TrainedMlpLogitsMatchTheQuantisationErrorModel) {
  // The 800-64-180 MLP does not beat the constant predictor on held-out synthetic subjects after
  // 12 epochs (it memorises the 18 training subjects), so an MAE comparison would be vacuous;
  // its int8 logits are compared with the real ones instead, against the error model above.
  torch::set_num_threads(1);
  const Split& s = synthetic_split();
  const auto calib_rows = evenly(s.train, 256);
  const auto calib = gather_rows(s.ws, calib_rows);
  Net net = train_small("mlp:hidden=64", kEpochs, 5);
  auto* mlp = dynamic_cast<MlpImpl*>(net.get());
  ASSERT_NE(mlp, nullptr);
  ASSERT_EQ(mlp->fc.size(), 1u);
  const std::vector<DenseLayer> layers = {dense_of(mlp->fc[0]), dense_of(mlp->head)};

  // The steps the budget uses, derived here from the weights and the calibration windows: an
  // activation covers its calibrated [min, max] widened to 0 in 255 steps; hidden weights are
  // scaled per row (max |w| / 127), the logit layer per tensor.
  std::vector<std::pair<double, double>> range(3, {0.0, 0.0});
  {
    torch::NoGradGuard no_grad;
    const auto h = torch::relu(mlp->fc[0](calib.flatten(1)));
    const torch::Tensor outs[] = {calib, h, mlp->head(h)};
    for (int t = 0; t < 3; ++t)
      range[t] = {std::min(0.0, outs[t].min().item<double>()),
                  std::max(0.0, outs[t].max().item<double>())};
  }
  std::vector<std::vector<double>> w_scale(2);
  for (size_t l = 0; l < 2; ++l) {
    const DenseLayer& d = layers[l];
    double all = 0;
    for (int64_t j = 0; j < d.m; ++j) {
      double row = 0;
      for (int64_t i = 0; i < d.n; ++i) row = std::max(row, std::fabs(d.w[j * d.n + i]));
      w_scale[l].push_back(row / 127.0);
      all = std::max(all, row);
    }
    if (l == 1) w_scale[l].assign(d.m, all / 127.0);
  }

  ExportOptions opt;
  opt.quant = "int8";  // minmax calibration
  const ExportResult s8 = export_net(*net, opt, calib, "test");
  // The exporter chose those steps (float32 forward passes: relative 1e-5).
  ASSERT_EQ(s8.graph.ops.size(), 2u);
  std::vector<QParams> act = {s8.quant.act.at(s8.graph.ops[0].in0)};
  for (size_t l = 0; l < 2; ++l) {
    const QParams q = s8.quant.act.at(s8.graph.ops[l].out);
    act.push_back(q);
    for (size_t j = 0; j < w_scale[l].size(); ++j)
      ASSERT_NEAR(s8.quant.ops[l].w_scale.at(j), w_scale[l][j], 1e-6 * w_scale[l][j]) << l;
  }
  for (int t = 0; t < 3; ++t) {
    const double want = (range[t].second - range[t].first) / 255.0;
    ASSERT_NEAR(act[t].scale, want, 1e-5 * want) << "activation " << t;
  }

  EdgeModel es(s8.blob, "int8");
  const auto& rows = s.test;
  const EdgeOutputs out = run_edge(es, s.ws, rows);
  const int64_t k = layers[1].m;
  // Every logit within 6 SD of its predicted rounding error plus its clamping bound (the
  // runtime dequantises in float32: 1e-5 relative on top); over 10^5 logits a normal error
  // passes 6 SD about once in 10^4 test runs.
  double sq_err = 0, sq_sd = 0, sum_spread = 0, worst = 0;
  size_t clamped = 0, unclamped = 0;
  for (size_t r = 0; r < rows.size(); ++r) {
    const LogitErrorModel m = mlp_int8_error_model(layers, act, w_scale, s.ws.window_ptr(rows[r]));
    double lo = m.real[0], hi = m.real[0];
    for (int64_t j = 0; j < k; ++j) {
      const double got = out.logits[r * k + j];
      const double err = got - m.real[j];
      const double tol = 6.0 * m.sd[j] + m.clamp[j] + 1e-5 * std::fabs(m.real[j]);
      ASSERT_LE(std::fabs(err), tol)
          << "window " << r << " class " << j << ": int8 " << got << ", real " << m.real[j]
          << " (SD " << m.sd[j] << ", clamping " << m.clamp[j] << ")";
      worst = std::max(worst, std::fabs(err) / tol);
      if (m.clamp[j] > 0) {  // the rounding model below is for the unclamped logits
        ++clamped;
      } else {
        sq_err += err * err;
        sq_sd += m.sd[j] * m.sd[j];
        ++unclamped;
      }
      lo = std::min(lo, m.real[j]);
      hi = std::max(hi, m.real[j]);
    }
    sum_spread += hi - lo;
  }
  const double n = static_cast<double>(unclamped);
  const double rms_err = std::sqrt(sq_err / n), rms_sd = std::sqrt(sq_sd / n);
  std::printf(
      "[ int8 ] mlp:hidden=64 over %zu held-out windows: RMS |int8 - real| logit %.4f, predicted "
      "%.4f (ratio %.2f) over %zu unclamped logits (%zu clamped); worst error / tolerance %.2f; "
      "mean logit spread %.2f, logit step %.4f\n",
      rows.size(), rms_err, rms_sd, rms_err / rms_sd, unclamped, clamped, worst,
      sum_spread / static_cast<double>(rows.size()), act[2].scale);
  ASSERT_GT(unclamped, 100 * clamped);
  // The error model is informative (its tolerance is far below the spread of the logits the
  // classes are told apart by) and right in size: the measured RMS error is neither much larger
  // (a wrong step, scale or rounding) nor much smaller (no int8 arithmetic) than predicted.
  EXPECT_LT(6.0 * rms_sd, 0.05 * sum_spread / static_cast<double>(rows.size()));
  // 0.7-1.3: the rounding errors are only roughly uniform and independent (weights are rounded
  // once, not per window), so the prediction is good to tens of percent, not to the sampling
  // error of 10^5 logits.
  EXPECT_GT(rms_err / rms_sd, 0.7);
  EXPECT_LT(rms_err / rms_sd, 1.3);
}

TEST(Int8, RefusesALayerWhoseAccumulatorCanOverflow) {
  // A dense layer over 66312 inputs: 66312 * 127 * 255 = 2147514120 > 2^31 - 1 even with no bias.
  const int64_t n = 66312;
  torch::manual_seed(3);
  Net net = make_net(ModelSpec::parse("mlp:hidden=1", 1, static_cast<int>(n)));
  {
    torch::NoGradGuard no_grad;
    for (auto& p : net->named_parameters())
      if (p.key() == "fc0.bias") p.value().zero_();
  }
  ExportOptions opt;
  opt.quant = "int8";
  try {
    export_net(*net, opt, torch::randn({2, 1, n}), "models/wide");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "models/wide: int8 export refused: layer 'fc0' can overflow its int32 accumulator "
              "(max |bias| 0 + 66312 terms x 127 x 255 = 2147514120 > 2147483647); keep this "
              "model in f32");
  }
}

// ---------------------------------------------------------------------------- model directories

// A saved model directory of a small random (BN-randomised) ResNet with the synthetic data
// recorded as its training data.
std::string make_model_dir(const std::string& root, const std::string& data_root = "synthetic",
                           const std::string& spec = "resnet1d:stem=8,stages=8-16,blocks=1,k=5") {
  const Split& s = synthetic_split();
  torch::manual_seed(9);
  Net net = make_net(ModelSpec::parse(spec, 4, 200));
  randomise_batchnorm(*net, 10);
  ModelRecord rec;
  rec.data_root = data_root;
  rec.data_fingerprint = s.info.fingerprint;
  rec.train_subjects = s.train_subjects;
  rec.test_subjects = s.test_subjects;
  rec.split = "kfold";
  const std::string dir = root + "/model";
  save_model_dir(dir, *net, PreprocessConfig{}, rec);
  return dir;
}

uint32_t word(const std::string& blob, size_t i) {
  uint32_t v = 0;
  for (int b = 0; b < 4; ++b)
    v |= static_cast<uint32_t>(static_cast<uint8_t>(blob[4 * i + b])) << (8 * b);
  return v;
}

std::string parse_c_array(const std::string& src) {
  std::string bytes;
  const std::regex hex("0x([0-9a-f]{2}),");
  for (auto it = std::sregex_iterator(src.begin(), src.end(), hex); it != std::sregex_iterator();
       ++it)
    bytes.push_back(static_cast<char>(std::stoi((*it)[1].str(), nullptr, 16)));
  return bytes;
}

TEST(ExportDir, WritesBlobCArraysAndSummary) {
  const std::string root = testing::scratch_dir();
  const std::string model = make_model_dir(root);
  for (const std::string quant : {"f32", "int8"}) {
    ExportRequest req;
    req.model_dir = model;
    req.out_dir = root + "/out_" + quant;
    req.quant = quant;
    req.calib_windows = 64;
    const nlohmann::json j = export_model_dir(req);
    const std::string blob = read_file(req.out_dir + "/model.ppgm");
    // The summary's sizes are the blob's, as the C runtime reads them.
    std::vector<uint32_t> aligned((blob.size() + 3) / 4);
    std::memcpy(aligned.data(), blob.data(), blob.size());
    size_t need = 0;
    ASSERT_EQ(
        ppgkd_arena_required(reinterpret_cast<const uint8_t*>(aligned.data()), blob.size(), &need),
        PPGKD_OK);
    EXPECT_EQ(j["arena_bytes"].get<size_t>(), need);
    // The header holds the activations' plan; int8 adds the kernels' scratch after it.
    if (quant == "int8") {
      EXPECT_GT(j["arena_bytes"].get<uint32_t>(), word(blob, 14));
    } else {
      EXPECT_EQ(j["arena_bytes"].get<uint32_t>(), word(blob, 14));
    }
    EXPECT_EQ(j["blob_bytes"].get<size_t>(), blob.size());
    EXPECT_EQ(word(blob, 2), quant == "int8" ? 1u : 0u);  // flags
    EXPECT_EQ(nlohmann::json::parse(read_file(req.out_dir + "/export.json")), j);
    EXPECT_GE(j["arena_bytes"].get<int64_t>(), j["arena_lower_bound_bytes"].get<int64_t>());
    EXPECT_EQ(j["macs"].get<int64_t>(), ModelSpec::parse(j["spec"], 4, 200).macs());
    // The C array is the blob, and the header carries its sizes.
    EXPECT_EQ(parse_c_array(read_file(req.out_dir + "/model_data.c")), blob);
    const std::string h = read_file(req.out_dir + "/model_data.h");
    EXPECT_NE(h.find("#define PPGKD_MODEL_ARENA_BYTES " + std::to_string(need) + "u"),
              std::string::npos);
    if (quant == "int8") {
      const auto& c = j["calibration"];
      EXPECT_EQ(c["windows"], 64);
      EXPECT_EQ(c["data"]["rows_from"], "training subjects");
      EXPECT_EQ(c["data"]["fingerprint_matches_training"], true);
      EXPECT_EQ(j["accumulators_fit_int32"], true);
      for (const auto& l : j["layers"]) {
        if (l.contains("acc_fits_int32")) {
          EXPECT_EQ(l["acc_fits_int32"], true) << l.dump();
        }
      }
    }
  }
}

// Issue 14, defect 4: an export that fails part-way (here: a file-size limit lets model.ppgm
// through and stops model_data.c, as `ulimit -f` does) leaves the previous export whole, never a
// mix of int8 and f32 files, and leaves no staging directory behind.
TEST(ExportDir, FailureMidExportLeavesThePreviousSetIntact) {
  const std::string root = testing::scratch_dir();
  ExportRequest req;
  req.model_dir = make_model_dir(root);
  req.out_dir = root + "/out";
  export_model_dir(req);                                  // f32
  write_file_atomic(req.out_dir + "/notes.txt", "kept");  // not part of the set: carried over
  const std::vector<std::string> set = {"model.ppgm", "model_data.h", "model_data.c",
                                        "export.json"};
  std::map<std::string, std::string> before;
  for (const auto& f : set) before[f] = read_file(req.out_dir + "/" + f);

  req.quant = "int8";
  req.calib_windows = 16;
  rlimit old{};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old), 0);
  auto* old_handler = std::signal(SIGXFSZ, SIG_IGN);  // a write past the limit fails with EFBIG
  rlimit lim = old;
  lim.rlim_cur = before.at("model.ppgm").size() + 1024;  // the int8 blob fits, its C array not
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &lim), 0);
  bool threw = false;
  try {
    export_model_dir(req);
  } catch (const Error&) {
    threw = true;
  }
  setrlimit(RLIMIT_FSIZE, &old);
  std::signal(SIGXFSZ, old_handler);
  EXPECT_TRUE(threw);
  for (const auto& f : set) EXPECT_EQ(read_file(req.out_dir + "/" + f), before.at(f)) << f;
  EXPECT_EQ(read_file(req.out_dir + "/notes.txt"), "kept");
  for (const auto& e : fs::directory_iterator(root))
    EXPECT_EQ(e.path().filename().string().find(".staging."), std::string::npos) << e.path();

  // Without the limit the int8 set replaces the f32 one whole; notes.txt stays.
  const nlohmann::json j = export_model_dir(req);
  EXPECT_EQ(j["quant"], "int8");
  EXPECT_EQ(nlohmann::json::parse(read_file(req.out_dir + "/export.json"))["quant"], "int8");
  EXPECT_EQ(parse_c_array(read_file(req.out_dir + "/model_data.c")),
            read_file(req.out_dir + "/model.ppgm"));
  EXPECT_EQ(read_file(req.out_dir + "/notes.txt"), "kept");
}

// |H(e^{jw})| of a cascade given as export.json rows [b0, b1, b2, a1, a2], evaluated here from
// the coefficients alone (not through the exporter's design code).
double sos_gain_of(const nlohmann::json& sos, double f_hz, double fs) {
  const double w = 2 * M_PI * f_hz / fs;
  std::complex<double> h = 1, z1 = std::polar(1.0, -w), z2 = std::polar(1.0, -2 * w);
  for (const auto& q : sos) {
    const auto c = q.get<std::vector<double>>();
    h *= (c[0] + c[1] * z1 + c[2] * z2) / (1.0 + c[3] * z1 + c[4] * z2);
  }
  return std::abs(h);
}

// Issue 13, item 4: the bundle says how to preprocess, in export.json and in model_data.h.
TEST(ExportDir, BundleDescribesThePreprocessing) {
  const std::string root = testing::scratch_dir();
  ExportRequest req;
  req.model_dir = make_model_dir(root);
  req.out_dir = root + "/out";
  req.input_rate_hz = 125;
  const nlohmann::json b = export_model_dir(req)["bundle"];
  EXPECT_EQ(b["input_rate_hz"], 125.0);
  EXPECT_EQ(b["model_rate_hz"], 25.0);
  EXPECT_EQ(b["resample"]["up"], 1);
  EXPECT_EQ(b["resample"]["down"], 5);
  EXPECT_EQ(b["resample"]["half"], 50);  // 10 * max(up, down)
  const auto taps = b["resample"]["taps"].get<std::vector<double>>();
  ASSERT_EQ(taps.size(), 101u);
  double sum = 0;
  for (double t : taps) sum += t;
  EXPECT_NEAR(sum, 1.0, 1e-12);                // unit DC gain (gain up = 1)
  EXPECT_NEAR(taps[50 - 7], taps[50 + 7], 0);  // symmetric: no delay
  EXPECT_EQ(b["window"]["samples"], 200);
  EXPECT_EQ(b["step"]["samples"], 50);
  EXPECT_EQ(b["channels"], nlohmann::json({"ppg", "acc_x", "acc_y", "acc_z"}));
  // Butterworth edges at -3 dB (1/sqrt 2), unity in the pass band.
  EXPECT_NEAR(sos_gain_of(b["ppg_filter"]["sos"], 0.5, 25), M_SQRT1_2, 1e-6);
  EXPECT_NEAR(sos_gain_of(b["ppg_filter"]["sos"], 4.0, 25), M_SQRT1_2, 1e-6);
  EXPECT_NEAR(sos_gain_of(b["ppg_filter"]["sos"], std::sqrt(0.5 * 4.0), 25), 1.0, 0.05);
  EXPECT_EQ(b["ppg_filter"]["sos"].size(), 2u);  // order 2 per edge: 4 poles
  EXPECT_EQ(b["acc_filter"]["sos"].size(), 1u);  // order 2: one biquad
  EXPECT_NEAR(sos_gain_of(b["acc_filter"]["sos"], 0.3, 25), M_SQRT1_2, 1e-6);
  EXPECT_NEAR(sos_gain_of(b["acc_filter"]["sos"], 12.5, 25), 1.0, 1e-9);
  EXPECT_EQ(b["classes"]["count"], 180);
  EXPECT_EQ(b["classes"]["bpm_lo"], 30.0);
  EXPECT_EQ(b["decode_radius"], 10);
  EXPECT_EQ(b["tracker"]["max_delta_bins"], 179);
  EXPECT_GT(b["tracker"]["scale_bpm"].get<double>(), 0.0);
  EXPECT_EQ(b["tracker"]["gamma"].get<double>(), kDefaultEmissionTemperature);  // as eval's
  const std::string h = read_file(req.out_dir + "/model_data.h");
  for (const char* d : {"#define PPGKD_MODEL_INPUT_RATE_HZ 125.0f",
                        "#define PPGKD_MODEL_RESAMPLE_DOWN 5", "#define PPGKD_MODEL_WINDOW 200",
                        "#define PPGKD_MODEL_STEP 50", "#define PPGKD_MODEL_PPG_SECTIONS 2",
                        "#define PPGKD_MODEL_DECODE_RADIUS 10", "ppgkd_model_resample_taps"})
    EXPECT_NE(h.find(d), std::string::npos) << d;
  const std::string c = read_file(req.out_dir + "/model_data.c");
  EXPECT_NE(c.find("const ppgkd_biquad ppgkd_model_acc_sos[1]"), std::string::npos);

  // A rate the resampler cannot reach is refused before any work, naming the option.
  req.input_rate_hz = 7.77777;
  req.out_dir = root + "/out2";
  try {
    export_model_dir(req);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("export: --input-rate 7.77777: cannot resample", 0), 0u)
        << e.what();
  }
  EXPECT_FALSE(fs::exists(req.out_dir));
}

TEST(ExportDir, GeneratedCArrayRunsAsFirmwareWould) {
  const char* cc = PPGKD_TEST_CC;
  if (std::system((std::string(cc) + " --version > /dev/null 2>&1").c_str()) != 0)
    GTEST_SKIP() << "no C compiler at " << cc;
  const std::string root = testing::scratch_dir();
  ExportRequest req;
  req.model_dir = make_model_dir(root);
  req.out_dir = root + "/out";
  export_model_dir(req);
  // A window, written into the firmware source and run through the host driver for reference.
  const Split& s = synthetic_split();
  const float* w = s.ws.window_ptr(s.test.front());
  std::string src =
      "#include <stdio.h>\n#include \"model_data.h\"\n#include \"ppgkd_edge.h\"\n"
      "static uint8_t arena[PPGKD_MODEL_ARENA_BYTES] __attribute__((aligned(4)));\n"
      "static const float window[800] = {";
  for (int i = 0; i < 800; ++i) src += fmt::format("{:.9g}f,", w[i]);
  src +=
      "};\nint main(void) {\n  ppgkd_model m; float y[180]; int i;\n"
      "  if (ppgkd_init(&m, ppgkd_model_data, PPGKD_MODEL_BYTES, arena, sizeof arena)) return 1;\n"
      "  if (ppgkd_run_logits(&m, window, y, 180)) return 2;\n"
      "  for (i = 0; i < 180; ++i) printf(\"%.9g\\n\", y[i]);\n  return 0;\n}\n";
  write_file_atomic(req.out_dir + "/main.c", src);
  const std::string exe = req.out_dir + "/fw";
  const std::string cmd = fmt::format(
      "{} -std=c99 -Wall -Wextra -Werror -I{} -I{} {}/main.c {}/model_data.c {} -lm -o {}", cc,
      req.out_dir, PPGKD_EDGE_INCLUDE, req.out_dir, req.out_dir, PPGKD_EDGE_LIB, exe);
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  ASSERT_EQ(std::system((exe + " > " + req.out_dir + "/logits.txt").c_str()), 0);
  std::istringstream in(read_file(req.out_dir + "/logits.txt"));
  auto edge = load_edge_blob(req.out_dir + "/model.ppgm");
  std::vector<float> ref(180);
  edge->logits(w, ref.data());
  for (int i = 0; i < 180; ++i) {
    double v = 0;
    ASSERT_TRUE(in >> v) << i;
    EXPECT_NEAR(v, ref[i], 1e-6) << i;
  }
}

TEST(ExportDir, MissingModelDirectoryNamesThePath) {
  ExportRequest req;
  req.model_dir = testing::scratch_dir() + "/does_not_exist";
  req.out_dir = testing::scratch_dir() + "/out";
  try {
    export_model_dir(req);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), req.model_dir + ": not a model directory");
  }
  EXPECT_FALSE(fs::exists(req.out_dir + "/model.ppgm"));
}

TEST(ExportDir, CorruptWeightsNameTheFile) {
  const std::string root = testing::scratch_dir();
  const std::string model = make_model_dir(root);
  write_file_atomic(model + "/model.pt", "these are not weights");
  ExportRequest req;
  req.model_dir = model;
  req.out_dir = root + "/out";
  try {
    export_model_dir(req);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.where(), model + "/model.pt");
    EXPECT_EQ(e.problem().rfind("not a readable torch archive", 0), 0u) << e.problem();
  }
  EXPECT_FALSE(fs::exists(req.out_dir));
}

TEST(ExportDir, BadRequestsAreRefusedWithExactMessages) {
  const std::string root = testing::scratch_dir();
  ExportRequest req;
  req.model_dir = make_model_dir(root, "");
  req.out_dir = root + "/out";
  req.quant = "int4";
  try {
    export_model_dir(req);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "export: unknown quantisation 'int4' (expected f32 or int8)");
  }
  req.quant = "int8";
  try {  // no recorded training data and no --calib-data
    export_model_dir(req);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              req.model_dir +
                  "/model.json: records no training data root; pass --calib-data DIR "
                  "(or synthetic) for int8");
  }
  req.calib_method = "median";
  try {
    export_model_dir(req);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "calibration: unknown method 'median' (expected minmax or "
                 "percentile:P, 50 < P <= 100)");
  }
  // With --calib-data the same directory exports; all windows are used when the recorded
  // training subjects are absent from that data.
  req.calib_method = "minmax";
  req.calib_data = "synthetic";
  EXPECT_EQ(export_model_dir(req)["calibration"]["data"]["root"], "synthetic");
}

TEST(ExportDir, SpectralTeacherIsRefusedInOneLine) {
  const std::string root = testing::scratch_dir();
  const std::string spec = "resnet1d:stem=8,stages=8-16,blocks=1,k=5,spectral=4";
  ExportRequest req;
  req.model_dir = make_model_dir(root, "synthetic", spec);
  req.out_dir = root + "/out";
  const std::string reason =
      "cannot export " + spec +
      ": its spectral branch (spectral=4) needs an FFT and the C runtime has no FFT op (teachers "
      "with spectral input are distilled, not exported)";
  for (const std::string quant : {"f32", "int8"}) {
    req.quant = quant;
    try {
      export_model_dir(req);
      FAIL() << "no error";
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()), req.model_dir + ": " + reason);
    }
  }
  EXPECT_FALSE(fs::exists(req.out_dir));
  // Lowering refuses on its own too, named by the spec.
  torch::manual_seed(1);
  Net net = make_net(ModelSpec::parse(spec, 4, 200));
  try {
    lower_net(*net);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), spec + ": " + reason);
  }
}

TEST(ExportCli, SubcommandWritesTheArtefacts) {
  const std::string root = testing::scratch_dir();
  const std::string model = make_model_dir(root);
  CLI::App app;
  cli::setup_export(app);
  app.parse(
      "export --model " + model + " --out " + root + "/cli_out --quant int8 --calib-windows 32",
      false);
  for (const char* f : {"model.ppgm", "model_data.c", "model_data.h", "export.json"})
    EXPECT_TRUE(fs::exists(root + "/cli_out/" + f)) << f;
  EXPECT_EQ(
      nlohmann::json::parse(read_file(root + "/cli_out/export.json"))["calibration"]["windows"],
      32);
  CLI::App app2;
  cli::setup_export(app2);
  EXPECT_THROW(app2.parse("export --model " + root + "/nope --out " + root + "/x", false),
               CLI::ValidationError);
}

}  // namespace
}  // namespace ppgkd
