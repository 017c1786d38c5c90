// Host-side quantisation arithmetic, the arena planner and the C writer, each against values
// derived by hand or by an independent route (no libtorch models here).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <regex>
#include <sstream>

#include "common/atomic_file.h"
#include "common/error.h"
#include "export/arena_plan.h"
#include "export/c_writer.h"
#include "export/quantize.h"
#include "ppgkd_edge_ops.h"
#include "test_util.h"

namespace ppgkd {
namespace {

// ---------------------------------------------------------------------------- multipliers

TEST(QuantizeMultiplier, HandComputedValues) {
  // 0.5 = 0.5 * 2^0 -> 2^30 * 2^(0 - 31)
  EXPECT_EQ(quantize_multiplier(0.5).multiplier, 1 << 30);
  EXPECT_EQ(quantize_multiplier(0.5).shift, 0);
  // 1.0 = 0.5 * 2^1
  EXPECT_EQ(quantize_multiplier(1.0).multiplier, 1 << 30);
  EXPECT_EQ(quantize_multiplier(1.0).shift, 1);
  // 0.75 * 2^31 = 1610612736 exactly
  EXPECT_EQ(quantize_multiplier(0.75).multiplier, 1610612736);
  EXPECT_EQ(quantize_multiplier(0.75).shift, 0);
  // 3 * 2^-10 = 0.75 * 2^-8
  EXPECT_EQ(quantize_multiplier(3.0 / 1024).multiplier, 1610612736);
  EXPECT_EQ(quantize_multiplier(3.0 / 1024).shift, -8);
  // A fraction that rounds up to 2^31 renormalises: (1 - 2^-40) -> 2^30 at shift 1.
  EXPECT_EQ(quantize_multiplier(1.0 - std::ldexp(1.0, -40)).multiplier, 1 << 30);
  EXPECT_EQ(quantize_multiplier(1.0 - std::ldexp(1.0, -40)).shift, 1);
  // Edge cases: zero, below 2^-32, saturation.
  EXPECT_EQ(quantize_multiplier(0.0).multiplier, 0);
  EXPECT_EQ(quantize_multiplier(std::ldexp(1.0, -40)).multiplier, 0);
  EXPECT_EQ(quantize_multiplier(std::ldexp(1.0, -40)).shift, 0);
  EXPECT_EQ(quantize_multiplier(std::ldexp(1.0, 40)).multiplier, 65535 << 15);
  EXPECT_EQ(quantize_multiplier(std::ldexp(1.0, 40)).shift, 30);
  // 16 significant bits (the blob stores multiplier >> 15): 0.5 + 2^-20 = (32768 + 1/16) * 2^-16
  // rounds down to 32768; 0.5 + 3 * 2^-18 = (32768 + 3/4) * 2^-16 rounds up to 32769.
  EXPECT_EQ(quantize_multiplier(0.5 + std::ldexp(1.0, -20)).multiplier, 32768 << 15);
  EXPECT_EQ(quantize_multiplier(0.5 + 3 * std::ldexp(1.0, -18)).multiplier, 32769 << 15);
  EXPECT_EQ(quantize_multiplier(0.5 + 3 * std::ldexp(1.0, -18)).shift, 0);
}

TEST(QuantizeMultiplier, RelativeErrorBelowHalfAnUlpOfSixteenBits) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> expo(-30, 20);
  for (int i = 0; i < 2000; ++i) {
    const double real = std::pow(2.0, expo(rng));
    const FixedPoint f = quantize_multiplier(real);
    ASSERT_GE(f.multiplier, 1 << 30);
    ASSERT_EQ(f.multiplier % (1 << 15), 0);  // what the blob's u16 holds
    const double back = std::ldexp(static_cast<double>(f.multiplier), f.shift - 31);
    // m in [2^15, 2^16) rounded to an integer: error <= 1/2 in 2^15
    EXPECT_LE(std::fabs(back - real) / real, std::ldexp(1.0, -16)) << real;
    // The runtime's requantisation of an accumulator agrees with the real product to within the
    // multiplier's error and the final rounding (where that product is in the int32 range; beyond
    // it the runtime saturates).
    const int32_t acc = 123457;
    if (acc * real < 2147483646.0)
      EXPECT_NEAR(ppgkd_requantize(acc, f.multiplier, f.shift), acc * real,
                  acc * real * std::ldexp(1.0, -16) + 0.5)
          << real;
    else
      EXPECT_EQ(ppgkd_requantize(acc, f.multiplier, f.shift), 2147483647) << real;
  }
}

// ---------------------------------------------------------------------------- activations

TEST(QParams, HandComputedRanges) {
  QParams q = qparams_from_range(0.0, 2.55);  // 256 levels of 0.01 starting at 0 -> zp -128
  EXPECT_FLOAT_EQ(q.scale, 0.01f);
  EXPECT_EQ(q.zero_point, -128);
  q = qparams_from_range(-1.0, 1.0);  // scale 2/255; zp = round(-128 + 127.5) = -1 (away from 0)
  EXPECT_FLOAT_EQ(q.scale, 2.0f / 255.0f);
  EXPECT_EQ(q.zero_point, -1);
  q = qparams_from_range(-3.0, -1.0);  // widened to [-3, 0]: zero at the top, zp = 127
  EXPECT_FLOAT_EQ(q.scale, 3.0f / 255.0f);
  EXPECT_EQ(q.zero_point, 127);
  q = qparams_from_range(1.0, 2.0);  // widened to [0, 2]
  EXPECT_FLOAT_EQ(q.scale, 2.0f / 255.0f);
  EXPECT_EQ(q.zero_point, -128);
  q = qparams_from_range(0.0, 0.0);  // a dead tensor still gets a valid positive scale
  EXPECT_GT(q.scale, 0.0f);
  EXPECT_EQ(q.zero_point, -128);
  try {
    qparams_from_range(0.0, NAN);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "quantisation: activation range is not finite or empty");
  }
}

