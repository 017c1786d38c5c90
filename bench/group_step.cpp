// Where a grouped training step spends its time: forward, loss and backward of K students as one
// GroupNet (group_net.h) with each convolution kernel, against K single networks stepped one after
// another, on random windows (B, 4, 200) at batch B. Times are process CPU time, so other work on
// a shared machine counts less than in wall time (it still competes for caches); every variant
// runs in turn within each repetition, and medians over the repetitions are printed.
//
// usage: group_step [--model SPEC] [--members 15] [--batch 256] [--reps 5] [--threads 1]
//   SPEC is a model spec (default r1's, resnet1d:stem=3,stages=3-3-4-4-4,blocks=1,k=3).
#include <torch/torch.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "data/preprocess.h"
#include "models/networks.h"
#include "train/group_net.h"
#include "train/trainer.h"

namespace {

// Process CPU time in seconds.
struct Clock {
  using time_point = double;
  static double now() {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
  }
};
double since(double t) {
  return Clock::now() - t;
}
double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

struct Phases {
  std::vector<double> forward, loss, backward;
};

// One grouped step: forward of all members, each member's cross-entropy, backward of the sum.
void grouped_step(ppgkd::GroupNet& net, const torch::Tensor& x, const torch::Tensor& y,
                  Phases& ph) {
  std::vector<int64_t> all(net.size());
  for (int k = 0; k < net.size(); ++k) all[k] = k;
  for (const auto& [name, p] : net.parameters())
    if (p.grad().defined()) p.mutable_grad().zero_();
  auto t = Clock::now();
  auto out = net.forward(x, all, true);
  ph.forward.push_back(since(t));
  t = Clock::now();
  std::vector<torch::Tensor> terms;
  for (int k = 0; k < net.size(); ++k)
    terms.push_back(torch::nn::functional::cross_entropy(out.logits[k], y[k]));
  auto loss = torch::stack(terms).sum();
  ph.loss.push_back(since(t));
  t = Clock::now();
  loss.backward();
  ph.backward.push_back(since(t));
}

// The same work as K single networks, one after another.
void single_steps(std::vector<ppgkd::Net>& nets, const torch::Tensor& x, const torch::Tensor& y,
                  Phases& ph) {
  double f = 0, l = 0, b = 0;
  for (size_t k = 0; k < nets.size(); ++k) {
    nets[k]->zero_grad();
    auto t = Clock::now();
    auto logits = nets[k]->forward(x[k]);
    f += since(t);
    t = Clock::now();
    auto loss = torch::nn::functional::cross_entropy(logits, y[k]);
    l += since(t);
    t = Clock::now();
    loss.backward();
    b += since(t);
  }
  ph.forward.push_back(f);
  ph.loss.push_back(l);
  ph.backward.push_back(b);
}

}  // namespace

int main(int argc, char** argv) {
  std::string model = "resnet1d:stem=3,stages=3-3-4-4-4,blocks=1,k=3";
  int members = 15, batch = 256, reps = 5, threads = 1;
  CLI::App app{"Time the phases of a grouped training step against single networks."};
  app.add_option("--model", model, "student model spec");
  app.add_option("--members", members, "students in the group (K)")->check(CLI::PositiveNumber);
  app.add_option("--batch", batch, "windows per member and step")->check(CLI::PositiveNumber);
  app.add_option("--reps", reps, "repetitions (one warm-up first)")->check(CLI::PositiveNumber);
  app.add_option("--threads", threads, "torch threads")->check(CLI::PositiveNumber);
  CLI11_PARSE(app, argc, argv);

  try {
    torch::set_num_threads(threads);
    ppgkd::PreprocessConfig pp;
    const auto spec = ppgkd::ModelSpec::parse(model, pp.channels(), pp.length());
    std::vector<ppgkd::Net> nets;
    ppgkd::GroupNet mixed(spec, members, ppgkd::GroupConv::kMixed);
    ppgkd::GroupNet direct(spec, members, ppgkd::GroupConv::kDirect);
    ppgkd::GroupNet libtorch(spec, members, ppgkd::GroupConv::kLibtorch);
    for (int k = 0; k < members; ++k) {
      nets.push_back(ppgkd::init_model(spec, 1 + k));
      mixed.put(k, *nets[k]);
      direct.put(k, *nets[k]);
      libtorch.put(k, *nets[k]);
    }
    torch::manual_seed(1);
    auto x = torch::randn({members, batch, spec.in_channels, spec.length});
    auto y = torch::randint(0, 180, {members, batch}, torch::kInt64);

    std::vector<std::pair<std::string, std::function<void(Phases&)>>> variants = {
        {"grouped, mixed (the default)", [&](Phases& ph) { grouped_step(mixed, x, y, ph); }},
        {"grouped, direct loops", [&](Phases& ph) { grouped_step(direct, x, y, ph); }},
        {"grouped, conv1d groups=K, oneDNN on",
         [&](Phases& ph) {
           at::globalContext().setUserEnabledMkldnn(true);
           grouped_step(libtorch, x, y, ph);
         }},
        {"grouped, conv1d groups=K, oneDNN off",
         [&](Phases& ph) {
           at::globalContext().setUserEnabledMkldnn(false);
           grouped_step(libtorch, x, y, ph);
           at::globalContext().setUserEnabledMkldnn(true);
         }},
        {"K single networks, oneDNN on", [&](Phases& ph) { single_steps(nets, x, y, ph); }},
        {"K single networks, oneDNN off",
         [&](Phases& ph) {
           at::globalContext().setUserEnabledMkldnn(false);
           single_steps(nets, x, y, ph);
           at::globalContext().setUserEnabledMkldnn(true);
         }},
    };
    std::map<std::string, Phases> phases;
    for (int r = 0; r <= reps; ++r)
      for (auto& [name, step] : variants) {
        Phases scratch;
        step(r == 0 ? scratch : phases[name]);  // repetition 0 warms up
      }
    std::printf(
        "%s (%lld params), K = %d, batch %d, %d thread(s), medians of %d (CPU ms per step)\n",
        spec.str().c_str(), static_cast<long long>(spec.num_params()), members, batch, threads,
        reps);
    std::printf("%-40s %9s %9s %9s %9s\n", "variant", "forward", "loss", "backward", "total");
    for (auto& [name, step] : variants) {
      const auto& ph = phases[name];
      std::vector<double> total;
      for (size_t i = 0; i < ph.forward.size(); ++i)
        total.push_back(ph.forward[i] + ph.loss[i] + ph.backward[i]);
      std::printf("%-40s %9.1f %9.1f %9.1f %9.1f\n", name.c_str(), 1e3 * median(ph.forward),
                  1e3 * median(ph.loss), 1e3 * median(ph.backward), 1e3 * median(total));
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "group_step: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
