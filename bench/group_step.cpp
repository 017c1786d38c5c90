// Where a grouped training step spends its time: forward, loss, backward and AdamW of K students
// as one GroupNet (group_net.h, group_adamw.h) with the fused BatchNorm and AdamW and the members'
// logits taken by one unbind (the default, as the trainer), as before these (libtorch's
// operations, one select per member), with one of them undone at a time, and optionally with other
// convolution kernels, against K single networks stepped one after another, on random windows
// (B, 4, 200) at batch B. Times are process CPU time, so other work on a shared machine counts
// less than in wall time (it still competes for caches); every variant runs once per repetition,
// in an order that rotates, and medians over the repetitions are printed. --profile N then lists
// the operators of N steps of the default and the "before" variant by self time.
//
// usage: group_step [--model SPEC] [--members 15] [--batch 256] [--reps 5] [--threads 1]
//                   [--profile N] [--conv-variants]
//   SPEC is a model spec or rung (default r1's, resnet1d:stem=3,stages=3-3-4-4-4,blocks=1,k=3).
#include <torch/csrc/autograd/profiler_legacy.h>
#include <torch/torch.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "data/preprocess.h"
#include "models/networks.h"
#include "train/group_adamw.h"
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
  std::vector<double> forward, loss, backward, optimizer;
};

// One grouped variant: the network and its optimiser.
struct Grouped {
  ppgkd::GroupNet net;
  ppgkd::GroupAdamW opt;
  bool unbind;  // the members' logits as one unbind (the trainer) or one select each (before)
  Grouped(const ppgkd::ModelSpec& spec, int k, ppgkd::GroupConv conv, ppgkd::GroupNorm norm,
          ppgkd::GroupAdamWKind adamw, bool unbind)
      : net(spec, k, conv, norm), opt(net.parameters(), adamw), unbind(unbind) {}
};

// One grouped step: forward of all members, each member's cross-entropy, backward of the sum,
// AdamW for every member (as the trainer: lr 1e-3, weight decay 1e-2).
void grouped_step(Grouped& g, const torch::Tensor& x, const torch::Tensor& y, int64_t step,
                  Phases& ph) {
  auto& net = g.net;
  std::vector<int64_t> all(net.size());
  for (int k = 0; k < net.size(); ++k) all[k] = k;
  for (const auto& [name, p] : net.parameters())
    if (p.grad().defined()) p.mutable_grad().zero_();
  auto t = Clock::now();
  auto out = net.forward(x, all, true);
  ph.forward.push_back(since(t));
  t = Clock::now();
  std::vector<torch::Tensor> terms;
  const auto logits = g.unbind ? out.logits.unbind(0) : std::vector<torch::Tensor>();
  for (int k = 0; k < net.size(); ++k)
    terms.push_back(
        torch::nn::functional::cross_entropy(g.unbind ? logits[k] : out.logits[k], y[k]));
  auto loss = torch::stack(terms).sum();
  ph.loss.push_back(since(t));
  t = Clock::now();
  loss.backward();
  ph.backward.push_back(since(t));
  t = Clock::now();
  const size_t K = static_cast<size_t>(net.size());
  g.opt.step(net.parameters(), std::vector<double>(K, 1e-3), std::vector<double>(K, 1e-2),
             std::vector<int64_t>(K, step), std::vector<bool>(K, true));
  ph.optimizer.push_back(since(t));
}

// The same work as K single networks, one after another, each with torch::optim::AdamW.
void single_steps(std::vector<ppgkd::Net>& nets, std::vector<torch::optim::AdamW>& opts,
                  const torch::Tensor& x, const torch::Tensor& y, Phases& ph) {
  double f = 0, l = 0, b = 0, o = 0;
  for (size_t k = 0; k < nets.size(); ++k) {
    opts[k].zero_grad();
    auto t = Clock::now();
    auto logits = nets[k]->forward(x[k]);
    f += since(t);
    t = Clock::now();
    auto loss = torch::nn::functional::cross_entropy(logits, y[k]);
    l += since(t);
    t = Clock::now();
    loss.backward();
    b += since(t);
    t = Clock::now();
    opts[k].step();
    o += since(t);
  }
  ph.forward.push_back(f);
  ph.loss.push_back(l);
  ph.backward.push_back(b);
  ph.optimizer.push_back(o);
}

