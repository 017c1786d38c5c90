// A finished run's model.json as a sweep reads it: a ModelRecord (train/model_record.h) with a
// spec, a size and metrics.test. For fake_child and the tests that fill a store by hand, so they
// write what `ppgkd train` writes rather than a hand-picked subset of it.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "train/model_record.h"

namespace ppgkd::testing {

// test: {"mae_bpm": ..., "subject_mae_bpm": {...}[, "dataset_mae_bpm": {...}]}; the family is
// the spec's prefix ("fake:64" -> "fake").
inline nlohmann::json run_result_json(const std::string& spec, int64_t params, int64_t macs,
                                      int64_t weight_bytes, const nlohmann::json& test) {
  ModelRecord r;
  r.spec = spec;
  r.family = spec.substr(0, spec.find(':'));
  r.params = params;
  r.macs_per_window = macs;
  r.weight_bytes_f32 = weight_bytes;
  r.channels = 4;
  r.length = 200;
  r.class_count = 180;
  r.metrics = {{"test", test}};
  return r.to_json();
}

}  // namespace ppgkd::testing
