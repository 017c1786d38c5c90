/* conv1d_s8_fast.c — int8 conv1d on the Arm DSP extension or x86-64 AVX2 (simd.h says which
 * build compiles which; a portable build compiles nothing here). Arguments as ppgkd_conv1d_s8
 * (conv1d.c), already checked there; it calls ppgkd_conv1d_s8_fast first and runs its portable
 * kernel only when this returns 0 (a shape no DSP kernel takes, or too little scratch: the DSP
 * kernels work in the context's scratch, which the loader reserves in the arena, see below).
 *
 * Both paths give exactly the portable kernel's int8 outputs. The int32 sums are exact in any
 * order and never leave the int32 range (the argument at the top of conv1d.c holds for every
 * partial sum here: bias - zp * sum w plus products w * x of some taps), and requantisation is
 * ppgkd_rq_out (simd.h), the portable function of the same int32. The input zero point is
 * folded into each channel's initial value (sum w * (x - zp) = sum w * x - zp * sum w), and a
 * padded tap becomes an input equal to the zero point, which then adds exactly nothing.
 *
 * Both are im2col: for a group of four output positions, the taps of each (C_in * K bytes,
 * input channel major as the weights are exported) are copied into a column in scratch once,
 * then every output channel's weights (read in their exported layout) are multiplied against
 * the four columns, so each weight is loaded and unpacked once per four outputs, and each input
 * unpacked once per group for all channels. Requantisation is per output with its per-channel
 * constants prepared once per group (ppgkd_rq_prepare).
 *   DSP: columns unpacked once to int16 pairs (SXTB16: bytes 0 and 2, SXTB16 ROR 8: bytes 1
 *        and 3 of every word); a weight word unpacks the same way, so two SMLADs add its four
 *        products, two MACs each. Chunks of whole input channels keep the scratch at about
 *        3 kB whatever the layer (4 x 192 column bytes, their 1.5 kB of pairs, 32 channels' sums).
 *   AVX2: columns sign-extended to int16; 16 weights sign-extended once, one _mm256_madd_epi16
 *        per position; four sums reduced and requantised together. */
#include "simd.h"

/* ---------------------------------------------------------------- the DSP kernels' scratch
 *
 * Which DSP kernel takes a shape and the scratch it needs, in every build: the loader reserves
 * it in the arena (ppgkd_conv1d_s8_scratch_bytes), so the number an application sizes its arena
 * by is the same on the host and on the Cortex-M4, and the kernels keep nothing on the stack but
 * their locals. Limits: */
#define DSP_CHUNK_TAPS 192  /* im2col: taps (whole input channels) per chunk */
#define DSP_CO_BLOCK 32     /* im2col: output channels per block */
#define DIRECT_X_MAX 2048   /* direct: int16 input rows per block (4 kB) */
#define DIRECT_W_MAX 512    /* direct: a channel pair's int16 weight pairs (doublewords, 4 kB) */
#define DIRECT_T_MAX 128    /* direct: positions per block (the sums of two channels, 1 kB) */
#define CHAN_MAX_C_IN 128   /* direct plans of up to this many input channels pair channels */
#define CHAN_MAX_C_IN_K1 12 /* and pointwise (K = 1) plans of up to this many */

enum { DSP_NONE = 0, DSP_DIRECT, DSP_POINTWISE, DSP_IM2COL };

/* kind DSP_NONE: the portable kernel (no scratch). Scratch layouts, each part a multiple of 8
 * bytes or last, in this order:
 *   direct     ws uint64[c_in * kp], acc int32[2 * tb], xs int16[c_in * row]
 *   pointwise  ws uint64[cp],        acc int32[2 * tb], xs int16[tb * 2 * cp]
 *   im2col     pairs uint32[2 * rows * K], init int32[nb], acc int32[4 * nb],
 *              lin int8[4 * rows * K] */
typedef struct {
  int32_t kind;
  int32_t tb, row;  /* direct and pointwise: positions per block; direct: int16 per row */
  int32_t g, cp;    /* pointwise: pairs per tile row, channel pairs (padded) */
  int32_t rows, nb; /* im2col: input channels per chunk, output channels per block */
  size_t bytes;     /* scratch bytes */
} dsp_plan;

static dsp_plan plan_dsp(const ppgkd_conv1d_params* p, int32_t c_in, int32_t c_out, int32_t kk,
                         int32_t l_out) {
  dsp_plan pl;
  memset(&pl, 0, sizeof pl);
  if (kk == 1) {
    /* pointwise: pairs across input channels, rows of g <= 4 pairs */
    const int32_t cp0 = (c_in + 1) / 2;
    const int32_t g = cp0 < 4 ? cp0 : 4;
    const int32_t cp = (cp0 + g - 1) / g * g;
    if (cp <= DIRECT_W_MAX && 2 * cp <= DIRECT_X_MAX / 2) {
      int32_t tb = DIRECT_X_MAX / (2 * cp);
      if (tb > DIRECT_T_MAX) tb = DIRECT_T_MAX;
      if (tb > l_out) tb = l_out;
      pl.kind = DSP_POINTWISE, pl.g = g, pl.cp = cp, pl.tb = tb;
      pl.bytes = 8 * (size_t)cp + 4 * 2 * (size_t)tb + 2 * (size_t)tb * 2 * (size_t)cp;
      return pl;
    }
  } else if (p->dilation == 1 && (kk + 1) / 2 <= 4 &&
             (int64_t)c_in * ((kk + 1) / 2) <= DIRECT_W_MAX) {
    /* direct: positions per block such that c_in rows of (tb - 1) * s + 2 kp int16 (even)
     * fit DIRECT_X_MAX */
    const int32_t kp = (kk + 1) / 2, s = p->stride;
    int64_t tb64 = ((int64_t)(DIRECT_X_MAX / c_in / 2 * 2) - 2 * kp) / s + 1;
    if (tb64 >= 2) {
      int32_t tb, span;
      if (tb64 > DIRECT_T_MAX) tb64 = DIRECT_T_MAX;
      tb = tb64 > l_out ? l_out : (int32_t)tb64;
      span = (tb - 1) * s + 2 * kp;
      pl.kind = DSP_DIRECT, pl.tb = tb, pl.row = (span + 1) / 2 * 2;
      pl.bytes =
          8 * (size_t)c_in * (size_t)kp + 4 * 2 * (size_t)tb + 2 * (size_t)c_in * (size_t)pl.row;
      return pl;
    }
  }
  {
    /* im2col: chunks of whole input channels; none when K > DSP_CHUNK_TAPS / 4 */
    int32_t rows = DSP_CHUNK_TAPS / 4 / kk * 4;
    if (rows == 0) return pl;
    if (rows > c_in) rows = c_in;
    pl.kind = DSP_IM2COL, pl.rows = rows, pl.nb = c_out < DSP_CO_BLOCK ? c_out : DSP_CO_BLOCK;
    pl.bytes = 4 * 2 * (size_t)rows * (size_t)kk + 4 * (size_t)pl.nb + 4 * 4 * (size_t)pl.nb +
               4 * (size_t)rows * (size_t)kk;
  }
  return pl;
}

size_t ppgkd_conv1d_s8_scratch_bytes(const ppgkd_conv1d_params* p, int32_t c_in, int32_t c_out,
                                     int32_t k, int32_t l_out) {
  dsp_plan pl;
  if (!p || c_in < 1 || c_out < 1 || k < 1 || l_out < 1 || p->stride < 1 || p->dilation < 1) {
    return 0;
  }
  pl = plan_dsp(p, c_in, c_out, k, l_out);
  /* + 4: the kernel aligns its doublewords to 8 bytes in a 4-byte aligned buffer */
  return pl.kind == DSP_NONE ? 0 : pl.bytes + 4;
}

#if defined(PPGKD_FAST_DSP) || defined(PPGKD_FAST_AVX2)

static inline void write_s8x4(int8_t* p, uint32_t v) {
  memcpy(p, &v, sizeof v);
}
static inline void copy_s8x2(int8_t* dst, const int8_t* src) {
  uint16_t v;
  memcpy(&v, src, sizeof v);
  memcpy(dst, &v, sizeof v);
}

/* dst[0..n) = src[0..n), n >= 1: up to 8 bytes as two word (halfword) copies, the second
 * overlapping the first rather than reading or writing past n (no loop, which the compiler
 * would turn into a memcpy call); longer rows word by word. */
static inline void copy_taps(int8_t* dst, const int8_t* src, int32_t n) {
  if (n >= 4) {
    if (n > 8) {
      int32_t k;
      for (k = 0; k + 8 < n; k += 4) write_s8x4(dst + k, ppgkd_read_s8x4(src + k));
      dst += k, src += k, n -= k;
    }
    write_s8x4(dst, ppgkd_read_s8x4(src));
    write_s8x4(dst + n - 4, ppgkd_read_s8x4(src + n - 4));
  } else if (n >= 2) {
    copy_s8x2(dst, src);
    copy_s8x2(dst + n - 2, src + n - 2);
  } else {
    dst[0] = src[0];
  }
}

/* rows rows of K taps, l_in apart in x, one after the other into col; the ResNets' K = 3, 5, 7
 * with K a constant (two overlapping copies per row, no branch). */
static void copy_rows(int8_t* col, const int8_t* x, int32_t rows, int32_t l_in, int32_t kk) {
  int32_t r;
  if (kk == 7) {
    for (r = 0; r < rows; ++r, x += l_in, col += 7) copy_taps(col, x, 7);
  } else if (kk == 5) {
    for (r = 0; r < rows; ++r, x += l_in, col += 5) copy_taps(col, x, 5);
  } else if (kk == 3) {
    for (r = 0; r < rows; ++r, x += l_in, col += 3) copy_taps(col, x, 3);
  } else {
    for (r = 0; r < rows; ++r, x += l_in, col += kk) copy_taps(col, x, kk);
  }
}

/* The column of output position t over input channels ci0 .. ci0 + rows - 1:
 * col[r * K + k] = x[ci0 + r, t * stride - padding + k * dilation], or the input zero point where
 * that falls outside the input (a padded tap then adds w * zp - zp * w = 0 once the zero point
 * is folded into the initial value: exactly the reference's skipped tap). Interior positions of
 * a dilation-1 convolution copy K bytes per input channel; the others go tap by tap. */
static void im2col(const ppgkd_conv1d_params* p, const int8_t* in, int32_t rows, int32_t l_in,
                   int32_t kk, int32_t t, int8_t zp, int8_t* col) {
  const int64_t start = (int64_t)t * p->stride - p->padding;
  const int64_t last = start + (int64_t)p->dilation * (kk - 1);
  int32_t r, k;
  if (p->dilation == 1) {
    /* taps k_lo <= k < k_hi fall inside the input (k_lo = k_hi when none does) */
    const int64_t lo64 = start < 0 ? -start : 0, hi64 = last < l_in ? kk : l_in - start;
    const int32_t k_lo = lo64 > kk ? kk : (int32_t)lo64;
    const int32_t k_hi = hi64 < k_lo ? k_lo : (int32_t)hi64;
    const int8_t* x = k_hi > k_lo ? in + (start + k_lo) : in;
    if (k_lo == 0 && k_hi == kk) {
      copy_rows(col, x, rows, l_in, kk);
      return;
    }
    for (r = 0; r < rows; ++r, x += l_in, col += kk) {
      for (k = 0; k < k_lo; ++k) col[k] = zp;
      for (; k < k_hi; ++k) col[k] = x[k - k_lo];
      for (; k < kk; ++k) col[k] = zp;
    }
    return;
  }
  for (r = 0; r < rows; ++r, in += l_in, col += kk) {
    for (k = 0; k < kk; ++k) {
      const int64_t pos = start + (int64_t)k * p->dilation;
      col[k] = pos >= 0 && pos < l_in ? in[pos] : zp;
    }
  }
}