// Self CPU time per operator (autograd backward nodes and the aten ops inside them) of `reps`
// calls of `step`, from libtorch's legacy profiler, largest first: where a step's time goes.
void print_profile(const std::function<void()>& step, int reps) {
  namespace prof = torch::autograd::profiler;
  prof::enableProfilerLegacy(torch::profiler::impl::ProfilerConfig(
      torch::profiler::impl::ProfilerState::CPU, false, false));
  for (int r = 0; r < reps; ++r) step();
  const auto lists = prof::disableProfilerLegacy();
  struct Total {
    double self_us = 0;
    int64_t calls = 0;
  };
  std::map<std::string, Total> totals;
  // Custom autograd nodes are named after their C++ type: keep the type's own name.
  auto short_name = [](std::string n) {
    const std::string ns = "(anonymous namespace)::";
    const auto at = n.rfind(ns);
    return at == std::string::npos ? n : "backward of " + n.substr(at + ns.size());
  };
  double all_us = 0;
  for (const auto& list : lists) {
    struct Open {
      const prof::LegacyEvent* push;
      double children_us;
    };
    std::vector<Open> stack;
    for (const auto& e : list) {
      if (e.kind() == prof::EventKind::PushRange) {
        stack.push_back({&e, 0.0});
      } else if (e.kind() == prof::EventKind::PopRange && !stack.empty()) {
        const Open o = stack.back();
        stack.pop_back();
        const double us = o.push->cpuElapsedUs(e);
        auto& t = totals[short_name(o.push->name())];
        t.self_us += us - o.children_us;
        t.calls += 1;
        if (stack.empty())
          all_us += us;
        else
          stack.back().children_us += us;
      }
    }
  }
  std::vector<std::pair<std::string, Total>> rows(totals.begin(), totals.end());
  std::sort(rows.begin(), rows.end(),
            [](const auto& a, const auto& b) { return a.second.self_us > b.second.self_us; });
  std::printf("profile of %d step(s): %.1f ms per step in profiled ops (wall time)\n", reps,
              1e-3 * all_us / reps);
  std::printf("%-44s %10s %7s %8s\n", "op (self time)", "ms/step", "share", "calls");
  for (size_t i = 0; i < rows.size() && i < 30; ++i)
    std::printf("%-44s %10.2f %6.1f%% %8lld\n", rows[i].first.substr(0, 44).c_str(),
                1e-3 * rows[i].second.self_us / reps, 100.0 * rows[i].second.self_us / all_us,
                static_cast<long long>(rows[i].second.calls / reps));
}

}  // namespace

