// The edge C runtime (edge/) driven from the host: a blob loaded into an owned, aligned copy
// with its own arena, and run over windows. `ppgkd eval --runtime edge-f32|edge-int8`, the parity
// tests and the latency benchmark all go through here. Not here: making blobs (exporter.h).
//
// Shapes: N windows, C channels, L samples, K = 180 classes.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "data/preprocess.h"
#include "ppgkd_edge.h"

namespace ppgkd {

class EdgeModel {
 public:
  // Validates `blob` with ppgkd_init. Throws Error(where, "rejected by the edge runtime: <status>")
  // when the runtime refuses it.
  EdgeModel(const std::string& blob, const std::string& where);
  EdgeModel(const EdgeModel&) = delete;
  EdgeModel& operator=(const EdgeModel&) = delete;
  EdgeModel(EdgeModel&&) = delete;

  int in_channels() const;
  int length() const;
  int num_classes() const;
  bool int8() const;
  size_t arena_bytes() const { return arena_.size() * sizeof(uint32_t); }

  // One (C, L) window -> K logits (dequantised for int8). Throws Error on a runtime failure
  // (e.g. a non-finite sample).
  void logits(const float* window, float* out);
  // One (C, L) window -> BPM decoded on the device side (softmax + weighted mean within the
  // blob's decode radius); confidence may be null.
  double bpm(const float* window, double* confidence = nullptr);
  // K logits -> BPM with the runtime's decoder and the blob's decode parameters (what bpm() does
  // after the forward pass; int8 logits decode identically once dequantised).
  double decode(const float* logits, double* confidence = nullptr) const;

 private:
  std::string where_;
  std::vector<uint32_t> blob_;  // word storage: the runtime needs 4-byte alignment
  std::vector<uint32_t> arena_;
  ppgkd_model model_{};
};

// Reads a model.ppgm file and loads it. Throws Error naming the file.
std::unique_ptr<EdgeModel> load_edge_blob(const std::string& path);

// Logits (N, K) row-major and runtime-decoded BPM of `rows` of ws. Throws Error when the windows'
// shape differs from the model's.
struct EdgeOutputs {
  std::vector<float> logits;
  std::vector<double> bpm;
};
EdgeOutputs run_edge(EdgeModel& m, const WindowSet& ws, const std::vector<size_t>& rows);

}  // namespace ppgkd
