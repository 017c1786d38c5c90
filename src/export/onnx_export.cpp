// The edge graph as ONNX (see onnx_export.h). Tensor names: the graph input "window" and output
// "logits"; activation tensor t of the edge graph is "t<t>" (float) and, in int8, "t<t>_q" (its
// int8 form); op j's constants are "op<j>_w", "op<j>_b" (float) or "op<j>_w_q", "op<j>_b_q" and
// their scales (int8).
#include "export/onnx_export.h"

#include <fmt/format.h>
#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include <cstring>
#include <exception>
#include <utility>
#include <vector>

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/run_record.h"
#include "export/export_input.h"
#include "export/lower.h"
#include "train/model_dir.h"

namespace ppgkd {

namespace {

// IR version 7 is the one that introduced opset 13 (ONNX 1.8): the oldest a reader must know.
constexpr int64_t kIrVersion = 7;

// ---------------------------------------------------------------------------- constants

// Little-endian bytes of 32-bit words, whatever the host's byte order (raw_data is LE).
template <typename T>
std::string le_bytes(const std::vector<T>& v) {
  static_assert(sizeof(T) == 1 || sizeof(T) == 4, "8- or 32-bit elements");
  std::string out(v.size() * sizeof(T), '\0');
  for (size_t i = 0; i < v.size(); ++i) {
    uint32_t u = 0;
    std::memcpy(&u, &v[i], sizeof(T));
    for (size_t b = 0; b < sizeof(T); ++b) out[i * sizeof(T) + b] = static_cast<char>(u >> (8 * b));
  }
  return out;
}

template <typename T>
int32_t onnx_type();
template <>
int32_t onnx_type<float>() {
  return onnx::TensorProto::FLOAT;
}
template <>
int32_t onnx_type<int8_t>() {
  return onnx::TensorProto::INT8;
}
template <>
int32_t onnx_type<int32_t>() {
  return onnx::TensorProto::INT32;
}

// An initializer; dims empty for a scalar.
template <typename T>
void constant(onnx::GraphProto* g, const std::string& name, const std::vector<int64_t>& dims,
              const std::vector<T>& values) {
  onnx::TensorProto* t = g->add_initializer();
  t->set_name(name);
  t->set_data_type(onnx_type<T>());
  for (int64_t d : dims) t->add_dims(d);
  t->set_raw_data(le_bytes(values));
}

// ---------------------------------------------------------------------------- nodes

struct Attr {
  std::string name;
  std::vector<int64_t> ints;  // one value -> an INT attribute when scalar is set
  bool scalar = false;
};

void node(onnx::GraphProto* g, const std::string& op, const std::string& name,
          const std::vector<std::string>& in, const std::string& out,
          const std::vector<Attr>& attrs = {}) {
  onnx::NodeProto* n = g->add_node();
  n->set_op_type(op);
  n->set_name(name);
  for (const auto& s : in) n->add_input(s);
  n->add_output(out);
  for (const Attr& a : attrs) {
    onnx::AttributeProto* p = n->add_attribute();
    p->set_name(a.name);
    if (a.scalar) {
      p->set_type(onnx::AttributeProto::INT);
      p->set_i(a.ints.at(0));
    } else {
      p->set_type(onnx::AttributeProto::INTS);
      for (int64_t v : a.ints) p->add_ints(v);
    }
  }
}

void value_info(onnx::ValueInfoProto* v, const std::string& name, std::vector<int64_t> dims) {
  v->set_name(name);
  auto* tt = v->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(onnx::TensorProto::FLOAT);
  auto* shape = tt->mutable_shape();
  shape->add_dim()->set_dim_param("N");  // windows per call
  for (int64_t d : dims) shape->add_dim()->set_dim_value(d);
}

// ---------------------------------------------------------------------------- the graph

class Builder {
 public:
  Builder(const EdgeGraph& g, const QuantizedGraph* q, onnx::GraphProto* out)
      : g_(g), q_(q), o_(out) {}

  void build() {
    value_info(o_->add_input(), "window", g_.tensors.at(g_.input));
    value_info(o_->add_output(), "logits", {g_.num_classes});
    if (q_) {  // the input enters as its int8 form, exactly as the runtime quantises it
      quantize(g_.input, "window");
    }
    for (size_t j = 0; j < g_.ops.size(); ++j) emit(static_cast<int>(j));
  }

 private:
  const EdgeGraph& g_;
  const QuantizedGraph* q_;
  onnx::GraphProto* o_;

  // Float name of activation tensor t as consumers read it.
  std::string act(int t) const {
    if (t == g_.input && !q_) return "window";
    if (t == g_.output) return "logits";
    return fmt::format("t{}", t);
  }

