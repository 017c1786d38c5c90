// `ppgkd pretrain --data DIRS --model SPEC|RUNG --out DIR [...]`: supervised pre-training on every
// labelled dataset given (a comma-separated list of roots) mixed with an on-the-fly synthetic
// stream, optionally plus NT-Xent (--ssl-weight). The result is a model directory that
// `ppgkd train --init` starts from. The work is in train/pretrain.h; this file wires options to it.
#include "train/pretrain.h"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/train_options.h"
#include "common/error.h"
#include "data/cache.h"
#include "train/data_parallel.h"
#include "train/folds.h"
#include "train/init_from.h"
#include "train/interrupt.h"
#include "train/model_dir.h"

namespace ppgkd::cli {

namespace {

struct PretrainCliOptions {
  std::string data, model, out, cache, inputs = "ppg+acc", init;
  std::string dist_store = "tcp:127.0.0.1:29517";
  bool resume = false;
  uint64_t synthetic_seed = 0;  // 0: --seed
  PretrainOptions p;
};

void run_pretrain(PretrainCliOptions o) {
  install_interrupt_handlers();
  if (o.synthetic_seed == 0) o.synthetic_seed = o.p.cfg.seed;
  o.p.stream.seed = o.synthetic_seed;
  o.p.validate();
  int rank = 0, world = 1;  // under mpirun: one data-parallel rank per process
  rank_from_env(&rank, &world);
  o.p.check_ranks(world);
  std::unique_ptr<DataParallel> dp;
  if (world > 1) dp = std::make_unique<DataParallel>(rank, world, o.dist_store);
  const std::string state_dir = rank == 0 ? o.out : o.out + "/rank-" + std::to_string(rank);
  PreprocessConfig pp;
  pp.inputs = o.inputs;
  pp.validate();
  const auto spec = ModelSpec::parse(resolve_spec(o.model), pp.channels(), pp.length());
  CacheInfo info;
  const WindowSet ws = load_windows(o.data, pp, o.cache, &info);
  std::vector<std::string> fit, val;
  split_validation(ws.subjects(), o.p.cfg.val_fraction, o.p.cfg.seed, &fit, &val);
  const auto fit_rows = ws.rows_of_subjects(fit), val_rows = ws.rows_of_subjects(val);
  if (rank == 0)
    std::fprintf(stderr,
                 "pretrain: %zu labelled fit / %zu val windows; %d labelled + %d synthetic a step; "
                 "%s (%lld params)\n",
                 fit_rows.size(), val_rows.size(), o.p.real_per_batch(), o.p.synthetic_per_batch(),
                 spec.str().c_str(), static_cast<long long>(spec.num_params()));

  auto net = init_model(spec, o.p.cfg.seed);
  nlohmann::json extra = nlohmann::json::object();
  if (!o.init.empty()) {
    const auto init = init_from_model_dir(o.init, *net);
    extra["init"] = init.to_json();
  }
  const auto res = pretrain(*net, ws, fit_rows, val_rows, pp, o.p, state_dir, o.resume, {},
                            rank == 0 ? "pretrain" : "", dp.get());
  if (rank != 0) return;  // rank 0 writes the model dir
  const auto& g = res.synthetic;
  std::fprintf(stderr,
               "synthetic: %lld windows seen by training; generated %llu windows in %.1f s of "
               "generator time = %.0f windows/s; training waited %.1f s for it\n",
               static_cast<long long>(res.synthetic_windows_seen),
               static_cast<unsigned long long>(g.windows), g.generate_seconds,
               g.windows_per_second(), g.wait_seconds);

  ModelRecord rec;
  rec.training = res.cfg.to_json();
  rec.training["threads"] = res.cfg.threads;
  rec.training["pretrain"] = o.p.to_json();
  rec.data_root = o.data;
  rec.data_fingerprint = info.fingerprint;
  rec.train_subjects = fit;
  rec.val_subjects = val;
  rec.split = "none";
  rec.metrics = {{"best_val_mae_bpm", res.train.best_val_mae},
                 {"best_epoch", res.train.best_epoch},
                 {"stopped_early", res.train.stopped_early},
                 {"train_windows_per_second", res.train.windows_per_second}};
  rec.history = res.train.history_json();
  extra["pretrain"] = {{"steps", res.steps},
                       {"synthetic_windows_seen", res.synthetic_windows_seen},
                       {"synthetic_windows_per_second", g.windows_per_second()},
                       {"synthetic_wait_seconds", g.wait_seconds}};
  extra["pretrain"]["ranks"] = world;
  rec.extra = extra;
  save_model_dir(o.out, *net, pp, rec);
  std::printf("pretrain: %lld steps, %lld synthetic windows, best val MAE %.2f at epoch %d -> %s\n",
              static_cast<long long>(res.steps), static_cast<long long>(res.synthetic_windows_seen),
              res.train.best_val_mae, res.train.best_epoch + 1, o.out.c_str());
}

}  // namespace

void setup_pretrain(CLI::App& app) {
  auto o = std::make_shared<PretrainCliOptions>();
  auto* sub = app.add_subcommand(
      "pretrain", "Pre-train on labelled datasets plus an on-the-fly synthetic stream");
  sub->add_option("--data", o->data, "Labelled dataset roots, comma-separated")->required();
  sub->add_option("--model", o->model, "Model spec or ladder rung (see `ppgkd models`)")
      ->required();
  sub->add_option("--out", o->out, "Output model directory")->required();
  sub->add_option("--cache", o->cache, "Window cache directory (none: no cache)");
  sub->add_option("--inputs", o->inputs, "Input channels")
      ->check(CLI::IsMember({"ppg", "ppg+acc"}))
      ->capture_default_str();
  add_train_config_options(sub, o->p.cfg);
  auto& p = o->p;
  sub->add_option("--steps", p.steps,
                  "Run length in steps (rounded up to whole epochs; 0: --epochs)")
      ->capture_default_str();
  sub->add_option("--synthetic-windows", p.synthetic_windows,
                  "Run until training has seen this many distinct synthetic windows (when "
                  "--steps is 0)")
      ->capture_default_str();
  sub->add_option("--synthetic-share", p.synthetic_share, "Share of each batch that is synthetic")
      ->check(CLI::Range(0.0, 0.99))
      ->capture_default_str();
  sub->add_option("--synthetic-seed", o->synthetic_seed, "Seed of the synthetic stream (0: --seed)")
      ->capture_default_str();
  sub->add_option("--synthetic-recordings", p.stream.recordings_per_chunk,
                  "Synthetic recordings generated per chunk")
      ->capture_default_str();
  sub->add_option("--synthetic-duration", p.stream.duration_s, "Seconds per synthetic recording")
      ->capture_default_str();
  sub->add_option("--prefetch", p.prefetch_chunks,
                  "Synthetic chunks generated ahead in a background thread (0: inline)")
      ->capture_default_str();
  sub->add_option("--checkpoint-every", p.checkpoint_every, "Checkpoint every N steps (0: epochs)")
      ->capture_default_str();
  sub->add_option("--ssl-weight", p.ssl_weight, "Weight of the NT-Xent contrastive loss (0: off)")
      ->capture_default_str();
  sub->add_option("--ssl-temperature", p.ssl_temperature, "NT-Xent temperature")
      ->capture_default_str();
  sub->add_option("--init", o->init, "Start from the weights of this model dir");
  sub->add_option("--dist-store", o->dist_store,
                  "Under mpirun: rendezvous store, tcp:HOST:PORT (rank 0 serves) or file:PATH")
      ->capture_default_str();
  sub->add_flag("--resume", o->resume, "Continue from OUT's checkpoint");
  sub->callback([o] { run_pretrain(*o); });
}

}  // namespace ppgkd::cli