int main(int argc, char** argv) {
  std::string model = "resnet1d:stem=3,stages=3-3-4-4-4,blocks=1,k=3";
  int members = 15, batch = 256, reps = 5, threads = 1, profile = 0;
  bool conv_variants = false;
  CLI::App app{"Time the phases of a grouped training step against single networks."};
  app.add_option("--model", model, "student model spec");
  app.add_option("--members", members, "students in the group (K)")->check(CLI::PositiveNumber);
  app.add_option("--batch", batch, "windows per member and step")->check(CLI::PositiveNumber);
  app.add_option("--reps", reps, "repetitions (one warm-up first)")->check(CLI::PositiveNumber);
  app.add_option("--threads", threads, "torch threads")->check(CLI::PositiveNumber);
  app.add_option("--profile", profile,
                 "then profile this many steps of the default and the before variant by op");
  app.add_flag("--conv-variants", conv_variants,
               "also time the convolution kernels (direct only, libtorch with oneDNN on/off)");
  CLI11_PARSE(app, argc, argv);

  try {
    using ppgkd::GroupAdamWKind;
    using ppgkd::GroupConv;
    using ppgkd::GroupNorm;
    torch::set_num_threads(threads);
    ppgkd::PreprocessConfig pp;
    const auto spec =
        ppgkd::ModelSpec::parse(ppgkd::resolve_spec(model), pp.channels(), pp.length());
    std::vector<ppgkd::Net> nets;
    std::vector<torch::optim::AdamW> opts;
    // name, convolution, normalisation, optimiser; the default first, the state before fusion
    // second.
    struct Kind {
      std::string name;
      GroupConv conv;
      GroupNorm norm;
      GroupAdamWKind adamw;
      bool unbind;
    };
    std::vector<Kind> kinds = {
        {"grouped, fused (the default)", GroupConv::kMixed, GroupNorm::kFused,
         GroupAdamWKind::kFused, true},
        {"grouped, before (unfused, select per member)", GroupConv::kMixed, GroupNorm::kLibtorch,
         GroupAdamWKind::kTensorOps, false},
        {"grouped, fused but logits by select", GroupConv::kMixed, GroupNorm::kFused,
         GroupAdamWKind::kFused, false},
        {"grouped, fused but AdamW as tensor ops", GroupConv::kMixed, GroupNorm::kFused,
         GroupAdamWKind::kTensorOps, true},
    };
    if (conv_variants) {
      kinds.push_back({"grouped, direct convolutions only", GroupConv::kDirect, GroupNorm::kFused,
                       GroupAdamWKind::kFused, true});
      kinds.push_back({"grouped, conv1d groups=K (oneDNN on)", GroupConv::kLibtorch,
                       GroupNorm::kFused, GroupAdamWKind::kFused, true});
    }
    std::vector<std::unique_ptr<Grouped>> grouped;
    for (const auto& kd : kinds)
      grouped.push_back(
          std::make_unique<Grouped>(spec, members, kd.conv, kd.norm, kd.adamw, kd.unbind));
    for (int k = 0; k < members; ++k) {
      nets.push_back(ppgkd::init_model(spec, 1 + k));
      for (auto& g : grouped) g->net.put(k, *nets[k]);
      opts.emplace_back(nets[k]->parameters(), torch::optim::AdamWOptions(1e-3).weight_decay(1e-2));
    }
    torch::manual_seed(1);
    auto x = torch::randn({members, batch, spec.in_channels, spec.length});
    auto y = torch::randint(0, 180, {members, batch}, torch::kInt64);

    std::vector<std::pair<std::string, std::function<void(int64_t, Phases&)>>> variants;
    for (size_t i = 0; i < kinds.size(); ++i) {
      Grouped* g = grouped[i].get();
      if (kinds[i].conv == GroupConv::kLibtorch)
        variants.push_back({kinds[i].name, [&, g](int64_t step, Phases& ph) {
                              at::globalContext().setUserEnabledMkldnn(true);
                              grouped_step(*g, x, y, step, ph);
                            }});
      else
        variants.push_back({kinds[i].name, [&, g](int64_t step, Phases& ph) {
                              grouped_step(*g, x, y, step, ph);
                            }});
    }
    variants.push_back({"K single networks, oneDNN on",
                        [&](int64_t, Phases& ph) { single_steps(nets, opts, x, y, ph); }});
    if (conv_variants)
      variants.push_back({"K single networks, oneDNN off", [&](int64_t, Phases& ph) {
                            at::globalContext().setUserEnabledMkldnn(false);
                            single_steps(nets, opts, x, y, ph);
                            at::globalContext().setUserEnabledMkldnn(true);
                          }});
    std::map<std::string, Phases> phases;
    for (int r = 0; r <= reps; ++r)
      for (size_t v = 0; v < variants.size(); ++v) {
        // The order rotates with the repetition, so no variant always follows the same one.
        auto& [name, step] = variants[(v + r) % variants.size()];
        Phases scratch;
        step(r + 1, r == 0 ? scratch : phases[name]);  // repetition 0 warms up
      }
    std::printf(
        "%s (%lld params), K = %d, batch %d, %d thread(s), medians of %d (CPU ms per step)\n",
        spec.str().c_str(), static_cast<long long>(spec.num_params()), members, batch, threads,
        reps);
    std::printf("%-50s %8s %8s %8s %8s %8s %7s\n", "variant", "forward", "loss", "backward",
                "optim", "total", "ratio");
    std::vector<double> totals;
    for (auto& [name, step] : variants) {
      const auto& ph = phases[name];
      std::vector<double> total;
      for (size_t i = 0; i < ph.forward.size(); ++i)
        total.push_back(ph.forward[i] + ph.loss[i] + ph.backward[i] + ph.optimizer[i]);
      totals.push_back(median(total));
      std::printf("%-50s %8.1f %8.1f %8.1f %8.1f %8.1f %6.2fx\n", name.c_str(),
                  1e3 * median(ph.forward), 1e3 * median(ph.loss), 1e3 * median(ph.backward),
                  1e3 * median(ph.optimizer), 1e3 * totals.back(), totals.back() / totals[0]);
    }
    std::printf(
        "(ratio: total time / the default's; per-repetition ratio of before to default: "
        "median ");
    {
      const auto &a = phases[variants[0].first], &b = phases[variants[1].first];
      std::vector<double> ratio;
      for (size_t i = 0; i < a.forward.size(); ++i)
        ratio.push_back((b.forward[i] + b.loss[i] + b.backward[i] + b.optimizer[i]) /
                        (a.forward[i] + a.loss[i] + a.backward[i] + a.optimizer[i]));
      std::printf("%.2fx)\n", median(ratio));
    }
    for (int i = 0; i < 2 && profile > 0; ++i) {
      std::printf("\n%s\n", variants[i].first.c_str());
      int64_t step = reps + 2;
      print_profile(
          [&] {
            Phases scratch;
            variants[i].second(step++, scratch);
          },
          profile);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "group_step: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