#endif /* PPGKD_FAST_DSP || PPGKD_FAST_AVX2 */

#ifdef PPGKD_FAST_DSP

/* im2col scratch (dsp_plan's layout, sized to the layer, at most about 3 kB):
 * the columns of four output positions over a chunk of at most DSP_CHUNK_TAPS taps (whole input
 * channels), and the sums of at most DSP_CO_BLOCK output channels at those positions. */

/* Sum of one output channel's C_in * K weights (|sum| <= 127 * C_in * K). */
static int32_t weight_sum(const int8_t* w, int64_t n) {
  int32_t s = 0;
  int64_t i;
  for (i = 0; i < n; ++i) s += w[i];
  return s;
}

/* 1 x 4 tile: one output channel's weights w (taps bytes) against the columns of four positions.
 * pairs holds the whole words of the columns already unpacked, for word q of position j
 * pairs[8q + 2j] = SXTB16 (taps 4q, 4q + 2) and pairs[8q + 2j + 1] = SXTB16 ROR 8 (taps 4q + 1,
 * 4q + 3); lin holds the columns as bytes (position j at lin + j * taps), for the taps % 4 past
 * the last whole word. acc[j] += the dot product of position j. Per word of weights: one load,
 * the same two unpacks, then per position a doubleword load and two SMLADs. */
static void dot_1x4(const uint32_t* pairs, const int8_t* lin, const int8_t* w, int32_t taps,
                    int32_t* acc) {
  const int32_t whole = taps / 4 * 4;
  const int8_t* const end = w + whole;
  const int8_t* wt = w;
  int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
  int32_t i;
  for (; wt < end; wt += 4, pairs += 8) {
    const uint32_t v = ppgkd_read_s8x4(wt);
    const uint32_t we = ppgkd_sxtb16(v), wo = ppgkd_sxtb16_ror8(v);
    a0 = ppgkd_smlad(we, pairs[0], a0), a0 = ppgkd_smlad(wo, pairs[1], a0);
    a1 = ppgkd_smlad(we, pairs[2], a1), a1 = ppgkd_smlad(wo, pairs[3], a1);
    a2 = ppgkd_smlad(we, pairs[4], a2), a2 = ppgkd_smlad(wo, pairs[5], a2);
    a3 = ppgkd_smlad(we, pairs[6], a3), a3 = ppgkd_smlad(wo, pairs[7], a3);
  }
  for (i = whole; i < taps; ++i) {
    const int32_t v = w[i];
    a0 += v * lin[i], a1 += v * lin[taps + i], a2 += v * lin[2 * taps + i];
    a3 += v * lin[3 * taps + i];
  }
  acc[0] = a0, acc[1] = a1, acc[2] = a2, acc[3] = a3;
}

/* ---------------------------------------------------------------- direct kernel (dilation 1, K >=
 * 2)
 *
 * No im2col: the input rows a block of output positions reads are widened once to int16 with the
 * zero point subtracted (x - zp, in -255..255; a padded tap is 0 and adds exactly nothing, so no
 * weight sums are needed), and each output channel pair's weights once to int16 pairs
 * (w[2j], w[2j + 1]), the last pair of an odd K completed with a zero weight. Output position t
 * at tap pair j then reads the int16 pair at row offset t * stride + 2j with one (unaligned)
 * word load, so SMLAD adds both products of the pair: two channels x two positions per pair cost
 * one doubleword of weights, two words of input and four SMLADs (8 MACs). The widening costs
 * about C_in x span per block and 2 C_in K per channel pair, shared by every position and
 * channel, which is what the small layers of r1-r3 could not amortise over im2col's per-position
 * columns. Scratch (dsp_plan's layout) sized to the layer: at most DIRECT_X_MAX int16 (input rows,
 * 4 kB), DIRECT_W_MAX doublewords (one channel pair's weights, 4 kB: C_in <= 128 at K = 7) and the
 * sums of DIRECT_T_MAX positions; layers that do not fit take the im2col kernel below. */

static inline uint32_t read_pair(const int16_t* p) {
  uint32_t v;
  memcpy(&v, p, sizeof v);
  return v;
}

/* Kept out of line so that each tile loop gets the registers to itself. */
#if defined(__GNUC__)
#define DIRECT_NOINLINE __attribute__((noinline))
#else
#define DIRECT_NOINLINE
#endif
/* The channel-pair tiles also without GCC's scheduling before register allocation, which
 * interleaves the unrolled words' loads so far ahead that it runs out of registers and reloads
 * inputs and spills weights (about 20 % slower on the M4). */
#if defined(__GNUC__) && !defined(__clang__)
#define CHAN_TILE_ATTR __attribute__((noinline, optimize("no-schedule-insns")))
#else
#define CHAN_TILE_ATTR DIRECT_NOINLINE
#endif

/* Tap pair j of two channels (wa, wb: ws[2j], ws[2j + 1]) at two positions (x0, x1). */
#define DIRECT_PAIR(j)                                                         \
  do {                                                                         \
    const uint64_t wab = ws[j]; /* both channels' pairs: one LDRD */           \
    const uint32_t wa = (uint32_t)wab, wb = (uint32_t)(wab >> 32);             \
    const uint32_t v0 = read_pair(x0 + 2 * (j)), v1 = read_pair(x1 + 2 * (j)); \
    a0 = ppgkd_smlad(wa, v0, a0), a1 = ppgkd_smlad(wa, v1, a1);                \
    b0 = ppgkd_smlad(wb, v0, b0), b1 = ppgkd_smlad(wb, v1, b1);                \
  } while (0)

/* y[t] = ppgkd_rq_out(acc[t]) for t < m: one channel's row of a block, its constants in locals
 * (registers) for the high-word form, which every layer of a trained model has. */
static DIRECT_NOINLINE void requantize_row(const int32_t* acc, int32_t m, const ppgkd_rq* rq,
                                           const ppgkd_s8_act* act, int8_t* y) {
  int32_t t;
  if (rq->form == 1 && rq->rshift >= 1) {
    /* half = 2^(rshift + 31) is a multiple of 2^32: the high word of acc * mult + half is the
     * product's high word plus 2^(rshift - 1), no 64-bit add */
    const int32_t round = (int32_t)1 << (rq->rshift - 1);
    const int32_t mult = rq->mult, rshift = rq->rshift, zp = act->out_zp;
    const int32_t lo = act->act_min, hi = act->act_max;
    if (hi == 127 && rshift <= 22) {
      /* the zero point folded into the rounding term (adding zp * 2^rshift before the floor
       * shift adds exactly zp after it; |high| <= 2^30, 2^21 + 128 * 2^22 < 2^30: no overflow)
       * and SMMLA forming high + that term in one instruction */
      const int32_t bias = round + zp * ((int32_t)1 << rshift);
      uint8_t* const yb = (uint8_t*)y; /* the low byte stored: no sign extension first */
      for (t = 0; t + 2 <= m; t += 2) {
        int32_t v0 = ppgkd_ssat8(ppgkd_floor_shr(ppgkd_smmla(acc[t], mult, bias), rshift));
        int32_t v1 = ppgkd_ssat8(ppgkd_floor_shr(ppgkd_smmla(acc[t + 1], mult, bias), rshift));
        if (v0 < lo) v0 = lo; /* lo >= -128 */
        if (v1 < lo) v1 = lo;
        yb[t] = (uint8_t)(uint32_t)v0; /* the int8 values' bits */
        yb[t + 1] = (uint8_t)(uint32_t)v1;
      }
      if (t < m) {
        int32_t v = ppgkd_ssat8(ppgkd_floor_shr(ppgkd_smmla(acc[t], mult, bias), rshift));
        if (v < lo) v = lo;
        yb[t] = (uint8_t)(uint32_t)v;
      }
      return;
    }
    if (hi == 127) { /* the graph's (act_max is always 127): SSAT, then the lower bound */
      for (t = 0; t < m; ++t) {
        const int32_t high = ppgkd_s32_bits((uint32_t)((uint64_t)((int64_t)acc[t] * mult) >> 32));
        const int32_t v = ppgkd_ssat8(ppgkd_floor_shr(high + round, rshift) + zp);
        y[t] = (int8_t)(v < lo ? lo : v); /* lo >= -128 */
      }
      return;
    }
    for (t = 0; t < m; ++t) {
      const int32_t high = ppgkd_s32_bits((uint32_t)((uint64_t)((int64_t)acc[t] * mult) >> 32));
      int32_t v = ppgkd_floor_shr(high + round, rshift) + zp; /* |high| < 2^30: no overflow */
      v = v < lo ? lo : v;
      y[t] = (int8_t)(v > hi ? hi : v);
    }
    return;
  }
  if (rq->form == 1) {
    const int64_t half = rq->half;
    const int32_t mult = rq->mult, rshift = rq->rshift, zp = act->out_zp;
    const int32_t lo = act->act_min, hi = act->act_max;
    for (t = 0; t < m; ++t) {
      const uint64_t p64 = (uint64_t)((int64_t)acc[t] * mult + half);
      int32_t v = ppgkd_floor_shr(ppgkd_s32_bits((uint32_t)(p64 >> 32)), rshift) + zp;
      v = v < lo ? lo : v;
      y[t] = (int8_t)(v > hi ? hi : v);
    }
    return;
  }
  for (t = 0; t < m; ++t) y[t] = ppgkd_rq_out(acc[t], rq, act);
}

/* requantize_row's common case read straight from the channel's constants, without preparing
 * them (ppgkd_rq_prepare): shift -23..-2 (the high-word form with 1 <= rshift = -1 - shift <= 22)
 * and act_max = 127, every layer of a trained model; returns 0 (nothing written) otherwise. The
 * same arithmetic as requantize_row's first loop. */
static DIRECT_NOINLINE int requantize_row_hi(const int32_t* acc, int32_t m,
                                             const ppgkd_per_channel_quant* q, int32_t c,
                                             const ppgkd_s8_act* act, int8_t* y) {
  const int32_t i = q->per_tensor ? 0 : c;
  const int32_t shift = q->shift[i];
  if (shift > -2 || shift < -23 || act->act_max != 127) return 0;
  {
    const int32_t mult = (int32_t)((uint32_t)q->multiplier[i] << PPGKD_RQ_MULT_SHIFT);
    const int32_t rshift = -1 - shift, lo = act->act_min;
    const int32_t bias = ((int32_t)1 << (rshift - 1)) + act->out_zp * ((int32_t)1 << rshift);
    uint8_t* const yb = (uint8_t*)y; /* the low byte stored: no sign extension first */
    int32_t t = 0;
    if (lo <= -128) { /* no ReLU (a block's second convolution, the shortcuts): SSAT is the clamp */
      for (; t + 2 <= m; t += 2) {
        const int32_t v0 = ppgkd_ssat8(ppgkd_floor_shr(ppgkd_smmla(acc[t], mult, bias), rshift));
        const int32_t v1 =
            ppgkd_ssat8(ppgkd_floor_shr(ppgkd_smmla(acc[t + 1], mult, bias), rshift));
        yb[t] = (uint8_t)(uint32_t)v0; /* the int8 values' bits */
        yb[t + 1] = (uint8_t)(uint32_t)v1;
      }
    } else {
      for (; t + 2 <= m; t += 2) {
        int32_t v0 = ppgkd_ssat8(ppgkd_floor_shr(ppgkd_smmla(acc[t], mult, bias), rshift));
        int32_t v1 = ppgkd_ssat8(ppgkd_floor_shr(ppgkd_smmla(acc[t + 1], mult, bias), rshift));
        if (v0 < lo) v0 = lo; /* lo >= -128 */
        if (v1 < lo) v1 = lo;
        yb[t] = (uint8_t)(uint32_t)v0;
        yb[t + 1] = (uint8_t)(uint32_t)v1;
      }
    }
    if (t < m) {
      int32_t v = ppgkd_ssat8(ppgkd_floor_shr(ppgkd_smmla(acc[t], mult, bias), rshift));
      if (v < lo) v = lo;
      yb[t] = (uint8_t)(uint32_t)v;
    }
  }
  return 1;
}

