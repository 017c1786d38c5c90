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

// Appends a constant to the data section at a 4-aligned offset and returns the offset (host
// little-endian: float and int32 bit patterns are written word by word to stay endian-correct).
template <typename T>
uint32_t put_const(std::string& data, const std::vector<T>& src) {
  const auto offset = static_cast<uint32_t>(data.size());
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
  return offset;
}

// A field the format stores in 16 bits.
uint32_t u16(int64_t v, const std::string& what) {
  if (v < 0 || v > 0xFFFF)
    throw Error("blob", fmt::format("{} = {} does not fit the format's 16-bit field", what, v));
  return static_cast<uint32_t>(v);
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
    put8(ops, type);
    put8(ops, op.relu ? PPGKD_ACT_RELU : PPGKD_ACT_NONE);
    put16(ops, static_cast<uint32_t>(op.in0));
    put16(ops, static_cast<uint32_t>(op.out));
    const size_t before = data.size();
    switch (op.type) {
      case EdgeOpType::kConv1d:
      case EdgeOpType::kDense: {
        if (op.type == EdgeOpType::kConv1d) {
          put16(ops, u16(op.w_shape[2], "conv taps"));
          put16(ops, u16(op.stride, "conv stride"));
          put16(ops, u16(op.padding, "conv padding"));
          put16(ops, u16(op.dilation, "conv dilation"));
        }
        const uint32_t w = s8 ? put_const(data, q->ops[j].weight) : put_const(data, op.weight);
        const uint32_t b = s8 ? put_const(data, q->ops[j].bias) : put_const(data, op.bias);
        st.weight_bytes += static_cast<int64_t>(data.size() - before);
        put32(ops, w);
        put32(ops, b);
        if (s8) put32(ops, put_const(data, q->ops[j].quant));  // (2, C_out)
        break;
      }
      case EdgeOpType::kAdd:
        put16(ops, static_cast<uint32_t>(op.in1));
        if (s8) put32(ops, put_const(data, q->ops[j].quant));  // (7)
        break;
      case EdgeOpType::kAvgPool:
        put16(ops, u16(op.kernel, "pool kernel"));
        put16(ops, u16(op.stride, "pool stride"));
        if (s8) put32(ops, put_const(data, q->ops[j].quant));  // (2)
        break;
    }
  }
  st.quant_bytes = static_cast<int64_t>(data.size()) - st.weight_bytes;

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
  st.arena_bytes = plan.size;
  st.arena_lower_bound = arena_lower_bound(bytes, life);
  st.num_ops = static_cast<int64_t>(g.ops.size());
  st.num_tensors = n_act;
  if (stats) *stats = st;
  return out;
}

}  // namespace ppgkd
