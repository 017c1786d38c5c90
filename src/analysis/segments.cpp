// Protocol segment tables (see segments.h).
#include "analysis/segments.h"

#include <fmt/format.h>

#include <limits>
#include <regex>

namespace ppgkd {

namespace {

// Consecutive (activity, duration) pairs -> segments starting at 0 s.
Protocol make_protocol(std::string name, const std::vector<std::pair<std::string, double>>& parts) {
  Protocol p{std::move(name), {}};
  double t = 0;
  for (const auto& [activity, duration] : parts) {
    p.segments.push_back({activity, t, t + duration});
    t += duration;
  }
  return p;
}

Protocol spc_train(int type) {
  const std::string slow = type == 1 ? "run 8 km/h" : "run 6 km/h";
  const std::string fast = type == 1 ? "run 15 km/h" : "run 12 km/h";
  return make_protocol(
      fmt::format("spc2015 TYPE0{}", type),
      {{"rest", 30}, {slow, 60}, {fast, 60}, {slow, 60}, {fast, 60}, {"rest", 30}});
}

}  // namespace

Protocol recording_protocol(const std::string& dataset, const std::string& recording_name) {
  if (dataset == "spc2015") {
    static const std::regex train("DATA_\\d+_TYPE0([12])", std::regex::icase);
    std::smatch m;
    if (std::regex_match(recording_name, m, train)) return spc_train(std::stoi(m.str(1)));
  } else if (dataset == "bami1") {
    return make_protocol("bami1", {{"rest", 60},
                                   {"walk 2.5 km/h", 120},
                                   {"run 6 km/h", 180},
                                   {"walk 3 km/h", 120},
                                   {"run 7 km/h", 180},
                                   {"walk 2.5 km/h", 120},
                                   {"rest", 60}});
  } else if (dataset == "bami2") {
    return make_protocol("bami2", {{"rest", 60},
                                   {"walk 3-4 km/h", 120},
                                   {"run 6-8 km/h", 120},
                                   {"run holding the bar", 120},
                                   {"walk", 120},
                                   {"walk holding the bar", 120},
                                   {"rest or walk", 60}});
  }
  return Protocol{dataset, {{"all", 0, std::numeric_limits<double>::infinity()}}};
}

int segment_index(const Protocol& p, double t_centre_s) {
  for (size_t i = 0; i < p.segments.size(); ++i) {
    if (t_centre_s >= p.segments[i].t0_s && t_centre_s < p.segments[i].t1_s)
      return static_cast<int>(i);
  }
  return -1;
}

std::string segment_label(const Protocol& p, int index) {
  if (index < 0 || index >= static_cast<int>(p.segments.size())) return "after protocol end";
  if (p.segments.size() == 1) return p.segments[0].activity;
  return fmt::format("{}. {}", index + 1, p.segments[index].activity);
}

}  // namespace ppgkd
