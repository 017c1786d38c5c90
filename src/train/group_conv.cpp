// Direct loops for the grouped convolution (see group_conv.h), read top to bottom: the long
// phase-split rows that remove every boundary test, the three kernels (output, input gradient,
// weight gradient) for one member over the whole batch, and the autograd operation.
//
// The layout trick. Per member, the B samples of an input channel are laid end to end in one long
// row, each in a segment of Lseg = L' + D phase samples, where D = (ks - 1) / s is the largest tap
// offset. Stride s and padding p = ks/2 are folded in by splitting the padded input into s phases,
// P[r][c][b*Lseg + m] = x[b][c][s*m + r - p] (zero outside [0, L)), so output sample l of sample b
// reads P[t % s][c][b*Lseg + l + t / s] for tap t: contiguous in l for every stride, and never
// past its own segment. The kernels then run over the long rows in blocks of kLanes outputs held
// in a small array the compiler keeps in vector registers; outputs at the D spare positions of a
// segment are computed and dropped. One member's work is thus a few long loops instead of B short
// ones, which is what makes these tiny convolutions fast.
//
// Each member's outputs and gradients are computed from its own slices only, member by member
// (in parallel over members when torch has several threads), so the result does not depend on
// the thread count.
#include "train/group_conv.h"

#include <ATen/Parallel.h>
#include <ATen/record_function.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "common/error.h"

