// Model blob writer (see blob_writer.h). Every word is written byte by byte, little-endian.
#include "export/blob_writer.h"

#include <fmt/format.h>

#include <array>
#include <cstring>

#include "common/error.h"
#include "data/dsp/class_map.h"
#include "export/arena_plan.h"
#include "ppgkd_edge_format.h"

namespace ppgkd {

namespace {

using Record = std::array<uint32_t, PPGKD_RECORD_WORDS>;

uint32_t f32_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

void put32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

// The tables being built: tensor records and the data section.
struct Tables {
  std::vector<Record> tensors;
  std::string data;

  // A constant tensor holding `n` elements of `dtype` copied from `src` (host little-endian:
  // float and int32 bit patterns are written word by word to stay endian-correct).
  template <typename T>
  uint32_t constant(uint32_t dtype, std::vector<int64_t> dims, const std::vector<T>& src) {
    Record r{};
    r[PPGKD_T_STORAGE] = PPGKD_STORAGE_CONST;
    r[PPGKD_T_DTYPE] = dtype;
    r[PPGKD_T_RANK] = static_cast<uint32_t>(dims.size());
    for (size_t i = 0; i < 3; ++i) r[PPGKD_T_DIM0 + i] = i < dims.size() ? dims[i] : 1;
    r[PPGKD_T_OFFSET] = static_cast<uint32_t>(data.size());
    r[PPGKD_T_SIZE] = static_cast<uint32_t>(src.size() * sizeof(T));
    for (const T& v : src) {
      if constexpr (sizeof(T) == 1) {
        data.push_back(static_cast<char>(v));
      } else if constexpr (std::is_same_v<T, float>) {
        put32(data, f32_bits(v));
      } else {
        put32(data, static_cast<uint32_t>(v));
      }
    }
    while (data.size() % PPGKD_ALIGN != 0) data.push_back('\0');
    tensors.push_back(r);
    return static_cast<uint32_t>(tensors.size() - 1);
  }
};

}  // namespace

std::string write_blob(const EdgeGraph& g, const QuantizedGraph* q, int decode_radius,
                       BlobStats* stats) {
  const bool s8 = q != nullptr;
  const int n_act = static_cast<int>(g.tensors.size());
  if (g.ops.empty() || g.ops.size() > PPGKD_MAX_OPS)
    throw Error("blob",
                fmt::format("{} ops (the format allows 1..{})", g.ops.size(), PPGKD_MAX_OPS));
  if (s8 && (q->act.size() != g.tensors.size() || q->ops.size() != g.ops.size()))
    throw Error("blob", "quantisation does not match the graph");
  if (decode_radius < 0 || decode_radius >= g.num_classes)
    throw Error("blob", fmt::format("decode radius {} is not below the {} classes", decode_radius,
                                    g.num_classes));

  // Activations first, so tensor id == graph tensor id.
  Tables t;
  const uint32_t act_size = s8 ? 1 : 4;
  std::vector<int64_t> bytes(n_act);
  for (int i = 0; i < n_act; ++i) {
    const auto& shape = g.tensors[i];
    Record r{};
    r[PPGKD_T_STORAGE] = PPGKD_STORAGE_ARENA;
    r[PPGKD_T_DTYPE] = s8 ? PPGKD_DT_S8 : PPGKD_DT_F32;
    r[PPGKD_T_RANK] = static_cast<uint32_t>(shape.size());
    for (size_t d = 0; d < 3; ++d) r[PPGKD_T_DIM0 + d] = d < shape.size() ? shape[d] : 1;
    bytes[i] = g.numel(i) * act_size;
    r[PPGKD_T_SIZE] = static_cast<uint32_t>(bytes[i]);
    if (s8) {
      r[PPGKD_T_SCALE] = f32_bits(q->act[i].scale);
      r[PPGKD_T_ZERO_POINT] = static_cast<uint32_t>(q->act[i].zero_point);
    }
    t.tensors.push_back(r);
  }
  const auto life = g.lifetimes();
  const ArenaPlan plan = plan_arena(bytes, life);
  for (int i = 0; i < n_act; ++i)
    t.tensors[i][PPGKD_T_OFFSET] = static_cast<uint32_t>(plan.offset[i]);

  BlobStats st;
  std::vector<Record> ops;
  for (size_t j = 0; j < g.ops.size(); ++j) {
    const EdgeOp& op = g.ops[j];
    Record o{};
    o[PPGKD_OP_ACTIVATION] = op.relu ? PPGKD_ACT_RELU : PPGKD_ACT_NONE;
    o[PPGKD_OP_IN0] = static_cast<uint32_t>(op.in0);
    o[PPGKD_OP_IN1] = o[PPGKD_OP_WEIGHT] = o[PPGKD_OP_BIAS] = o[PPGKD_OP_QUANT] = PPGKD_NONE;
    o[PPGKD_OP_OUT] = static_cast<uint32_t>(op.out);
    const size_t before = t.data.size();
    switch (op.type) {
      case EdgeOpType::kConv1d:
      case EdgeOpType::kDense:
        o[PPGKD_OP_TYPE] = op.type == EdgeOpType::kConv1d ? PPGKD_OPT_CONV1D : PPGKD_OPT_DENSE;
        if (op.type == EdgeOpType::kConv1d) {
          o[PPGKD_OP_STRIDE] = op.stride;
          o[PPGKD_OP_PADDING] = op.padding;
          o[PPGKD_OP_DILATION] = op.dilation;
        }
        if (s8) {
          o[PPGKD_OP_WEIGHT] = t.constant(PPGKD_DT_S8, op.w_shape, q->ops[j].weight);
          o[PPGKD_OP_BIAS] = t.constant(PPGKD_DT_S32, {op.w_shape[0]}, q->ops[j].bias);
        } else {
          o[PPGKD_OP_WEIGHT] = t.constant(PPGKD_DT_F32, op.w_shape, op.weight);
          o[PPGKD_OP_BIAS] = t.constant(PPGKD_DT_F32, {op.w_shape[0]}, op.bias);
        }
        st.weight_bytes += static_cast<int64_t>(t.data.size() - before);
        if (s8) o[PPGKD_OP_QUANT] = t.constant(PPGKD_DT_S32, {2, op.w_shape[0]}, q->ops[j].quant);
        break;
      case EdgeOpType::kAdd:
        o[PPGKD_OP_TYPE] = PPGKD_OPT_ADD;
        o[PPGKD_OP_IN1] = static_cast<uint32_t>(op.in1);
        if (s8)
          o[PPGKD_OP_QUANT] = t.constant(PPGKD_DT_S32, {PPGKD_ADD_QUANT_WORDS}, q->ops[j].quant);
        break;
      case EdgeOpType::kAvgPool:
        o[PPGKD_OP_TYPE] = PPGKD_OPT_AVG_POOL1D;
        o[PPGKD_OP_STRIDE] = op.stride;
        o[PPGKD_OP_KERNEL] = op.kernel;
        if (s8) o[PPGKD_OP_QUANT] = t.constant(PPGKD_DT_S32, {2}, q->ops[j].quant);
        break;
    }
    ops.push_back(o);
  }
  st.quant_bytes = static_cast<int64_t>(t.data.size()) - st.weight_bytes;
  if (t.tensors.size() > PPGKD_MAX_TENSORS)
    throw Error("blob", fmt::format("{} tensors (the format allows at most {})", t.tensors.size(),
                                    PPGKD_MAX_TENSORS));

  const int64_t total =
      PPGKD_HEADER_BYTES +
      int64_t{PPGKD_RECORD_BYTES} * static_cast<int64_t>(ops.size() + t.tensors.size()) +
      static_cast<int64_t>(t.data.size()) + PPGKD_CRC_BYTES;
  if (total > 0x7FFFFFFF || plan.size > 0x7FFFFFFF)
    throw Error("blob", fmt::format("model too large for the format ({} bytes)", total));
  Record h{};
  h[PPGKD_H_MAGIC] = PPGKD_MAGIC;
  h[PPGKD_H_VERSION] = PPGKD_VERSION;
  h[PPGKD_H_FLAGS] = s8 ? PPGKD_FLAG_INT8 : 0;
  h[PPGKD_H_TOTAL_LEN] = static_cast<uint32_t>(total);
  h[PPGKD_H_NUM_TENSORS] = static_cast<uint32_t>(t.tensors.size());
  h[PPGKD_H_NUM_OPS] = static_cast<uint32_t>(ops.size());
  h[PPGKD_H_INPUT] = static_cast<uint32_t>(g.input);
  h[PPGKD_H_OUTPUT] = static_cast<uint32_t>(g.output);
  h[PPGKD_H_IN_CHANNELS] = static_cast<uint32_t>(g.in_channels);
  h[PPGKD_H_IN_LENGTH] = static_cast<uint32_t>(g.length);
  h[PPGKD_H_NUM_CLASSES] = static_cast<uint32_t>(g.num_classes);
  h[PPGKD_H_DECODE_RADIUS] = static_cast<uint32_t>(decode_radius);
  h[PPGKD_H_BPM_LO] = f32_bits(static_cast<float>(kMinBpm));
  h[PPGKD_H_BPM_STEP] = f32_bits(1.0f);
  h[PPGKD_H_ARENA_SIZE] = static_cast<uint32_t>(plan.size);
  h[PPGKD_H_DATA_SIZE] = static_cast<uint32_t>(t.data.size());

  std::string out;
  out.reserve(static_cast<size_t>(total));
  for (uint32_t w : h) put32(out, w);
  for (const Record& r : ops)
    for (uint32_t w : r) put32(out, w);
  for (const Record& r : t.tensors)
    for (uint32_t w : r) put32(out, w);
  out += t.data;
  put32(out, ppgkd_crc32(reinterpret_cast<const uint8_t*>(out.data()), out.size()));

  st.blob_bytes = total;
  st.arena_bytes = plan.size;
  st.arena_lower_bound = arena_lower_bound(bytes, life);
  st.num_ops = static_cast<int64_t>(ops.size());
  st.num_tensors = static_cast<int64_t>(t.tensors.size());
  if (stats) *stats = st;
  return out;
}

}  // namespace ppgkd
