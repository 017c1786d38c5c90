// Text a person reads about a set of recordings; shared by `ppgkd data summary` and `ppgkd demo`.
#pragma once

#include <string>
#include <vector>

#include "data/recording.h"

namespace ppgkd::cli {

// Per dataset: recordings, subjects, windows, HR min/median/max, dropped windows by reason.
std::string data_summary_text(const std::string& root, const std::vector<Recording>& recs);

}  // namespace ppgkd::cli