// A graph of one dense layer (N inputs -> M outputs) with the given weights and bias.
EdgeGraph dense_graph(int64_t n, int64_t m, std::vector<float> w, std::vector<float> b) {
  EdgeGraph g;
  g.in_channels = 1;
  g.length = static_cast<int>(n);
  g.num_classes = static_cast<int>(m);
  g.tensors = {{1, n}, {m}};
  EdgeOp op;
  op.type = EdgeOpType::kDense;
  op.name = "fc";
  op.in0 = 0;
  op.out = 1;
  op.w_shape = {m, n};
  op.weight = std::move(w);
  op.bias = std::move(b);
  g.ops.push_back(op);
  g.output = 1;
  return g;
}

TEST(QuantizeGraph, PerChannelSymmetricWeightsAndBias) {
  // Row 0: max |w| = 2.54 -> scale 0.02, weights 127, -64 (-1.28 / 0.02), 0.
  // Row 1: all zero -> scale 1, weights 0. Input range [-1, 1] (scale 2/255), output [0, 2.55].
  EdgeGraph g = dense_graph(3, 2, {2.54f, -1.28f, 0.0f, 0, 0, 0}, {0.5f, -0.25f});
  QuantizeOptions per_channel;
  per_channel.per_tensor_logits = false;  // the layer writes the graph output
  const QuantizedGraph q = quantize_graph(g, {{-1, 1}, {0, 2.55}}, per_channel);
  const auto& o = q.ops[0];
  EXPECT_FALSE(o.per_tensor);
  EXPECT_EQ(o.weight, (std::vector<int8_t>{127, -64, 0, 0, 0, 0}));
  EXPECT_NEAR(o.w_scale[0], 0.02, 1e-9);
  EXPECT_EQ(o.w_scale[1], 1.0);
  const double s_in = 2.0f / 255.0f;
  EXPECT_EQ(o.bias[0], std::lround(0.5f / (s_in * (2.54f / 127.0))));
  EXPECT_EQ(o.bias[1], std::lround(-0.25f / s_in));
  EXPECT_EQ(o.n_terms, 3);
  EXPECT_TRUE(o.acc_fits);
  // quant = multipliers then shifts of s_in * s_w / s_out
  ASSERT_EQ(o.quant.size(), 4u);
  const double real0 = s_in * o.w_scale[0] / double{0.01f};
  EXPECT_NEAR(std::ldexp(static_cast<double>(o.quant[0]), o.quant[2] - 31), real0,
              real0 * std::ldexp(1.0, -16));
}