/* One channel pair over one block of output positions: everything the tile loop needs. */
typedef struct {
  const uint64_t* ws;           /* the pair's weights (widen_weights) */
  const int16_t* xs;            /* the block's input rows (widen_rows), row apart */
  int32_t row, c_in, stride, m; /* m: positions in the block */
  int32_t init_a, init_b;       /* biases */
  int32_t *acc_a, *acc_b;       /* the m sums of channel a and b */
} direct_job;

/* The block's sums of channels co and cb (cb = co for an odd last channel: stored once)
 * requantised into rows co and cb of out (out at the block's first position). */
static DIRECT_NOINLINE void store_pair(const direct_job* jb, const ppgkd_per_channel_quant* q,
                                       const ppgkd_s8_act* act, int32_t co, int32_t cb, int8_t* out,
                                       int32_t l_out) {
  if (!requantize_row_hi(jb->acc_a, jb->m, q, co, act, out + (int64_t)co * l_out)) {
    const ppgkd_rq rq_a = ppgkd_rq_prepare_channel(q, co);
    requantize_row(jb->acc_a, jb->m, &rq_a, act, out + (int64_t)co * l_out);
  }
  if (cb != co && !requantize_row_hi(jb->acc_b, jb->m, q, cb, act, out + (int64_t)cb * l_out)) {
    const ppgkd_rq rq_b = ppgkd_rq_prepare_channel(q, cb);
    requantize_row(jb->acc_b, jb->m, &rq_b, act, out + (int64_t)cb * l_out);
  }
}

/* Two channels (ws[i]: channel a's pair i in the low word, b's in the high word) x two positions
 * (x0 and x1 = x0 + stride, or x0 again for a lone last position) over c_in rows `row` apart of KP
 * tap pairs each, for every position pair of the block, requantised and stored. One copy per KP,
 * the taps unrolled. */
/* Tap pair j of two channels at one position (x0): a lone last position. */
#define DIRECT_PAIR1(j)                              \
  do {                                               \
    const uint64_t wab = ws[j];                      \
    const uint32_t v0 = read_pair(x0 + 2 * (j));     \
    a0 = ppgkd_smlad((uint32_t)wab, v0, a0);         \
    b0 = ppgkd_smlad((uint32_t)(wab >> 32), v0, b0); \
  } while (0)

#define DIRECT_TILE(name, KP, BODY, BODY1)                                \
  static CHAN_TILE_ATTR void name(const direct_job* jb) {                 \
    const int32_t row = jb->row, s = jb->stride, m = jb->m;               \
    const uint64_t* const ws0 = jb->ws;                                   \
    const int16_t* const xs = jb->xs;                                     \
    int32_t* const acc_a = jb->acc_a;                                     \
    int32_t* const acc_b = jb->acc_b;                                     \
    const uint64_t* const w_end = ws0 + (KP) * (int64_t)jb->c_in;         \
    int32_t t;                                                            \
    for (t = 0; t + 1 < m; t += 2) {                                      \
      const uint64_t* ws = ws0;                                           \
      const int16_t* x0 = xs + t * s;                                     \
      const int16_t* x1 = x0 + s;                                         \
      int32_t a0 = jb->init_a, a1 = a0, b0 = jb->init_b, b1 = b0;         \
      for (; ws < w_end; ws += (KP), x0 += row, x1 += row) {              \
        BODY                                                              \
      }                                                                   \
      acc_a[t] = a0, acc_b[t] = b0, acc_a[t + 1] = a1, acc_b[t + 1] = b1; \
    }                                                                     \
    if (t < m) { /* a lone last position */                               \
      const uint64_t* ws = ws0;                                           \
      const int16_t* x0 = xs + t * s;                                     \
      int32_t a0 = jb->init_a, b0 = jb->init_b;                           \
      for (; ws < w_end; ws += (KP), x0 += row) {                         \
        BODY1                                                             \
      }                                                                   \
      acc_a[t] = a0, acc_b[t] = b0;                                       \
    }                                                                     \
  }

DIRECT_TILE(direct_pair_k1, 1, DIRECT_PAIR(0);, DIRECT_PAIR1(0);)
DIRECT_TILE(direct_pair_k2, 2, DIRECT_PAIR(0); DIRECT_PAIR(1);, DIRECT_PAIR1(0); DIRECT_PAIR1(1);)
DIRECT_TILE(direct_pair_k3, 3, DIRECT_PAIR(0); DIRECT_PAIR(1); DIRECT_PAIR(2);, DIRECT_PAIR1(0);
            DIRECT_PAIR1(1); DIRECT_PAIR1(2);)
DIRECT_TILE(direct_pair_k4, 4, DIRECT_PAIR(0); DIRECT_PAIR(1); DIRECT_PAIR(2); DIRECT_PAIR(3);
            , DIRECT_PAIR1(0); DIRECT_PAIR1(1); DIRECT_PAIR1(2); DIRECT_PAIR1(3);)

/* One channel (the low words of ws: an odd last channel) x two positions: tap pair j. */
#define DIRECT_LONE(j)                                                         \
  do {                                                                         \
    const uint32_t wa = (uint32_t)ws[j];                                       \
    const uint32_t v0 = read_pair(x0 + 2 * (j)), v1 = read_pair(x1 + 2 * (j)); \
    a0 = ppgkd_smlad(wa, v0, a0), a1 = ppgkd_smlad(wa, v1, a1);                \
  } while (0)
#define DIRECT_LONE1(j)                                             \
  do {                                                              \
    a0 = ppgkd_smlad((uint32_t)ws[j], read_pair(x0 + 2 * (j)), a0); \
  } while (0)

/* direct_pair_k<KP> for channel a alone (an odd C_out's last channel, which the pair tiles
 * would compute twice): half the SMLADs and weight loads of a pair. */
#define DIRECT_TILE_LONE(name, KP, BODY, BODY1)                   \
  static CHAN_TILE_ATTR void name(const direct_job* jb) {         \
    const int32_t row = jb->row, s = jb->stride, m = jb->m;       \
    const uint64_t* const ws0 = jb->ws;                           \
    const int16_t* const xs = jb->xs;                             \
    int32_t* const acc_a = jb->acc_a;                             \
    const uint64_t* const w_end = ws0 + (KP) * (int64_t)jb->c_in; \
    int32_t t;                                                    \
    for (t = 0; t + 1 < m; t += 2) {                              \
      const uint64_t* ws = ws0;                                   \
      const int16_t* x0 = xs + t * s;                             \
      const int16_t* x1 = x0 + s;                                 \
      int32_t a0 = jb->init_a, a1 = a0;                           \
      for (; ws < w_end; ws += (KP), x0 += row, x1 += row) {      \
        BODY                                                      \
      }                                                           \
      acc_a[t] = a0, acc_a[t + 1] = a1;                           \
    }                                                             \
    if (t < m) {                                                  \
      const uint64_t* ws = ws0;                                   \
      const int16_t* x0 = xs + t * s;                             \
      int32_t a0 = jb->init_a;                                    \
      for (; ws < w_end; ws += (KP), x0 += row) {                 \
        BODY1                                                     \
      }                                                           \
      acc_a[t] = a0;                                              \
    }                                                             \
  }

DIRECT_TILE_LONE(direct_lone_k1, 1, DIRECT_LONE(0);, DIRECT_LONE1(0);)
DIRECT_TILE_LONE(direct_lone_k2, 2, DIRECT_LONE(0); DIRECT_LONE(1);, DIRECT_LONE1(0);
                 DIRECT_LONE1(1);)
DIRECT_TILE_LONE(direct_lone_k3, 3, DIRECT_LONE(0); DIRECT_LONE(1); DIRECT_LONE(2);
                 , DIRECT_LONE1(0); DIRECT_LONE1(1); DIRECT_LONE1(2);)
DIRECT_TILE_LONE(direct_lone_k4, 4, DIRECT_LONE(0); DIRECT_LONE(1); DIRECT_LONE(2); DIRECT_LONE(3);
                 , DIRECT_LONE1(0); DIRECT_LONE1(1); DIRECT_LONE1(2); DIRECT_LONE1(3);)

/* The tile of KP tap pairs (or channel-pair rows) for channels co and cb (cb == co: alone). */
static void run_tile(const direct_job* jb, int32_t kp, int lone) {
  if (lone) {
    if (kp == 1) {
      direct_lone_k1(jb);
    } else if (kp == 2) {
      direct_lone_k2(jb);
    } else if (kp == 3) {
      direct_lone_k3(jb);
    } else {
      direct_lone_k4(jb);
    }
  } else if (kp == 1) {
    direct_pair_k1(jb);
  } else if (kp == 2) {
    direct_pair_k2(jb);
  } else if (kp == 3) {
    direct_pair_k3(jb);
  } else {
    direct_pair_k4(jb);
  }
}

/* The int16 pair (lo, hi) as one word, lo in the low halfword. */
static inline uint32_t pack_pair(int32_t lo, int32_t hi) {
  return ((uint32_t)lo & 0xFFFFu) | ((uint32_t)hi << 16);
}

/* (w[k], w[k + 1]) and (w[k + 2], w[k + 3]) from one word: SXTB16 gives (w0, w2), SXTB16 ROR 8
 * (w1, w3), and two halfword packs (PKHBT, PKHTB) pair them in order. */
static inline void widen4(const int8_t* w, uint32_t* p0, uint32_t* p1) {
  const uint32_t v = ppgkd_read_s8x4(w);
  const uint32_t e = ppgkd_sxtb16(v), o = ppgkd_sxtb16_ror8(v);
  *p0 = ppgkd_pack_lo(e, o);
  *p1 = ppgkd_pack_hi(e, o);
}

/* Channel a's (wa) and b's (wb) C_in x K weights as int16 pairs (w[2j], w[2j + 1]) per input
 * channel, a's in the low and b's in the high word of each doubleword, the last pair of an odd
 * K completed with a zero weight (see above). Four taps at a time from a word (widen4) while
 * four are left in the row (never reading past it), the rest tap by tap. */
static void widen_weights(const int8_t* wa, const int8_t* wb, int32_t c_in, int32_t kk,
                          uint64_t* ws) {
  int32_t ci, k;
  for (ci = 0; ci < c_in; ++ci, wa += kk, wb += kk) {
    for (k = 0; k + 4 <= kk; k += 4, ws += 2) {
      uint32_t a0, a1, b0, b1;
      widen4(wa + k, &a0, &a1);
      widen4(wb + k, &b0, &b1);
      ws[0] = (uint64_t)a0 | (uint64_t)b0 << 32;
      ws[1] = (uint64_t)a1 | (uint64_t)b1 << 32;
    }
    for (; k < kk; k += 2, ++ws) {
      const int32_t has2 = k + 1 < kk;
      *ws = (uint64_t)pack_pair(wa[k], has2 ? wa[k + 1] : 0) |
            (uint64_t)pack_pair(wb[k], has2 ? wb[k + 1] : 0) << 32;
    }
  }
}

