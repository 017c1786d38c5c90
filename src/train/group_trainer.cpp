// Grouped training, read top to bottom: per-member state, the grouped AdamW, one tick (every
// active member's next step, members with equal batch sizes in one grouped pass), the end of a
// member's epoch (grouped validation, early stopping, checkpoint), member checkpoints, and the
// driver. The per-member arithmetic is trainer.cpp's (see group_trainer.h for why it matches).
#include "train/group_trainer.h"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/hash.h"
#include "common/progress.h"
#include "train/checkpoint.h"
#include "train/epoch_log.h"
#include "train/folds.h"
#include "train/group_adamw.h"
#include "train/group_net.h"
#include "train/inference.h"
#include "train/interrupt.h"
#include "train/losses.h"
#include "train/metrics.h"
#include "train/run_state.h"

namespace ppgkd {

namespace fs = std::filesystem;
namespace F = torch::nn::functional;
using Clock = std::chrono::steady_clock;

namespace {

// ------------------------------------------------------------------------------- member state

// A member's view of the grouped outputs: the loss functions of distill.h call
// net.forward_with_feature(x, stage) and get this member's slice.
class SliceNet : public NetImpl {
 public:
  explicit SliceNet(const ModelSpec& s) : NetImpl(s) {}
  ModelOutput forward_with_feature(const torch::Tensor&, int stage) override {
    ModelOutput o;
    o.logits = logits;
    if (stage != kNoFeature) {
      const int n = static_cast<int>(stages.size());
      const int want = stage < 0 ? n + stage : stage;
      if (want < 0 || want >= n)
        throw Error(spec().str(), fmt::format("feature stage {} out of range", stage));
      o.feature = stages[want];
    }
    return o;
  }
  torch::Tensor logits;
  std::vector<torch::Tensor> stages;
};

double nan() {
  return std::numeric_limits<double>::quiet_NaN();
}

// trainer.cpp's run identity (spec, config, rows hash), so a member's checkpoint is recognised by
// the same facts as a single run's.
nlohmann::json member_identity(const ModelSpec& spec, const GroupMember& m, const WindowSet& ws) {
  Hasher h;
  for (size_t r : m.fit_rows) h.update(&r, sizeof r);
  h.update("|");
  for (size_t r : m.val_rows) h.update(&r, sizeof r);
  h.update(ws.hr.data(), ws.hr.size() * sizeof(float));
  nlohmann::json id = {{"spec", spec.str()}, {"config", m.cfg.to_json()}, {"rows", h.hex()}};
  if (!m.identity.is_null()) id["extra"] = m.identity;
  return id;
}

struct Slot {
  GroupMember* m = nullptr;
  RunState st;
  int64_t steps_per_epoch = 0, total_steps = 0;
  std::vector<size_t> order;
  int order_epoch = -1;
  std::unique_ptr<torch::optim::AdamW> extra_opt;  // null without extra modules
  bool failed = false;
  std::string error;
  nlohmann::json identity;
  std::string ckpt_path, best_path;
  Clock::time_point epoch_start;
  double epoch_seconds = 0;  // this epoch's share of the group's time so far
  int64_t windows = 0;
  bool active() const { return !st.finished && !failed; }
};

// ------------------------------------------------------------------------------- checkpoints

std::string archive_key(const std::string& prefix, const std::string& name) {
  std::string k = prefix + ":" + name;
  for (auto& c : k)
    if (c == '.') c = ':';
  return k;
}

void save_member(const Slot& s, int k, GroupNet& net, GroupAdamW& opt) {
  torch::serialize::OutputArchive ar;
  for (const auto& [name, p] : net.parameters()) {
    ar.write(archive_key("p", name), p[k].detach().clone());
    ar.write(archive_key("m", name), opt.exp_avg().at(name)[k].clone());
    ar.write(archive_key("v", name), opt.exp_avg_sq().at(name)[k].clone());
  }
  for (const auto& [name, b] : net.buffers()) ar.write(archive_key("b", name), b[k].clone(), true);
  for (size_t i = 0; i < s.m->extra_modules.size(); ++i) {
    torch::serialize::OutputArchive sub;
    s.m->extra_modules[i]->save(sub);
    ar.write("module" + std::to_string(i), sub);
  }
  if (s.extra_opt) {
    torch::serialize::OutputArchive sub;
    s.extra_opt->save(sub);
    ar.write("extra_optimizer", sub);
  }
  ar.write("state", c10::IValue(run_state_to_json(s.st, s.identity).dump()));
  std::ostringstream bytes;
  ar.save_to(bytes);
  write_file_atomic(s.ckpt_path, bytes.str());
}

// Restores slot k and returns the saved JSON state.
nlohmann::json load_member(Slot& s, int k, GroupNet& net, GroupAdamW& opt) {
  const std::string bytes = read_file(s.ckpt_path);
  try {
    torch::serialize::InputArchive ar;
    std::istringstream in(bytes);
    ar.load_from(in);
    torch::NoGradGuard no_grad;
    torch::Tensor t;
    for (const auto& [name, p] : net.parameters()) {
      ar.read(archive_key("p", name), t);
      p[k].copy_(t);
      ar.read(archive_key("m", name), t);
      opt.exp_avg().at(name)[k].copy_(t);
      ar.read(archive_key("v", name), t);
      opt.exp_avg_sq().at(name)[k].copy_(t);
    }
    for (auto& [name, b] : net.buffers()) {
      ar.read(archive_key("b", name), t, true);
      b[k].copy_(t);
    }
    for (size_t i = 0; i < s.m->extra_modules.size(); ++i) {
      torch::serialize::InputArchive sub;
      ar.read("module" + std::to_string(i), sub);
      s.m->extra_modules[i]->load(sub);
    }
    if (s.extra_opt) {
      torch::serialize::InputArchive sub;
      ar.read("extra_optimizer", sub);
      s.extra_opt->load(sub);
    }
    c10::IValue state;
    ar.read("state", state);
    return nlohmann::json::parse(state.toStringRef());
  } catch (const c10::Error& e) {
    throw Error(s.ckpt_path, std::string("group checkpoint does not fit this run: ") +
                                 e.what_without_backtrace());
  }
}

// ------------------------------------------------------------------------------- evaluation

// Subject-averaged validation MAE of the members `ks` (sorted) at once: every member sees the
// union of their validation rows in eval mode (per-window outputs, so batch composition does not
// matter) and is scored on its own rows, as evaluate_mae scores a single model.
std::vector<double> evaluate_members(GroupNet& net, const WindowSet& ws,
                                     const std::vector<Slot>& slots, const std::vector<int64_t>& ks,
                                     int batch) {
  std::set<size_t> all;
  for (auto k : ks) all.insert(slots[k].m->val_rows.begin(), slots[k].m->val_rows.end());
  const std::vector<size_t> rows(all.begin(), all.end());
  std::map<size_t, size_t> pos;
  for (size_t i = 0; i < rows.size(); ++i) pos[rows[i]] = i;
  torch::NoGradGuard no_grad;
  std::vector<std::vector<double>> bpm(ks.size());
  const int64_t k = static_cast<int64_t>(ks.size());
  for (size_t start = 0; start < rows.size(); start += batch) {
    std::vector<size_t> chunk(rows.begin() + start,
                              rows.begin() + std::min(rows.size(), start + batch));
    auto x = gather_windows(ws, chunk);  // (n, C, L)
    auto out = net.forward(x.unsqueeze(0).expand({k, x.size(0), x.size(1), x.size(2)}), ks, false);
    for (int64_t j = 0; j < k; ++j) {
      auto b = decode_posteriors(torch::softmax(out.logits[j], 1));
      bpm[j].insert(bpm[j].end(), b.begin(), b.end());
    }
  }
  std::vector<double> mae(ks.size());
  for (size_t j = 0; j < ks.size(); ++j) {
    const auto& vr = slots[ks[j]].m->val_rows;
    std::vector<WindowEstimate> est(vr.size());
    for (size_t i = 0; i < vr.size(); ++i) {
      const auto& rec = ws.recordings.at(ws.recording.at(vr[i]));
      est[i] = {bpm[j][pos.at(vr[i])], ws.hr[vr[i]], rec.subject, rec.dataset};
    }
    mae[j] = compute_metrics(est).mae_bpm;
  }
  return mae;
}

}  // namespace

// ------------------------------------------------------------------------------- the driver

std::vector<GroupMemberResult> train_group(const WindowSet& ws, std::vector<Net>& nets,
                                           std::vector<GroupMember>& members, bool resume,
                                           const GroupHooks& hooks) {
  const int K = static_cast<int>(members.size());
  if (K == 0 || nets.size() != members.size())
    throw Error("group", "needs one initial network per member");
  const ModelSpec spec = nets[0]->spec();
  const int batch = members[0].cfg.batch, threads = members[0].cfg.threads;
  for (int k = 0; k < K; ++k) {
    members[k].cfg.validate();
    if (members[k].cfg.hr_balance > 0)
      throw Error("group", fmt::format("member {}: hr_balance is not supported by grouped "
                                       "training; train it on its own",
                                       k));
    if (members[k].cfg.label_sigma > 0 && members[k].loss)
      throw Error("group", fmt::format("member {}: label_sigma shapes the supervised "
                                       "cross-entropy only; this member has its own loss",
                                       k));
    if (nets[k]->spec() != spec || members[k].cfg.batch != batch ||
        members[k].cfg.threads != threads)
      throw Error("group", fmt::format("member {} ({} batch {} threads {}) cannot share a group "
                                       "with member 0 ({} batch {} threads {})",
                                       k, nets[k]->spec().str(), members[k].cfg.batch,
                                       members[k].cfg.threads, spec.str(), batch, threads));
    if (members[k].fit_rows.empty()) throw Error("group", "member has no training windows");
  }
  torch::set_num_threads(threads);
  GroupNet net(spec, K);
  for (int k = 0; k < K; ++k) net.put(k, *nets[k]);
  GroupAdamW opt(net.parameters());

  std::vector<Slot> slots(K);
  for (int k = 0; k < K; ++k) {
    Slot& s = slots[k];
    GroupMember& m = members[k];
    s.m = &m;
    fs::create_directories(m.state_dir);
    s.ckpt_path = m.state_dir + "/group-checkpoint.pt";
    s.best_path = m.state_dir + "/best.pt";
    s.steps_per_epoch = static_cast<int64_t>((m.fit_rows.size() + batch - 1) / batch);
    s.total_steps = s.steps_per_epoch * m.cfg.epochs;
    s.identity = member_identity(spec, m, ws);
    if (!m.extra_modules.empty()) {
      std::vector<torch::Tensor> decay, no_decay;
      for (const auto& mod : m.extra_modules)
        for (const auto& p : mod->parameters()) (p.dim() > 1 ? decay : no_decay).push_back(p);
      std::vector<torch::optim::OptimizerParamGroup> groups;
      groups.emplace_back(
          decay, std::make_unique<torch::optim::AdamWOptions>(
                     torch::optim::AdamWOptions(m.cfg.lr).weight_decay(m.cfg.weight_decay)));
      groups.emplace_back(no_decay, std::make_unique<torch::optim::AdamWOptions>(
                                        torch::optim::AdamWOptions(m.cfg.lr).weight_decay(0.0)));
      s.extra_opt = std::make_unique<torch::optim::AdamW>(std::move(groups));
    }
    if (fs::exists(s.ckpt_path)) {
      if (!resume)
        throw Error(m.state_dir,
                    "already holds a training checkpoint; pass --resume to continue it or choose "
                    "another output directory");
      auto j = load_member(s, k, net, opt);
      if (j.at("identity") != s.identity)
        throw Error(s.ckpt_path, "checkpoint belongs to a different run (spec, config or rows)");
      s.st = run_state_from_json(j);
    }
  }

  auto checkpoint = [&](int k) { save_member(slots[k], k, net, opt); };
  // Each member's epochs.jsonl: the epochs its checkpoint holds, then one line per checkpointed
  // epoch.
  std::vector<EpochLog> epoch_logs;
  for (const Slot& s : slots)
    epoch_logs.emplace_back(s.m->state_dir + "/" + kEpochLogName, s.m->cfg.epochs, s.st.history);
  int64_t max_steps = 0;
  for (const auto& s : slots) max_steps = std::max(max_steps, s.total_steps - s.st.global_step);
  std::unique_ptr<Progress> progress;
  if (!hooks.progress_label.empty() && max_steps > 0)
    progress = std::make_unique<Progress>(hooks.progress_label, max_steps);

  double train_seconds = 0;
  int64_t tick = 0;
  for (auto& s : slots) s.epoch_start = Clock::now();
  while (true) {
    std::vector<int64_t> act;
    for (int k = 0; k < K; ++k)
      if (slots[k].active()) act.push_back(k);
    if (act.empty()) break;
    const auto t0 = Clock::now();

    // Every active member's batch: its own rows in its own order, augmented with its own seeds.
    struct MemberBatch {
      std::vector<size_t> rows;
      torch::Tensor x, y;
    };
    std::map<int64_t, MemberBatch> mb;
    std::map<int64_t, std::vector<int64_t>> by_size;  // batch size -> members (sorted)
    std::vector<double> lr(K, 0.0);
    for (int64_t k : act) {
      Slot& s = slots[k];
      const auto& cfg = s.m->cfg;
      if (s.order_epoch != s.st.epoch) {
        s.order = permutation(s.m->fit_rows.size(), derive_seed(cfg.seed, s.st.epoch));
        s.order_epoch = s.st.epoch;
      }
      if (s.st.step == 0 && s.st.loss_batches == 0) s.epoch_start = t0, s.epoch_seconds = 0;
      const size_t lo = s.st.step * batch, hi = std::min(s.m->fit_rows.size(), lo + batch);
      MemberBatch b;
      for (size_t i = lo; i < hi; ++i) b.rows.push_back(s.m->fit_rows[s.order[i]]);
      b.x = gather_windows(ws, b.rows);
      b.y = gather_targets(ws, b.rows);
      b.x = augment_batch(b.x, cfg, ws.length / kWindowSeconds, s.st.global_step);
      lr[k] = lr_at(cfg, s.st.global_step, s.total_steps, s.steps_per_epoch);
      by_size[b.x.size(0)].push_back(k);
      mb[k] = std::move(b);
    }

    // Grouped forward per batch size, each member's own loss.
    for (const auto& [name, p] : net.parameters())
      if (p.grad().defined()) p.mutable_grad().zero_();
    for (int64_t k : act)
      if (slots[k].extra_opt) slots[k].extra_opt->zero_grad();
    std::vector<torch::Tensor> terms;
    std::vector<bool> stepping(K, false);
    std::vector<double> loss_value(K, nan());
    for (const auto& [size, ks] : by_size) {
      std::vector<torch::Tensor> xs;
      for (auto k : ks) xs.push_back(mb[k].x);
      auto out = net.forward(torch::stack(xs), ks, true);
      // The members' slices as one unbind each: its backward stacks their gradients in one pass,
      // where a select per member would build a full-size zero gradient per member and sum them.
      const auto logits = out.logits.unbind(0);
      std::vector<std::vector<torch::Tensor>> stages;
      for (const auto& st : out.stages) stages.push_back(st.unbind(0));
      for (size_t j = 0; j < ks.size(); ++j) {
        const int64_t k = ks[j];
        Slot& s = slots[k];
        auto view = std::make_shared<SliceNet>(spec);
        view->logits = logits[j];
        for (const auto& st : stages) view->stages.push_back(st[j]);
        torch::Tensor loss;
        if (s.m->loss) {
          std::vector<int64_t> ids(mb[k].rows.begin(), mb[k].rows.end());
          loss = s.m->loss(*view, mb[k].x, mb[k].y, torch::tensor(ids, torch::kInt64), s.st.epoch);
        } else {
          loss = gaussian_label_ce(view->logits, mb[k].y, s.m->cfg.label_sigma,
                                   s.m->cfg.label_smoothing);
        }
        const double v = loss.item<double>();
        if (!std::isfinite(v)) {  // this member fails alone; its slice is never updated again
          s.failed = true;
          s.error = fmt::format("training loss is not finite ({}) at epoch {} step {}", v,
                                s.st.epoch + 1, s.st.step + 1);
          continue;
        }
        loss_value[k] = v;
        stepping[k] = true;
        terms.push_back(loss);
      }
    }
    if (!terms.empty()) torch::stack(terms).sum().backward();
    std::vector<double> wd(K, 0.0);
    std::vector<int64_t> step(K, 1);
    for (int64_t k : act) {
      wd[k] = slots[k].m->cfg.weight_decay;
      step[k] = slots[k].st.global_step + 1;
    }
    opt.step(net.parameters(), lr, wd, step, stepping);
    for (int64_t k : act) {
      Slot& s = slots[k];
      if (!stepping[k] || !s.extra_opt) continue;
      for (auto& g : s.extra_opt->param_groups())
        static_cast<torch::optim::AdamWOptions&>(g.options()).lr(lr[k]);
      s.extra_opt->step();
    }
    const double dt = std::chrono::duration<double>(Clock::now() - t0).count();
    train_seconds += dt;

    // Bookkeeping; members at the end of an epoch validate together.
    std::vector<int64_t> ending;
    for (int64_t k : act) {
      Slot& s = slots[k];
      if (!stepping[k]) continue;
      s.st.loss_sum += loss_value[k];
      s.st.loss_batches += 1;
      s.st.global_step += 1;
      s.st.step += 1;
      s.windows += mb[k].x.size(0);
      if (s.st.step >= s.steps_per_epoch) ending.push_back(k);
    }
    if (!ending.empty()) {
      std::vector<int64_t> with_val;
      for (auto k : ending)
        if (!slots[k].m->val_rows.empty()) with_val.push_back(k);
      std::vector<double> mae;
      if (!with_val.empty()) mae = evaluate_members(net, ws, slots, with_val, std::max(batch, 256));
      for (auto k : ending) {
        Slot& s = slots[k];
        const auto& cfg = s.m->cfg;
        EpochRecord rec;
        rec.epoch = s.st.epoch;
        rec.train_loss = s.st.loss_sum / std::max<int64_t>(1, s.st.loss_batches);
        rec.lr = lr_at(cfg, s.st.global_step - 1, s.total_steps, s.steps_per_epoch);
        auto it = std::find(with_val.begin(), with_val.end(), k);
        if (it != with_val.end()) {
          rec.val_mae = mae[it - with_val.begin()];
          if (s.st.best_epoch < 0 || rec.val_mae < s.st.best_val_mae) {
            s.st.best_val_mae = rec.val_mae;
            s.st.best_epoch = s.st.epoch;
            s.st.bad_epochs = 0;
            net.take(k, *nets[k]);
            save_weights(s.best_path, *nets[k]);
          } else {
            s.st.bad_epochs += 1;
          }
        }
        rec.seconds = std::chrono::duration<double>(Clock::now() - s.epoch_start).count();
        s.st.history.push_back(rec);
        s.st.epoch += 1;
        s.st.step = 0;
        s.st.loss_sum = 0;
        s.st.loss_batches = 0;
        s.st.stopped_early = !s.m->val_rows.empty() && cfg.patience > 0 &&
                             s.st.bad_epochs >= cfg.patience && s.st.epoch < cfg.epochs;
        if (s.st.epoch >= cfg.epochs || s.st.stopped_early) {
          if (s.m->val_rows.empty()) {
            s.st.best_epoch = s.st.epoch - 1;
            net.take(k, *nets[k]);
            save_weights(s.best_path, *nets[k]);
          }
          s.st.finished = true;
        }
        checkpoint(static_cast<int>(k));
        epoch_logs[k].append(rec);
        s.epoch_start = Clock::now();
      }
    }
    ++tick;
    if (progress) {
      int done = 0;
      for (const auto& s : slots) done += !s.active();
      progress->update(static_cast<size_t>(tick), fmt::format("{} members, {} done", K, done));
    }
    if (hooks.on_tick) hooks.on_tick(tick);
    if (interrupt_requested()) {
      for (int k = 0; k < K; ++k)
        if (slots[k].active()) checkpoint(k);
      throw Error(members[0].state_dir,
                  fmt::format("group interrupted at tick {}; checkpoints saved, continue with "
                              "--resume",
                              tick));
    }
  }
  if (progress) progress->finish();

  std::vector<GroupMemberResult> results(K);
  for (int k = 0; k < K; ++k) {
    Slot& s = slots[k];
    auto& r = results[k];
    if (s.failed) {
      r.error = s.error;
      continue;
    }
    load_weights(s.best_path, *nets[k]);
    r.ok = true;
    r.result.history = s.st.history;
    r.result.best_epoch = s.st.best_epoch;
    r.result.best_val_mae = s.st.best_val_mae;
    r.result.stopped_early = s.st.stopped_early;
    r.result.windows_per_second = train_seconds > 0 ? s.windows / train_seconds : 0;
  }
  return results;
}

}  // namespace ppgkd