  // float `src` -> QuantizeLinear -> t<t>_q -> DequantizeLinear -> act(t), with t's parameters.
  void quantize(int t, const std::string& src) {
    const QParams& p = q_->act.at(t);
    const std::string s = fmt::format("t{}_scale", t), z = fmt::format("t{}_zp", t);
    constant<float>(o_, s, {}, {p.scale});
    constant<int8_t>(o_, z, {}, {static_cast<int8_t>(p.zero_point)});
    const std::string qn = fmt::format("t{}_q", t);
    node(o_, "QuantizeLinear", qn, {src, s, z}, qn);
    node(o_, "DequantizeLinear", act(t) + "_dq", {qn, s, z}, act(t));
  }

  // The op's result `raw` (float) becomes tensor `out`: ReLU if fused, then Q/DQ for int8.
  void finish(const EdgeOp& op, const std::string& raw) {
    std::string v = raw;
    const std::string final_name = act(op.out);
    if (op.relu) {
      const std::string r = q_ ? fmt::format("t{}_relu", op.out) : final_name;
      node(o_, "Relu", op.name + ".relu", {v}, r);
      v = r;
    }
    if (q_) quantize(op.out, v);
  }

  // Where op j writes before ReLU / quantisation.
  std::string raw_name(const EdgeOp& op) const {
    return (op.relu || q_) ? fmt::format("t{}_f", op.out) : act(op.out);
  }

  // Weight and bias of op j as float tensors the Conv / Gemm reads: initialisers for f32,
  // int8 / int32 initialisers behind per-channel DequantizeLinear for int8.
  std::pair<std::string, std::string> weights(int j) {
    const EdgeOp& op = g_.ops[j];
    const std::string w = fmt::format("op{}_w", j), b = fmt::format("op{}_b", j);
    const int64_t rows = op.out_channels();
    if (!q_) {
      constant<float>(o_, w, op.w_shape, op.weight);
      constant<float>(o_, b, {rows}, op.bias);
      return {w, b};
    }
    const QuantizedOp& qo = q_->ops.at(j);
    const double s_in = q_->act.at(op.in0).scale;
    std::vector<float> w_scale(rows), b_scale(rows);
    for (int64_t r = 0; r < rows; ++r) {
      w_scale[r] = static_cast<float>(qo.w_scale.at(r));
      b_scale[r] = static_cast<float>(s_in * qo.w_scale.at(r));
    }
    constant<int8_t>(o_, w + "_q", op.w_shape, qo.weight);
    constant<float>(o_, w + "_scale", {rows}, w_scale);
    constant<int8_t>(o_, w + "_zp", {rows}, std::vector<int8_t>(rows, 0));
    node(o_, "DequantizeLinear", w + "_dq", {w + "_q", w + "_scale", w + "_zp"}, w,
         {{"axis", {0}, true}});
    constant<int32_t>(o_, b + "_q", {rows}, qo.bias);
    constant<float>(o_, b + "_scale", {rows}, b_scale);
    node(o_, "DequantizeLinear", b + "_dq", {b + "_q", b + "_scale"}, b, {{"axis", {0}, true}});
    return {w, b};
  }