/* Rows x[ci, start .. start + span) - zp as int16, row apart, 0 outside 0..l_in - 1. */
static void widen_rows(const int8_t* in, int32_t c_in, int32_t l_in, int64_t start, int32_t span,
                       int32_t zp, int32_t row, int16_t* xs) {
  const int64_t lo64 = start < 0 ? -start : 0, hi64 = l_in - start;
  const int32_t lo = lo64 > span ? span : (int32_t)lo64;
  const int32_t hi = hi64 < lo ? lo : hi64 > span ? span : (int32_t)hi64;
  int32_t ci, i;
  const uint32_t zp2 = pack_pair(zp, zp);
  for (ci = 0; ci < c_in; ++ci, xs += row) {
    const int8_t* x = in + (int64_t)ci * l_in + start;
    for (i = 0; i < lo; ++i) xs[i] = 0;
    for (; i + 4 <= hi; i += 4) {
      /* four at a time: SXTB16 gives (x0, x2) and (x1, x3), SSUB16 the zero point off each
       * lane (exact: -255..255), two halfword packs put them in order */
      const uint32_t v = ppgkd_read_s8x4(x + i);
      const uint32_t e = ppgkd_ssub16(ppgkd_sxtb16(v), zp2);
      const uint32_t o = ppgkd_ssub16(ppgkd_sxtb16_ror8(v), zp2);
      const uint32_t p01 = ppgkd_pack_lo(e, o), p23 = ppgkd_pack_hi(e, o);
      memcpy(xs + i, &p01, sizeof p01);
      memcpy(xs + i + 2, &p23, sizeof p23);
    }
    for (; i < hi; ++i) xs[i] = (int16_t)(x[i] - zp);
    for (; i < span; ++i) xs[i] = 0;
  }
}

/* K = 1 (the shortcut convolutions): the taps of an output are its C_in channels at one input
 * position, so the pairs run across channels instead: the block's positions are widened to
 * (x[2c, pos] - zp, x[2c + 1, pos] - zp) words, position after position, and a channel pair's
 * weights to (w[2c], w[2c + 1]) pairs (an odd C_in completed with a zero weight and a zero
 * input). The tile is direct_pair_k<g> with those words as rows of g <= 4 pairs (the channel
 * pairs padded with zero pairs to a multiple of g). */
static void conv_pointwise(const ppgkd_conv1d_params* p, const ppgkd_s8_act* act,
                           const ppgkd_per_channel_quant* q, int32_t c_in, int32_t l_in,
                           const int8_t* in, int32_t c_out, const int8_t* w, const int32_t* bias,
                           int32_t l_out, int8_t* out, const dsp_plan* pl, void* scratch) {
  const int32_t g = pl->g, cp = pl->cp, tb = pl->tb;
  {
    const int32_t zp = act->in_zp;
    uint64_t* const ws = (uint64_t*)scratch; /* dsp_plan's layout */
    int32_t* const acc = (int32_t*)(void*)(ws + cp);
    int16_t* const xs = (int16_t*)(void*)(acc + 2 * tb);
    int32_t t0, co, t, c;
    for (t0 = 0; t0 < l_out; t0 += tb) {
      const int32_t m = l_out - t0 < tb ? l_out - t0 : tb; /* positions in this block */
      for (t = 0; t < m; ++t) {
        const int64_t pos = (int64_t)(t0 + t) * p->stride - p->padding;
        int16_t* x = xs + (int64_t)t * 2 * cp;
        c = 0;
        if (pos >= 0 && pos < l_in) {
          for (; c < c_in; ++c) x[c] = (int16_t)(in[(int64_t)c * l_in + pos] - zp);
        }
        for (; c < 2 * cp; ++c) x[c] = 0;
      }
      for (co = 0; co < c_out; co += 2) {
        const int32_t cb = co + 1 < c_out ? co + 1 : co; /* an odd last channel with itself */
        const int8_t* wa = w + (int64_t)co * c_in;
        const int8_t* wb = w + (int64_t)cb * c_in;
        direct_job jb;
        for (c = 0; c < cp; ++c) {
          const int32_t k = 2 * c;
          const int32_t a0 = k < c_in ? wa[k] : 0, a1 = k + 1 < c_in ? wa[k + 1] : 0;
          const int32_t b0 = k < c_in ? wb[k] : 0, b1 = k + 1 < c_in ? wb[k + 1] : 0;
          ws[c] = (uint64_t)pack_pair(a0, a1) | (uint64_t)pack_pair(b0, b1) << 32;
        }
        jb.ws = ws, jb.xs = xs, jb.row = 2 * g, jb.c_in = cp / g, jb.stride = 2 * cp, jb.m = m;
        jb.init_a = bias ? bias[co] : 0, jb.init_b = bias ? bias[cb] : 0;
        jb.acc_a = acc, jb.acc_b = acc + tb;
        run_tile(&jb, g, cb == co);
        store_pair(&jb, q, act, co, cb, out + t0, l_out);
      }
    }
  }
}

static void conv_direct(const ppgkd_conv1d_params* p, const ppgkd_s8_act* act,
                        const ppgkd_per_channel_quant* q, int32_t c_in, int32_t l_in,
                        const int8_t* in, int32_t c_out, int32_t kk, const int8_t* w,
                        const int32_t* bias, int32_t l_out, int8_t* out, const dsp_plan* pl,
                        void* scratch) {
  const int32_t kp = (kk + 1) / 2, s = p->stride, tb = pl->tb, row = pl->row;
  {
    uint64_t* const ws = (uint64_t*)scratch; /* dsp_plan's layout */
    int32_t* const acc = (int32_t*)(void*)(ws + (int64_t)c_in * kp);
    int16_t* const xs = (int16_t*)(void*)(acc + 2 * tb);
    int32_t t0, co;
    for (t0 = 0; t0 < l_out; t0 += tb) {
      const int32_t m = l_out - t0 < tb ? l_out - t0 : tb; /* positions in this block */
      widen_rows(in, c_in, l_in, (int64_t)t0 * s - p->padding, (m - 1) * s + 2 * kp, act->in_zp,
                 row, xs);
      for (co = 0; co < c_out; co += 2) {
        const int32_t cb = co + 1 < c_out ? co + 1 : co; /* an odd last channel with itself */
        direct_job jb;
        widen_weights(w + (int64_t)co * c_in * kk, w + (int64_t)cb * c_in * kk, c_in, kk, ws);
        jb.ws = ws, jb.xs = xs, jb.row = row, jb.c_in = c_in, jb.stride = s, jb.m = m;
        jb.init_a = bias ? bias[co] : 0, jb.init_b = bias ? bias[cb] : 0;
        jb.acc_a = acc, jb.acc_b = acc + tb;
        run_tile(&jb, kp, cb == co);
        store_pair(&jb, q, act, co, cb, out + t0, l_out);
      }
    }
  }
}

/* ---------------------------------------------------------------- channel-pair kernel
 *
 * The direct kernel pairs taps, so a layer of few input channels and an odd K (r1: 3-4
 * channels, K = 3) pays for a padded tap per row and per-row loop overhead on rows of two tap
 * pairs. This one pairs input channels instead: the block's input is widened to words
 * (x[2c, p] - zp, x[2c + 1, p] - zp) stored position after position (cp = ceil(C_in / 2) words
 * per position; an odd C_in's last word completed with 0), and the weights to doublewords
 * ((w_a[2c, k], w_a[2c + 1, k]), (w_b[2c, k], w_b[2c + 1, k])) in the same (k, c) order. The
 * receptive field of output position t is then the K * cp contiguous words from position
 * t * stride, so one output pair x channel pair is a single dot product of K * cp words: per
 * word one doubleword of weights, two words of input (the two positions stride * cp words
 * apart) and four SMLADs, no padded tap (an even C_in has no padding at all) and no row loop.
 * Padding positions are zero words. Used when the layout fits the scratch the direct plan
 * reserves (dsp_plan: the number of positions per block is chosen here to fit it), so the
 * scratch size of a layer does not change. */

/* One channel pair (ws) x two positions (x0, x0 + off words) over n words; acc_a/acc_b[t]. */
typedef struct {
  const uint64_t* ws;
  const uint32_t* xs; /* the block's widened input, cp words per position */
  int32_t n, step, m; /* words per dot product, words between positions, positions */
  int32_t init_a, init_b;
  int32_t *acc_a, *acc_b;
} chan_job;

static DIRECT_NOINLINE void chan_pair(const chan_job* jb) {
  const uint64_t* const ws0 = jb->ws;
  const uint64_t* const w_end = ws0 + jb->n;
  const int32_t step = jb->step, m = jb->m;
  int32_t t;
  for (t = 0; t + 1 < m; t += 2) {
    const uint64_t* ws = ws0;
    const uint32_t* x0 = jb->xs + (int64_t)t * step;
    int32_t a0 = jb->init_a, a1 = a0, b0 = jb->init_b, b1 = b0;
    for (; ws < w_end; ++ws, ++x0) {
      const uint64_t wab = *ws;
      const uint32_t wa = (uint32_t)wab, wb = (uint32_t)(wab >> 32);
      const uint32_t v0 = x0[0], v1 = x0[step];
      a0 = ppgkd_smlad(wa, v0, a0), a1 = ppgkd_smlad(wa, v1, a1);
      b0 = ppgkd_smlad(wb, v0, b0), b1 = ppgkd_smlad(wb, v1, b1);
    }
    jb->acc_a[t] = a0, jb->acc_a[t + 1] = a1, jb->acc_b[t] = b0, jb->acc_b[t + 1] = b1;
  }
  if (t < m) {
    const uint64_t* ws = ws0;
    const uint32_t* x0 = jb->xs + (int64_t)t * step;
    int32_t a0 = jb->init_a, b0 = jb->init_b;
    for (; ws < w_end; ++ws, ++x0) {
      const uint64_t wab = *ws;
      a0 = ppgkd_smlad((uint32_t)wab, *x0, a0), b0 = ppgkd_smlad((uint32_t)(wab >> 32), *x0, b0);
    }
    jb->acc_a[t] = a0, jb->acc_b[t] = b0;
  }
}

/* Keeps the compiler from hoisting the weight loads out of the position loop (it would then
 * spill them all to the stack and reload them, slower than loading them where they are used). */
#if defined(__GNUC__)
#define CHAN_OPAQUE(p) __asm__("" : "+r"(p))
#else
#define CHAN_OPAQUE(p) (void)0
#endif

/* chan_pair with the dot product's N words unrolled (every offset an immediate): the common
 * K * cp of 6 (K = 3, 3-4 channels), 10 (K = 5) and 14 (K = 7). */
#define CHAN_W(i)                                                  \
  do {                                                             \
    const uint64_t wab = ws[i];                                    \
    const uint32_t wa = (uint32_t)wab, wb = (uint32_t)(wab >> 32); \
    const uint32_t v0 = x0[i], v1 = x1[i];                         \
    a0 = ppgkd_smlad(wa, v0, a0), a1 = ppgkd_smlad(wa, v1, a1);    \
    b0 = ppgkd_smlad(wb, v0, b0), b1 = ppgkd_smlad(wb, v1, b1);    \
  } while (0)
#define CHAN_W1(i)                                      \
  do {                                                  \
    const uint64_t wab = ws[i];                         \
    a0 = ppgkd_smlad((uint32_t)wab, x0[i], a0);         \
    b0 = ppgkd_smlad((uint32_t)(wab >> 32), x0[i], b0); \
  } while (0)
#define CHAN_W2(W) \
  W(0);            \
  W(1)
#define CHAN_W3(W) \
  CHAN_W2(W);      \
  W(2)
#define CHAN_W4(W) \
  CHAN_W3(W);      \
  W(3)
#define CHAN_W6(W) \
  W(0);            \
  W(1);            \
  W(2);            \
  W(3);            \
  W(4);            \
  W(5)
