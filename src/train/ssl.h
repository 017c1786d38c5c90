// Self-supervised contrastive pre-training: SimCLR's NT-Xent loss (Chen et al., ICML 2020) between
// two augmentations of the same window, as PPG foundation models use it (PaPaGei, Pulse-PPG), with
// SimCLR's two-layer projection head on the backbone's pooled embedding. Pre-training adds it to
// the supervised loss (`ppgkd pretrain --ssl-weight W`); it needs no labels.
//
// Shapes: N windows per view, D embedding, P projection, C channels, L samples.
#pragma once

#include <torch/torch.h>

#include <cstdint>

#include "models/networks.h"

namespace ppgkd {

// NT-Xent over 2N projections: z = normalise(cat(z1, z2)), s_ij = z_i . z_j / T; for each anchor
// i its positive is the other view of the same window, p(i) = i +- N, and
//   l_i = -log( exp(s_i,p(i)) / sum_{k != i} exp(s_ik) ),   loss = mean_i l_i  (2N anchors).
// (N, P), (N, P), T > 0 -> (). Throws Error("nt_xent", ...) on bad shapes or T.
torch::Tensor nt_xent_loss(const torch::Tensor& z1, const torch::Tensor& z2, double temperature);

// SimCLR's projection head: linear D -> D, ReLU, linear D -> P. (N, D) -> (N, P)
class ProjectionHeadImpl : public torch::nn::Module {
 public:
  ProjectionHeadImpl(int64_t in, int64_t out);
  torch::Tensor forward(const torch::Tensor& h);
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
};
TORCH_MODULE(ProjectionHead);

// The width D of embed()'s output for a spec: the last ResNet stage's channels or the last MLP
// hidden width.
int64_t embedding_dim(const ModelSpec& spec);
// The pooled embedding of a forward_with_feature(x, -1) feature: (N, C_s, L_s) -> mean over time
// (N, C_s); (N, D) unchanged.
torch::Tensor pool_embedding(const torch::Tensor& feature);

// A random view for contrastive learning, deterministic in `seed`: amplitude scaling 0.7–1.3 per
// window, a circular shift of up to 1 s, Gaussian noise (SD 0.1) and, with probability 0.5 per
// window, one time segment of up to 1.6 s zeroed (cut-out). The heart rate is preserved, so the
// embedding is pushed towards what the label also needs. (N, C, L) -> (N, C, L)
torch::Tensor ssl_view(const torch::Tensor& x, uint64_t seed);

}  // namespace ppgkd
