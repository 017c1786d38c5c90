// epochs.jsonl (see epoch_log.h).
#include "train/epoch_log.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "common/atomic_file.h"
#include "common/error.h"

namespace ppgkd {

namespace {
// JSON has no NaN: null.
nlohmann::json num(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json();
}
}  // namespace

EpochLog::EpochLog(std::string path, int epochs, const std::vector<EpochRecord>& history)
    : path_(std::move(path)), epochs_(epochs) {
  std::string text;
  for (const auto& rec : history) text += line(rec).dump() + "\n";
  write_file_atomic(path_, text);
}

nlohmann::json EpochLog::line(const EpochRecord& rec) {
  elapsed_ += rec.seconds;
  // The trainer's rule: the first epoch, or a strictly lower validation MAE, is the best.
  if (std::isfinite(rec.val_mae) && (best_epoch_ < 0 || rec.val_mae < best_val_)) {
    best_val_ = rec.val_mae;
    best_epoch_ = rec.epoch;
  }
  return {{"epoch", rec.epoch},
          {"epochs", epochs_},
          {"train_loss", num(rec.train_loss)},
          {"val_mae", num(rec.val_mae)},
          {"lr", rec.lr},
          {"epoch_seconds", rec.seconds},
          {"elapsed_seconds", elapsed_},
          {"best_val_mae", best_epoch_ < 0 ? nlohmann::json() : nlohmann::json(best_val_)},
          {"best_epoch", best_epoch_}};
}

void EpochLog::append(const EpochRecord& rec) {
  const std::string text = line(rec).dump() + "\n";
  FILE* f = std::fopen(path_.c_str(), "a");
  if (!f) throw Error(path_, std::string("cannot append: ") + std::strerror(errno));
  const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size() && std::fflush(f) == 0;
  const int err = errno;
  std::fclose(f);
  if (!ok) throw Error(path_, std::string("cannot append: ") + std::strerror(err));
}

}  // namespace ppgkd