#define CHAN_W10(W) \
  CHAN_W6(W);       \
  W(6);             \
  W(7);             \
  W(8);             \
  W(9)
#define CHAN_W14(W) \
  CHAN_W10(W);      \
  W(10);            \
  W(11);            \
  W(12);            \
  W(13)
#define CHAN_TILE(name, BODY, BODY1, OPAQUE)                           \
  static CHAN_TILE_ATTR void name(const chan_job* jb) {                \
    const uint64_t* ws = jb->ws;                                       \
    const int32_t step = jb->step, m = jb->m;                          \
    int32_t* pa = jb->acc_a;                                           \
    int32_t* pb = jb->acc_b;                                           \
    const uint32_t* x0 = jb->xs;                                       \
    int32_t t;                                                         \
    for (t = 0; t + 1 < m; t += 2, x0 += 2 * step, pa += 2, pb += 2) { \
      const uint32_t* const x1 = x0 + step;                            \
      int32_t a0 = jb->init_a, a1 = a0, b0 = jb->init_b, b1 = b0;      \
      OPAQUE;                                                          \
      BODY;                                                            \
      pa[0] = a0, pa[1] = a1, pb[0] = b0, pb[1] = b1;                  \
    }                                                                  \
    if (t < m) {                                                       \
      int32_t a0 = jb->init_a, b0 = jb->init_b;                        \
      BODY1;                                                           \
      pa[0] = a0, pb[0] = b0;                                          \
    }                                                                  \
  }
#define CHAN_W21(W) \
  CHAN_W14(W);      \
  W(14);            \
  W(15);            \
  W(16);            \
  W(17);            \
  W(18);            \
  W(19);            \
  W(20)
#define CHAN_W28(W) \
  CHAN_W21(W);      \
  W(21);            \
  W(22);            \
  W(23);            \
  W(24);            \
  W(25);            \
  W(26);            \
  W(27)
#define CHAN_W35(W) \
  CHAN_W28(W);      \
  W(28);            \
  W(29);            \
  W(30);            \
  W(31);            \
  W(32);            \
  W(33);            \
  W(34)
#define CHAN_W42(W) \
  CHAN_W35(W);      \
  W(35);            \
  W(36);            \
  W(37);            \
  W(38);            \
  W(39);            \
  W(40);            \
  W(41)
#define CHAN_L(i)                                                     \
  do {                                                                \
    const uint32_t wa = (uint32_t)ws[i];                              \
    a0 = ppgkd_smlad(wa, x0[i], a0), a1 = ppgkd_smlad(wa, x1[i], a1); \
  } while (0)
#define CHAN_L1(i) a0 = ppgkd_smlad((uint32_t)ws[i], x0[i], a0)
/* chan_lone with the N words unrolled */
#define CHAN_TILE_LONE(name, BODY, BODY1)                     \
  static CHAN_TILE_ATTR void name(const chan_job* jb) {       \
    const uint64_t* ws = jb->ws;                              \
    const int32_t step = jb->step, m = jb->m;                 \
    int32_t* pa = jb->acc_a;                                  \
    const uint32_t* x0 = jb->xs;                              \
    int32_t t;                                                \
    for (t = 0; t + 1 < m; t += 2, x0 += 2 * step, pa += 2) { \
      const uint32_t* const x1 = x0 + step;                   \
      int32_t a0 = jb->init_a, a1 = a0;                       \
      BODY;                                                   \
      pa[0] = a0, pa[1] = a1;                                 \
    }                                                         \
    if (t < m) {                                              \
      int32_t a0 = jb->init_a;                                \
      BODY1;                                                  \
      pa[0] = a0;                                             \
    }                                                         \
  }
CHAN_TILE_LONE(chan_lone2, CHAN_W2(CHAN_L), CHAN_W2(CHAN_L1))
CHAN_TILE_LONE(chan_lone6, CHAN_W6(CHAN_L), CHAN_W6(CHAN_L1))
CHAN_TILE_LONE(chan_lone14, CHAN_W14(CHAN_L), CHAN_W14(CHAN_L1))
/* chan_pair for any multiple of 7 words (K = 7, more channels than the unrolled tiles take):
 * seven words per iteration with immediate offsets. */
#define CHAN_W7(W) \
  CHAN_W6(W);      \
  W(6)
static CHAN_TILE_ATTR void chan_pair_x7(const chan_job* jb) {
  const int32_t step = jb->step, m = jb->m, n = jb->n;
  int32_t* pa = jb->acc_a;
  int32_t* pb = jb->acc_b;
  const uint32_t* xt = jb->xs;
  int32_t t;
  for (t = 0; t + 1 < m; t += 2, xt += 2 * step, pa += 2, pb += 2) {
    const uint64_t* ws = jb->ws;
    const uint64_t* const w_end = ws + n;
    const uint32_t* x0 = xt;
    const uint32_t* x1 = xt + step;
    int32_t a0 = jb->init_a, a1 = a0, b0 = jb->init_b, b1 = b0;
    for (; ws < w_end; ws += 7, x0 += 7, x1 += 7) {
      CHAN_W7(CHAN_W);
    }
    pa[0] = a0, pa[1] = a1, pb[0] = b0, pb[1] = b1;
  }
  if (t < m) {
    const uint64_t* ws = jb->ws;
    const uint64_t* const w_end = ws + n;
    const uint32_t* x0 = xt;
    int32_t a0 = jb->init_a, b0 = jb->init_b;
    for (; ws < w_end; ws += 7, x0 += 7) {
      CHAN_W7(CHAN_W1);
    }
    pa[0] = a0, pb[0] = b0;
  }
}

CHAN_TILE(chan_pair2, CHAN_W2(CHAN_W), CHAN_W2(CHAN_W1), (void)0)
CHAN_TILE(chan_pair3, CHAN_W3(CHAN_W), CHAN_W3(CHAN_W1), (void)0)
CHAN_TILE(chan_pair4, CHAN_W4(CHAN_W), CHAN_W4(CHAN_W1), (void)0)
CHAN_TILE(chan_pair6, CHAN_W6(CHAN_W), CHAN_W6(CHAN_W1), (void)0)
CHAN_TILE(chan_pair10, CHAN_W10(CHAN_W), CHAN_W10(CHAN_W1), CHAN_OPAQUE(ws))
CHAN_TILE(chan_pair14, CHAN_W14(CHAN_W), CHAN_W14(CHAN_W1), CHAN_OPAQUE(ws))
CHAN_TILE(chan_pair21, CHAN_W21(CHAN_W), CHAN_W21(CHAN_W1), CHAN_OPAQUE(ws))
CHAN_TILE(chan_pair28, CHAN_W28(CHAN_W), CHAN_W28(CHAN_W1), CHAN_OPAQUE(ws))
CHAN_TILE(chan_pair35, CHAN_W35(CHAN_W), CHAN_W35(CHAN_W1), CHAN_OPAQUE(ws))
CHAN_TILE(chan_pair42, CHAN_W42(CHAN_W), CHAN_W42(CHAN_W1), CHAN_OPAQUE(ws))

/* chan_pair for channel a alone (the low words of ws). */
static DIRECT_NOINLINE void chan_lone(const chan_job* jb) {
  const uint64_t* const ws0 = jb->ws;
  const uint64_t* const w_end = ws0 + jb->n;
  const int32_t step = jb->step, m = jb->m;
  int32_t t;
  for (t = 0; t + 1 < m; t += 2) {
    const uint64_t* ws = ws0;
    const uint32_t* x0 = jb->xs + (int64_t)t * step;
    int32_t a0 = jb->init_a, a1 = a0;
    for (; ws < w_end; ++ws, ++x0) {
      const uint32_t wa = (uint32_t)*ws;
      a0 = ppgkd_smlad(wa, x0[0], a0), a1 = ppgkd_smlad(wa, x0[step], a1);
    }
    jb->acc_a[t] = a0, jb->acc_a[t + 1] = a1;
  }
  if (t < m) {
    const uint64_t* ws = ws0;
    const uint32_t* x0 = jb->xs + (int64_t)t * step;
    int32_t a0 = jb->init_a;
    for (; ws < w_end; ++ws, ++x0) a0 = ppgkd_smlad((uint32_t)*ws, *x0, a0);
    jb->acc_a[t] = a0;
  }
}

/* Positions per block of the channel-pair layout in `bytes` of scratch (0: it does not fit
 * two): weights 8 K cp, sums 8 per position, input 4 cp per position of the span
 * (tb - 1) * stride + K. */
static int32_t chan_positions(size_t bytes, int32_t c_in, int32_t kk, int32_t s, int32_t l_out) {
  const int64_t cp = (c_in + 1) / 2;
  /* K = 1 gathers only the positions it reads (chan_gather): span tb */
  const int64_t span_step = kk == 1 ? 1 : s;
  const int64_t fixed = 8 * (int64_t)kk * cp + 4 * cp * (kk - span_step);
  int64_t tb;
  if ((int64_t)bytes <= fixed) return 0;
  tb = ((int64_t)bytes - fixed) / (8 + 4 * cp * span_step);
  if (tb > DIRECT_T_MAX) tb = DIRECT_T_MAX;
  if (tb > l_out) tb = l_out;
  return tb >= 2 || (tb == 1 && l_out == 1) ? (int32_t)tb : 0;
}

/* Channel a's (wa) and b's (wb) C_in x K weights as doublewords in (k, channel pair) order. */
static DIRECT_NOINLINE void chan_weights(const int8_t* wa, const int8_t* wb, int32_t c_in,
                                         int32_t kk, uint64_t* ws) {
  const int32_t cp = (c_in + 1) / 2;
  int32_t k, c;
  for (c = 0; c < cp; ++c, wa += 2 * kk, wb += 2 * kk) {
    uint64_t* d = ws + c;
    if (2 * c + 1 < c_in) {
      const int8_t *a0 = wa, *a1 = wa + kk, *b0 = wb, *b1 = wb + kk;
      for (k = 0; k < kk; ++k, d += cp) {
        *d = (uint64_t)pack_pair(a0[k], a1[k]) | (uint64_t)pack_pair(b0[k], b1[k]) << 32;
      }
    } else { /* an odd C_in's last channel, paired with a zero weight */
      for (k = 0; k < kk; ++k, d += cp) {
        *d = (uint64_t)pack_pair(wa[k], 0) | (uint64_t)pack_pair(wb[k], 0) << 32;
      }
    }
  }
}

/* Words (x[2c, p] - zp, x[2c + 1, p] - zp) for p = start .. start + span - 1, cp per position,
 * zero outside 0 .. l_in - 1 and for an odd C_in's missing channel. */