  void emit(int j) {
    const EdgeOp& op = g_.ops[j];
    const std::string raw = raw_name(op);
    switch (op.type) {
      case EdgeOpType::kConv1d: {
        const auto [w, b] = weights(j);
        node(o_, "Conv", op.name, {act(op.in0), w, b}, raw,
             {{"kernel_shape", {op.w_shape.at(2)}},
              {"strides", {op.stride}},
              {"pads", {op.padding, op.padding}},
              {"dilations", {op.dilation}},
              {"group", {1}, true}});
        break;
      }
      case EdgeOpType::kDense: {
        std::string in = act(op.in0);
        if (g_.tensors.at(op.in0).size() > 1) {  // (C, L) read as C * L values, row-major
          const std::string flat = fmt::format("op{}_flat", j);
          if (q_) {  // flatten the int8 form so a DequantizeLinear feeds the Gemm directly
            const std::string s = fmt::format("t{}_scale", op.in0),
                              z = fmt::format("t{}_zp", op.in0);
            node(o_, "Flatten", op.name + ".flatten", {fmt::format("t{}_q", op.in0)}, flat + "_q",
                 {{"axis", {1}, true}});
            node(o_, "DequantizeLinear", flat + "_dq", {flat + "_q", s, z}, flat);
          } else {
            node(o_, "Flatten", op.name + ".flatten", {in}, flat, {{"axis", {1}, true}});
          }
          in = flat;
        }
        const auto [w, b] = weights(j);
        node(o_, "Gemm", op.name, {in, w, b}, raw, {{"transB", {1}, true}});
        break;
      }
      case EdgeOpType::kAdd:
        node(o_, "Add", op.name, {act(op.in0), act(op.in1)}, raw);
        break;
      case EdgeOpType::kAvgPool:
        if (op.kernel == g_.tensors.at(op.in0).at(1)) {
          node(o_, "GlobalAveragePool", op.name, {act(op.in0)}, raw);
        } else {
          node(o_, "AveragePool", op.name, {act(op.in0)}, raw,
               {{"kernel_shape", {op.kernel}}, {"strides", {op.stride}}});
        }
        break;
    }
    finish(op, raw);
  }
};

}  // namespace

std::string onnx_model(const EdgeGraph& g, const QuantizedGraph* q,
                       const std::map<std::string, std::string>& metadata) {
  if (q && (q->act.size() != g.tensors.size() || q->ops.size() != g.ops.size()))
    throw Error("onnx export", "quantisation does not match the graph");
  onnx::ModelProto m;
  m.set_ir_version(kIrVersion);
  m.set_producer_name("ppgkd");
  m.set_producer_version(PPGKD_ONNX_PRODUCER_VERSION);
  auto* opset = m.add_opset_import();
  opset->set_domain("");
  opset->set_version(kOnnxOpset);
  for (const auto& [k, v] : metadata) {
    auto* p = m.add_metadata_props();
    p->set_key(k);
    p->set_value(v);
  }
  onnx::GraphProto* graph = m.mutable_graph();
  graph->set_name(q ? "ppgkd_int8_qdq" : "ppgkd_f32");
  Builder(g, q, graph).build();
  std::string bytes;
  if (!m.SerializeToString(&bytes)) throw Error("onnx export", "cannot serialise the model");
  return bytes;
}

void check_onnx_model(const std::string& bytes, const std::string& where) {
  onnx::ModelProto m;
  if (!m.ParseFromString(bytes)) throw Error(where, "ONNX checker: not a ModelProto");
  try {
    onnx::checker::check_model(m);
    // Strict: a node whose shapes do not infer, or types that disagree, is an error.
    onnx::shape_inference::InferShapes(m, onnx::OpSchemaRegistry::Instance(),
                                       onnx::ShapeInferenceOptions(true, 1, false));
  } catch (const std::exception& e) {
    std::string what = e.what();
    for (char& c : what)
      if (c == '\n') c = ' ';
    throw Error(where, "ONNX checker: " + what);
  }
}

nlohmann::json export_model_dir_onnx(const ExportRequest& req) {
  ExportInput in = open_export(req);
  const LoadedModel& lm = in.model;
  const ExportOptions& opt = in.opt;
  // Refused before the int8 calibration loads any data.
  if (lm.net->spec().spectral > 0) throw Error(req.model_dir, spectral_refusal(lm.net->spec()));
  nlohmann::json provenance;
  // The blob's own pipeline: the ONNX model carries exactly its folded weights and int8 constants.
  const ExportResult r = lower_export(req, in, &provenance);
  const bool s8 = opt.quant == "int8";

  std::map<std::string, std::string> meta = {
      {"ppgkd.spec", lm.net->spec().str()},
      {"ppgkd.quant", opt.quant},
      {"ppgkd.input", "window (N, C, L) float32, one preprocessed window per row"},
      {"ppgkd.output", "logits (N, K) float32 over the heart-rate classes"},
      {"ppgkd.decode_radius", std::to_string(opt.decode_radius)}};
  const nlohmann::json record = lm.record.to_json();
  for (const char* key : {"inputs", "preprocess", "classes", "decoding"})
    meta[std::string("ppgkd.") + key] = record.at(key).dump();

  const std::string onnx_path = req.out_dir + "/model.onnx";
  const std::string bytes = onnx_model(r.graph, s8 ? &r.quant : nullptr, meta);
  check_onnx_model(bytes, onnx_path);

  nlohmann::json j;
  j["schema"] = 1;
  j["format"] = "onnx";
  j["opset"] = kOnnxOpset;
  j["ir_version"] = kIrVersion;
  j["quant"] = opt.quant;
  j["int8_scheme"] =
      s8 ? "QDQ: per-tensor asymmetric activations, per-channel symmetric weights" : "";
  j["spec"] = lm.net->spec().str();
  j["params"] = lm.net->spec().num_params();
  j["macs"] = r.graph.macs();
  j["onnx_bytes"] = bytes.size();
  j["input"] = {{"name", "window"}, {"shape", {"N", r.graph.in_channels, r.graph.length}}};
  j["output"] = {{"name", "logits"}, {"shape", {"N", r.graph.num_classes}}};
  j["decode_radius"] = opt.decode_radius;
  j["model_dir"] = req.model_dir;
  j["files"] = {"model.onnx", "onnx.json"};
  if (s8) {
    j["calibration"] = r.summary["calibration"];
    j["calibration"]["data"] = provenance;
  }
  j["context"] = run_context();
  write_file_atomic(onnx_path, bytes);
  write_file_atomic(req.out_dir + "/onnx.json", j.dump(2) + "\n");  // last: a complete export
  return j;
}

}  // namespace ppgkd
