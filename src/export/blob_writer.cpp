// Model blob writer (see blob_writer.h). Every word is written byte by byte, little-endian.
#include "export/blob_writer.h"

#include <fmt/format.h>

#include <array>
#include <cstring>
#include <utility>
#include <vector>

#include "common/error.h"
#include "data/dsp/class_map.h"
#include "export/arena_plan.h"
#include "ppgkd_edge_format.h"
#include "ppgkd_edge_ops.h"

namespace ppgkd {

namespace {

uint32_t f32_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

void put8(std::string& out, uint32_t v) {
  out.push_back(static_cast<char>(v & 0xFF));
}
void put16(std::string& out, uint32_t v) {
  for (int i = 0; i < 2; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
void put32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

// Zero bytes up to the next multiple of 4; returns how many.
int64_t pad4(std::string& data) {
  int64_t n = 0;
  for (; data.size() % PPGKD_ALIGN != 0; ++n) data.push_back('\0');
  return n;
}

// Appends a constant to the data section (which is kept at a multiple of 4, so it starts
// aligned) and pads it with zeros to the next multiple of 4; returns the padding. Host
// little-endian: float and int32 bit patterns are written byte by byte to stay endian-correct.
template <typename T>
int64_t put_const(std::string& data, const std::vector<T>& src) {
  for (const T& v : src) {
    if constexpr (sizeof(T) == 1) {
      data.push_back(static_cast<char>(v));
    } else if constexpr (std::is_same_v<T, float>) {
      put32(data, f32_bits(v));
    } else {
      put32(data, static_cast<uint32_t>(v));
    }
  }
  return pad4(data);
}

// Requantisation entries (multiplier, shift) as the blob stores them: u16 multipliers [n]
// (multiplier >> 15), s8 shifts [n], then `tail` bytes (ADD's left shift); padded to 4. Throws
// when a multiplier has more than 16 significant bits or a shift is out of range (quantize.h
// never makes one). Returns the padding.
int64_t put_rq(std::string& data, const std::vector<std::pair<int32_t, int32_t>>& entries,
               const std::string& tail) {
  for (const auto& [m, s] : entries) {
    if (m < 0 || (m & ((1 << PPGKD_RQ_MULT_SHIFT) - 1)) != 0 || s < PPGKD_SHIFT_MIN ||
        s > PPGKD_SHIFT_MAX)
      throw Error("blob", fmt::format("requantisation ({}, {}) is not a u16 multiplier << {} with "
                                      "a shift in {}..{}",
                                      m, s, PPGKD_RQ_MULT_SHIFT, PPGKD_SHIFT_MIN, PPGKD_SHIFT_MAX));
    put16(data, static_cast<uint32_t>(m) >> PPGKD_RQ_MULT_SHIFT);
  }
  for (const auto& e : entries) put8(data, static_cast<uint32_t>(e.second) & 0xFF);
  data += tail;
  return pad4(data);
}

// A field the format stores in `bits` (8 or 16) bits.
uint32_t field(int64_t v, int bits, const std::string& what) {
  if (v < 0 || v >= (int64_t{1} << bits))
    throw Error("blob",
                fmt::format("{} = {} does not fit the format's {}-bit field", what, v, bits));
  return static_cast<uint32_t>(v);
}
uint32_t u16(int64_t v, const std::string& what) {
  return field(v, 16, what);
}

// A CONV1D / DENSE quant vector [multipliers (n), shifts (n)] as (multiplier, shift) entries.
std::vector<std::pair<int32_t, int32_t>> channel_entries(const std::vector<int32_t>& words) {
  const size_t n = words.size() / 2;
  std::vector<std::pair<int32_t, int32_t>> e(n);
  for (size_t i = 0; i < n; ++i) e[i] = {words[i], words[n + i]};
  return e;
}

}  // namespace

std::string write_blob(const EdgeGraph& g, const QuantizedGraph* q, int decode_radius,
                       BlobStats* stats) {
  const bool s8 = q != nullptr;
  const int n_act = static_cast<int>(g.tensors.size());
  if (g.ops.empty() || g.ops.size() > PPGKD_MAX_OPS)
    throw Error("blob",
                fmt::format("{} ops (the format allows 1..{})", g.ops.size(), PPGKD_MAX_OPS));
  if (n_act < 1 || n_act > static_cast<int>(PPGKD_MAX_TENSORS))
    throw Error("blob", fmt::format("{} activation tensors (the format allows 1..{})", n_act,
                                    PPGKD_MAX_TENSORS));
  if (s8 && (q->act.size() != g.tensors.size() || q->ops.size() != g.ops.size()))
    throw Error("blob", "quantisation does not match the graph");
  if (decode_radius < 0 || decode_radius >= g.num_classes)
    throw Error("blob", fmt::format("decode radius {} is not below the {} classes", decode_radius,
                                    g.num_classes));

  // The arena plan over the activations (tensor id == graph tensor id).
  const uint32_t act_size = s8 ? 1 : 4;
  std::vector<int64_t> bytes(n_act);
  for (int i = 0; i < n_act; ++i) bytes[i] = g.numel(i) * act_size;
  const auto life = g.lifetimes();
  const ArenaPlan plan = plan_arena(bytes, life);

  std::string tensors;
  for (int i = 0; i < n_act; ++i) {
    const auto& shape = g.tensors[i];
    if (shape.empty() || shape.size() > 2)
      throw Error("blob", fmt::format("activation {} has rank {} (the format takes 1 or 2)", i,
                                      shape.size()));
    put8(tensors, static_cast<uint32_t>(shape.size()));
    put8(tensors, s8 ? static_cast<uint32_t>(q->act[i].zero_point) & 0xFF : 0);
    put16(tensors, u16(shape[0], "activation dim"));
    put16(tensors, shape.size() > 1 ? u16(shape[1], "activation dim") : 1);
    put32(tensors, static_cast<uint32_t>(plan.offset[i]));
    if (s8) put32(tensors, f32_bits(q->act[i].scale));
  }

  BlobStats st;
  std::string ops, data;
  for (size_t j = 0; j < g.ops.size(); ++j) {
    const EdgeOp& op = g.ops[j];
    uint32_t type = 0;
    switch (op.type) {
      case EdgeOpType::kConv1d:
        type = PPGKD_OPT_CONV1D;
        break;
      case EdgeOpType::kDense:
        type = PPGKD_OPT_DENSE;
        break;
      case EdgeOpType::kAdd:
        type = PPGKD_OPT_ADD;
        break;
      case EdgeOpType::kAvgPool:
        type = PPGKD_OPT_AVG_POOL1D;
        break;
    }
    const bool weighted = op.type == EdgeOpType::kConv1d || op.type == EdgeOpType::kDense;
    const bool has_bias = weighted && !op.bias.empty();
    const bool per_tensor = s8 && weighted && q->ops[j].per_tensor;
    put8(ops, type);
    put8(ops, (op.relu ? PPGKD_OPF_RELU : 0u) | (has_bias ? PPGKD_OPF_BIAS : 0u) |
                  (per_tensor ? PPGKD_OPF_PER_TENSOR : 0u));
    put16(ops, static_cast<uint32_t>(op.in0));
    put16(ops, static_cast<uint32_t>(op.out));
    // The constants in the order the format implies: weight, bias, quant.
    size_t before = data.size();
    switch (op.type) {
      case EdgeOpType::kConv1d:
      case EdgeOpType::kDense: {
        if (op.type == EdgeOpType::kConv1d) {
          put8(ops, field(op.w_shape[2], 8, "conv taps"));
          put8(ops, field(op.stride, 8, "conv stride"));
          put8(ops, field(op.padding, 8, "conv padding"));
          put8(ops, field(op.dilation, 8, "conv dilation"));
        }
        st.weight_pad_bytes += s8 ? put_const(data, q->ops[j].weight) : put_const(data, op.weight);
        if (has_bias)
          st.weight_pad_bytes += s8 ? put_const(data, q->ops[j].bias) : put_const(data, op.bias);
        st.weight_bytes += static_cast<int64_t>(data.size() - before);
        before = data.size();
        if (s8) {
          const auto entries = channel_entries(q->ops[j].quant);
          const size_t want = per_tensor ? 1 : static_cast<size_t>(op.w_shape[0]);
          if (entries.size() != want)
            throw Error("blob", fmt::format("op {}: {} requantisation entries, expected {}", j,
                                            entries.size(), want));
          st.quant_pad_bytes += put_rq(data, entries, "");
        }
        break;
      }
      case EdgeOpType::kAdd:
        put16(ops, static_cast<uint32_t>(op.in1));
        if (s8) {
          const auto& w = q->ops[j].quant;  // left_shift, then (multiplier, shift) x 3
          st.quant_pad_bytes +=
              put_rq(data, {{w.at(1), w.at(2)}, {w.at(3), w.at(4)}, {w.at(5), w.at(6)}},
                     std::string(1, static_cast<char>(field(w.at(0), 8, "add left shift"))));
        }
        break;
      case EdgeOpType::kAvgPool:
        put16(ops, u16(op.kernel, "pool kernel"));
        put16(ops, u16(op.stride, "pool stride"));
        if (s8)
          st.quant_pad_bytes += put_rq(data, {{q->ops[j].quant.at(0), q->ops[j].quant.at(1)}}, "");
        break;
    }
    st.quant_bytes += static_cast<int64_t>(data.size() - before);
  }

  const int64_t tables = int64_t{PPGKD_HEADER_BYTES} + static_cast<int64_t>(ops.size()) +
                         static_cast<int64_t>(tensors.size());
  const int64_t data_at = (tables + PPGKD_ALIGN - 1) / PPGKD_ALIGN * PPGKD_ALIGN;
  const int64_t total = data_at + static_cast<int64_t>(data.size()) + PPGKD_CRC_BYTES;
  if (total > 0x7FFFFFFF || plan.size > 0x7FFFFFFF)
    throw Error("blob", fmt::format("model too large for the format ({} bytes)", total));
  std::array<uint32_t, PPGKD_HEADER_WORDS> h{};
  h[PPGKD_H_MAGIC] = PPGKD_MAGIC;
  h[PPGKD_H_VERSION] = PPGKD_VERSION;
  h[PPGKD_H_FLAGS] = s8 ? PPGKD_FLAG_INT8 : 0;
  h[PPGKD_H_TOTAL_LEN] = static_cast<uint32_t>(total);
  h[PPGKD_H_NUM_TENSORS] = static_cast<uint32_t>(n_act);
  h[PPGKD_H_NUM_OPS] = static_cast<uint32_t>(g.ops.size());
  h[PPGKD_H_INPUT] = static_cast<uint32_t>(g.input);
  h[PPGKD_H_OUTPUT] = static_cast<uint32_t>(g.output);
  h[PPGKD_H_IN_CHANNELS] = static_cast<uint32_t>(g.in_channels);
  h[PPGKD_H_IN_LENGTH] = static_cast<uint32_t>(g.length);
  h[PPGKD_H_NUM_CLASSES] = static_cast<uint32_t>(g.num_classes);
  h[PPGKD_H_DECODE_RADIUS] = static_cast<uint32_t>(decode_radius);
  h[PPGKD_H_BPM_LO] = f32_bits(static_cast<float>(kMinBpm));
  h[PPGKD_H_BPM_STEP] = f32_bits(1.0f);
  h[PPGKD_H_ARENA_SIZE] = static_cast<uint32_t>(plan.size);
  h[PPGKD_H_DATA_SIZE] = static_cast<uint32_t>(data.size());
  h[PPGKD_H_OPS_BYTES] = static_cast<uint32_t>(ops.size());

  std::string out;
  out.reserve(static_cast<size_t>(total));
  for (uint32_t w : h) put32(out, w);
  out += ops;
  out += tensors;
  out.resize(static_cast<size_t>(data_at), '\0');  // zero bytes up to the aligned data section
  out += data;
  put32(out, ppgkd_crc32(reinterpret_cast<const uint8_t*>(out.data()), out.size()));

  st.blob_bytes = total;
  st.header_bytes = PPGKD_HEADER_BYTES;
  st.op_table_bytes = static_cast<int64_t>(ops.size());
  st.tensor_table_bytes = static_cast<int64_t>(tensors.size());
  st.table_pad_bytes = data_at - tables;
  st.crc_bytes = PPGKD_CRC_BYTES;
  // What the runtime requires: the plan (header) plus the kernels' scratch for int8 layers
  // (ppgkd_arena_required reserves it after the activations); model_data.h's define is this.
  {
    std::vector<uint32_t> aligned((out.size() + 3) / 4);
    std::memcpy(aligned.data(), out.data(), out.size());
    size_t need = 0;
    // A blob the runtime rejects (its own check reports why) keeps the plan's size.
    st.arena_bytes = ppgkd_arena_required(reinterpret_cast<const uint8_t*>(aligned.data()),
                                          out.size(), &need) == PPGKD_OK
                         ? static_cast<int64_t>(need)
                         : plan.size;
  }
  st.arena_lower_bound = arena_lower_bound(bytes, life);
  st.num_ops = static_cast<int64_t>(g.ops.size());
  st.num_tensors = n_act;
  if (stats) *stats = st;
  return out;
}

}  // namespace ppgkd