static DIRECT_NOINLINE void chan_input(const int8_t* in, int32_t c_in, int32_t l_in, int64_t start,
                                       int32_t span, int32_t zp, uint32_t* xs) {
  const int32_t cp = (c_in + 1) / 2;
  const int64_t lo64 = start < 0 ? -start : 0, hi64 = l_in - start;
  const int32_t lo = lo64 > span ? span : (int32_t)lo64;
  const int32_t hi = hi64 < lo ? lo : hi64 > span ? span : (int32_t)hi64;
  const uint32_t zp2 = pack_pair(zp, zp);
  int32_t c, i;
  for (c = 0; c < cp; ++c) {
    const int8_t* xa = in + (int64_t)(2 * c) * l_in + start;
    uint32_t* d = xs + c;
    for (i = 0; i < lo; ++i) d[(int64_t)i * cp] = 0;
    if (2 * c + 1 < c_in) {
      const int8_t* xb = xa + l_in;
      uint32_t* dd = d + (int64_t)i * cp;
      for (; i + 4 <= hi; i += 4, dd += 4 * cp) {
        /* four positions of both rows: SXTB16 splits each row's word into (x0, x2) and
         * (x1, x3), SSUB16 takes the zero point off, halfword packs pair the rows */
        const uint32_t va = ppgkd_read_s8x4(xa + i), vb = ppgkd_read_s8x4(xb + i);
        const uint32_t ea = ppgkd_ssub16(ppgkd_sxtb16(va), zp2);
        const uint32_t oa = ppgkd_ssub16(ppgkd_sxtb16_ror8(va), zp2);
        const uint32_t eb = ppgkd_ssub16(ppgkd_sxtb16(vb), zp2);
        const uint32_t ob = ppgkd_ssub16(ppgkd_sxtb16_ror8(vb), zp2);
        dd[0] = ppgkd_pack_lo(ea, eb), dd[cp] = ppgkd_pack_lo(oa, ob);
        dd[2 * cp] = ppgkd_pack_hi(ea, eb), dd[3 * cp] = ppgkd_pack_hi(oa, ob);
      }
      for (; i < hi; ++i) d[(int64_t)i * cp] = ppgkd_ssub16(pack_pair(xa[i], xb[i]), zp2);
    } else {
      for (; i < hi; ++i) d[(int64_t)i * cp] = pack_pair(xa[i] - zp, 0);
    }
    for (; i < span; ++i) d[(int64_t)i * cp] = 0;
  }
}

/* chan_input for K = 1: only the m positions the outputs read, start + t * s (the shortcut
 * convolutions have stride 2: half the input). For stride 2, SXTB16 of a row's word gives its
 * bytes 0 and 2, the two positions needed, so two outputs' words per pair of word loads. */
static DIRECT_NOINLINE void chan_gather(const int8_t* in, int32_t c_in, int32_t l_in, int64_t start,
                                        int32_t m, int32_t s, int32_t zp, uint32_t* xs) {
  const int32_t cp = (c_in + 1) / 2;
  const uint32_t zp2 = pack_pair(zp, zp);
  int32_t c, t;
  for (c = 0; c < cp; ++c) {
    const int8_t* xa = in + (int64_t)(2 * c) * l_in;
    const int8_t* xb = 2 * c + 1 < c_in ? xa + l_in : 0;
    uint32_t* d = xs + c;
    for (t = 0; t < m; ++t, d += cp) {
      const int64_t pos = start + (int64_t)t * s;
      if (s == 2 && xb && pos >= 0 && pos + 4 <= l_in && t + 1 < m) {
        const uint32_t ea = ppgkd_ssub16(ppgkd_sxtb16(ppgkd_read_s8x4(xa + pos)), zp2);
        const uint32_t eb = ppgkd_ssub16(ppgkd_sxtb16(ppgkd_read_s8x4(xb + pos)), zp2);
        d[0] = ppgkd_pack_lo(ea, eb), d[cp] = ppgkd_pack_hi(ea, eb);
        ++t, d += cp;
      } else if (pos < 0 || pos >= l_in) {
        *d = 0;
      } else if (xb) {
        *d = ppgkd_ssub16(pack_pair(xa[pos], xb[pos]), zp2);
      } else {
        *d = pack_pair(xa[pos] - zp, 0);
      }
    }
  }
}

static void conv_chan(const ppgkd_conv1d_params* p, const ppgkd_s8_act* act,
                      const ppgkd_per_channel_quant* q, int32_t c_in, int32_t l_in,
                      const int8_t* in, int32_t c_out, int32_t kk, const int8_t* w,
                      const int32_t* bias, int32_t l_out, int8_t* out, int32_t tb, void* scratch) {
  const int32_t cp = (c_in + 1) / 2, s = p->stride;
  uint64_t* const ws = (uint64_t*)scratch;
  int32_t* const acc = (int32_t*)(void*)(ws + (int64_t)kk * cp);
  uint32_t* const xs = (uint32_t*)(void*)(acc + 2 * tb);
  int32_t t0, co;
  for (t0 = 0; t0 < l_out; t0 += tb) {
    const int32_t m = l_out - t0 < tb ? l_out - t0 : tb; /* positions in this block */
    if (kk == 1) {
      chan_gather(in, c_in, l_in, (int64_t)t0 * s - p->padding, m, s, act->in_zp, xs);
    } else {
      chan_input(in, c_in, l_in, (int64_t)t0 * s - p->padding, (m - 1) * s + kk, act->in_zp, xs);
    }
    for (co = 0; co < c_out; co += 2) {
      const int32_t cb = co + 1 < c_out ? co + 1 : co; /* an odd last channel alone */
      chan_job jb;
      direct_job dj;
      chan_weights(w + (int64_t)co * c_in * kk, w + (int64_t)cb * c_in * kk, c_in, kk, ws);
      jb.ws = ws, jb.xs = xs, jb.n = kk * cp, jb.step = (kk == 1 ? 1 : s) * cp, jb.m = m;
      jb.init_a = bias ? bias[co] : 0, jb.init_b = bias ? bias[cb] : 0;
      jb.acc_a = acc, jb.acc_b = acc + tb;
      if (cb == co) {
        if (jb.n == 2) {
          chan_lone2(&jb);
        } else if (jb.n == 6) {
          chan_lone6(&jb);
        } else if (jb.n == 14) {
          chan_lone14(&jb);
        } else {
          chan_lone(&jb);
        }
      } else if (jb.n == 2) {
        chan_pair2(&jb);
      } else if (jb.n == 3) {
        chan_pair3(&jb);
      } else if (jb.n == 4) {
        chan_pair4(&jb);
      } else if (jb.n == 6) {
        chan_pair6(&jb);
      } else if (jb.n == 10) {
        chan_pair10(&jb);
      } else if (jb.n == 14) {
        chan_pair14(&jb);
      } else if (jb.n == 21) {
        chan_pair21(&jb);
      } else if (jb.n == 28) {
        chan_pair28(&jb);
      } else if (jb.n == 35) {
        chan_pair35(&jb);
      } else if (jb.n == 42) {
        chan_pair42(&jb);
      } else if (jb.n % 7 == 0) {
        chan_pair_x7(&jb);
      } else {
        chan_pair(&jb);
      }
      dj.acc_a = acc, dj.acc_b = acc + tb, dj.m = m;
      store_pair(&dj, q, act, co, cb, out + t0, l_out);
    }
  }
}

/* ---------------------------------------------------------------- im2col kernel
 *
 * Loops: blocks of up to DSP_CO_BLOCK output channels; in each, groups of four output positions
 * (a last group of fewer repeats its last position); in each, chunks of whole input channels
 * (at most DSP_CHUNK_TAPS taps, a multiple of 4 but for the last chunk): the four columns of the
 * chunk (im2col), unpacked once, then every channel of the block against them (dot_1x4). Each
 * sum starts at bias - zp * sum w. Every output position, borders included. */
static void conv_im2col(const ppgkd_conv1d_params* p, const ppgkd_s8_act* act,
                        const ppgkd_per_channel_quant* q, int32_t c_in, int32_t l_in,
                        const int8_t* in, int32_t c_out, int32_t kk, const int8_t* w,
                        const int32_t* bias, int32_t l_out, int8_t* out, const dsp_plan* pl,
                        void* scratch) {
  const int64_t n = (int64_t)c_in * kk; /* weights per output channel */
  const int32_t rows = pl->rows;        /* input channels per chunk */
  {
    const int32_t max_taps = rows * kk, nb = pl->nb;
    const int8_t zp = (int8_t)act->in_zp;
    const ppgkd_s8_act a = *act;                /* a copy the int8 stores cannot alias */
    uint32_t* const pairs = (uint32_t*)scratch; /* dsp_plan's layout */
    int32_t* const init = (int32_t*)(void*)(pairs + 2 * max_taps);
    int32_t* const acc = init + nb;
    int8_t* const lin = (int8_t*)(void*)(acc + 4 * nb);
    int32_t co0, t, ci0, i, j;
    for (co0 = 0; co0 < c_out; co0 += nb) {
      const int32_t cb = c_out - co0 < nb ? c_out - co0 : nb;
      for (i = 0; i < cb; ++i) {
        const int32_t co = co0 + i;
        init[i] = (bias ? bias[co] : 0) - a.in_zp * weight_sum(w + co * n, n);
      }
      for (t = 0; t < l_out; t += 4) {
        const int32_t m = l_out - t < 4 ? l_out - t : 4; /* positions in this group */
        for (i = 0; i < cb; ++i)
          acc[4 * i] = acc[4 * i + 1] = acc[4 * i + 2] = acc[4 * i + 3] = init[i];
        for (ci0 = 0; ci0 < c_in; ci0 += rows) {
          const int32_t r = c_in - ci0 < rows ? c_in - ci0 : rows, taps = r * kk;
          const int8_t* x = in + (int64_t)ci0 * l_in;
          int32_t qd;
          for (j = 0; j < 4; ++j) {
            if (j < m) {
              im2col(p, x, r, l_in, kk, t + j, zp, lin + j * taps);
            } else {
              memcpy(lin + j * taps, lin + (j - 1) * taps, (size_t)taps);
            }
          }
          for (j = 0; j < 4; ++j) {
            const int8_t* src = lin + j * taps;
            uint32_t* dst = pairs + 2 * j;
            for (qd = taps / 4; qd > 0; --qd, src += 4, dst += 8) {
              const uint32_t v = ppgkd_read_s8x4(src);
              dst[0] = ppgkd_sxtb16(v), dst[1] = ppgkd_sxtb16_ror8(v);
            }
          }
          for (i = 0; i < cb; ++i)
            dot_1x4(pairs, lin, w + (co0 + i) * n + ci0 * kk, taps, acc + 4 * i);
        }
        for (i = 0; i < cb; ++i) {
          const int32_t co = co0 + i;
          const ppgkd_rq rq = ppgkd_rq_prepare_channel(q, co);
          int8_t* y = out + (int64_t)co * l_out + t;
          for (j = 0; j < m; ++j) y[j] = ppgkd_rq_out(acc[4 * i + j], &rq, &a);
        }
      }
    }
  }
}

int ppgkd_conv1d_s8_fast(const ppgkd_conv1d_params* p, const ppgkd_s8_act* act,
                         const ppgkd_per_channel_quant* q, int32_t c_in, int32_t l_in,
                         const int8_t* in, int32_t c_out, int32_t kk, const int8_t* w,
                         const int32_t* bias, int32_t l_out, int8_t* out, void* scratch,
                         size_t scratch_size) {
  const dsp_plan pl = plan_dsp(p, c_in, c_out, kk, l_out);
  const size_t pad = (size_t)((8u - (uintptr_t)scratch % 8u) % 8u); /* to 8 bytes */
  if (pl.kind == DSP_NONE || !scratch || scratch_size < pad || scratch_size - pad < pl.bytes) {
    return 0;
  }
  scratch = (uint8_t*)scratch + pad;
  if (pl.kind == DSP_DIRECT) {
    const int32_t tb =
        c_in <= CHAN_MAX_C_IN ? chan_positions(pl.bytes, c_in, kk, p->stride, l_out) : 0;
    if (tb > 0) {
      conv_chan(p, act, q, c_in, l_in, in, c_out, kk, w, bias, l_out, out, tb, scratch);
    } else {
      conv_direct(p, act, q, c_in, l_in, in, c_out, kk, w, bias, l_out, out, &pl, scratch);
    }
  } else if (pl.kind == DSP_POINTWISE) {
    /* (at 7-8 channels the pointwise kernel's rows of four pairs are as fast) */
    const int32_t tb =
        c_in <= CHAN_MAX_C_IN_K1 ? chan_positions(pl.bytes, c_in, kk, p->stride, l_out) : 0;
    if (tb > 0) {
      conv_chan(p, act, q, c_in, l_in, in, c_out, kk, w, bias, l_out, out, tb, scratch);
    } else {
      conv_pointwise(p, act, q, c_in, l_in, in, c_out, w, bias, l_out, out, &pl, scratch);
    }
  } else {
    conv_im2col(p, act, q, c_in, l_in, in, c_out, kk, w, bias, l_out, out, &pl, scratch);
  }
  return 1;
}