TEST(QuantizeGraph, OutputLayerPerTensorByDefault) {
  // The same rows as above plus 0.127 in row 1: per tensor, both rows take row 0's scale 0.02
  // (max |w| 2.54 / 127), so row 1's 0.127 is 6.35 -> 6 (per channel it would be 127 at scale
  // 0.001), its bias is -0.25 / (s_in * 0.02), and one (multiplier, shift) entry is stored.
  EdgeGraph g = dense_graph(3, 2, {2.54f, -1.28f, 0.0f, 0.127f, 0, 0}, {0.5f, -0.25f});
  const QuantizedGraph q = quantize_graph(g, {{-1, 1}, {0, 2.55}});
  const auto& o = q.ops[0];
  EXPECT_TRUE(o.per_tensor);
  EXPECT_EQ(o.weight, (std::vector<int8_t>{127, -64, 0, 6, 0, 0}));
  EXPECT_NEAR(o.w_scale[0], 0.02, 1e-9);
  EXPECT_EQ(o.w_scale[1], o.w_scale[0]);
  const double s_in = 2.0f / 255.0f;
  EXPECT_EQ(o.bias[1], std::lround(-0.25f / (s_in * (2.54f / 127.0))));
  ASSERT_EQ(o.quant.size(), 2u);
  const double real = s_in * o.w_scale[0] / double{0.01f};
  EXPECT_NEAR(std::ldexp(static_cast<double>(o.quant[0]), o.quant[1] - 31), real,
              real * std::ldexp(1.0, -16));
  // An all-zero output layer per tensor: scale 1, as an all-zero channel.
  EdgeGraph z = dense_graph(2, 2, {0, 0, 0, 0}, {0.0f, 0.0f});
  EXPECT_EQ(quantize_graph(z, {{-1, 1}, {0, 1}}).ops[0].w_scale, (std::vector<double>{1.0, 1.0}));
}

TEST(QuantizeGraph, TinyWeightsNextToALargeBiasKeepTheBiasInRange) {
  // |b| / (s_in * max|w| / 127) would be ~1e30: far outside int32. The scale is raised instead.
  EdgeGraph g = dense_graph(2, 1, {1e-30f, -1e-30f}, {5.0f});
  const QuantizedGraph q = quantize_graph(g, {{-1, 1}, {0, 10}});
  const auto& o = q.ops[0];
  EXPECT_TRUE(o.acc_fits);
  EXPECT_LE(std::llabs(int64_t{o.bias[0]}) + 2 * 127 * 255, int64_t{2147483647});
  // The bias still represents 5.0 at scale s_in * s_w.
  EXPECT_NEAR(o.bias[0] * (2.0f / 255.0f) * o.w_scale[0], 5.0, 1e-6);
  EXPECT_EQ(o.weight, (std::vector<int8_t>{0, 0}));
}

TEST(QuantizeGraph, AccumulatorBoundMatchesTheRuntime) {
  // 66311 terms fit with no bias, 66312 do not (66312 * 127 * 255 = 2147514120 > 2^31 - 1).
  for (int64_t n : {66311, 66312}) {
    EdgeGraph g = dense_graph(n, 1, std::vector<float>(n, 0.5f), {0.0f});
    const QuantizedGraph q = quantize_graph(g, {{-1, 1}, {-1, 1}});
    EXPECT_EQ(q.ops[0].acc_fits, n == 66311) << n;
    EXPECT_EQ(q.ops[0].acc_fits, ppgkd_s8_accumulator_fits(static_cast<uint32_t>(n), 0) == 1);
  }
}

TEST(QuantizeGraph, AddAndPoolFactors) {
  // in0 scale 1/255 (range [0, 1]), in1 scale 2/255 ([0, 2]), out [0, 3]: common = 4/255.
  EdgeGraph g;
  g.in_channels = 1;
  g.length = 4;
  g.num_classes = 1;
  g.tensors = {{1, 4}, {1, 4}, {1, 4}, {1, 1}};
  EdgeOp add;
  add.type = EdgeOpType::kAdd;
  add.in0 = 0, add.in1 = 1, add.out = 2;
  EdgeOp pool;
  pool.type = EdgeOpType::kAvgPool;
  pool.in0 = 2, pool.out = 3, pool.kernel = 4;
  g.ops = {add, pool};
  g.output = 3;
  const QuantizedGraph q = quantize_graph(g, {{0, 1}, {0, 2}, {0, 3}, {0, 1.5}});
  const auto factor = [](int32_t m, int32_t s) {
    return std::ldexp(static_cast<double>(m), s - 31);
  };
  const auto& a = q.ops[0].quant;
  ASSERT_EQ(a.size(), 7u);
  EXPECT_EQ(a[0], 20);
  EXPECT_NEAR(factor(a[1], a[2]), 0.25, 1e-7);                  // (1/255) / (4/255)
  EXPECT_NEAR(factor(a[3], a[4]), 0.5, 1e-7);                   // (2/255) / (4/255)
  EXPECT_NEAR(factor(a[5], a[6]), (4.0 / 3.0) / 1048576.0,      // (4/255) / (2^20 * 3/255)
              (4.0 / 3.0) / 1048576.0 * std::ldexp(1.0, -16));  // to 16 significant bits
  const auto& p = q.ops[1].quant;
  ASSERT_EQ(p.size(), 2u);
  EXPECT_NEAR(factor(p[0], p[1]), (3.0 / 255) / ((1.5 / 255) * 4), 1e-7);  // 0.5
}

