// The grouped AdamW (see group_adamw.h): the per-member constants once per step, then either one
// plain loop per parameter tensor and member (kFused) or libtorch operations broadcasting the
// constants over the member dimension (kTensorOps).
#include "train/group_adamw.h"

#include <cmath>

#include "common/error.h"

namespace ppgkd {

namespace {

constexpr double kBeta1 = 0.9, kBeta2 = 0.999, kEps = 1e-8;

// One member's constants for this step, in float as libtorch applies scalars to float tensors.
struct MemberStep {
  float decay = 1, keep1 = 1, add1 = 0, keep2 = 1, add2 = 0, sqrt_bc2 = 1, step_size = 0;
};

MemberStep constants(double lr, double wd, int64_t step) {
  const double bc1 = 1.0 - std::pow(kBeta1, double(step)),
               bc2 = 1.0 - std::pow(kBeta2, double(step));
  MemberStep c;
  c.decay = static_cast<float>(1.0 - lr * wd);
  c.keep1 = static_cast<float>(kBeta1);
  c.add1 = static_cast<float>(1.0 - kBeta1);
  c.keep2 = static_cast<float>(kBeta2);
  c.add2 = static_cast<float>(1.0 - kBeta2);
  c.sqrt_bc2 = static_cast<float>(std::sqrt(bc2));
  c.step_size = static_cast<float>(lr / bc1);
  return c;
}

// torch::optim::AdamW's arithmetic on n elements: p *= decay (when decaying); m = m*b1 + (1-b1)*g;
// v = v*b2 + (1-b2)*g*g; p -= step_size * m / (sqrt(v) / sqrt(bc2) + eps). No aliasing, so the
// compiler vectorises it (sqrt too: this file is built without errno for math functions).
void update(const MemberStep& c, bool decays, int64_t n, const float* __restrict g,
            float* __restrict p, float* __restrict m, float* __restrict v) {
  const float eps = static_cast<float>(kEps);
  for (int64_t i = 0; i < n; ++i) {
    const float gi = g[i];
    const float pi = decays ? p[i] * c.decay : p[i];
    const float mi = m[i] * c.keep1 + c.add1 * gi;
    const float vi = v[i] * c.keep2 + c.add2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] = pi - c.step_size * (mi / (std::sqrt(vi) / c.sqrt_bc2 + eps));
  }
}

}  // namespace

GroupAdamW::GroupAdamW(const std::map<std::string, torch::Tensor>& params, GroupAdamWKind kind)
    : kind_(kind) {
  for (const auto& [name, p] : params) {
    if (p.scalar_type() != torch::kFloat || !p.is_contiguous() || p.dim() < 1)
      throw Error("group AdamW", "parameter " + name + " is not a contiguous float stack");
    m_[name] = torch::zeros_like(p).detach();
    v_[name] = torch::zeros_like(p).detach();
  }
}

void GroupAdamW::step(const std::map<std::string, torch::Tensor>& params,
                      const std::vector<double>& lr, const std::vector<double>& wd,
                      const std::vector<int64_t>& step, const std::vector<bool>& stepping) {
  torch::NoGradGuard no_grad;
  const int64_t K = static_cast<int64_t>(lr.size());
  std::vector<MemberStep> c(K);
  for (int64_t k = 0; k < K; ++k)
    if (stepping[k]) c[k] = constants(lr[k], wd[k], step[k]);

  if (kind_ == GroupAdamWKind::kFused) {
    for (const auto& [name, p] : params) {
      if (!p.grad().defined()) continue;
      if (p.size(0) != K) throw Error("group AdamW", "parameter " + name + " has another K");
      const auto g = p.grad().contiguous();
      const int64_t n = p.numel() / K;
      float* pd = p.data_ptr<float>();
      float* md = m_.at(name).data_ptr<float>();
      float* vd = v_.at(name).data_ptr<float>();
      const float* gd = g.data_ptr<float>();
      for (int64_t k = 0; k < K; ++k)
        if (stepping[k])
          update(c[k], p.dim() > 2, n, gd + k * n, pd + k * n, md + k * n, vd + k * n);
    }
    return;
  }

  // kTensorOps: members not stepping get the identity constants (decay 1, keep 1, add 0, step 0).
  std::vector<float> decay(K, 1), keep1(K, 1), add1(K, 0), keep2(K, 1), add2(K, 0), sqrt_bc2(K, 1),
      step_size(K, 0);
  for (int64_t k = 0; k < K; ++k) {
    if (!stepping[k]) continue;
    decay[k] = c[k].decay, keep1[k] = c[k].keep1, add1[k] = c[k].add1;
    keep2[k] = c[k].keep2, add2[k] = c[k].add2, sqrt_bc2[k] = c[k].sqrt_bc2;
    step_size[k] = c[k].step_size;
  }
  auto vec = [](const std::vector<float>& v) { return torch::tensor(v); };
  const auto t_decay = vec(decay), t_keep1 = vec(keep1), t_add1 = vec(add1), t_keep2 = vec(keep2),
             t_add2 = vec(add2), t_sqrt_bc2 = vec(sqrt_bc2), t_step = vec(step_size);
  for (const auto& [name, p] : params) {
    const auto& g = p.grad();
    if (!g.defined()) continue;
    std::vector<int64_t> shape(p.dim(), 1);
    shape[0] = K;
    auto& m = m_.at(name);
    auto& v = v_.at(name);
    if (p.dim() > 2) p.mul_(t_decay.view(shape));  // weight matrices and kernels only
    m.mul_(t_keep1.view(shape)).addcmul_(g, t_add1.view(shape));
    v.mul_(t_keep2.view(shape)).addcmul_(g * g, t_add2.view(shape));
    const auto denom = (v.sqrt() / t_sqrt_bc2.view(shape)).add_(kEps);
    p.sub_(m / denom * t_step.view(shape));
  }
}

}  // namespace ppgkd