#endif /* PPGKD_FAST_DSP */

#ifdef PPGKD_FAST_AVX2
#include <immintrin.h>

/* Columns of up to this many taps (C_in * K) and layers of up to this many output channels take
 * the AVX2 path (a column, four int16 columns, int16 weights and the channels' initial values on
 * the stack: at most about 120 kB, a host's stack). */
#define AVX2_MAX_TAPS 4096
#define AVX2_MAX_C_OUT 4096
/* Stack for a block of output channels' weights widened to int16 (at least two channels). */
#define AVX2_WEIGHT_BYTES 65536

/* The four sums of s0..s3 (eight int32 lanes each) as the four lanes of one vector. */
static inline __m128i hsum4_epi32(__m256i s0, __m256i s1, __m256i s2, __m256i s3) {
  const __m256i h = _mm256_hadd_epi32(_mm256_hadd_epi32(s0, s1), _mm256_hadd_epi32(s2, s3));
  return _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
}

/* Four accumulators of one channel to int8, as ppgkd_rq_out does each: for a channel of the
 * high-word form, floor((acc * mult + half) / 2^32) (the high words of four exact 64-bit sums)
 * shifted right arithmetically by rshift (a floor), plus the zero point, clamped; else
 * ppgkd_rq_out itself. y[0..m) written. */
static void rq_out4(__m128i acc, const ppgkd_rq* rq, const ppgkd_s8_act* a, int32_t m, int8_t* y) {
  int32_t j;
  if (rq->form == 1) {
    const __m128i mult = _mm_set1_epi32(rq->mult), half = _mm_set1_epi64x(rq->half);
    const __m128i even = _mm_add_epi64(_mm_mul_epi32(acc, mult), half); /* 0, 2 */
    const __m128i odd =
        _mm_add_epi64(_mm_mul_epi32(_mm_srli_epi64(acc, 32), mult), half); /* 1, 3 */
    /* high words: lanes 1 and 3 of even, of odd -> 0 2 / 1 3 -> 0 1 2 3 */
    __m128i v = _mm_blend_epi16(_mm_srli_epi64(even, 32), odd, 0xCC);
    v = _mm_sra_epi32(v, _mm_cvtsi32_si128(rq->rshift));
    v = _mm_add_epi32(v, _mm_set1_epi32(a->out_zp));
    v = _mm_max_epi32(v, _mm_set1_epi32(a->act_min));
    v = _mm_min_epi32(v, _mm_set1_epi32(a->act_max));
    {
      /* in -128..127 already, so the saturating packs change nothing */
      const __m128i b = _mm_packs_epi16(_mm_packs_epi32(v, v), v);
      const int32_t word = _mm_cvtsi128_si32(b);
      if (m == 4) {
        memcpy(y, &word, 4);
      } else {
        memcpy(y, &word, (size_t)m);
      }
    }
    return;
  }
  {
    int32_t r[4];
    _mm_storeu_si128((__m128i*)(void*)r, acc);
    for (j = 0; j < m; ++j) y[j] = ppgkd_rq_out(r[j], rq, a);
  }
}

/* Two output channels' int16 weights (w16, w16 + stride16: zero from n up to stride16, a
 * multiple of 16) against four int16 columns (col16 + j * stride16, likewise); returns the dot
 * products of channel 0 (*s_a) and channel 1 (*s_b) at the four positions. Per 16 taps: two
 * weight loads, four column loads and eight _mm256_madd_epi16 (16 products summed in pairs into
 * eight int32 lanes: |w * x| <= 127 * 128, exact) into eight accumulators. */
static void avx2_dot_2x4(const int16_t* col16, const int16_t* w16, int32_t stride16, __m128i* s_a,
                         __m128i* s_b) {
  __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
  __m256i b0 = a0, b1 = a0, b2 = a0, b3 = a0;
  int32_t i;
  for (i = 0; i < stride16; i += 16) {
    const __m256i wa = _mm256_loadu_si256((const __m256i*)(const void*)(w16 + i));
    const __m256i wb = _mm256_loadu_si256((const __m256i*)(const void*)(w16 + stride16 + i));
    const int16_t* c = col16 + i;
    __m256i x = _mm256_loadu_si256((const __m256i*)(const void*)c);
    a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(wa, x));
    b0 = _mm256_add_epi32(b0, _mm256_madd_epi16(wb, x));
    x = _mm256_loadu_si256((const __m256i*)(const void*)(c + stride16));
    a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(wa, x));
    b1 = _mm256_add_epi32(b1, _mm256_madd_epi16(wb, x));
    x = _mm256_loadu_si256((const __m256i*)(const void*)(c + 2 * stride16));
    a2 = _mm256_add_epi32(a2, _mm256_madd_epi16(wa, x));
    b2 = _mm256_add_epi32(b2, _mm256_madd_epi16(wb, x));
    x = _mm256_loadu_si256((const __m256i*)(const void*)(c + 3 * stride16));
    a3 = _mm256_add_epi32(a3, _mm256_madd_epi16(wa, x));
    b3 = _mm256_add_epi32(b3, _mm256_madd_epi16(wb, x));
  }
  *s_a = hsum4_epi32(a0, a1, a2, a3);
  *s_b = hsum4_epi32(b0, b1, b2, b3);
}

/* n int8 values to int16, zero from n up to stride16; returns their sum. */
static int32_t widen(const int8_t* src, int32_t n, int32_t stride16, int16_t* dst) {
  __m256i sum = _mm256_setzero_si256();
  int32_t i, tail = 0;
  for (i = 0; i + 16 <= n; i += 16) {
    const __m256i v = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i*)(const void*)(src + i)));
    _mm256_storeu_si256((__m256i*)(void*)(dst + i), v);
    sum = _mm256_add_epi32(sum, _mm256_madd_epi16(v, _mm256_set1_epi16(1)));
  }
  for (; i < n; ++i) dst[i] = src[i], tail += src[i];
  for (; i < stride16; ++i) dst[i] = 0;
  return _mm_cvtsi128_si32(hsum4_epi32(sum, sum, sum, sum)) + tail;
}

/* ---- channel-pair rows: dilation-1 convolutions with the output positions in the lanes.
 * The input is widened once per call to words (x[2c, p] - zp, x[2c + 1, p] - zp) (int16 halves;
 * a padded position and an odd C_in's missing channel are 0, which adds nothing: exactly the
 * reference's skipped tap), one row per channel pair and stride phase: row (c, ph) holds
 * positions ph, ph + s, ph + 2s, ... - padding, so tap k of output positions t .. t + 7 is the
 * eight contiguous words at index t + k / s of phase k % s. The weights are widened to words
 * (w[co, 2c, k], w[co, 2c + 1, k]) in (pair, tap) order. A tile of four output channels x 16
 * (or 8) positions is then, per (pair, tap), two loads of input, four broadcast weight words
 * and eight _mm256_madd_epi16 (|w| <= 128, |x - zp| <= 255: pair sums exact in int32) into
 * eight accumulators that start at the bias; no im2col, no padding of C_in * K to 16, no
 * horizontal sums. The rows of eight sums are requantised eight at a time (ppgkd_avx2_store_row8 in
 * simd.h). */

/* Widened input and weights, in int32 words (stack; larger layers keep the im2col kernel). */
#define AVX2_ROW_WORDS 16384
#define AVX2_WPAIR_WORDS 16384

static inline int32_t pair_word(int32_t lo, int32_t hi) {
  return ppgkd_s32_bits(((uint32_t)lo & 0xFFFFu) | (((uint32_t)hi & 0xFFFFu) << 16));
}

/* rows[(c * nph + ph) * rl + i] = the word of input position ph + i * s - padding of pair c, for
 * the nph = min(s, K) phases the taps read. */
static void pair_rows(const int8_t* in, int32_t c_in, int32_t l_in, int32_t zp, int32_t pad,
                      int32_t s, int32_t nph, int32_t rl, int32_t* rows) {
  const int32_t npair = (c_in + 1) / 2;
  const __m256i zp16 = _mm256_set1_epi16((int16_t)zp);
  int32_t c, ph, i;
  for (c = 0; c < npair; ++c) {
    const int8_t* x0 = in + (int64_t)2 * c * l_in;
    const int8_t* x1 = 2 * c + 1 < c_in ? x0 + l_in : 0;
    for (ph = 0; ph < nph; ++ph) {
      int32_t* r = rows + ((int64_t)c * nph + ph) * rl;
      for (i = 0; i < rl; ++i) {
        const int64_t pos = ph + (int64_t)i * s - pad;
        if (pos >= 0 && pos < l_in) {
          if (s == 1 && x1 && pos + 16 <= l_in && i + 16 <= rl) {
            /* 16 positions of both channels: widen, subtract zp, interleave */
            const __m256i a = _mm256_sub_epi16(
                _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i*)(const void*)(x0 + pos))),
                zp16);
            const __m256i b = _mm256_sub_epi16(
                _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i*)(const void*)(x1 + pos))),
                zp16);
            const __m256i lo = _mm256_unpacklo_epi16(a, b), hi = _mm256_unpackhi_epi16(a, b);
            _mm256_storeu_si256((__m256i*)(void*)(r + i), _mm256_permute2x128_si256(lo, hi, 0x20));
            _mm256_storeu_si256((__m256i*)(void*)(r + i + 8),
                                _mm256_permute2x128_si256(lo, hi, 0x31));
            i += 15;
            continue;
          }
          r[i] = pair_word(x0[pos] - zp, x1 ? x1[pos] - zp : 0);
        } else {
          r[i] = 0;
        }
      }
    }
  }
}

/* Eight bytes from p to int16, the bytes at or past end as 0 (nothing past the weights is read). */
static inline __m128i load_s8x8(const int8_t* p, const int8_t* end) {
  if (end - p >= 8) return _mm_cvtepi8_epi16(_mm_loadl_epi64((const __m128i*)(const void*)p));
  {
    int8_t t[8] = {0};
    memcpy(t, p, (size_t)(end - p));
    return _mm_cvtepi8_epi16(_mm_loadl_epi64((const __m128i*)(const void*)t));
  }
}

/* wp[(co * npair + c) * K + k] = (w[co, 2c, k], w[co, 2c + 1, k]) (0 for a missing channel).
 * For K <= 8 a pair's two rows are 2K contiguous bytes: one 16-byte load, one byte shuffle into
 * (w[2c, k], w[2c + 1, k]) order (a missing channel's bytes zeroed by the mask), one widening to
 * int16 and one store of eight words; else eight taps at a time, two rows of eight bytes widened
 * and interleaved. Either may write up to seven words past a pair's K, which the next pair's
 * overwrite (wp has 8 words of room at the end). */