// ---------------------------------------------------------------------------- arena plan

TEST(ArenaPlan, ChainNeedsTheTwoLargestNeighbours) {
  // a (100 B) -> op0 -> b (200 B) -> op1 -> c (300 B): at op1 b and c are live together (500 B);
  // a can reuse c's bytes. The plan must reach that lower bound.
  const std::vector<int64_t> bytes{100, 200, 300};
  const std::vector<std::pair<int, int>> life{{-1, 0}, {0, 1}, {1, 2}};
  const ArenaPlan p = plan_arena(bytes, life);
  EXPECT_EQ(arena_lower_bound(bytes, life), 500);
  EXPECT_EQ(p.size, 500);
}

TEST(ArenaPlan, RandomGraphsNeverOverlapLiveTensorsAndStayWithinBounds) {
  std::mt19937 rng(11);
  for (int trial = 0; trial < 200; ++trial) {
    const int n = 2 + static_cast<int>(rng() % 30);
    std::vector<int64_t> bytes(n);
    std::vector<std::pair<int, int>> life(n);
    int64_t total = 0;
    for (int i = 0; i < n; ++i) {
      bytes[i] = 1 + rng() % 5000;
      const int a = static_cast<int>(rng() % 20) - 1;
      life[i] = {a, a + static_cast<int>(rng() % 6)};
      total += (bytes[i] + 3) / 4 * 4;
    }
    const ArenaPlan p = plan_arena(bytes, life);
    for (int i = 0; i < n; ++i) {
      EXPECT_EQ(p.offset[i] % 4, 0);
      EXPECT_LE(p.offset[i] + bytes[i], p.size);
      for (int j = i + 1; j < n; ++j) {
        const bool live_together =
            life[i].first <= life[j].second && life[j].first <= life[i].second;
        const bool share =
            p.offset[i] < p.offset[j] + bytes[j] && p.offset[j] < p.offset[i] + bytes[i];
        EXPECT_FALSE(live_together && share) << "trial " << trial << " tensors " << i << ", " << j;
      }
    }
    EXPECT_GE(p.size, arena_lower_bound(bytes, life));
    EXPECT_LE(p.size, total);
  }
}

// ---------------------------------------------------------------------------- C writer

std::string parse_c_array(const std::string& src) {
  std::string bytes;
  const std::regex hex("0x([0-9a-f]{2}),");
  for (auto it = std::sregex_iterator(src.begin(), src.end(), hex); it != std::sregex_iterator();
       ++it)
    bytes.push_back(static_cast<char>(std::stoi((*it)[1].str(), nullptr, 16)));
  return bytes;
}

TEST(CWriter, ArrayHoldsTheBlobBytesAndTheHeaderTheSizes) {
  std::string blob;
  for (int i = 0; i < 37; ++i) blob.push_back(static_cast<char>(i * 7));
  const std::string h = model_data_header(blob, 4096, "ppgkd_model");
  const std::string c = model_data_source(blob, "ppgkd_model", "model_data.h");
  EXPECT_NE(h.find("#define PPGKD_MODEL_BYTES 37u"), std::string::npos);
  EXPECT_NE(h.find("#define PPGKD_MODEL_ARENA_BYTES 4096u"), std::string::npos);
  EXPECT_NE(h.find("extern const uint8_t ppgkd_model_data[PPGKD_MODEL_BYTES];"), std::string::npos);
  EXPECT_NE(c.find("PPGKD_MODEL_ALIGN const uint8_t ppgkd_model_data[PPGKD_MODEL_BYTES] = {"),
            std::string::npos);
  EXPECT_EQ(parse_c_array(c), blob);
  try {
    model_data_header(blob, 0, "9bad");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "C writer: '9bad' is not a C identifier");
  }
}

}  // namespace
}  // namespace ppgkd
