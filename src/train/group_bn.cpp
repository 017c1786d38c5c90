// The fused batch normalisation (see group_bn.h), read top to bottom: per-segment sums, the
// forward (statistics, running statistics, output), the backward (reductions, gradients), and the
// autograd operation. A channel's B * L values lie in B contiguous segments of L floats; every
// pass walks a channel's segments in turn, channels in parallel when torch has several threads
// (each channel's arithmetic is the same for any thread count).
#include "train/group_bn.h"

#include <ATen/Parallel.h>
#include <ATen/record_function.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "common/error.h"

namespace ppgkd {

namespace {

struct Dims {
  int64_t B, Ch, L;
  int64_t n() const { return B * L; }
  int64_t seg(int64_t b, int64_t c) const { return (b * Ch + c) * L; }  // start of a segment
};

// Sums over a segment run in kLanes float lanes (GCC/Clang vector extension: the compiler splits
// a v16f into the registers the target has) and are added up in double per segment, so the float
// part of a sum covers at most L / 16 values. The kernels are cloned per instruction set
// (PPGKD_KERNEL, chosen at run time by the CPU); fused multiply-add is off for this file
// (CMakeLists), so every clone rounds alike.
constexpr int64_t kLanes = 16;
typedef float v16f __attribute__((vector_size(64)));

#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
#define PPGKD_KERNEL __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define PPGKD_KERNEL
#endif

// Loads 16 unaligned floats (through a reference: a v16f by value would have a per-clone ABI).
inline void load16(v16f& v, const float* p) {
  std::memcpy(&v, p, sizeof v);
}
inline double lanes_sum(const v16f& v) {
  double s = 0;
  for (int64_t i = 0; i < kLanes; ++i) s += v[i];
  return s;
}

// ------------------------------------------------------------------------------- forward

// sum and sum of squares of channel c's values.
PPGKD_KERNEL void channel_sums(const Dims& d, const float* x, int64_t c, double& s, double& q) {
  s = 0, q = 0;
  for (int64_t bi = 0; bi < d.B; ++bi) {
    const float* xs = x + d.seg(bi, c);
    v16f vs = {}, vq = {};
    int64_t i = 0;
    for (; i + kLanes <= d.L; i += kLanes) {
      v16f v;
      load16(v, xs + i);
      vs += v;
      vq += v * v;
    }
    double ts = lanes_sum(vs), tq = lanes_sum(vq);
    for (; i < d.L; ++i) ts += xs[i], tq += double(xs[i]) * xs[i];
    s += ts;
    q += tq;
  }
}

// Channel c's output: act(x * alpha + beta + residual).
PPGKD_KERNEL void channel_output(const Dims& d, const float* x, int64_t c, float alpha, float beta,
                                 const float* res, bool relu, float* y) {
  for (int64_t bi = 0; bi < d.B; ++bi) {
    const int64_t o = d.seg(bi, c);
    const float* xs = x + o;
    float* ys = y + o;
    if (res) {
      const float* rs = res + o;
      for (int64_t i = 0; i < d.L; ++i) ys[i] = xs[i] * alpha + beta + rs[i];
    } else {
      for (int64_t i = 0; i < d.L; ++i) ys[i] = xs[i] * alpha + beta;
    }
    if (relu)
      for (int64_t i = 0; i < d.L; ++i) ys[i] = ys[i] > 0.0f ? ys[i] : 0.0f;
  }
}

// y = act(x * alpha + beta + residual) per channel; mean and invstd (Ch each, double) are the
// statistics used (the batch's in train mode, the running ones in eval mode). The batch variance
// is E[x^2] - mean^2 in double: float inputs carry 24 bits, so the cancellation leaves ample
// precision unless |mean| exceeds the standard deviation by ~1e4.
void forward_pass(const Dims& d, const float* x, const float* w, const float* b, float* rm,
                  float* rv, bool train, double momentum, double eps, const float* res, bool relu,
                  float* y, double* mean, double* invstd) {
  at::parallel_for(0, d.Ch, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      double mu, var;
      if (train) {
        double s, q;
        channel_sums(d, x, c, s, q);
        const double n = static_cast<double>(d.n());
        mu = s / n;
        var = std::max(0.0, q / n - mu * mu);
        const double unbiased = var * n / (n - 1);
        rm[c] = static_cast<float>(momentum * mu + (1 - momentum) * rm[c]);
        rv[c] = static_cast<float>(momentum * unbiased + (1 - momentum) * rv[c]);
      } else {
        mu = rm[c];
        var = rv[c];
      }
      mean[c] = mu;
      invstd[c] = 1.0 / std::sqrt(var + eps);
      const float alpha = static_cast<float>(invstd[c] * w[c]);
      const float beta = static_cast<float>(b[c] - mu * invstd[c] * w[c]);
      channel_output(d, x, c, alpha, beta, res, relu, y);
    }
  });
}