static void pair_weights(const int8_t* w, int32_t c_in, int32_t c_out, int32_t kk, int32_t* wp) {
  const int32_t npair = (c_in + 1) / 2;
  const int8_t* end = w + (int64_t)c_out * c_in * kk;
  int32_t co, c, k;
  if (kk <= 8) {
    int8_t both[16], lone[16];
    __m128i m2, m1;
    for (k = 0; k < 8; ++k) {
      both[2 * k] = lone[2 * k] = (int8_t)(k < kk ? k : -128); /* -128: a zero byte */
      both[2 * k + 1] = (int8_t)(k < kk ? kk + k : -128);
      lone[2 * k + 1] = -128;
    }
    m2 = _mm_loadu_si128((const __m128i*)(const void*)both);
    m1 = _mm_loadu_si128((const __m128i*)(const void*)lone);
    for (co = 0; co < c_out; ++co) {
      for (c = 0; c < npair; ++c, wp += kk) {
        const int8_t* w0 = w + ((int64_t)co * c_in + 2 * c) * kk;
        __m128i v;
        if (end - w0 >= 16) {
          v = _mm_loadu_si128((const __m128i*)(const void*)w0);
        } else {
          int8_t t[16] = {0};
          memcpy(t, w0, (size_t)(end - w0));
          v = _mm_loadu_si128((const __m128i*)(const void*)t);
        }
        v = _mm_shuffle_epi8(v, 2 * c + 1 < c_in ? m2 : m1);
        _mm256_storeu_si256((__m256i*)(void*)wp, _mm256_cvtepi8_epi16(v));
      }
    }
    return;
  }
  for (co = 0; co < c_out; ++co) {
    for (c = 0; c < npair; ++c, wp += kk) {
      const int8_t* w0 = w + ((int64_t)co * c_in + 2 * c) * kk;
      const int odd = 2 * c + 1 < c_in;
      for (k = 0; k < kk; k += 8) {
        const __m128i a = load_s8x8(w0 + k, end);
        const __m128i b = odd ? load_s8x8(w0 + kk + k, end) : _mm_setzero_si128();
        _mm_storeu_si128((__m128i*)(void*)(wp + k), _mm_unpacklo_epi16(a, b));
        _mm_storeu_si128((__m128i*)(void*)(wp + k + 4), _mm_unpackhi_epi16(a, b));
      }
    }
  }
}

/* The job of one layer: rows, weights, and the tile's geometry. */
typedef struct {
  const int32_t* rows;        /* pair_rows */
  const int32_t* wp;          /* pair_weights */
  const int32_t* off;         /* off[k] = (k % s) * rl + k / s */
  int32_t npair, kk, pstride; /* pstride = nph * rl: from one pair's rows to the next's */
} rows_job;

#define MADD_ACC(acc, w, x) acc = _mm256_add_epi32(acc, _mm256_madd_epi16(w, x))

/* Four channels (weights w0..w3, npair * K words each) x 16 positions from t. */
static void tile_4x16(const rows_job* jb, const int32_t* w0, const int32_t* w1, const int32_t* w2,
                      const int32_t* w3, int32_t t, __m256i* acc) {
  __m256i a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
  __m256i b0 = acc[4], b1 = acc[5], b2 = acc[6], b3 = acc[7];
  const int32_t* r = jb->rows + t;
  int32_t c, k, i = 0;
  for (c = 0; c < jb->npair; ++c, r += jb->pstride) {
    for (k = 0; k < jb->kk; ++k, ++i) {
      const int32_t* x = r + jb->off[k];
      const __m256i xa = _mm256_loadu_si256((const __m256i*)(const void*)x);
      const __m256i xb = _mm256_loadu_si256((const __m256i*)(const void*)(x + 8));
      __m256i w = _mm256_set1_epi32(w0[i]);
      MADD_ACC(a0, w, xa), MADD_ACC(b0, w, xb);
      w = _mm256_set1_epi32(w1[i]);
      MADD_ACC(a1, w, xa), MADD_ACC(b1, w, xb);
      w = _mm256_set1_epi32(w2[i]);
      MADD_ACC(a2, w, xa), MADD_ACC(b2, w, xb);
      w = _mm256_set1_epi32(w3[i]);
      MADD_ACC(a3, w, xa), MADD_ACC(b3, w, xb);
    }
  }
  acc[0] = a0, acc[1] = a1, acc[2] = a2, acc[3] = a3;
  acc[4] = b0, acc[5] = b1, acc[6] = b2, acc[7] = b3;
}

/* Four channels x 8 positions from t. */
static void tile_4x8(const rows_job* jb, const int32_t* w0, const int32_t* w1, const int32_t* w2,
                     const int32_t* w3, int32_t t, __m256i* acc) {
  __m256i a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
  const int32_t* r = jb->rows + t;
  int32_t c, k, i = 0;
  for (c = 0; c < jb->npair; ++c, r += jb->pstride) {
    for (k = 0; k < jb->kk; ++k, ++i) {
      const __m256i xa = _mm256_loadu_si256((const __m256i*)(const void*)(r + jb->off[k]));
      MADD_ACC(a0, _mm256_set1_epi32(w0[i]), xa);
      MADD_ACC(a1, _mm256_set1_epi32(w1[i]), xa);
      MADD_ACC(a2, _mm256_set1_epi32(w2[i]), xa);
      MADD_ACC(a3, _mm256_set1_epi32(w3[i]), xa);
    }
  }
  acc[0] = a0, acc[1] = a1, acc[2] = a2, acc[3] = a3;
}

/* The whole layer by channel-pair rows when it has dilation 1 and its widened input and weights
 * fit the stack (returns 1), else 0. */
static int conv_rows(const ppgkd_conv1d_params* p, const ppgkd_s8_act* act,
                     const ppgkd_per_channel_quant* q, int32_t c_in, int32_t l_in, const int8_t* in,
                     int32_t c_out, int32_t kk, const int8_t* w, const int32_t* bias, int32_t l_out,
                     int8_t* out) {
  const int32_t s = p->stride, npair = (c_in + 1) / 2;
  const int64_t l8 = ((int64_t)l_out + 7) / 8 * 8;
  const int64_t rl = l8 + (kk - 1) / s; /* indices t + k / s + 0..7, t < l8 */
  const int32_t nph = s < kk ? s : kk;  /* the stride phases the taps read */
  const int64_t row_words = (int64_t)npair * nph * rl, w_words = (int64_t)c_out * npair * kk;
  if (p->dilation != 1 || s > 64 || row_words > AVX2_ROW_WORDS || w_words > AVX2_WPAIR_WORDS) {
    return 0;
  }
  {
    const ppgkd_s8_act a = *act; /* a copy the int8 stores cannot alias */
    int32_t rows[row_words], wp[w_words + 8], off[kk];
    ppgkd_rq rq[c_out];
    rows_job jb;
    int32_t co, t, k, j;
    pair_rows(in, c_in, l_in, a.in_zp, p->padding, s, nph, (int32_t)rl, rows);
    pair_weights(w, c_in, c_out, kk, wp);
    for (k = 0; k < kk; ++k) off[k] = (k % s) * (int32_t)rl + k / s;
    for (co = 0; co < c_out; ++co) rq[co] = ppgkd_rq_prepare_channel(q, co);
    jb.rows = rows, jb.wp = wp, jb.off = off, jb.npair = npair, jb.kk = kk;
    jb.pstride = nph * (int32_t)rl;
    for (co = 0; co < c_out; co += 4) {
      const int32_t n = c_out - co < 4 ? c_out - co : 4; /* channels of this tile */
      const int32_t* wc[4];
      __m256i init[4];
      for (j = 0; j < 4; ++j) {
        const int32_t c = co + (j < n ? j : 0); /* a short tile repeats its first channel */
        wc[j] = wp + (int64_t)c * npair * kk;
        init[j] = _mm256_set1_epi32(bias ? bias[c] : 0);
      }
      for (t = 0; t < l_out; t += 16) {
        const int32_t left = l_out - t, nv = left > 8 ? 2 : 1;
        __m256i acc[8];
        for (j = 0; j < 4; ++j) acc[j] = init[j], acc[4 + j] = init[j];
        if (nv == 2) {
          tile_4x16(&jb, wc[0], wc[1], wc[2], wc[3], t, acc);
        } else {
          tile_4x8(&jb, wc[0], wc[1], wc[2], wc[3], t, acc);
        }
        for (j = 0; j < n; ++j) {
          int8_t* y = out + (int64_t)(co + j) * l_out + t;
          ppgkd_avx2_store_row8(acc[j], &rq[co + j], &a, left < 8 ? left : 8, y);
          if (nv == 2)
            ppgkd_avx2_store_row8(acc[4 + j], &rq[co + j], &a, left - 8 < 8 ? left - 8 : 8, y + 8);
        }
      }
    }
  }
  return 1;
}

/* Blocks of output channels whose weights, widened to int16 once, fit AVX2_WEIGHT_BYTES of
 * stack; in each, groups of four output positions (a short last group repeats its last
 * position): their columns (im2col, widened to int16), then the block's channels two at a time
 * against them (avx2_dot_2x4), plus bias - zp * sum w, requantised four at a time. */
int ppgkd_conv1d_s8_fast(const ppgkd_conv1d_params* p, const ppgkd_s8_act* act,
                         const ppgkd_per_channel_quant* q, int32_t c_in, int32_t l_in,
                         const int8_t* in, int32_t c_out, int32_t kk, const int8_t* w,
                         const int32_t* bias, int32_t l_out, int8_t* out, void* scratch,
                         size_t scratch_size) {
  const int64_t n64 = (int64_t)c_in * kk;
  (void)scratch, (void)scratch_size;
  if (conv_rows(p, act, q, c_in, l_in, in, c_out, kk, w, bias, l_out, out)) return 1;
  if (n64 > AVX2_MAX_TAPS || c_out > AVX2_MAX_C_OUT) return 0;
  {
    const int32_t n = (int32_t)n64, stride16 = (n + 15) / 16 * 16;
    const int32_t per_block = AVX2_WEIGHT_BYTES / (2 * stride16) / 2 * 2; /* even, >= 2 */
    const int32_t nb = c_out < per_block ? c_out + (c_out & 1) : per_block;
    const int8_t zp = (int8_t)act->in_zp;
    const ppgkd_s8_act a = *act; /* a copy the int8 stores cannot alias */
    int8_t lin[n];               /* C99 VLAs, sized to the layer */
    int16_t col16[4 * stride16];
    int16_t w16[nb * stride16];
    int32_t init[nb];
    int32_t co0, t, co, j;
    for (co0 = 0; co0 < c_out; co0 += nb) {
      const int32_t cb = c_out - co0 < nb ? c_out - co0 : nb;
      for (co = 0; co < cb; ++co) {
        const int32_t sum_w = widen(w + (int64_t)(co0 + co) * n, n, stride16, w16 + co * stride16);
        init[co] = (bias ? bias[co0 + co] : 0) - a.in_zp * sum_w;
      }
      if (cb & 1) memset(w16 + cb * stride16, 0, sizeof(int16_t) * (size_t)stride16);
      for (t = 0; t < l_out; t += 4) {
        const int32_t m = l_out - t < 4 ? l_out - t : 4; /* positions in this group */
        for (j = 0; j < 4; ++j) {
          im2col(p, in, c_in, l_in, kk, t + (j < m ? j : m - 1), zp, lin);
          widen(lin, n, stride16, col16 + j * stride16);
        }
        for (co = 0; co < cb; co += 2) {
          const int32_t c = co0 + co;
          __m128i sa, sb;
          avx2_dot_2x4(col16, w16 + co * stride16, stride16, &sa, &sb);
          {
            const ppgkd_rq rq = ppgkd_rq_prepare_channel(q, c);
            rq_out4(_mm_add_epi32(sa, _mm_set1_epi32(init[co])), &rq, &a, m,
                    out + (int64_t)c * l_out + t);
          }
          if (co + 1 < cb) {
            const ppgkd_rq rq = ppgkd_rq_prepare_channel(q, c + 1);
            rq_out4(_mm_add_epi32(sb, _mm_set1_epi32(init[co + 1])), &rq, &a, m,
                    out + (int64_t)(c + 1) * l_out + t);
          }
        }
      }
    }
  }
  return 1;
}

#endif /* PPGKD_FAST_AVX2 */
