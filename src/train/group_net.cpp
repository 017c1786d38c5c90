// The grouped network (see group_net.h). Each layer is the single model's layer written once for
// K members: a ResNet activation is (B, k*C, L) with member j's channels at [j*C, (j+1)*C), an MLP
// activation is (k, B, D). A call on a subset of the members selects their slices of every
// stacked tensor (index_select, so gradients flow back into the full stacks).
#include "train/group_net.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/error.h"
#include "data/dsp/class_map.h"
#include "train/group_bn.h"
#include "train/group_conv.h"

namespace ppgkd {

namespace {
// BatchNorm1d's defaults (torch::nn::BatchNormOptions), which the single model uses.
constexpr double kBnMomentum = 0.1, kBnEps = 1e-5;
}  // namespace

// What one forward call needs besides the weights: the members in the call.
struct GroupNet::Ctx {
  torch::Tensor idx;  // (k) int64
  int64_t k = 0;
  bool all = false;  // the call covers every member in slot order: no selection needed
  bool train = false;
};

GroupNet::GroupNet(const ModelSpec& spec, int members, GroupConv conv, GroupNorm norm)
    : spec_(spec), members_(members), conv_kind_(conv), norm_kind_(norm) {
  if (members < 1) throw Error("group", fmt::format("a group needs >= 1 member, got {}", members));
  if (spec.family == "ensemble" || spec.spectral > 0)
    throw Error(spec.str(), "only plain resnet1d and mlp students can be trained as a group");
  torch::NoGradGuard no_grad;
  auto net = make_net(spec);
  for (const auto& p : net->named_parameters()) {
    std::vector<int64_t> shape = {members};
    for (auto d : p.value().sizes()) shape.push_back(d);
    params_[p.key()] = torch::zeros(shape).set_requires_grad(true);
  }
  for (const auto& b : net->named_buffers()) {
    std::vector<int64_t> shape = {members};
    for (auto d : b.value().sizes()) shape.push_back(d);
    buffers_[b.key()] = torch::zeros(shape, b.value().options());
  }
}

void GroupNet::put(int k, NetImpl& net) {
  if (net.spec() != spec_) throw Error("group", "member spec " + net.spec().str() + " differs");
  torch::NoGradGuard no_grad;
  for (const auto& p : net.named_parameters()) params_.at(p.key())[k].copy_(p.value());
  for (const auto& b : net.named_buffers()) buffers_.at(b.key())[k].copy_(b.value());
}

void GroupNet::take(int k, NetImpl& net) const {
  if (net.spec() != spec_) throw Error("group", "member spec " + net.spec().str() + " differs");
  torch::NoGradGuard no_grad;
  for (auto& p : net.named_parameters()) p.value().copy_(params_.at(p.key())[k]);
  for (auto& b : net.named_buffers()) b.value().copy_(buffers_.at(b.key())[k]);
}

// ------------------------------------------------------------------------------- layers

torch::Tensor GroupNet::select(Ctx& c, const torch::Tensor& t) const {
  return c.all ? t : t.index_select(0, c.idx);
}

// (B, k*in, L) -> (B, k*out, L'): the members' convolutions as one grouped convolution.
torch::Tensor GroupNet::conv(Ctx& c, const torch::Tensor& h, const std::string& name,
                             int stride) const {
  const auto w = select(c, params_.at(name + ".weight"));  // (k, out, in, ks)
  const bool small = std::max(w.size(1), w.size(2)) <= kDirectMaxChannels;
  if (conv_kind_ == GroupConv::kDirect || (conv_kind_ == GroupConv::kMixed && small))
    return group_conv1d(h, w, stride);
  const int64_t ks = w.size(3);
  return torch::conv1d(h, w.reshape({c.k * w.size(1), w.size(2), ks}), {}, stride, ks / 2, 1, c.k);
}

// relu?(batch_norm(h) + residual?) per channel over (B, k*C, L) (residual: undefined for none);
// running statistics of the members in the call are updated in train mode, as BatchNorm1d does.
torch::Tensor GroupNet::bn(Ctx& c, const torch::Tensor& h, const std::string& name,
                           const torch::Tensor& residual, bool relu) const {
  const auto w = select(c, params_.at(name + ".weight")).reshape({-1});
  const auto b = select(c, params_.at(name + ".bias")).reshape({-1});
  auto& rm = const_cast<torch::Tensor&>(buffers_.at(name + ".running_mean"));
  auto& rv = const_cast<torch::Tensor&>(buffers_.at(name + ".running_var"));
  auto& nb = const_cast<torch::Tensor&>(buffers_.at(name + ".num_batches_tracked"));
  // A subset updates copies of its running statistics, written back below.
  auto rm_k = c.all ? rm : rm.index_select(0, c.idx), rv_k = c.all ? rv : rv.index_select(0, c.idx);
  torch::Tensor y;
  if (norm_kind_ == GroupNorm::kFused) {
    y = batch_norm_act(h, w, b, rm_k.view({-1}), rv_k.view({-1}), c.train, kBnMomentum, kBnEps,
                       residual, relu);
  } else {
    y = torch::batch_norm(h, w, b, rm_k.view({-1}), rv_k.view({-1}), c.train, kBnMomentum, kBnEps,
                          false);
    if (residual.defined()) y = y + residual;
    if (relu) y = torch::relu(y);
  }
  if (c.train) {
    torch::NoGradGuard no_grad;
    if (c.all) {
      nb.add_(1);
    } else {
      rm.index_copy_(0, c.idx, rm_k);
      rv.index_copy_(0, c.idx, rv_k);
      nb.index_add_(0, c.idx, torch::ones({c.k}, nb.options()));
    }
  }
  return y;
}

// (k, B, in) -> (k, B, out): x W^T + b per member.
torch::Tensor GroupNet::linear(Ctx& c, const torch::Tensor& h, const std::string& name) const {
  const auto w = select(c, params_.at(name + ".weight"));  // (k, out, in)
  const auto b = select(c, params_.at(name + ".bias"));    // (k, out)
  return torch::baddbmm(b.unsqueeze(1), h, w.transpose(1, 2));
}

// ------------------------------------------------------------------------------- forward

GroupOutput GroupNet::forward(const torch::Tensor& x, const std::vector<int64_t>& members,
                              bool train) {
  const int64_t k = static_cast<int64_t>(members.size());
  if (x.dim() != 4 || x.size(0) != k || x.size(2) != spec_.in_channels || x.size(3) != spec_.length)
    throw Error("group", fmt::format("expected input ({}, B, {}, {}), got {}", k, spec_.in_channels,
                                     spec_.length, c10::str(x.sizes())));
  Ctx c;
  c.k = k;
  c.train = train;
  c.all = k == members_;
  for (int64_t i = 0; i < k; ++i) {
    if (members[i] < 0 || members[i] >= members_ || (i > 0 && members[i] <= members[i - 1]))
      throw Error("group", "members must be sorted distinct slots");
    c.all = c.all && members[i] == i;
  }
  c.idx = torch::tensor(members, torch::kInt64);
  return spec_.family == "resnet1d" ? forward_resnet(c, x) : forward_mlp(c, x);
}

GroupOutput GroupNet::forward_resnet(Ctx& c, const torch::Tensor& x) {
  const int64_t B = x.size(1);
  // (k, B, C, L) -> (B, k*C, L): member j's channels side by side.
  auto h = x.transpose(0, 1).reshape({B, c.k * x.size(2), x.size(3)});
  h = bn(c, conv(c, h, "stem_conv", 1), "stem_bn", {}, true);
  GroupOutput out;
  for (size_t i = 0; i < spec_.stages.size(); ++i) {
    for (int b = 0; b < spec_.blocks; ++b) {
      const std::string n = fmt::format("s{}b{}.", i, b);
      const int stride = (b == 0 && i > 0) ? 2 : 1;
      auto y = bn(c, conv(c, h, n + "conv1", stride), n + "bn1", {}, true);
      auto shortcut = params_.count(n + "down_conv.weight")
                          ? bn(c, conv(c, h, n + "down_conv", stride), n + "down_bn", {}, false)
                          : h;
      h = bn(c, conv(c, y, n + "conv2", 1), n + "bn2", shortcut, true);
    }
    const int64_t C = spec_.stages[i];
    out.stages.push_back(h.view({B, c.k, C, h.size(2)}).transpose(0, 1));  // (k, B, C_i, L_i)
  }
  const int64_t D = spec_.stages.back();
  auto pooled = h.mean(2).view({B, c.k, D}).transpose(0, 1);  // (k, B, D)
  out.logits = linear(c, pooled, "head");                     // (k, B, N)
  return out;
}

GroupOutput GroupNet::forward_mlp(Ctx& c, const torch::Tensor& x) {
  auto h = x.reshape({c.k, x.size(1), x.size(2) * x.size(3)});  // (k, B, C*L), channel-major
  GroupOutput out;
  for (size_t i = 0; i < spec_.hidden.size(); ++i) {
    h = torch::relu(linear(c, h, fmt::format("fc{}", i)));  // (k, B, D_i)
    out.stages.push_back(h);
  }
  out.logits = linear(c, h, "head");
  return out;
}

}  // namespace ppgkd