// ------------------------------------------------------------------------------- backward

// Channel c's sums of g and of g * (x - mean), where g is gy where the output passed the ReLU.
PPGKD_KERNEL void channel_grad_sums(const Dims& d, const float* x, const float* y, const float* gy,
                                    int64_t c, float mu, bool relu, double& sg, double& sgx) {
  sg = 0, sgx = 0;
  const v16f zero = {};
  for (int64_t bi = 0; bi < d.B; ++bi) {
    const int64_t o = d.seg(bi, c);
    v16f vs = {}, vt = {};
    int64_t i = 0;
    for (; i + kLanes <= d.L; i += kLanes) {
      v16f g, yv, xv;
      load16(g, gy + o + i);
      load16(yv, y + o + i);
      load16(xv, x + o + i);
      if (relu) g = yv > zero ? g : zero;
      vs += g;
      vt += g * (xv - mu);
    }
    double ts = lanes_sum(vs), tt = lanes_sum(vt);
    for (; i < d.L; ++i) {
      const float g = relu && !(y[o + i] > 0.0f) ? 0.0f : gy[o + i];
      ts += g;
      tt += g * (x[o + i] - mu);
    }
    sg += ts;
    sgx += tt;
  }
}

// Channel c's input and residual gradients (either may be null): gr = g,
// gx = (g - gmean - (x - mean) * k) * scale.
PPGKD_KERNEL void channel_grads(const Dims& d, const float* x, const float* y, const float* gy,
                                int64_t c, float mu, bool relu, float gmean, float k, float scale,
                                float* gx, float* gr) {
  for (int64_t bi = 0; bi < d.B; ++bi) {
    const int64_t o = d.seg(bi, c);
    const float *xs = x + o, *ys = y + o, *gs = gy + o;
    if (gr) {
      float* rs = gr + o;
      for (int64_t i = 0; i < d.L; ++i) rs[i] = relu && !(ys[i] > 0.0f) ? 0.0f : gs[i];
      gs = rs;  // the masked gradient
    } else if (relu) {
      float* xo = gx + o;  // mask into gx first, then update in place
      for (int64_t i = 0; i < d.L; ++i) xo[i] = ys[i] > 0.0f ? gs[i] : 0.0f;
      gs = xo;
    }
    if (gx) {
      float* xo = gx + o;
      for (int64_t i = 0; i < d.L; ++i) xo[i] = (gs[i] - gmean - (xs[i] - mu) * k) * scale;
    }
  }
}

// Gradients of x (gx), weight (gw), bias (gb) and the residual (gr) from gy; any output pointer
// may be null (not wanted). In train mode the mean and variance depend on x:
//   gx = (g - mean(g) - xhat * mean(g * xhat)) * invstd * w,  xhat = (x - mean) * invstd;
// in eval mode gx = g * invstd * w.
void backward_pass(const Dims& d, const float* x, const float* y, const float* gy, const float* w,
                   const double* mean, const double* invstd, bool train, bool relu, float* gx,
                   float* gw, float* gb, float* gr) {
  at::parallel_for(0, d.Ch, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      const float mu = static_cast<float>(mean[c]);
      double sg = 0, sgx = 0;  // sum of g and of g * (x - mean)
      if (gw || gb || (gx && train)) channel_grad_sums(d, x, y, gy, c, mu, relu, sg, sgx);
      if (gw) gw[c] = static_cast<float>(sgx * invstd[c]);
      if (gb) gb[c] = static_cast<float>(sg);
      if (!gx && !gr) continue;
      const double n = static_cast<double>(d.n());
      const float scale = static_cast<float>(invstd[c] * w[c]);
      const float gmean = train ? static_cast<float>(sg / n) : 0.0f;
      const float k = train ? static_cast<float>(sgx * invstd[c] * invstd[c] / n) : 0.0f;
      channel_grads(d, x, y, gy, c, mu, relu, gmean, k, scale, gx, gr);
    }
  });
}

// ------------------------------------------------------------------------------- autograd

float* ptr_or_null(torch::Tensor& t) {
  return t.defined() ? t.data_ptr<float>() : nullptr;
}

