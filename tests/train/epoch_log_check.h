// Checks of a run's epochs.jsonl (train/epoch_log.h) against the history its model.json (or
// TrainResult::history_json) records: one line per epoch in order, no duplicates, every field of
// the right type, the recorded values equal (JSON round-trips doubles exactly), and the running
// best and elapsed time recomputed here.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ppgkd::testing {

// The parsed lines of an epochs.jsonl (a line that is not JSON fails the test).
inline std::vector<nlohmann::json> read_epoch_log(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << path << " is missing";
  std::vector<nlohmann::json> lines;
  std::string line;
  while (std::getline(in, line)) {
    try {
      lines.push_back(nlohmann::json::parse(line));
    } catch (const nlohmann::json::exception& e) {
      ADD_FAILURE() << path << ": line " << lines.size() + 1 << " is not JSON: " << line;
    }
  }
  return lines;
}

// `history`: [{"epoch", "train_loss", "val_mae", "lr", "seconds"}, ...]; `epochs`: the planned
// number of epochs.
inline void expect_epoch_log_matches(const std::string& path, const nlohmann::json& history,
                                     int epochs) {
  const auto lines = read_epoch_log(path);
  ASSERT_EQ(lines.size(), history.size()) << path;
  double elapsed = 0, best = 0;
  int best_epoch = -1;
  for (size_t i = 0; i < lines.size(); ++i) {
    const auto& l = lines[i];
    const auto& h = history[i];
    SCOPED_TRACE(path + " line " + std::to_string(i + 1) + ": " + l.dump());
    for (const char* key : {"epoch", "epochs", "best_epoch"})
      ASSERT_TRUE(l.contains(key) && l[key].is_number_integer()) << key;
    for (const char* key : {"train_loss", "lr", "epoch_seconds", "elapsed_seconds"})
      ASSERT_TRUE(l.contains(key) && l[key].is_number()) << key;
    for (const char* key : {"val_mae", "best_val_mae"})
      ASSERT_TRUE(l.contains(key) && (l[key].is_number() || l[key].is_null())) << key;
    EXPECT_EQ(l["epoch"], static_cast<int>(i));
    EXPECT_EQ(l["epoch"], h["epoch"]);
    EXPECT_EQ(l["epochs"], epochs);
    EXPECT_EQ(l["train_loss"], h["train_loss"]);
    EXPECT_EQ(l["val_mae"], h["val_mae"]);
    EXPECT_EQ(l["lr"], h["lr"]);
    EXPECT_EQ(l["epoch_seconds"], h["seconds"]);
    elapsed += h["seconds"].get<double>();
    EXPECT_NEAR(l["elapsed_seconds"].get<double>(), elapsed, 1e-9 * (1 + elapsed));
    if (h["val_mae"].is_number() && (best_epoch < 0 || h["val_mae"].get<double>() < best)) {
      best = h["val_mae"].get<double>();
      best_epoch = static_cast<int>(i);
    }
    EXPECT_EQ(l["best_epoch"], best_epoch);
    if (best_epoch >= 0)
      EXPECT_EQ(l["best_val_mae"], best);
    else
      EXPECT_TRUE(l["best_val_mae"].is_null());
  }
}

}  // namespace ppgkd::testing
