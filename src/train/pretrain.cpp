// Pre-training as train_model hooks (see pretrain.h): the stream's windows join each batch through
// TrainHooks::extra_windows, the contrastive term through TrainHooks::loss, its projection head
// through extra_modules (so checkpoints carry it), and the stream config through the run identity.
#include "train/pretrain.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdio>

#include "common/error.h"
#include "data/dsp/class_map.h"
#include "train/data_parallel.h"
#include "train/folds.h"
#include "train/ssl.h"

namespace ppgkd {

namespace F = torch::nn::functional;

int PretrainOptions::real_per_batch() const {
  return std::max(1, static_cast<int>(std::lround(cfg.batch * (1 - synthetic_share))));
}
int PretrainOptions::synthetic_per_batch() const {
  return std::max(0, cfg.batch - real_per_batch());
}

nlohmann::json PretrainOptions::to_json() const {
  return {{"synthetic_share", synthetic_share},
          {"real_per_batch", real_per_batch()},
          {"synthetic_per_batch", synthetic_per_batch()},
          {"stream", stream.to_json()},
          {"steps", steps},
          {"synthetic_windows", synthetic_windows},
          {"ssl_weight", ssl_weight},
          {"ssl_temperature", ssl_temperature},
          {"ssl_projection", ssl_projection}};
}

void PretrainOptions::validate() const {
  auto bad = [](const std::string& what) { throw Error("pretrain", what); };
  cfg.validate();
  stream.validate();
  if (!(synthetic_share >= 0 && synthetic_share < 1))
    bad(fmt::format("synthetic share must be in [0, 1), got {}", synthetic_share));
  if (steps < 0) bad(fmt::format("steps must be >= 0, got {}", steps));
  if (synthetic_windows < 0)
    bad(fmt::format("synthetic windows must be >= 0, got {}", synthetic_windows));
  if (synthetic_windows > 0 && synthetic_per_batch() == 0)
    bad("--synthetic-windows needs a synthetic share that leaves synthetic windows in a batch");
  if (checkpoint_every < 0)
    bad(fmt::format("checkpoint_every must be >= 0, got {}", checkpoint_every));
  if (!(ssl_weight >= 0)) bad(fmt::format("ssl weight must be >= 0, got {}", ssl_weight));
  if (!(ssl_temperature > 0))
    bad(fmt::format("ssl temperature must be > 0, got {}", ssl_temperature));
  if (ssl_projection < 1) bad(fmt::format("ssl projection must be >= 1, got {}", ssl_projection));
}

void PretrainOptions::check_ranks(int ranks) const {
  if (real_per_batch() % ranks != 0 || synthetic_per_batch() % ranks != 0)
    throw Error("pretrain", fmt::format("{} labelled and {} synthetic windows a step do not divide "
                                        "among {} ranks",
                                        real_per_batch(), synthetic_per_batch(), ranks));
}

PretrainResult pretrain(NetImpl& net, const WindowSet& ws, const std::vector<size_t>& fit_rows,
                        const std::vector<size_t>& val_rows, const PreprocessConfig& pp,
                        const PretrainOptions& o, const std::string& state_dir, bool resume,
                        const std::function<void(int64_t)>& on_step,
                        const std::string& progress_label, DataParallel* dp) {
  o.validate();
  if (fit_rows.empty()) throw Error("pretrain", "no labelled training windows");
  if (pp.channels() != ws.channels || pp.length() != ws.length)
    throw Error("pretrain", fmt::format("the stream's windows (C={}, L={}) differ from the data's "
                                        "(C={}, L={})",
                                        pp.channels(), pp.length(), ws.channels, ws.length));
  PretrainResult res;
  res.cfg = o.cfg;
  res.cfg.batch = o.real_per_batch();
  const int syn = o.synthetic_per_batch();
  const int64_t spe = static_cast<int64_t>((fit_rows.size() + res.cfg.batch - 1) / res.cfg.batch);
  int64_t want_steps = o.steps;
  if (want_steps == 0 && o.synthetic_windows > 0)
    want_steps = (o.synthetic_windows + syn - 1) / syn;
  if (want_steps > 0) res.cfg.epochs = static_cast<int>((want_steps + spe - 1) / spe);
  res.steps = spe * res.cfg.epochs;

  const int world = dp ? dp->world() : 1, rank = dp ? dp->rank() : 0;
  o.check_ranks(world);
  const int syn_here = syn / world;  // this rank's synthetic windows a step

  SyntheticStream stream(o.stream, pp, syn > 0 ? o.prefetch_chunks : 0);
  int64_t current_step = 0;  // the step being taken (the loss hook has no step argument)
  TrainHooks hooks;
  hooks.progress_label = progress_label;
  hooks.on_step = on_step;
  hooks.checkpoint_every = o.checkpoint_every;
  hooks.identity = {{"pretrain", o.to_json()}};
  if (dp) {
    hooks.identity["ranks"] = world;
    hooks.shard_rank = rank;
    hooks.shard_count = world;
  }
  hooks.extra_windows = [&](int64_t step) -> std::pair<torch::Tensor, torch::Tensor> {
    current_step = step;
    if (syn_here == 0) return {};
    auto x = torch::empty({syn_here, ws.channels, ws.length}, torch::kFloat32);
    std::vector<float> hr(syn_here);
    stream.get(static_cast<uint64_t>(step) * syn + static_cast<uint64_t>(rank) * syn_here, syn_here,
               x.data_ptr<float>(), hr.data());
    std::vector<int64_t> cls(syn_here);
    for (int i = 0; i < syn_here; ++i) cls[i] = bpm_to_class(hr[i]);
    return {x, torch::tensor(cls, torch::kInt64)};
  };
  ProjectionHead proj{nullptr};
  if (o.ssl_weight > 0) {
    torch::manual_seed(derive_seed(o.cfg.seed, 0x70726f6aull));  // the head's own init
    proj = ProjectionHead(embedding_dim(net.spec()), o.ssl_projection);
    hooks.extra_modules.push_back(proj.ptr());
    const uint64_t seed = o.cfg.seed;
    const double smoothing = o.cfg.label_smoothing, w = o.ssl_weight, T = o.ssl_temperature;
    hooks.loss = [&, seed, smoothing, w, T](NetImpl& m, const torch::Tensor& x,
                                            const torch::Tensor& y, const torch::Tensor&, int) {
      auto v1 = ssl_view(x, derive_seed(seed ^ 0x73736c31ull, current_step));
      auto v2 = ssl_view(x, derive_seed(seed ^ 0x73736c32ull, current_step));
      auto o1 = m.forward_with_feature(v1, -1), o2 = m.forward_with_feature(v2, -1);
      auto ce =
          F::cross_entropy(o1.logits, y, F::CrossEntropyFuncOptions().label_smoothing(smoothing));
      auto ssl =
          nt_xent_loss(proj(pool_embedding(o1.feature)), proj(pool_embedding(o2.feature)), T);
      return ce + w * ssl;
    };
  }
  if (dp) {
    hooks.after_backward = [&] {
      auto params = net.parameters();
      if (proj) {
        auto more = proj->parameters();
        params.insert(params.end(), more.begin(), more.end());
      }
      dp->average_gradients(params);
    };
  }
  res.train = train_model(net, ws, fit_rows, val_rows, res.cfg, state_dir, resume, hooks);
  res.steps = spe * static_cast<int64_t>(res.train.history.size());  // less if it stopped early
  res.synthetic_windows_seen = res.steps * syn;
  res.synthetic = stream.stats();
  return res;
}

}  // namespace ppgkd
