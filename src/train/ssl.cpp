// NT-Xent, the projection head and contrastive views (see ssl.h).
#include "train/ssl.h"

#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>

#include <limits>

#include "common/error.h"

namespace ppgkd {

namespace F = torch::nn::functional;

torch::Tensor nt_xent_loss(const torch::Tensor& z1, const torch::Tensor& z2, double temperature) {
  if (z1.dim() != 2 || z1.sizes() != z2.sizes() || z1.size(0) < 1)
    throw Error("nt_xent", fmt::format("views must be two (N, P) tensors of the same shape, got "
                                       "{} and {}",
                                       c10::str(z1.sizes()), c10::str(z2.sizes())));
  if (!(temperature > 0))
    throw Error("nt_xent", fmt::format("temperature must be > 0, got {}", temperature));
  const int64_t n = z1.size(0);
  auto z = F::normalize(torch::cat({z1, z2}), F::NormalizeFuncOptions().dim(1));  // (2N, P)
  auto sim = torch::matmul(z, z.t()) / temperature;                               // (2N, 2N)
  // An anchor is never its own negative: -inf on the diagonal drops it from the softmax.
  sim = sim.masked_fill(torch::eye(2 * n, torch::kBool), -std::numeric_limits<float>::infinity());
  auto idx = torch::arange(n, torch::kInt64);
  auto positive = torch::cat({idx + n, idx});  // (2N)
  return F::cross_entropy(sim, positive);
}

ProjectionHeadImpl::ProjectionHeadImpl(int64_t in, int64_t out) {
  fc1 = register_module("fc1", torch::nn::Linear(in, in));
  fc2 = register_module("fc2", torch::nn::Linear(in, out));
}

torch::Tensor ProjectionHeadImpl::forward(const torch::Tensor& h) {
  return fc2(torch::relu(fc1(h)));
}

int64_t embedding_dim(const ModelSpec& spec) {
  return spec.feature_shape(-1).at(0);
}

torch::Tensor pool_embedding(const torch::Tensor& feature) {
  return feature.dim() == 3 ? feature.mean(2) : feature;
}

torch::Tensor ssl_view(const torch::Tensor& x, uint64_t seed) {
  auto gen = at::detail::createCPUGenerator(seed);
  const int64_t B = x.size(0), C = x.size(1), L = x.size(2);
  constexpr int64_t kMaxShift = 25, kMaxCut = 40;  // samples: 1 s and 1.6 s at 25 Hz
  auto scale = 0.7 + 0.6 * torch::rand({B, 1, 1}, gen);
  auto shift = torch::randint(-kMaxShift, kMaxShift + 1, {B, 1, 1}, gen, torch::kInt64);
  auto t = torch::arange(L, torch::kInt64).view({1, 1, L});
  auto shifted = x.gather(2, torch::remainder(t - shift, L).expand({B, C, L}));
  auto cut_len = torch::randint(0, kMaxCut + 1, {B, 1, 1}, gen, torch::kInt64) *
                 (torch::rand({B, 1, 1}, gen) < 0.5).to(torch::kInt64);
  auto cut_at = torch::randint(0, L, {B, 1, 1}, gen, torch::kInt64);
  auto keep = ((t < cut_at) | (t >= cut_at + cut_len)).to(x.scalar_type());  // (B, 1, L)
  return (shifted * scale + 0.1 * torch::randn({B, C, L}, gen)) * keep;
}

}  // namespace ppgkd