struct BatchNormActFn : public torch::autograd::Function<BatchNormActFn> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                               const torch::Tensor& w, const torch::Tensor& b,
                               const torch::Tensor& residual, torch::Tensor rm, torch::Tensor rv,
                               bool train, double momentum, double eps, bool relu) {
    const Dims d{x.size(0), x.size(1), x.size(2)};
    auto y = torch::empty_like(x);
    auto stats = torch::empty({2, d.Ch}, x.options().dtype(torch::kDouble));
    double* st = stats.data_ptr<double>();
    forward_pass(d, x.data_ptr<float>(), w.data_ptr<float>(), b.data_ptr<float>(),
                 rm.data_ptr<float>(), rv.data_ptr<float>(), train, momentum, eps,
                 residual.numel() > 0 ? residual.data_ptr<float>() : nullptr, relu,
                 y.data_ptr<float>(), st, st + d.Ch);
    ctx->save_for_backward({x, w, stats, y});
    ctx->saved_data["train"] = train;
    ctx->saved_data["relu"] = relu;
    ctx->saved_data["residual"] = residual.numel() > 0;
    return y;
  }

  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto &x = saved[0], &w = saved[1], &stats = saved[2], &y = saved[3];
    const Dims d{x.size(0), x.size(1), x.size(2)};
    const auto gy = grads[0].contiguous();
    torch::Tensor gx, gw, gb, gr;
    if (ctx->needs_input_grad(0)) gx = torch::empty_like(x);
    if (ctx->needs_input_grad(1)) gw = torch::empty_like(w);
    if (ctx->needs_input_grad(2)) gb = torch::empty_like(w);
    if (ctx->saved_data["residual"].toBool() && ctx->needs_input_grad(3)) gr = torch::empty_like(x);
    const double* st = stats.data_ptr<double>();
    backward_pass(d, x.data_ptr<float>(), y.data_ptr<float>(), gy.data_ptr<float>(),
                  w.data_ptr<float>(), st, st + d.Ch, ctx->saved_data["train"].toBool(),
                  ctx->saved_data["relu"].toBool(), ptr_or_null(gx), ptr_or_null(gw),
                  ptr_or_null(gb), ptr_or_null(gr));
    return {gx,
            gw,
            gb,
            gr,
            torch::Tensor(),
            torch::Tensor(),
            torch::Tensor(),
            torch::Tensor(),
            torch::Tensor(),
            torch::Tensor()};
  }
};

bool is_float_cpu(const torch::Tensor& t) {
  return t.scalar_type() == torch::kFloat && t.device().is_cpu();
}

}  // namespace

torch::Tensor batch_norm_act(const torch::Tensor& x, const torch::Tensor& weight,
                             const torch::Tensor& bias, const torch::Tensor& running_mean,
                             const torch::Tensor& running_var, bool train, double momentum,
                             double eps, const torch::Tensor& residual, bool relu) {
  const bool ok =
      x.dim() == 3 && is_float_cpu(x) && is_float_cpu(weight) && is_float_cpu(bias) &&
      is_float_cpu(running_mean) && is_float_cpu(running_var) && running_mean.is_contiguous() &&
      running_var.is_contiguous() && weight.numel() == x.size(1) && bias.numel() == x.size(1) &&
      running_mean.numel() == x.size(1) && running_var.numel() == x.size(1) &&
      (!residual.defined() || (is_float_cpu(residual) && residual.sizes() == x.sizes()));
  if (!ok)
    throw Error("batch_norm_act",
                fmt::format("expects float CPU x (B, Ch, L), per-channel weight, bias and "
                            "contiguous running statistics, and a residual shaped as x; got x {}",
                            c10::str(x.sizes())));
  if (train && x.size(0) * x.size(2) < 2)  // BatchNorm1d refuses it too
    throw Error("batch_norm_act", "train mode needs more than one value per channel");
  RECORD_FUNCTION("batch_norm_act",
                  std::vector<c10::IValue>());        // named in profiles (bench/group_step)
  torch::Tensor rm = running_mean, rv = running_var;  // updated in place (train mode)
  // Autograd's inputs must be defined tensors: no residual is an empty one.
  const auto res = residual.defined() ? residual.contiguous() : torch::empty({0}, x.options());
  return BatchNormActFn::apply(x.contiguous(), weight.contiguous(), bias.contiguous(), res, rm, rv,
                               train, momentum, eps, relu);
}

}  // namespace ppgkd
