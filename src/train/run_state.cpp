#include "train/run_state.h"

#include <cmath>
#include <limits>

namespace ppgkd {

namespace {

nlohmann::json num(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json();
}
double num(const nlohmann::json& j) {
  return j.is_null() ? std::numeric_limits<double>::quiet_NaN() : j.get<double>();
}

}  // namespace

nlohmann::json run_state_to_json(const RunState& st, const nlohmann::json& identity) {
  TrainResult tmp;
  tmp.history = st.history;
  return {{"identity", identity},
          {"epoch", st.epoch},
          {"step", st.step},
          {"global_step", st.global_step},
          {"loss_sum", st.loss_sum},
          {"loss_batches", st.loss_batches},
          {"best_val_mae", num(st.best_val_mae)},
          {"best_epoch", st.best_epoch},
          {"bad_epochs", st.bad_epochs},
          {"finished", st.finished},
          {"stopped_early", st.stopped_early},
          {"history", tmp.history_json()}};
}

RunState run_state_from_json(const nlohmann::json& j) {
  RunState st;
  st.epoch = j.at("epoch");
  st.step = j.at("step");
  st.global_step = j.at("global_step");
  st.loss_sum = j.at("loss_sum");
  st.loss_batches = j.at("loss_batches");
  st.best_val_mae = num(j.at("best_val_mae"));
  st.best_epoch = j.at("best_epoch");
  st.bad_epochs = j.at("bad_epochs");
  st.finished = j.at("finished");
  st.stopped_early = j.at("stopped_early");
  for (const auto& e : j.at("history"))
    st.history.push_back({e.at("epoch").get<int>(), num(e.at("train_loss")), num(e.at("val_mae")),
                          e.at("lr").get<double>(), e.at("seconds").get<double>()});
  return st;
}

}  // namespace ppgkd
