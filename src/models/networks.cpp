// ResNet1D and MLP modules and seed ensembles of them (see networks.h for shapes and names).
#include "models/networks.h"

#include <fmt/format.h>

#include <cmath>

#include "common/error.h"
#include "data/dsp/class_map.h"

namespace ppgkd {

namespace nn = torch::nn;

void NetImpl::check_input(const torch::Tensor& x) const {
  if (x.dim() != 3 || x.size(1) != spec_.in_channels || x.size(2) != spec_.length)
    throw Error(spec_.str(), fmt::format("expected input (B, {}, {}), got {}", spec_.in_channels,
                                         spec_.length, c10::str(x.sizes())));
}

// ------------------------------------------------------------------------------- ResNet1D

namespace {
nn::Conv1d conv(int in, int out, int k, int stride) {
  return nn::Conv1d(nn::Conv1dOptions(in, out, k).stride(stride).padding(k / 2).bias(false));
}
}  // namespace

BasicBlock1dImpl::BasicBlock1dImpl(int in, int out, int kernel, int stride) {
  conv1 = register_module("conv1", conv(in, out, kernel, stride));
  bn1 = register_module("bn1", nn::BatchNorm1d(out));
  conv2 = register_module("conv2", conv(out, out, kernel, 1));
  bn2 = register_module("bn2", nn::BatchNorm1d(out));
  if (in != out || stride != 1) {
    down_conv = register_module("down_conv", conv(in, out, 1, stride));
    down_bn = register_module("down_bn", nn::BatchNorm1d(out));
  }
}

torch::Tensor BasicBlock1dImpl::forward(const torch::Tensor& x) {
  auto y = torch::relu(bn1(conv1(x)));
  y = bn2(conv2(y));
  auto shortcut = down_conv ? down_bn(down_conv(x)) : x;
  return torch::relu(y + shortcut);
}

ResNet1dImpl::ResNet1dImpl(const ModelSpec& s) : NetImpl(s) {
  if (s.family != "resnet1d") throw Error(s.str(), "not a resnet1d spec");
  stem_conv = register_module("stem_conv", conv(s.in_channels, s.stem, s.kernel, 1));
  stem_bn = register_module("stem_bn", nn::BatchNorm1d(s.stem));
  int in = s.stem;
  for (size_t i = 0; i < s.stages.size(); ++i) {
    blocks.emplace_back();
    for (int b = 0; b < s.blocks; ++b) {
      int stride = (b == 0 && i > 0) ? 2 : 1;
      blocks[i].push_back(register_module(fmt::format("s{}b{}", i, b),
                                          BasicBlock1d(in, s.stages[i], s.kernel, stride)));
      in = s.stages[i];
    }
  }
  head = register_module("head", nn::Linear(in, kNumClasses));
  if (s.spectral > 0) {
    const int n = s.spectral, ks = ModelSpec::kSpectralKernel;
    spec_conv1 = register_module("spec_conv1", conv(s.spectral_in_channels(), n, ks, 1));
    spec_bn1 = register_module("spec_bn1", nn::BatchNorm1d(n));
    spec_conv2 = register_module("spec_conv2", conv(n, n, ks, 1));
    spec_bn2 = register_module("spec_bn2", nn::BatchNorm1d(n));
    spec_out = register_module("spec_out", conv(n, 1, 1, 1));
    spec_scale = register_parameter("spec_scale", torch::ones({1}));
    spec_window = register_buffer(
        "spec_window", torch::hann_window(s.length, /*periodic=*/false, torch::kFloat32));
    std::vector<float> w = s.spectral_interp();
    spec_interp = register_buffer(
        "spec_interp", torch::from_blob(w.data(), {s.spectral_num_bins(), kNumClasses}).clone());
  }
}

torch::Tensor ResNet1dImpl::spectrum(const torch::Tensor& x) {
  if (!spec_conv1) throw Error(spec().str(), "has no spectral branch");
  const auto& s = spec();
  const int first = s.spectral_first_bin(), nb = s.spectral_num_bins();
  // (B, C, n/2+1) magnitudes, then the band (B, C, F) and its peak per channel (B, C, 1).
  auto mag = torch::fft::rfft(x * spec_window, ModelSpec::kSpectralFftSize, -1).abs();
  auto lg = torch::log1p(mag.narrow(-1, first, nb));
  auto peak = std::get<0>(lg.max(-1, true)).clamp_min(1e-6);
  if (!s.harmonics) return lg / peak;
  // Bin b = first + j: twice its frequency is bin 2b; half of it is bin b/2, the mean of bins
  // floor(b/2) and ceil(b/2) when b is odd. Scaled by the band's own peak, so that a harmonic
  // channel reads as loud or quiet relative to the fundamental band.
  // With harmonics=ppg only the PPG channel (channel 0) gets them.
  const int64_t hc = s.harmonics == ModelSpec::kHarmonicsPpg ? 1 : mag.size(1);
  auto hmag = mag.narrow(1, 0, hc);
  auto hpeak = peak.narrow(1, 0, hc);
  auto b = torch::arange(first, first + nb, torch::TensorOptions(torch::kLong).device(x.device()));
  auto twice = hmag.index_select(-1, 2 * b);
  auto half = 0.5 * (hmag.index_select(-1, torch::div(b, 2, "floor")) +
                     hmag.index_select(-1, torch::div(b + 1, 2, "floor")));
  return torch::cat({lg / peak, torch::log1p(twice) / hpeak, torch::log1p(half) / hpeak}, 1);
}

torch::Tensor ResNet1dImpl::spectral_logits(const torch::Tensor& x) {
  auto h = torch::relu(spec_bn1(spec_conv1(spectrum(x))));  // (B, N, F)
  h = torch::relu(spec_bn2(spec_conv2(h)));                 // (B, N, F)
  auto z = spec_out(h).squeeze(1);                          // (B, F)
  return z.matmul(spec_interp) * spec_scale;                // (B, K)
}

ModelOutput ResNet1dImpl::forward_with_feature(const torch::Tensor& x, int stage) {
  check_input(x);
  const int n = static_cast<int>(blocks.size());
  const int want = stage == kNoFeature ? kNoFeature : (stage < 0 ? n + stage : stage);
  if (stage != kNoFeature && (want < 0 || want >= n))
    throw Error(spec().str(), fmt::format("feature stage {} out of range (0..{})", stage, n - 1));
  ModelOutput out;
  auto h = torch::relu(stem_bn(stem_conv(x)));  // (B, S, L)
  for (int i = 0; i < n; ++i) {
    for (auto& block : blocks[i]) h = block(h);  // (B, C_i, L_i)
    if (i == want) out.feature = h;
  }
  out.logits = head(h.mean(2));  // global average pool (B, C_last) -> (B, K)
  if (spec_conv1) out.logits = out.logits + spectral_logits(x);
  return out;
}

// ------------------------------------------------------------------------------- MLP

MlpImpl::MlpImpl(const ModelSpec& s) : NetImpl(s) {
  if (s.family != "mlp") throw Error(s.str(), "not an mlp spec");
  int64_t d = int64_t{s.in_channels} * s.length;
  for (size_t i = 0; i < s.hidden.size(); ++i) {
    fc.push_back(register_module(fmt::format("fc{}", i), nn::Linear(d, s.hidden[i])));
    d = s.hidden[i];
  }
  head = register_module("head", nn::Linear(d, kNumClasses));
}

ModelOutput MlpImpl::forward_with_feature(const torch::Tensor& x, int stage) {
  check_input(x);
  const int n = static_cast<int>(fc.size());
  const int want = stage == kNoFeature ? kNoFeature : (stage < 0 ? n + stage : stage);
  if (stage != kNoFeature && (want < 0 || want >= n))
    throw Error(spec().str(), fmt::format("feature stage {} out of range (0..{})", stage, n - 1));
  ModelOutput out;
  auto h = x.flatten(1);  // (B, C*L), channel-major like the window layout
  for (int i = 0; i < n; ++i) {
    h = torch::relu(fc[i](h));  // (B, D_i)
    if (i == want) out.feature = h;
  }
  out.logits = head(h);
  return out;
}

// ------------------------------------------------------------------------------- ensemble

EnsembleImpl::EnsembleImpl(const ModelSpec& s) : EnsembleImpl(s, {}) {}

EnsembleImpl::EnsembleImpl(const ModelSpec& s, std::vector<Net> members) : NetImpl(s) {
  if (!s.is_ensemble()) throw Error(s.str(), "not an ensemble spec");
  if (members.empty())
    for (const auto& m : s.member_specs) members.push_back(make_net(*m));
  if (static_cast<int>(members.size()) != s.members())
    throw Error(s.str(), fmt::format("expected {} members, got {}", s.members(), members.size()));
  for (size_t i = 0; i < members.size(); ++i) {
    if (!members[i] || members[i]->spec() != *s.member_specs[i])
      throw Error(s.str(), fmt::format("member {} is {}, not {}", i,
                                       members[i] ? members[i]->spec().str() : "null",
                                       s.member_specs[i]->str()));
    nets.push_back(register_module(fmt::format("m{}", i), members[i]));
  }
}

ModelOutput EnsembleImpl::forward_with_feature(const torch::Tensor& x, int stage) {
  check_input(x);
  if (stage != kNoFeature) {  // the ensemble's stage, checked, for members of any depth
    spec().feature_shape(stage);
    if (stage < 0) stage += spec().num_stages();
  }
  std::vector<torch::Tensor> logp, features;
  for (auto& net : nets) {
    ModelOutput o = net->forward_with_feature(x, stage);
    logp.push_back(torch::log_softmax(o.logits, 1));  // (B, K)
    if (o.feature.defined()) features.push_back(o.feature);
  }
  const double n = static_cast<double>(nets.size());
  ModelOutput out;
  out.logits = torch::logsumexp(torch::stack(logp), 0) - std::log(n);  // (B, K)
  if (!features.empty()) out.feature = torch::stack(features).mean(0);
  return out;
}

// ------------------------------------------------------------------------------- factory

Net make_net(const ModelSpec& spec) {
  if (spec.family == "resnet1d") return std::make_shared<ResNet1dImpl>(spec);
  if (spec.family == "mlp") return std::make_shared<MlpImpl>(spec);
  if (spec.family == "ensemble") return std::make_shared<EnsembleImpl>(spec);
  throw Error(spec.str(), "unknown model family '" + spec.family + "'");
}

int64_t count_parameters(torch::nn::Module& m) {
  int64_t n = 0;
  for (const auto& p : m.parameters()) n += p.numel();
  return n;
}

}  // namespace ppgkd
