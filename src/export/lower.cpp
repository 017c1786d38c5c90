// Lowering ResNet1D / MLP modules to the edge graph (see lower.h).
#include "export/lower.h"

#include <fmt/format.h>

#include "common/error.h"

namespace ppgkd {

std::pair<torch::Tensor, torch::Tensor> fold_batchnorm(const torch::Tensor& conv_weight,
                                                       torch::nn::BatchNorm1dImpl& bn) {
  torch::NoGradGuard no_grad;
  const auto d = torch::kFloat64;
  const auto gamma = bn.weight.to(d), beta = bn.bias.to(d);
  const auto mean = bn.running_mean.to(d), var = bn.running_var.to(d);
  const auto s = gamma / torch::sqrt(var + bn.options.eps());  // (C_out)
  auto w = conv_weight.to(d) * s.view({-1, 1, 1});
  auto b = beta - mean * s;
  return {w.to(torch::kFloat32).contiguous(), b.to(torch::kFloat32).contiguous()};
}

namespace {

std::vector<float> to_vector(const torch::Tensor& t) {
  auto c = t.detach().to(torch::kFloat32).contiguous();
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

// Builder state: appends tensors and ops in execution order.
struct Lowering {
  EdgeGraph g;

  int tensor(std::vector<int64_t> shape) {
    g.tensors.push_back(std::move(shape));
    return static_cast<int>(g.tensors.size()) - 1;
  }

  // conv (bias-free) + BN, folded: (C_in, L) -> (C_out, L_out).
  int conv_bn(const std::string& name, int in, torch::nn::Conv1dImpl& conv,
              torch::nn::BatchNorm1dImpl& bn, bool relu) {
    auto [w, b] = fold_batchnorm(conv.weight, bn);
    EdgeOp op;
    op.type = EdgeOpType::kConv1d;
    op.name = name;
    op.relu = relu;
    op.in0 = in;
    op.stride = static_cast<int>(conv.options.stride()->at(0));
    op.dilation = static_cast<int>(conv.options.dilation()->at(0));
    const auto* pad = c10::get_if<torch::ExpandingArray<1>>(&conv.options.padding());
    if (!pad) throw Error(name, "only explicit conv padding can be exported");
    op.padding = static_cast<int>((*pad)->at(0));
    op.w_shape = {w.size(0), w.size(1), w.size(2)};
    op.weight = to_vector(w);
    op.bias = to_vector(b);
    const int64_t l_in = g.tensors.at(in).at(1), k = w.size(2);
    const int64_t l_out = (l_in + 2 * op.padding - op.dilation * (k - 1) - 1) / op.stride + 1;
    op.out = tensor({w.size(0), l_out});
    g.ops.push_back(std::move(op));
    return g.ops.back().out;
  }

  int dense(const std::string& name, int in, torch::nn::LinearImpl& fc, bool relu) {
    EdgeOp op;
    op.type = EdgeOpType::kDense;
    op.name = name;
    op.relu = relu;
    op.in0 = in;
    op.w_shape = {fc.weight.size(0), fc.weight.size(1)};
    if (op.w_shape[1] != g.numel(in))
      throw Error(name, fmt::format("dense layer takes {} inputs but its input has {}",
                                    op.w_shape[1], g.numel(in)));
    op.weight = to_vector(fc.weight);
    op.bias = fc.bias.defined() ? to_vector(fc.bias) : std::vector<float>(op.w_shape[0], 0.0f);
    op.out = tensor({op.w_shape[0]});
    g.ops.push_back(std::move(op));
    return g.ops.back().out;
  }

  int add(const std::string& name, int a, int b, bool relu) {
    EdgeOp op;
    op.type = EdgeOpType::kAdd;
    op.name = name;
    op.relu = relu;
    op.in0 = a;
    op.in1 = b;
    op.out = tensor(g.tensors.at(a));
    g.ops.push_back(std::move(op));
    return g.ops.back().out;
  }

  int global_avg_pool(const std::string& name, int in) {
    EdgeOp op;
    op.type = EdgeOpType::kAvgPool;
    op.name = name;
    op.in0 = in;
    op.kernel = static_cast<int>(g.tensors.at(in).at(1));
    op.stride = 1;
    op.out = tensor({g.tensors.at(in).at(0), 1});
    g.ops.push_back(std::move(op));
    return g.ops.back().out;
  }
};

EdgeGraph lower_resnet(ResNet1dImpl& net) {
  const ModelSpec& s = net.spec();
  Lowering l;
  l.g.input = l.tensor({s.in_channels, s.length});
  int h = l.conv_bn("stem_conv+stem_bn", l.g.input, *net.stem_conv, *net.stem_bn, true);
  for (size_t i = 0; i < net.blocks.size(); ++i) {
    for (size_t j = 0; j < net.blocks[i].size(); ++j) {
      auto& blk = *net.blocks[i][j];
      const std::string p = fmt::format("s{}b{}.", i, j);
      const int a = l.conv_bn(p + "conv1+bn1", h, *blk.conv1, *blk.bn1, true);
      const int b = l.conv_bn(p + "conv2+bn2", a, *blk.conv2, *blk.bn2, false);
      const int shortcut =
          blk.down_conv ? l.conv_bn(p + "down_conv+down_bn", h, *blk.down_conv, *blk.down_bn, false)
                        : h;
      h = l.add(p + "add", b, shortcut, true);
    }
  }
  h = l.global_avg_pool("mean", h);
  l.g.output = l.dense("head", h, *net.head, false);
  return std::move(l.g);
}

EdgeGraph lower_mlp(MlpImpl& net) {
  const ModelSpec& s = net.spec();
  Lowering l;
  l.g.input = l.tensor({s.in_channels, s.length});
  int h = l.g.input;
  for (size_t i = 0; i < net.fc.size(); ++i)
    h = l.dense(fmt::format("fc{}", i), h, *net.fc[i], true);
  l.g.output = l.dense("head", h, *net.head, false);
  return std::move(l.g);
}

}  // namespace

std::string spectral_refusal(const ModelSpec& spec) {
  return fmt::format(
      "cannot export {}: its spectral branch (spectral={}) needs an FFT and the C "
      "runtime has no FFT op (teachers with spectral input are distilled, not "
      "exported)",
      spec.str(), spec.spectral);
}

std::string ensemble_refusal(const ModelSpec& spec) {
  return fmt::format(
      "cannot export an ensemble of {} networks: the C runtime runs one network (distil the "
      "ensemble into a student with `ppgkd distill --teacher DIR` and export that)",
      spec.members());
}

EdgeGraph lower_net(NetImpl& net) {
  if (net.spec().is_ensemble()) throw Error(net.spec().str(), ensemble_refusal(net.spec()));
  if (net.spec().spectral > 0) throw Error(net.spec().str(), spectral_refusal(net.spec()));
  EdgeGraph g;
  if (auto* r = dynamic_cast<ResNet1dImpl*>(&net)) {
    g = lower_resnet(*r);
  } else if (auto* m = dynamic_cast<MlpImpl*>(&net)) {
    g = lower_mlp(*m);
  } else {
    throw Error(net.spec().str(), "cannot export this network kind (only resnet1d and mlp)");
  }
  g.in_channels = net.spec().in_channels;
  g.length = net.spec().length;
  g.num_classes = static_cast<int>(g.numel(g.output));
  return g;
}

}  // namespace ppgkd
