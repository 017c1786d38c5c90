// Host driver of the edge C runtime (see edge_runner.h).
#include "export/edge_runner.h"

#include <fmt/format.h>

#include <cstring>

#include "common/atomic_file.h"
#include "common/error.h"
#include "ppgkd_edge_format.h"
#include "ppgkd_edge_ops.h"

namespace ppgkd {

EdgeModel::EdgeModel(const std::string& blob, const std::string& where) : where_(where) {
  blob_.assign((blob.size() + 3) / 4, 0);
  std::memcpy(blob_.data(), blob.data(), blob.size());
  const auto* bytes = reinterpret_cast<const uint8_t*>(blob_.data());
  size_t need = 0;
  ppgkd_status s = ppgkd_arena_required(bytes, blob.size(), &need);
  if (s == PPGKD_OK) {
    arena_.assign((need + 3) / 4 + 1, 0);  // +1 word: a zero-byte plan still gets a valid pointer
    s = ppgkd_init(&model_, bytes, blob.size(), reinterpret_cast<uint8_t*>(arena_.data()),
                   arena_.size() * sizeof(uint32_t));
  }
  if (s == PPGKD_ERR_VERSION) {  // name both versions: an old blob needs a re-export
    uint32_t found = 0;
    for (int i = 0; i < 4; ++i) found |= uint32_t{bytes[4 + i]} << (8 * i);
    throw Error(where_, fmt::format("rejected by the edge runtime: PPGKD_ERR_VERSION (blob format "
                                    "version {}, this runtime reads version {}; re-export the "
                                    "model with this ppgkd)",
                                    found, PPGKD_VERSION));
  }
  if (s != PPGKD_OK)
    throw Error(where_, std::string("rejected by the edge runtime: ") + ppgkd_status_str(s));
}

int EdgeModel::in_channels() const {
  return static_cast<int>(model_.in_channels);
}
int EdgeModel::length() const {
  return static_cast<int>(model_.in_length);
}
int EdgeModel::num_classes() const {
  return static_cast<int>(model_.num_classes);
}
bool EdgeModel::int8() const {
  return (model_.flags & PPGKD_FLAG_INT8) != 0;
}

void EdgeModel::logits(const float* window, float* out) {
  const ppgkd_status s = ppgkd_run_logits(&model_, window, out, model_.num_classes);
  if (s != PPGKD_OK) throw Error(where_, std::string("edge run failed: ") + ppgkd_status_str(s));
}

double EdgeModel::bpm(const float* window, double* confidence) {
  float bpm = 0, conf = 0;
  const ppgkd_status s = ppgkd_run(&model_, window, &bpm, &conf);
  if (s != PPGKD_OK) throw Error(where_, std::string("edge run failed: ") + ppgkd_status_str(s));
  if (confidence) *confidence = conf;
  return bpm;
}

double EdgeModel::decode(const float* logits, double* confidence) const {
  ppgkd_decode_params p;
  p.num_classes = model_.num_classes;
  p.radius = model_.radius;
  p.bpm_lo = model_.bpm_lo;
  p.bpm_step = model_.bpm_step;
  p.smooth_sigma = PPGKD_DECODE_SMOOTH_SIGMA;
  float bpm = 0, conf = 0;
  const ppgkd_status s = ppgkd_decode_f32(&p, logits, &bpm, &conf);
  if (s != PPGKD_OK) throw Error(where_, std::string("edge decode failed: ") + ppgkd_status_str(s));
  if (confidence) *confidence = conf;
  return bpm;
}

std::unique_ptr<EdgeModel> load_edge_blob(const std::string& path) {
  return std::make_unique<EdgeModel>(read_file(path), path);
}

EdgeOutputs run_edge(EdgeModel& m, const WindowSet& ws, const std::vector<size_t>& rows) {
  if (ws.channels != m.in_channels() || ws.length != m.length())
    throw Error("edge runtime", fmt::format("model takes (C={}, L={}) windows but the data has "
                                            "(C={}, L={})",
                                            m.in_channels(), m.length(), ws.channels, ws.length));
  const size_t k = static_cast<size_t>(m.num_classes());
  EdgeOutputs out;
  out.logits.resize(rows.size() * k);
  out.bpm.resize(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    if (rows[i] >= ws.size())
      throw Error("edge runtime",
                  fmt::format("row {} out of range ({} windows)", rows[i], ws.size()));
    const float* w = ws.window_ptr(rows[i]);
    float* y = out.logits.data() + i * k;
    m.logits(w, y);
    out.bpm[i] = m.decode(y, nullptr);
  }
  return out;
}

}  // namespace ppgkd
