// A stand-in for `ppgkd train|distill` in sweep tests: cheap, deterministic, and observable.
// It writes OUT/model.json as a ModelRecord (sweep/run_result.h), the test metrics following a
// known law
//   subject MAE = 2 + 20 * N^-0.3 + strategy offset + subject offset
// (N from the spec "fake:N"; subject offsets sum to zero, so a size's subject mean is the law).
// FAKE_CHILD_LOG: appends "start KEY" / "finish KEY" (KEY = the run directory's name).
// FAKE_CHILD_SLEEP_MS: sleeps between the two. A spec containing "fail" exits 3, and so does (with
// status 5) a distill run of the strategy FAKE_CHILD_FAIL_STRATEGY; a distill run
// whose --teacher has no model.json exits 4 (the sweep ran it too early).
// `fake_child group --members FILE` runs each member of FILE ({"members": [[args...], ...]}) in
// turn like `ppgkd group`: a failing member writes OUT/group_error.txt, the others go on, and the
// exit status is 1 when any failed. FAKE_CHILD_LOG then also gets "group N" per invocation.
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "sweep/run_result.h"

namespace {

void log_line(const std::string& line) {
  const char* path = std::getenv("FAKE_CHILD_LOG");
  if (!path) return;
  FILE* f = std::fopen(path, "a");  // O_APPEND: lines from concurrent children do not interleave
  std::fprintf(f, "%s\n", line.c_str());
  std::fclose(f);
}

}  // namespace

int run_one(const std::vector<std::string>& argv);

int run_group(const std::string& path) {
  std::ifstream in(path);
  const auto j = nlohmann::json::parse(in);
  log_line("group " + std::to_string(j.at("members").size()));
  int failed = 0;
  for (const auto& m : j.at("members")) {
    std::vector<std::string> argv = {"fake_child"};
    for (const auto& a : m) argv.push_back(a);
    const int rc = run_one(argv);
    if (rc != 0) {
      ++failed;
      std::string out;
      for (size_t i = 1; i + 1 < argv.size(); ++i)
        if (argv[i] == "--out") out = argv[i + 1];
      std::ofstream(out + "/group_error.txt") << "fake_child: member exit " << rc << "\n";
    }
  }
  return failed ? 1 : 0;
}

int main(int argc, char** argv) {
  if (argc == 4 && std::string(argv[1]) == "group") return run_group(argv[3]);
  return run_one(std::vector<std::string>(argv, argv + argc));
}

int run_one(const std::vector<std::string>& argv) {
  const int argc = static_cast<int>(argv.size());
  std::map<std::string, std::string> opt;
  for (int i = 2; i + 1 < argc; ++i)
    if (argv[i][0] == '-' && argv[i + 1][0] != '-') opt[argv[i]] = argv[i + 1];
  const std::string cmd = argc > 1 ? argv[1] : "";
  const std::string out = opt["--out"];
  const std::string spec = cmd == "distill" ? opt["--student"] : opt["--model"];
  const std::string key = std::filesystem::path(out).filename().string();
  if (out.empty() || spec.empty() || opt["--threads"] != "1") {
    std::fprintf(stderr, "fake_child: need --out, --model/--student and --threads 1\n");
    return 2;
  }
  log_line("start " + key);
  if (const char* ms = std::getenv("FAKE_CHILD_SLEEP_MS"))
    std::this_thread::sleep_for(std::chrono::milliseconds(std::atoi(ms)));
  if (spec.find("fail") != std::string::npos) {
    std::fprintf(stderr, "fake_child: asked to fail\n");
    return 3;
  }
  const char* fail_strategy = std::getenv("FAKE_CHILD_FAIL_STRATEGY");
  if (fail_strategy && cmd == "distill" && opt["--strategy"] == fail_strategy) {
    std::fprintf(stderr, "fake_child: strategy %s asked to fail\n", fail_strategy);
    return 5;
  }
  if (cmd == "distill" && !std::filesystem::exists(opt["--teacher"] + "/model.json")) {
    std::fprintf(stderr, "fake_child: teacher %s not finished\n", opt["--teacher"].c_str());
    return 4;
  }
  const double n = std::stod(spec.substr(spec.find(':') + 1));
  const std::string strategy = cmd == "distill" ? opt["--strategy"] : "none";
  const double shift = strategy == "dkd" ? -0.5 : (strategy == "none" ? 0.0 : -0.25);
  const double law = 2.0 + 20.0 * std::pow(n, -0.3) + shift;
  const int fold = std::stoi(opt["--fold"]);
  // Two subjects per fold: fold f tests subjects 2f and 2f+1 with offsets -/+ (0.1 + 0.2 f).
  nlohmann::json subjects = nlohmann::json::object();
  const double off = 0.1 + 0.2 * fold;
  subjects["syn/s" + std::to_string(2 * fold)] = law - off;
  subjects["syn/s" + std::to_string(2 * fold + 1)] = law + off;
  const auto params = static_cast<int64_t>(n);
  const nlohmann::json j = ppgkd::testing::run_result_json(
      spec, params, 10 * params, 4 * params,
      {{"mae_bpm", law}, {"subject_mae_bpm", subjects}, {"dataset_mae_bpm", {{"syn", law}}}});
  std::filesystem::create_directories(out);
  {
    std::ofstream f(out + "/model.json.tmp");
    f << j.dump(2) << "\n";
  }
  std::filesystem::rename(out + "/model.json.tmp", out + "/model.json");
  log_line("finish " + key);
  return 0;
}
