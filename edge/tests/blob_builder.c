/* blob_builder.c — the test-side blob writer; see blob_builder.h. Host arithmetic (weight
 * scales, multipliers) is done in double, as the exporter does. */
#include "blob_builder.h"

#include <math.h>
#include <string.h>

/* ------------------------------------------------------------------ little helpers */

static void put32(uint8_t* p, uint32_t v) {
  p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}
static uint32_t get32(const uint8_t* p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static uint32_t f32_bits(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  return u;
}
static long round_away(double x) {
  return (long)(x >= 0 ? x + 0.5 : x - 0.5);
}

bb_qparams bb_qparams_from_range(float lo, float hi) {
  bb_qparams q;
  long zp;
  if (lo > 0) lo = 0;
  if (hi < 0) hi = 0;
  if (hi - lo < 1e-6f) hi = lo + 1e-6f;
  q.scale = (hi - lo) / 255.0f;
  zp = round_away(-128.0 - (double)lo / q.scale);
  q.zero_point = (int32_t)(zp < -128 ? -128 : zp > 127 ? 127 : zp);
  return q;
}

void bb_quantize_multiplier(double real, int32_t* multiplier, int32_t* shift) {
  int e = 0;
  double frac;
  long long m;
  if (real <= 0) {
    *multiplier = 0, *shift = 0;
    return;
  }
  frac = frexp(real, &e); /* real = frac * 2^e, frac in [0.5, 1) */
  m = (long long)round_away(frac * 2147483648.0);
  if (m == 2147483648LL) m /= 2, ++e;
  if (e < -31) { /* too small to represent: zero */
    *multiplier = 0, *shift = 0;
    return;
  }
  if (e > 30) e = 30, m = 2147483647LL; /* saturate */
  *multiplier = (int32_t)m, *shift = e;
}

/* ------------------------------------------------------------------ tables */

static uint32_t add_tensor(bb_builder* b, uint32_t storage, uint32_t dtype, uint32_t rank,
                           uint32_t d0, uint32_t d1, uint32_t d2) {
  uint32_t* t;
  uint32_t esize = dtype == PPGKD_DT_S8 ? 1 : 4;
  if (b->num_tensors >= BB_MAX_TENSORS) {
    b->error = 1;
    return 0;
  }
  t = b->tensors[b->num_tensors];
  memset(t, 0, sizeof(b->tensors[0]));
  t[PPGKD_T_STORAGE] = storage, t[PPGKD_T_DTYPE] = dtype, t[PPGKD_T_RANK] = rank;
  t[PPGKD_T_DIM0] = d0, t[PPGKD_T_DIM1] = d1, t[PPGKD_T_DIM2] = d2;
  t[PPGKD_T_SIZE] = d0 * d1 * d2 * esize;
  return b->num_tensors++;
}

/* Appends size bytes to the data section (4-aligned) and binds tensor id to them. */
static void* alloc_const(bb_builder* b, uint32_t id) {
  const uint32_t size = b->tensors[id][PPGKD_T_SIZE];
  const uint32_t off = b->data_size;
  if (b->error || off + size + 3 > b->data_cap) {
    b->error = 1;
    return 0;
  }
  b->tensors[id][PPGKD_T_OFFSET] = off;
  b->data_size = (off + size + 3) & ~3u;
  memset(b->data + off, 0, b->data_size - off);
  return b->data + off;
}

static uint32_t act_tensor(bb_builder* b, uint32_t rank, uint32_t d0, uint32_t d1, bb_qparams q) {
  const uint32_t id =
      add_tensor(b, PPGKD_STORAGE_ARENA, b->int8 ? PPGKD_DT_S8 : PPGKD_DT_F32, rank, d0, d1, 1);
  if (!b->error && b->int8) {
    b->tensors[id][PPGKD_T_SCALE] = f32_bits(q.scale);
    b->tensors[id][PPGKD_T_ZERO_POINT] = (uint32_t)q.zero_point;
  }
  return id;
}

static uint32_t* add_op(bb_builder* b, uint32_t type, uint32_t in0, uint32_t out, int relu) {
  uint32_t* o;
  if (b->num_ops >= BB_MAX_OPS) {
    b->error = 1;
    return 0;
  }
  o = b->ops[b->num_ops++];
  memset(o, 0, sizeof(b->ops[0]));
  o[PPGKD_OP_TYPE] = type, o[PPGKD_OP_ACTIVATION] = relu ? PPGKD_ACT_RELU : PPGKD_ACT_NONE;
  o[PPGKD_OP_IN0] = in0, o[PPGKD_OP_OUT] = out;
  o[PPGKD_OP_IN1] = o[PPGKD_OP_WEIGHT] = o[PPGKD_OP_BIAS] = o[PPGKD_OP_QUANT] = PPGKD_NONE;
  return o;
}

static float t_scale(const bb_builder* b, uint32_t id) {
  float f;
  memcpy(&f, &b->tensors[id][PPGKD_T_SCALE], 4);
  return f;
}

void bb_init(bb_builder* b, int int8, uint8_t* data_buf, uint32_t data_cap) {
  memset(b, 0, sizeof(*b));
  b->int8 = int8;
  b->data = data_buf;
  b->data_cap = data_cap;
}

uint32_t bb_input(bb_builder* b, uint32_t channels, uint32_t length, bb_qparams q) {
  b->in_channels = channels, b->in_length = length;
  b->input = act_tensor(b, 2, channels, length, q);
  return b->input;
}

/* Weights (rows x cols) and bias for conv1d/dense: f32 copies, or int8 per-row symmetric
 * weights, int32 bias and the (2, rows) requant tensor. */
static void add_weights(bb_builder* b, uint32_t* op, uint32_t in, uint32_t out, uint32_t rows,
                        uint32_t cols, uint32_t k, const float* w, const float* bias) {
  const uint32_t wt =
      k ? add_tensor(b, PPGKD_STORAGE_CONST, b->int8 ? PPGKD_DT_S8 : PPGKD_DT_F32, 3, rows, cols, k)
        : add_tensor(b, PPGKD_STORAGE_CONST, b->int8 ? PPGKD_DT_S8 : PPGKD_DT_F32, 2, rows, cols,
                     1);
  const uint32_t per_row = cols * (k ? k : 1);
  uint32_t r, i;
  if (b->error) return;
  op[PPGKD_OP_WEIGHT] = wt;
  if (bias) {
    op[PPGKD_OP_BIAS] =
        add_tensor(b, PPGKD_STORAGE_CONST, b->int8 ? PPGKD_DT_S32 : PPGKD_DT_F32, 1, rows, 1, 1);
  }
  if (!b->int8) {
    float* dw = (float*)alloc_const(b, wt);
    if (dw) memcpy(dw, w, sizeof(float) * rows * per_row);
    if (bias) {
      float* db = (float*)alloc_const(b, op[PPGKD_OP_BIAS]);
      if (db) memcpy(db, bias, sizeof(float) * rows);
    }
    return;
  }
  {
    const double s_in = t_scale(b, in), s_out = t_scale(b, out);
    int8_t* dw = (int8_t*)alloc_const(b, wt);
    int32_t* db = bias ? (int32_t*)alloc_const(b, op[PPGKD_OP_BIAS]) : 0;
    const uint32_t qt = add_tensor(b, PPGKD_STORAGE_CONST, PPGKD_DT_S32, 2, 2, rows, 1);
    int32_t* dq = (int32_t*)alloc_const(b, qt);
    if (b->error) return;
    op[PPGKD_OP_QUANT] = qt;
    for (r = 0; r < rows; ++r) {
      double max_abs = 0, s_w;
      for (i = 0; i < per_row; ++i) {
        const double a = fabs((double)w[r * per_row + i]);
        if (a > max_abs) max_abs = a;
      }
      s_w = max_abs > 0 ? max_abs / 127.0 : 1.0;
      for (i = 0; i < per_row; ++i) {
        dw[r * per_row + i] = (int8_t)round_away((double)w[r * per_row + i] / s_w);
      }
      if (db) db[r] = (int32_t)round_away((double)bias[r] / (s_in * s_w));
      bb_quantize_multiplier(s_in * s_w / s_out, &dq[r], &dq[rows + r]);
    }
  }
}

uint32_t bb_conv1d(bb_builder* b, uint32_t in, uint32_t c_out, uint32_t k, uint32_t stride,
                   uint32_t padding, uint32_t dilation, int relu, const float* w, const float* bias,
                   bb_qparams q_out) {
  const uint32_t c_in = b->tensors[in][PPGKD_T_DIM0], l_in = b->tensors[in][PPGKD_T_DIM1];
  const uint32_t l_out = (l_in + 2 * padding - dilation * (k - 1) - 1) / stride + 1;
  const uint32_t out = act_tensor(b, 2, c_out, l_out, q_out);
  uint32_t* op = add_op(b, PPGKD_OPT_CONV1D, in, out, relu);
  if (b->error) return 0;
  op[PPGKD_OP_STRIDE] = stride, op[PPGKD_OP_PADDING] = padding, op[PPGKD_OP_DILATION] = dilation;
  add_weights(b, op, in, out, c_out, c_in, k, w, bias);
  return out;
}

uint32_t bb_dense(bb_builder* b, uint32_t in, uint32_t m, int relu, const float* w,
                  const float* bias, bb_qparams q_out) {
  const uint32_t* t = b->tensors[in];
  const uint32_t n = t[PPGKD_T_DIM0] * t[PPGKD_T_DIM1] * t[PPGKD_T_DIM2];
  const uint32_t out = act_tensor(b, 1, m, 1, q_out);
  uint32_t* op = add_op(b, PPGKD_OPT_DENSE, in, out, relu);
  if (b->error) return 0;
  add_weights(b, op, in, out, m, n, 0, w, bias);
  return out;
}

uint32_t bb_add(bb_builder* b, uint32_t a, uint32_t c, int relu, bb_qparams q_out) {
  const uint32_t* t = b->tensors[a];
  const uint32_t out = act_tensor(b, t[PPGKD_T_RANK], t[PPGKD_T_DIM0], t[PPGKD_T_DIM1], q_out);
  uint32_t* op = add_op(b, PPGKD_OPT_ADD, a, out, relu);
  if (b->error) return 0;
  op[PPGKD_OP_IN1] = c;
  if (b->int8) {
    /* TFLite's scheme: a common scale of twice the larger input scale, 20 bits of headroom. */
    const double sa = t_scale(b, a), sc = t_scale(b, c), so = t_scale(b, out);
    const double twice = 2.0 * (sa > sc ? sa : sc);
    const uint32_t qt = add_tensor(b, PPGKD_STORAGE_CONST, PPGKD_DT_S32, 1, 7, 1, 1);
    int32_t* q = (int32_t*)alloc_const(b, qt);
    if (b->error) return 0;
    op[PPGKD_OP_QUANT] = qt;
    q[0] = 20;
    bb_quantize_multiplier(sa / twice, &q[1], &q[2]);
    bb_quantize_multiplier(sc / twice, &q[3], &q[4]);
    bb_quantize_multiplier(twice / ((double)(1 << 20) * so), &q[5], &q[6]);
  }
  return out;
}

uint32_t bb_relu(bb_builder* b, uint32_t in) {
  const uint32_t* t = b->tensors[in];
  bb_qparams q;
  uint32_t out;
  q.scale = t_scale(b, in), q.zero_point = (int32_t)t[PPGKD_T_ZERO_POINT];
  out = act_tensor(b, t[PPGKD_T_RANK], t[PPGKD_T_DIM0], t[PPGKD_T_DIM1], q);
  add_op(b, PPGKD_OPT_RELU, in, out, 0);
  return b->error ? 0 : out;
}

uint32_t bb_avg_pool1d(bb_builder* b, uint32_t in, uint32_t kernel, uint32_t stride,
                       bb_qparams q_out) {
  const uint32_t c = b->tensors[in][PPGKD_T_DIM0], l = b->tensors[in][PPGKD_T_DIM1];
  const uint32_t out = act_tensor(b, 2, c, (l - kernel) / stride + 1, q_out);
  uint32_t* op = add_op(b, PPGKD_OPT_AVG_POOL1D, in, out, 0);
  if (b->error) return 0;
  op[PPGKD_OP_KERNEL] = kernel, op[PPGKD_OP_STRIDE] = stride;
  if (b->int8) {
    const uint32_t qt = add_tensor(b, PPGKD_STORAGE_CONST, PPGKD_DT_S32, 1, 2, 1, 1);
    int32_t* q = (int32_t*)alloc_const(b, qt);
    if (b->error) return 0;
    op[PPGKD_OP_QUANT] = qt;
    bb_quantize_multiplier((double)t_scale(b, in) / ((double)t_scale(b, out) * kernel), &q[0],
                           &q[1]);
  }
  return out;
}

/* ------------------------------------------------------------------ arena planning */

/* Lifetime in op indices, the loader's definition: written at def (-1 for the input), last read
 * at last (num_ops for the output). */
static void lifetime(const bb_builder* b, uint32_t id, uint32_t output, int* def, int* last) {
  uint32_t j;
  *def = id == b->input ? -1 : (int)b->num_ops;
  *last = id == output ? (int)b->num_ops : -1;
  for (j = 0; j < b->num_ops; ++j) {
    if (b->ops[j][PPGKD_OP_OUT] == id) {
      *def = (int)j;
      if (*last < (int)j) *last = (int)j;
    }
    if (b->ops[j][PPGKD_OP_IN0] == id || b->ops[j][PPGKD_OP_IN1] == id) *last = (int)j;
  }
}

/* Greedy by size (TFLite Micro's greedy_memory_planner idea): place the largest tensors first,
 * each at the lowest 4-aligned offset that does not collide with an already placed tensor whose
 * lifetime intersects its own. Returns the arena size. */
static uint32_t plan_arena(bb_builder* b, uint32_t output) {
  uint32_t order[BB_MAX_TENSORS], placed[BB_MAX_TENSORS];
  uint32_t n = 0, np = 0, i, j, arena = 0;
  for (i = 0; i < b->num_tensors; ++i) {
    if (b->tensors[i][PPGKD_T_STORAGE] == PPGKD_STORAGE_ARENA) order[n++] = i;
  }
  for (i = 1; i < n; ++i) { /* insertion sort by size, descending; stable */
    const uint32_t id = order[i];
    for (j = i; j > 0 && b->tensors[order[j - 1]][PPGKD_T_SIZE] < b->tensors[id][PPGKD_T_SIZE];
         --j) {
      order[j] = order[j - 1];
    }
    order[j] = id;
  }
  for (i = 0; i < n; ++i) {
    const uint32_t id = order[i], size = (b->tensors[id][PPGKD_T_SIZE] + 3) & ~3u;
    uint32_t offset = 0;
    int def, last, moved = 1;
    lifetime(b, id, output, &def, &last);
    while (moved) { /* bump past every conflicting placed tensor until none collides */
      moved = 0;
      for (j = 0; j < np; ++j) {
        const uint32_t o = placed[j];
        const uint32_t lo = b->tensors[o][PPGKD_T_OFFSET];
        const uint32_t hi = lo + ((b->tensors[o][PPGKD_T_SIZE] + 3) & ~3u);
        int d2, l2;
        lifetime(b, o, output, &d2, &l2);
        if (def <= l2 && d2 <= last && offset < hi && lo < offset + size) {
          offset = hi;
          moved = 1;
        }
      }
    }
    b->tensors[id][PPGKD_T_OFFSET] = offset;
    placed[np++] = id;
    if (offset + size > arena) arena = offset + size;
  }
  return arena;
}

/* ------------------------------------------------------------------ writing */

int bb_finish(bb_builder* b, uint32_t output, uint32_t num_classes, uint8_t* out, size_t cap,
              size_t* len) {
  const size_t total = PPGKD_HEADER_BYTES + PPGKD_RECORD_BYTES * (b->num_ops + b->num_tensors) +
                       b->data_size + PPGKD_CRC_BYTES;
  uint32_t i, w, h[PPGKD_RECORD_WORDS];
  uint8_t* p = out;
  if (b->error || total > cap) return -1;
  memset(h, 0, sizeof h);
  h[PPGKD_H_MAGIC] = PPGKD_MAGIC, h[PPGKD_H_VERSION] = PPGKD_VERSION;
  h[PPGKD_H_FLAGS] = b->int8 ? PPGKD_FLAG_INT8 : 0;
  h[PPGKD_H_TOTAL_LEN] = (uint32_t)total;
  h[PPGKD_H_NUM_TENSORS] = b->num_tensors, h[PPGKD_H_NUM_OPS] = b->num_ops;
  h[PPGKD_H_INPUT] = b->input, h[PPGKD_H_OUTPUT] = output;
  h[PPGKD_H_IN_CHANNELS] = b->in_channels, h[PPGKD_H_IN_LENGTH] = b->in_length;
  h[PPGKD_H_NUM_CLASSES] = num_classes;
  h[PPGKD_H_DECODE_RADIUS] = num_classes > 10 ? 10 : num_classes - 1;
  h[PPGKD_H_BPM_LO] = f32_bits(30.0f), h[PPGKD_H_BPM_STEP] = f32_bits(1.0f);
  h[PPGKD_H_ARENA_SIZE] = plan_arena(b, output);
  h[PPGKD_H_DATA_SIZE] = b->data_size;
  for (w = 0; w < PPGKD_RECORD_WORDS; ++w, p += 4) put32(p, h[w]);
  for (i = 0; i < b->num_ops; ++i) {
    for (w = 0; w < PPGKD_RECORD_WORDS; ++w, p += 4) put32(p, b->ops[i][w]);
  }
  for (i = 0; i < b->num_tensors; ++i) {
    for (w = 0; w < PPGKD_RECORD_WORDS; ++w, p += 4) put32(p, b->tensors[i][w]);
  }
  memcpy(p, b->data, b->data_size);
  p += b->data_size;
  put32(p, ppgkd_crc32(out, total - PPGKD_CRC_BYTES));
  *len = total;
  return 0;
}

size_t bb_op_offset(const uint8_t* blob, uint32_t op) {
  (void)blob;
  return PPGKD_HEADER_BYTES + (size_t)PPGKD_RECORD_BYTES * op;
}
size_t bb_tensor_offset(const uint8_t* blob, uint32_t tensor) {
  return PPGKD_HEADER_BYTES +
         (size_t)PPGKD_RECORD_BYTES * (get32(blob + 4 * PPGKD_H_NUM_OPS) + tensor);
}
uint32_t bb_get_word(const uint8_t* blob, size_t byte_offset) {
  return get32(blob + byte_offset);
}
void bb_set_word(uint8_t* blob, size_t byte_offset, uint32_t value) {
  put32(blob + byte_offset, value);
}
void bb_fix_crc(uint8_t* blob, size_t len) {
  put32(blob + len - PPGKD_CRC_BYTES, ppgkd_crc32(blob, len - PPGKD_CRC_BYTES));
}