namespace ppgkd {

namespace {

constexpr int64_t kLanes = 16;   // outputs per block: 4 SSE or 2 AVX registers of floats
constexpr int64_t kChunk = 512;  // weight gradient: samples per pass, so rows stay in L1/L2

int64_t round_up(int64_t n, int64_t m) {
  return (n + m - 1) / m * m;
}

// The sizes of one call, and of the long rows derived from them.
struct Dims {
  int64_t B, k, C, O, ks, L, s, p, Lo;
  int64_t D;     // (ks - 1) / s: the largest tap offset within a phase
  int64_t Lseg;  // Lo + D: one sample's segment of a long row
  int64_t Nb;    // B * Lseg rounded up to whole blocks and chunks: outputs computed per row
  int64_t Np;    // Nb + D: length of a phase row, so every block may read D samples past its end
};

Dims dims_of(const torch::Tensor& x, const torch::Tensor& w, int64_t stride) {
  if (x.dim() != 3 || w.dim() != 4 || x.scalar_type() != torch::kFloat ||
      w.scalar_type() != torch::kFloat || !x.device().is_cpu() || !w.device().is_cpu())
    throw Error("group_conv1d", "expects float CPU tensors x (B, k*C, L) and w (k, O, C, ks)");
  Dims d{};
  d.B = x.size(0);
  d.k = w.size(0);
  d.O = w.size(1);
  d.C = w.size(2);
  d.ks = w.size(3);
  d.L = x.size(2);
  d.s = stride;
  d.p = d.ks / 2;
  if (stride < 1 || d.ks < 1 || x.size(1) != d.k * d.C || d.L + 2 * d.p < d.ks)
    throw Error("group_conv1d", fmt::format("input {} does not fit weights {} with stride {}",
                                            c10::str(x.sizes()), c10::str(w.sizes()), stride));
  d.Lo = (d.L + 2 * d.p - d.ks) / d.s + 1;
  d.D = (d.ks - 1) / d.s;
  d.Lseg = d.Lo + d.D;
  d.Nb = round_up(d.B * d.Lseg, kChunk);
  d.Np = d.Nb + d.D;
  return d;
}

// ------------------------------------------------------------------------------- long rows

// The first and one-past-last phase index m of phase r whose input index s*m + r - p lies in
// [0, L) and whose m lies in the segment [0, Lseg); m1 <= m0 when there is none.
void phase_range(const Dims& d, int64_t r, int64_t& m0, int64_t& m1) {
  m0 = r >= d.p ? 0 : (d.p - r + d.s - 1) / d.s;
  const int64_t last = d.L - 1 + d.p - r;  // s*m <= last
  m1 = last < 0 ? 0 : std::min(d.Lseg, last / d.s + 1);
}

// P (s, C, Np) of member j from x (B, k*C, L): see the file comment. P must be zero on entry.
void split_input(const Dims& d, const float* x, int64_t j, float* P) {
  for (int64_t b = 0; b < d.B; ++b)
    for (int64_t c = 0; c < d.C; ++c) {
      const float* src = x + ((b * d.k + j) * d.C + c) * d.L;
      for (int64_t r = 0; r < d.s; ++r) {
        int64_t m0, m1;
        phase_range(d, r, m0, m1);
        float* dst = P + (r * d.C + c) * d.Np + b * d.Lseg;
        if (m0 >= m1) continue;
        if (d.s == 1) {
          std::memcpy(dst + m0, src + m0 + r - d.p, (m1 - m0) * sizeof(float));
        } else {
          const float* in = src + d.s * m0 + r - d.p;  // in[s * i] is input m0 + i
          float* out = dst + m0;
          const int64_t n = m1 - m0, s = d.s;
          for (int64_t i = 0; i < n; ++i) out[i] = in[s * i];
        }
      }
    }
}

// The inverse scatter for the input gradient: gx (B, k*C, L) of member j from G (s, C, Np).
// Input samples no output reads (beyond the last segment position) get zero.
void merge_input_grad(const Dims& d, const float* G, int64_t j, float* gx) {
  for (int64_t b = 0; b < d.B; ++b)
    for (int64_t c = 0; c < d.C; ++c) {
      float* dst = gx + ((b * d.k + j) * d.C + c) * d.L;
      std::fill(dst, dst + d.L, 0.0f);
      for (int64_t r = 0; r < d.s; ++r) {
        int64_t m0, m1;
        phase_range(d, r, m0, m1);
        const float* src = G + (r * d.C + c) * d.Np + b * d.Lseg;
        if (m0 >= m1) continue;
        if (d.s == 1) {
          std::memcpy(dst + m0 + r - d.p, src + m0, (m1 - m0) * sizeof(float));
        } else {
          float* out = dst + d.s * m0 + r - d.p;
          const int64_t n = m1 - m0, s = d.s;
          for (int64_t i = 0; i < n; ++i) out[s * i] = src[m0 + i];
        }
      }
    }
}

// gy (B, k*O, Lo) of member j as long rows with D zeros in front: Y (O, D + Np), gy[b][o][l] at
// D + b*Lseg + l, zero at every other position. Y must be zero on entry.
void split_output_grad(const Dims& d, const float* gy, int64_t j, float* Y) {
  const int64_t n = d.D + d.Np;
  for (int64_t b = 0; b < d.B; ++b)
    for (int64_t o = 0; o < d.O; ++o) {
      const float* src = gy + ((b * d.k + j) * d.O + o) * d.Lo;
      std::copy(src, src + d.Lo, Y + o * n + d.D + b * d.Lseg);
    }
}

// ------------------------------------------------------------------------------- kernels

// A block of kLanes = 16 floats as one vector (GCC/Clang vector extension). The compiler splits it
// into what the target has: four SSE registers, two AVX or one AVX-512 register. The kernels are
// compiled for each of these (PPGKD_KERNEL: function clones chosen at run time by the CPU, not by
// the build machine); fused multiply-add is off for this file (CMakeLists), so every clone rounds
// alike and results do not depend on the CPU. Loads and stores go through memcpy: the rows are
// not aligned (load16/store16, macros: a function returning a v16f would have a per-clone ABI).
typedef float v16f __attribute__((vector_size(64)));
static_assert(kLanes == 16, "a block is one v16f");

#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
#define PPGKD_KERNEL __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define PPGKD_KERNEL
#endif

#define load16(p)                     \
  ({                                  \
    v16f v_;                          \
    std::memcpy(&v_, (p), sizeof v_); \
    v_;                               \
  })
#define store16(p, v)                 \
  do {                                \
    const v16f v_ = (v);              \
    std::memcpy((p), &v_, sizeof v_); \
  } while (0)

// Where tap q = c*ks + t of the weights reads in the phase rows: P + tap_offset[q] + n.
std::vector<int64_t> tap_offsets(const Dims& d) {
  std::vector<int64_t> off(d.C * d.ks);
  for (int64_t c = 0; c < d.C; ++c)
    for (int64_t t = 0; t < d.ks; ++t) off[c * d.ks + t] = ((t % d.s) * d.C + c) * d.Np + t / d.s;
  return off;
}

// Y (O, Nb) = the member's convolution over the long rows P with w (O, C, ks).
PPGKD_KERNEL void forward_rows(const Dims& d, const int64_t* off, const float* P, const float* w,
                               float* Y) {
  const int64_t nq = d.C * d.ks;
  for (int64_t n0 = 0; n0 < d.Nb; n0 += kLanes)
    for (int64_t o = 0; o < d.O; ++o) {
      const float* wo = w + o * nq;
      v16f acc = {};
      for (int64_t q = 0; q < nq; ++q) acc += wo[q] * load16(P + off[q] + n0);
      store16(Y + o * d.Nb + n0, acc);
    }
}

// G (s, C, Np) = the phase-split input gradient from the long output gradient rows Y (O, D + Np):
// G[r][c][m] = sum over o and taps t with t % s = r of w[o][c][t] * gy_long[o][m - t / s].
PPGKD_KERNEL void grad_input_rows(const Dims& d, const float* Y, const float* w, float* G) {
  const int64_t n = d.D + d.Np;
  // Per (r, c): the weights and the offsets into Y of every (o, t) with t % s = r.
  std::vector<std::vector<float>> wv(d.s * d.C);
  std::vector<std::vector<int64_t>> yo(d.s * d.C);
  for (int64_t c = 0; c < d.C; ++c)
    for (int64_t o = 0; o < d.O; ++o)
      for (int64_t t = 0; t < d.ks; ++t) {
        const int64_t rc = (t % d.s) * d.C + c;
        wv[rc].push_back(w[(o * d.C + c) * d.ks + t]);
        yo[rc].push_back(o * n + d.D - t / d.s);
      }
  for (int64_t m0 = 0; m0 < d.Np; m0 += kLanes) {
    const int64_t len = std::min(kLanes, d.Np - m0);  // the last block may be partial
    for (int64_t rc = 0; rc < d.s * d.C; ++rc) {
      const float* ws = wv[rc].data();
      const int64_t* os = yo[rc].data();
      const int64_t nt = static_cast<int64_t>(wv[rc].size());
      float* dst = G + rc * d.Np + m0;
      if (len == kLanes) {
        v16f acc = {};
        for (int64_t q = 0; q < nt; ++q) acc += ws[q] * load16(Y + os[q] + m0);
        store16(dst, acc);
      } else {
        float acc[kLanes] = {};
        for (int64_t q = 0; q < nt; ++q)
          for (int64_t i = 0; i < len; ++i) acc[i] += ws[q] * Y[os[q] + m0 + i];
        std::copy(acc, acc + len, dst);
      }
    }
  }
}

// gw (O, C, ks) = sum over the long rows of gy_long[o][m] * P[t % s][c][m + t / s], in chunks
// of kChunk samples; acc (O, C*ks, kLanes) holds per-lane partial sums until the end.
PPGKD_KERNEL void grad_weight_rows(const Dims& d, const int64_t* off, const float* Y,
                                   const float* P, float* acc, float* gw) {
  const int64_t n = d.D + d.Np, nq = d.C * d.ks;
  std::fill(acc, acc + d.O * nq * kLanes, 0.0f);
  for (int64_t m0 = 0; m0 < d.Nb; m0 += kChunk)
    for (int64_t o = 0; o < d.O; ++o) {
      const float* a = Y + o * n + d.D + m0;
      for (int64_t q = 0; q < nq; ++q) {
        const float* b = P + off[q] + m0;
        v16f part = {};
        for (int64_t i = 0; i < kChunk; i += kLanes) part += load16(a + i) * load16(b + i);
        float* lane = acc + (o * nq + q) * kLanes;
        store16(lane, load16(lane) + part);
      }
    }
  for (int64_t q = 0; q < d.O * nq; ++q) {
    float sum = 0;
    for (int64_t i = 0; i < kLanes; ++i) sum += acc[q * kLanes + i];
    gw[q] = sum;
  }
}

// ------------------------------------------------------------------------------- whole calls

torch::Tensor conv_forward(const Dims& d, const torch::Tensor& x, const torch::Tensor& w) {
  auto y = torch::empty({d.B, d.k * d.O, d.Lo}, x.options());
  const float* xd = x.data_ptr<float>();
  const float* wd = w.data_ptr<float>();
  float* yd = y.data_ptr<float>();
  const auto off = tap_offsets(d);
  at::parallel_for(0, d.k, 1, [&](int64_t j0, int64_t j1) {
    std::vector<float> P(d.s * d.C * d.Np), Y(d.O * d.Nb);
    for (int64_t j = j0; j < j1; ++j) {
      std::fill(P.begin(), P.end(), 0.0f);
      split_input(d, xd, j, P.data());
      forward_rows(d, off.data(), P.data(), wd + j * d.O * d.C * d.ks, Y.data());
      for (int64_t b = 0; b < d.B; ++b)
        for (int64_t o = 0; o < d.O; ++o) {
          const float* src = Y.data() + o * d.Nb + b * d.Lseg;
          std::copy(src, src + d.Lo, yd + ((b * d.k + j) * d.O + o) * d.Lo);
        }
    }
  });
  return y;
}

// Gradients of x (when want_x) and w (when want_w) from gy (B, k*O, Lo).
void conv_backward(const Dims& d, const torch::Tensor& x, const torch::Tensor& w,
                   const torch::Tensor& gy, bool want_x, bool want_w, torch::Tensor& gx,
                   torch::Tensor& gw) {
  const float* xd = x.data_ptr<float>();
  const float* wd = w.data_ptr<float>();
  const float* gyd = gy.data_ptr<float>();
  float* gxd = nullptr;
  float* gwd = nullptr;
  if (want_x) {
    gx = torch::empty_like(x);
    gxd = gx.data_ptr<float>();
  }
  if (want_w) {
    gw = torch::empty_like(w);
    gwd = gw.data_ptr<float>();
  }
  const auto off = tap_offsets(d);
  at::parallel_for(0, d.k, 1, [&](int64_t j0, int64_t j1) {
    std::vector<float> Y(d.O * (d.D + d.Np)), P, G, acc;
    if (want_x) G.resize(d.s * d.C * d.Np);
    if (want_w) P.resize(d.s * d.C * d.Np), acc.resize(d.O * d.C * d.ks * kLanes);
    for (int64_t j = j0; j < j1; ++j) {
      const float* wj = wd + j * d.O * d.C * d.ks;
      std::fill(Y.begin(), Y.end(), 0.0f);
      split_output_grad(d, gyd, j, Y.data());
      if (want_x) {
        grad_input_rows(d, Y.data(), wj, G.data());
        merge_input_grad(d, G.data(), j, gxd);
      }
      if (want_w) {
        std::fill(P.begin(), P.end(), 0.0f);
        split_input(d, xd, j, P.data());
        grad_weight_rows(d, off.data(), Y.data(), P.data(), acc.data(), gwd + j * d.O * d.C * d.ks);
      }
    }
  });
}

// ------------------------------------------------------------------------------- autograd

struct GroupConv1dFn : public torch::autograd::Function<GroupConv1dFn> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                               const torch::Tensor& w, int64_t stride) {
    ctx->save_for_backward({x, w});
    ctx->saved_data["stride"] = stride;
    return conv_forward(dims_of(x, w, stride), x, w);
  }

  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto &x = saved[0], &w = saved[1];
    const int64_t stride = ctx->saved_data["stride"].toInt();
    torch::Tensor gx, gw;
    conv_backward(dims_of(x, w, stride), x, w, grads[0].contiguous(), ctx->needs_input_grad(0),
                  ctx->needs_input_grad(1), gx, gw);
    return {gx, gw, torch::Tensor()};
  }
};

}  // namespace

torch::Tensor group_conv1d(const torch::Tensor& x, const torch::Tensor& w, int64_t stride) {
  RECORD_FUNCTION("group_conv1d",
                  std::vector<c10::IValue>());  // named in profiles (bench/group_step)
  return GroupConv1dFn::apply(x.contiguous(), w.contiguous(), stride);
}

}  // namespace ppgkd
