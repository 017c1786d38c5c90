// Supervised training, read top to bottom: config, learning-rate schedule, augmentation, one
// epoch of steps, evaluation, and the driver that adds checkpoints, early stopping and resumption.
//
// Determinism: weights come from init_model(spec, seed); epoch e visits the rows in
// permutation(derive_seed(seed, e)); step t augments with a generator seeded from (seed, t). All
// randomness is therefore a function of (seed, epoch, step), which is what lets a run resumed at
// any step reproduce an uninterrupted one exactly (at 1 thread; more threads may reorder float
// reductions).
#include "train/trainer.h"

#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <filesystem>

#include "common/error.h"
#include "common/hash.h"
#include "common/progress.h"
#include "data/dsp/class_map.h"
#include "train/augment.h"
#include "train/checkpoint.h"
#include "train/epoch_log.h"
#include "train/folds.h"
#include "train/inference.h"
#include "train/interrupt.h"
#include "train/losses.h"
#include "train/metrics.h"
#include "train/run_state.h"

namespace ppgkd {

namespace F = torch::nn::functional;

// ------------------------------------------------------------------------------- config

nlohmann::json TrainConfig::to_json() const {
  return {{"epochs", epochs},
          {"batch", batch},
          {"lr", lr},
          {"weight_decay", weight_decay},
          {"warmup_epochs", warmup_epochs},
          {"min_lr_ratio", min_lr_ratio},
          {"label_smoothing", label_smoothing},
          {"label_sigma", label_sigma},
          {"hr_balance", hr_balance},
          {"augment", augment},
          {"motion_augment", motion_augment},
          {"motion_prob", motion_prob},
          {"harmonic_prob", harmonic_prob},
          {"patience", patience},
          {"val_fraction", val_fraction},
          {"seed", seed}};
}

TrainConfig TrainConfig::from_json(const nlohmann::json& j) {
  TrainConfig c;
  c.epochs = j.value("epochs", c.epochs);
  c.batch = j.value("batch", c.batch);
  c.lr = j.value("lr", c.lr);
  c.weight_decay = j.value("weight_decay", c.weight_decay);
  c.warmup_epochs = j.value("warmup_epochs", c.warmup_epochs);
  c.min_lr_ratio = j.value("min_lr_ratio", c.min_lr_ratio);
  c.label_smoothing = j.value("label_smoothing", c.label_smoothing);
  c.label_sigma = j.value("label_sigma", c.label_sigma);
  c.hr_balance = j.value("hr_balance", c.hr_balance);
  c.augment = j.value("augment", c.augment);
  c.motion_augment = j.value("motion_augment", c.motion_augment);
  c.motion_prob = j.value("motion_prob", c.motion_prob);
  c.harmonic_prob = j.value("harmonic_prob", c.harmonic_prob);
  c.patience = j.value("patience", c.patience);
  c.val_fraction = j.value("val_fraction", c.val_fraction);
  c.seed = j.value("seed", c.seed);
  c.validate();
  return c;
}

void TrainConfig::validate() const {
  auto bad = [](const std::string& what) { throw Error("train config", what); };
  if (epochs < 1) bad(fmt::format("epochs must be >= 1, got {}", epochs));
  if (batch < 1) bad(fmt::format("batch must be >= 1, got {}", batch));
  // inf would pass "> 0" and train nothing but NaN.
  if (!(std::isfinite(lr) && lr > 0)) bad(fmt::format("lr must be finite and > 0, got {}", lr));
  if (!(std::isfinite(weight_decay) && weight_decay >= 0))
    bad(fmt::format("weight_decay must be finite and >= 0, got {}", weight_decay));
  if (!(std::isfinite(warmup_epochs) && warmup_epochs >= 0))
    bad(fmt::format("warmup_epochs must be finite and >= 0, got {}", warmup_epochs));
  if (!(min_lr_ratio >= 0 && min_lr_ratio <= 1))
    bad(fmt::format("min_lr_ratio must be in [0, 1], got {}", min_lr_ratio));
  if (!(label_smoothing >= 0 && label_smoothing < 1))
    bad(fmt::format("label_smoothing must be in [0, 1), got {}", label_smoothing));
  if (!(label_sigma >= 0 && label_sigma <= 30))
    bad(fmt::format("label_sigma must be in [0, 30] BPM, got {}", label_sigma));
  if (!(hr_balance >= 0 && hr_balance <= 1))
    bad(fmt::format("hr_balance must be in [0, 1], got {}", hr_balance));
  if (hr_balance > 0 && label_sigma > 0)
    bad("hr_balance and label_sigma cannot be combined (the class weights apply to one-hot "
        "labels)");
  check_motion_mode(motion_augment);
  if (!(motion_prob >= 0 && motion_prob <= 1))
    bad(fmt::format("motion_prob must be in [0, 1], got {}", motion_prob));
  if (!(harmonic_prob >= 0 && harmonic_prob <= 1))
    bad(fmt::format("harmonic_prob must be in [0, 1], got {}", harmonic_prob));
  if (patience < 0) bad(fmt::format("patience must be >= 0, got {}", patience));
  if (!(val_fraction >= 0 && val_fraction < 1))
    bad(fmt::format("val_fraction must be in [0, 1), got {}", val_fraction));
  if (threads < 1) bad(fmt::format("threads must be >= 1, got {}", threads));
}

namespace {
// JSON has no NaN: store it as null.
nlohmann::json num(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json();
}
}  // namespace

nlohmann::json TrainResult::history_json() const {
  nlohmann::json h = nlohmann::json::array();
  for (const auto& e : history)
    h.push_back({{"epoch", e.epoch},
                 {"train_loss", num(e.train_loss)},
                 {"val_mae", num(e.val_mae)},
                 {"lr", e.lr},
                 {"seconds", e.seconds}});
  return h;
}

// ------------------------------------------------------------------------------- augmentation

torch::Tensor augment_batch(const torch::Tensor& x, const TrainConfig& cfg, double fs,
                            int64_t step) {
  auto out = cfg.augment ? augment_basic(x, derive_seed(cfg.seed ^ 0x617567ull, step)) : x;
  out = augment_harmonic(out, cfg.harmonic_prob, derive_seed(cfg.seed ^ 0x686172ull, step));
  return augment_motion(out, cfg.motion_augment, cfg.motion_prob, fs,
                        derive_seed(cfg.seed ^ 0x6d6f74ull, step));
}

// ------------------------------------------------------------------------------- schedule

double lr_at(const TrainConfig& cfg, int64_t t, int64_t total, int64_t steps_per_epoch) {
  const int64_t warm = std::llround(cfg.warmup_epochs * steps_per_epoch);
  // Warm-up starts at lr/warm rather than 0 so the first step is not wasted.
  if (t < warm) return cfg.lr * double(t + 1) / double(warm);
  const double span = std::max<int64_t>(1, total - warm - 1);
  const double progress = std::min(1.0, double(t - warm) / span);
  const double floor = cfg.lr * cfg.min_lr_ratio;
  return floor + (cfg.lr - floor) * 0.5 * (1.0 + std::cos(M_PI * progress));
}

// ------------------------------------------------------------------------------- evaluation

double evaluate_mae(NetImpl& net, const WindowSet& ws, const std::vector<size_t>& rows, int batch) {
  const auto bpm = predict_bpm(net, ws, rows, batch);
  std::vector<WindowEstimate> est(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& rec = ws.recordings.at(ws.recording.at(rows[i]));
    est[i] = {bpm[i], ws.hr[rows[i]], rec.subject, rec.dataset};
  }
  return compute_metrics(est).mae_bpm;
}

// ------------------------------------------------------------------------------- one epoch

namespace {

// Everything a run carries between steps; it is exactly what a checkpoint stores.

struct Run {
  NetImpl& net;
  const WindowSet& ws;
  const std::vector<size_t>& fit_rows;
  const TrainConfig& cfg;
  const TrainHooks& hooks;
  torch::optim::AdamW& opt;
  torch::Tensor class_weights;  // of the cross-entropy; undefined unless cfg.hr_balance > 0
  int64_t steps_per_epoch, total_steps;
  std::string ckpt_path;
  std::function<void()> checkpoint;  // writes RunState atomically
  Progress* progress;
  double train_seconds = 0;
  int64_t windows_seen = 0;
  int64_t saved_step = -1;  // global step of the last checkpoint written or resumed (-1: none)
};

// The error that ends a diverged run. Nothing non-finite is ever saved, so the checkpoint on disk
// (if any) is the last good state.
Error diverged(const Run& r, const std::string& what) {
  return Error(r.ckpt_path,
               fmt::format("training diverged: {}; {} (a lower --lr may help)", what,
                           r.saved_step < 0 ? std::string("no checkpoint had been saved")
                                            : fmt::format("the last good checkpoint (after step "
                                                          "{}) is kept",
                                                          r.saved_step)));
}

// True when every parameter and floating-point buffer of the modules is finite.
bool all_finite(const std::vector<std::shared_ptr<torch::nn::Module>>& modules) {
  torch::NoGradGuard no_grad;
  for (const auto& m : modules) {
    for (const auto& p : m->parameters())
      if (!torch::isfinite(p).all().item<bool>()) return false;
    for (const auto& b : m->buffers())
      if (b.is_floating_point() && !torch::isfinite(b).all().item<bool>()) return false;
  }
  return true;
}

// Steps [st.step, steps_per_epoch) of epoch st.epoch. Checks for an interrupt after every step.
void train_epoch(Run& r, RunState& st) {
  const auto order = permutation(r.fit_rows.size(), derive_seed(r.cfg.seed, st.epoch));
  r.net.train();
  for (; st.step < r.steps_per_epoch; ++st.step) {
    auto t0 = std::chrono::steady_clock::now();
    const size_t lo = st.step * r.cfg.batch;
    const size_t hi = std::min(r.fit_rows.size(), lo + r.cfg.batch);
    std::vector<size_t> rows(hi - lo);
    for (size_t i = lo; i < hi; ++i) rows[i - lo] = r.fit_rows[order[i]];
    if (r.hooks.shard_count > 1) {  // data parallelism: this rank's contiguous slice
      const size_t n = rows.size(), k = r.hooks.shard_count, i = r.hooks.shard_rank;
      rows = std::vector<size_t>(rows.begin() + n * i / k, rows.begin() + n * (i + 1) / k);
    }
    auto x = gather_windows(r.ws, rows);  // (B, C, L)
    auto y = gather_targets(r.ws, rows);  // (B)
    // Extra windows go after the rows: (B + E, C, L), (B + E).
    if (r.hooks.extra_windows) {
      auto [xe, ye] = r.hooks.extra_windows(st.global_step);
      if (xe.defined() && xe.size(0) > 0) x = torch::cat({x, xe}), y = torch::cat({y, ye});
    }
    x = augment_batch(x, r.cfg, r.ws.length / kWindowSeconds, st.global_step);

    const double lr = lr_at(r.cfg, st.global_step, r.total_steps, r.steps_per_epoch);
    for (auto& g : r.opt.param_groups())
      static_cast<torch::optim::AdamWOptions&>(g.options()).lr(lr);

    torch::Tensor loss;
    if (r.hooks.loss) {
      std::vector<int64_t> row_ids(rows.begin(), rows.end());
      row_ids.resize(static_cast<size_t>(x.size(0)), -1);  // extra windows have no row
      auto row_t = torch::tensor(row_ids, torch::kInt64);
      loss = r.hooks.loss(r.net, x, y, row_t, st.epoch);
    } else if (r.class_weights.defined()) {
      auto options = F::CrossEntropyFuncOptions().label_smoothing(r.cfg.label_smoothing);
      loss = F::cross_entropy(r.net.forward(x), y, options.weight(r.class_weights));
    } else {
      loss = gaussian_label_ce(r.net.forward(x), y, r.cfg.label_sigma, r.cfg.label_smoothing);
    }
    // A non-finite loss would make every weight NaN at this step: stop before it is applied.
    const double loss_value = loss.item<double>();
    if (!std::isfinite(loss_value))
      throw diverged(r, fmt::format("the loss is {} at epoch {} step {}", loss_value, st.epoch + 1,
                                    st.step + 1));
    r.opt.zero_grad();
    loss.backward();
    if (r.hooks.after_backward) r.hooks.after_backward();
    r.opt.step();

    st.loss_sum += loss_value;
    st.loss_batches += 1;
    st.global_step += 1;
    r.windows_seen += x.size(0);
    r.train_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (r.progress) {
      std::string val = st.history.empty() || !std::isfinite(st.history.back().val_mae)
                            ? ""
                            : fmt::format(" val {:.2f}", st.history.back().val_mae);
      r.progress->update(st.global_step,
                         fmt::format("ep {}/{} loss {:.3f}{}", st.epoch + 1, r.cfg.epochs,
                                     st.loss_sum / st.loss_batches, val));
    }
    if (r.hooks.on_step) r.hooks.on_step(st.global_step);
    // Periodic checkpoints mid-epoch (the epoch's end checkpoints anyway), stored with this step
    // done, like an interrupt's.
    if (r.hooks.checkpoint_every > 0 && st.global_step % r.hooks.checkpoint_every == 0 &&
        st.step + 1 < r.steps_per_epoch) {
      st.step += 1;
      r.checkpoint();
      st.step -= 1;
    }
    if (interrupt_requested()) {
      st.step += 1;  // this step is done
      r.checkpoint();
      throw Interrupted(r.ckpt_path,
                        fmt::format("interrupted at epoch {} step {}; checkpoint saved, continue "
                                    "with --resume",
                                    st.epoch + 1, st.step),
                        interrupt_signal());
    }
  }
}

// ------------------------------------------------------------------------------- state I/O

// What must be equal for a checkpoint to belong to this run.
nlohmann::json run_identity(const NetImpl& net, const TrainConfig& cfg,
                            const std::vector<size_t>& fit, const std::vector<size_t>& val,
                            const WindowSet& ws) {
  Hasher h;
  for (size_t r : fit) h.update(&r, sizeof r);
  h.update("|");
  for (size_t r : val) h.update(&r, sizeof r);
  h.update(ws.hr.data(), ws.hr.size() * sizeof(float));
  return {{"spec", net.spec().str()}, {"config", cfg.to_json()}, {"rows", h.hex()}};
}

void check_identity(const std::string& path, const nlohmann::json& saved,
                    const nlohmann::json& now) {
  if (saved == now) return;
  for (const auto& key : {"spec", "rows", "extra"})
    if (saved.value(key, nlohmann::json()) != now.value(key, nlohmann::json()))
      throw Error(path, fmt::format("checkpoint belongs to a different run: {} was {} but is now "
                                    "{}",
                                    key, saved.value(key, nlohmann::json()).dump(),
                                    now.value(key, nlohmann::json()).dump()));
  for (const auto& [key, value] : now.at("config").items()) {
    auto old = saved.at("config").value(key, nlohmann::json());
    if (old != value)
      throw Error(path, fmt::format("checkpoint belongs to a different run: {} was {} but is now "
                                    "{}",
                                    key, old.dump(), value.dump()));
  }
  throw Error(path, "checkpoint belongs to a different run");
}

}  // namespace

// ------------------------------------------------------------------------------- the driver

Net init_model(const ModelSpec& spec, uint64_t seed) {
  if (spec.is_ensemble())
    throw Error(spec.str(),
                "an ensemble is not trained as one network: train its members with different "
                "--seed and combine them with `ppgkd ensemble`");
  torch::manual_seed(seed);
  return make_net(spec);
}

TrainResult train_model(NetImpl& net, const WindowSet& ws, const std::vector<size_t>& fit_rows,
                        const std::vector<size_t>& val_rows, const TrainConfig& cfg,
                        const std::string& state_dir, bool resume, const TrainHooks& hooks) {
  cfg.validate();
  if (fit_rows.empty()) throw Error("train", "no training windows");
  torch::set_num_threads(cfg.threads);
  namespace fs = std::filesystem;
  fs::create_directories(state_dir);
  const std::string ckpt_path = state_dir + "/checkpoint.pt";
  const std::string best_path = state_dir + "/best.pt";

  // AdamW: decay the weight matrices and kernels; not biases or BN parameters (dim <= 1), whose
  // decay only pulls normalisation towards zero.
  std::vector<torch::Tensor> decay, no_decay;
  std::vector<std::shared_ptr<torch::nn::Module>> modules = {net.shared_from_this()};
  for (const auto& m : hooks.extra_modules) modules.push_back(m);
  for (const auto& m : modules)
    for (const auto& p : m->parameters()) (p.dim() > 1 ? decay : no_decay).push_back(p);
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(decay,
                      std::make_unique<torch::optim::AdamWOptions>(
                          torch::optim::AdamWOptions(cfg.lr).weight_decay(cfg.weight_decay)));
  groups.emplace_back(no_decay, std::make_unique<torch::optim::AdamWOptions>(
                                    torch::optim::AdamWOptions(cfg.lr).weight_decay(0.0)));
  torch::optim::AdamW opt(std::move(groups));

  auto identity = run_identity(net, cfg, fit_rows, val_rows, ws);
  if (!hooks.identity.is_null()) identity["extra"] = hooks.identity;
  RunState st;
  if (fs::exists(ckpt_path)) {
    if (!resume)
      throw Error(state_dir,
                  "already holds a training checkpoint; pass --resume to continue it "
                  "or choose another output directory");
    auto j = load_checkpoint(ckpt_path, modules, opt);
    check_identity(ckpt_path, j.at("identity"), identity);
    st = run_state_from_json(j);
  }

  Run r{net, ws, fit_rows, cfg, hooks, opt, {}, 0, 0, ckpt_path, {}, nullptr};
  if (cfg.label_sigma > 0 && hooks.loss)
    throw Error("train config",
                "label_sigma shapes the supervised cross-entropy only; this run has its own loss "
                "(distillation, or self-supervised pre-training)");
  if (cfg.hr_balance > 0) {
    if (hooks.loss)
      throw Error("train config",
                  "hr_balance weights the supervised cross-entropy only; this run has its "
                  "own loss (distillation, or self-supervised pre-training)");
    const auto y = gather_targets(ws, fit_rows).contiguous();
    r.class_weights = class_balance_weights(
        std::vector<int64_t>(y.data_ptr<int64_t>(), y.data_ptr<int64_t>() + y.numel()), kNumClasses,
        cfg.hr_balance);
  }
  r.steps_per_epoch = static_cast<int64_t>((fit_rows.size() + cfg.batch - 1) / cfg.batch);
  r.total_steps = r.steps_per_epoch * cfg.epochs;
  if (fs::exists(ckpt_path)) r.saved_step = st.global_step;
  r.checkpoint = [&] {
    if (!all_finite(modules))
      throw diverged(
          r, fmt::format("the weights are not finite at epoch {} step {}", st.epoch + 1, st.step));
    save_checkpoint(ckpt_path, modules, opt, run_state_to_json(st, identity));
    r.saved_step = st.global_step;
  };
  // Lines for the epochs the checkpoint holds, then one per epoch once it is checkpointed.
  EpochLog epoch_log(state_dir + "/" + kEpochLogName, cfg.epochs, st.history);
  std::unique_ptr<Progress> progress;
  if (!hooks.progress_label.empty() && !st.finished) {
    progress = std::make_unique<Progress>(hooks.progress_label, r.total_steps);
    r.progress = progress.get();
  }

  while (!st.finished) {
    auto t0 = std::chrono::steady_clock::now();
    train_epoch(r, st);
    // Finite losses can still leave non-finite weights (an overflowing step): never evaluate,
    // keep or checkpoint them.
    if (!all_finite(modules))
      throw diverged(r, fmt::format("the weights are not finite after epoch {}", st.epoch + 1));
    EpochRecord rec;
    rec.epoch = st.epoch;
    rec.train_loss = st.loss_sum / std::max<int64_t>(1, st.loss_batches);
    rec.lr = lr_at(cfg, st.global_step - 1, r.total_steps, r.steps_per_epoch);
    if (!val_rows.empty()) {
      rec.val_mae = evaluate_mae(net, ws, val_rows, std::max(cfg.batch, 256));
      // Early stopping keeps the weights of the best validation epoch.
      if (st.best_epoch < 0 || rec.val_mae < st.best_val_mae) {
        st.best_val_mae = rec.val_mae;
        st.best_epoch = st.epoch;
        st.bad_epochs = 0;
        save_weights(best_path, net);
      } else {
        st.bad_epochs += 1;
      }
    }
    rec.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    st.history.push_back(rec);
    st.epoch += 1;
    st.step = 0;
    st.loss_sum = 0;
    st.loss_batches = 0;
    st.stopped_early = !val_rows.empty() && cfg.patience > 0 && st.bad_epochs >= cfg.patience &&
                       st.epoch < cfg.epochs;
    if (st.epoch >= cfg.epochs || st.stopped_early) {
      if (val_rows.empty()) {
        st.best_epoch = st.epoch - 1;
        save_weights(best_path, net);
      }
      st.finished = true;
    }
    r.checkpoint();
    epoch_log.append(st.history.back());
  }
  if (progress)
    progress->finish(fmt::format("best epoch {} val {:.2f}", st.best_epoch + 1, st.best_val_mae));

  load_weights(best_path, net);
  TrainResult res;
  res.history = st.history;
  res.best_epoch = st.best_epoch;
  res.best_val_mae = st.best_val_mae;
  res.stopped_early = st.stopped_early;
  res.windows_per_second = r.train_seconds > 0 ? r.windows_seen / r.train_seconds : 0;
  return res;
}

}  // namespace ppgkd
