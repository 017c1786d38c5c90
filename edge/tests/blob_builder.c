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
  long m;
  if (real <= 0) {
    *multiplier = 0, *shift = 0;
    return;
  }
  frac = frexp(real, &e); /* real = frac * 2^e, frac in [0.5, 1) */
  m = round_away(frac * 65536.0);
  if (m == 65536L) m /= 2, ++e;
  if (e < -31) { /* too small to represent: zero */
    *multiplier = 0, *shift = 0;
    return;
  }
  if (e > 30) e = 30, m = 65535L; /* saturate */
  *multiplier = (int32_t)m, *shift = e;
}

/* Writes requantisation entry i of n at q (u16 multipliers [n], then s8 shifts [n]). */
static void put_rq(uint8_t* q, uint32_t n, uint32_t i, double real) {
  int32_t m, sh;
  bb_quantize_multiplier(real, &m, &sh);
  q[2 * i] = (uint8_t)m, q[2 * i + 1] = (uint8_t)(m >> 8);
  q[2 * n + i] = (uint8_t)(sh & 0xFF);
}

/* ------------------------------------------------------------------ tables */

static uint32_t add_tensor(bb_builder* b, uint32_t rank, uint32_t d0, uint32_t d1, bb_qparams q) {
  bb_tensor* t;
  if (b->num_tensors >= BB_MAX_TENSORS) {
    b->error = 1;
    return 0;
  }
  t = &b->tensors[b->num_tensors];
  memset(t, 0, sizeof *t);
  t->rank = rank, t->dim0 = d0, t->dim1 = rank == 1 ? 1 : d1;
  t->size = t->dim0 * t->dim1 * (b->int8 ? 1u : 4u);
  if (b->int8) t->scale = q.scale, t->zero_point = q.zero_point;
  return b->num_tensors++;
}

/* Appends size bytes (zeroed) to the data section at a 4-aligned offset; *offset gets it. */
static void* alloc_const(bb_builder* b, uint32_t size, uint32_t* offset) {
  const uint32_t off = b->data_size;
  if (b->error || off + size + 3 > b->data_cap) {
    b->error = 1;
    return 0;
  }
  *offset = off;
  b->data_size = (off + size + 3) & ~3u;
  memset(b->data + off, 0, b->data_size - off);
  return b->data + off;
}

static uint32_t act_tensor(bb_builder* b, uint32_t rank, uint32_t d0, uint32_t d1, bb_qparams q) {
  return add_tensor(b, rank, d0, d1, q);
}

static bb_op* add_op(bb_builder* b, uint32_t type, uint32_t in0, uint32_t out, int relu) {
  bb_op* o;
  if (b->num_ops >= BB_MAX_OPS) {
    b->error = 1;
    return 0;
  }
  o = &b->ops[b->num_ops++];
  memset(o, 0, sizeof *o);
  o->type = type, o->activation = relu ? PPGKD_OPF_RELU : 0u;
  o->in0 = in0, o->out = out;
  o->in1 = o->weight = o->bias = o->quant = PPGKD_NONE;
  return o;
}

static float t_scale(const bb_builder* b, uint32_t id) {
  return b->tensors[id].scale;
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

/* Weights (rows x cols x k) and bias for conv1d (k >= 1) / dense (k = 0): f32 copies, or int8
 * symmetric weights per row (one scale for all rows when b->per_tensor), int32 bias and the
 * requantisation entries (rows of them, or one). */
static void add_weights(bb_builder* b, bb_op* op, uint32_t in, uint32_t out, uint32_t rows,
                        uint32_t cols, uint32_t k, const float* w, const float* bias) {
  const uint32_t per_row = cols * (k ? k : 1);
  uint32_t r, i;
  if (b->error) return;
  if (bias) op->activation |= PPGKD_OPF_BIAS;
  if (!b->int8) {
    float* dw = (float*)alloc_const(b, 4 * rows * per_row, &op->weight);
    if (dw) memcpy(dw, w, sizeof(float) * rows * per_row);
    if (bias) {
      float* db = (float*)alloc_const(b, 4 * rows, &op->bias);
      if (db) memcpy(db, bias, sizeof(float) * rows);
    }
    return;
  }
  {
    const double s_in = t_scale(b, in), s_out = t_scale(b, out);
    const uint32_t entries = b->per_tensor ? 1u : rows;
    int8_t* dw = (int8_t*)alloc_const(b, rows * per_row, &op->weight);
    int32_t* db = bias ? (int32_t*)alloc_const(b, 4 * rows, &op->bias) : 0;
    uint8_t* dq = (uint8_t*)alloc_const(b, PPGKD_RQ_ENTRY_BYTES * entries, &op->quant);
    double tensor_max = 0;
    if (b->error) return;
    if (b->per_tensor) op->activation |= PPGKD_OPF_PER_TENSOR;
    for (i = 0; i < rows * per_row; ++i) {
      if (fabs((double)w[i]) > tensor_max) tensor_max = fabs((double)w[i]);
    }
    for (r = 0; r < rows; ++r) {
      double max_abs = 0, s_w;
      for (i = 0; i < per_row; ++i) {
        const double a = fabs((double)w[r * per_row + i]);
        if (a > max_abs) max_abs = a;
      }
      if (b->per_tensor) max_abs = tensor_max;
      s_w = max_abs > 0 ? max_abs / 127.0 : 1.0;
      for (i = 0; i < per_row; ++i) {
        dw[r * per_row + i] = (int8_t)round_away((double)w[r * per_row + i] / s_w);
      }
      if (db) db[r] = (int32_t)round_away((double)bias[r] / (s_in * s_w));
      if (r < entries) put_rq(dq, entries, r, s_in * s_w / s_out);
    }
  }
}

uint32_t bb_conv1d(bb_builder* b, uint32_t in, uint32_t c_out, uint32_t k, uint32_t stride,
                   uint32_t padding, uint32_t dilation, int relu, const float* w, const float* bias,
                   bb_qparams q_out) {
  const uint32_t c_in = b->tensors[in].dim0, l_in = b->tensors[in].dim1;
  const uint32_t l_out = (l_in + 2 * padding - dilation * (k - 1) - 1) / stride + 1;
  const uint32_t out = act_tensor(b, 2, c_out, l_out, q_out);
  bb_op* op = add_op(b, PPGKD_OPT_CONV1D, in, out, relu);
  if (b->error) return 0;
  op->taps = k, op->stride = stride, op->padding = padding, op->dilation = dilation;
  add_weights(b, op, in, out, c_out, c_in, k, w, bias);
  return out;
}

uint32_t bb_dense(bb_builder* b, uint32_t in, uint32_t m, int relu, const float* w,
                  const float* bias, bb_qparams q_out) {
  const uint32_t n = b->tensors[in].dim0 * b->tensors[in].dim1;
  const uint32_t out = act_tensor(b, 1, m, 1, q_out);
  bb_op* op = add_op(b, PPGKD_OPT_DENSE, in, out, relu);
  if (b->error) return 0;
  add_weights(b, op, in, out, m, n, 0, w, bias);
  return out;
}

uint32_t bb_add(bb_builder* b, uint32_t a, uint32_t c, int relu, bb_qparams q_out) {
  const bb_tensor* t = &b->tensors[a];
  const uint32_t out = act_tensor(b, t->rank, t->dim0, t->dim1, q_out);
  bb_op* op = add_op(b, PPGKD_OPT_ADD, a, out, relu);
  if (b->error) return 0;
  op->in1 = c;
  if (b->int8) {
    /* TFLite's scheme: a common scale of twice the larger input scale, 20 bits of headroom. */
    const double sa = t_scale(b, a), sc = t_scale(b, c), so = t_scale(b, out);
    const double twice = 2.0 * (sa > sc ? sa : sc);
    uint8_t* q =
        (uint8_t*)alloc_const(b, PPGKD_ADD_RQ_ENTRIES * PPGKD_RQ_ENTRY_BYTES + 1, &op->quant);
    if (b->error) return 0;
    put_rq(q, PPGKD_ADD_RQ_ENTRIES, 0, sa / twice);
    put_rq(q, PPGKD_ADD_RQ_ENTRIES, 1, sc / twice);
    put_rq(q, PPGKD_ADD_RQ_ENTRIES, 2, twice / ((double)(1 << 20) * so));
    q[PPGKD_ADD_RQ_ENTRIES * PPGKD_RQ_ENTRY_BYTES] = 20;
  }
  return out;
}

uint32_t bb_relu(bb_builder* b, uint32_t in) {
  const bb_tensor* t = &b->tensors[in];
  bb_qparams q;
  uint32_t out;
  q.scale = t->scale, q.zero_point = t->zero_point;
  out = act_tensor(b, t->rank, t->dim0, t->dim1, q);
  add_op(b, PPGKD_OPT_RELU, in, out, 0);
  return b->error ? 0 : out;
}

uint32_t bb_avg_pool1d(bb_builder* b, uint32_t in, uint32_t kernel, uint32_t stride,
                       bb_qparams q_out) {
  const uint32_t c = b->tensors[in].dim0, l = b->tensors[in].dim1;
  const uint32_t out = act_tensor(b, 2, c, (l - kernel) / stride + 1, q_out);
  bb_op* op = add_op(b, PPGKD_OPT_AVG_POOL1D, in, out, 0);
  if (b->error) return 0;
  op->kernel = kernel, op->stride = stride;
  if (b->int8) {
    uint8_t* q = (uint8_t*)alloc_const(b, PPGKD_RQ_ENTRY_BYTES, &op->quant);
    if (b->error) return 0;
    put_rq(q, 1, 0, (double)t_scale(b, in) / ((double)t_scale(b, out) * kernel));
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
    if (b->ops[j].out == id) {
      *def = (int)j;
      if (*last < (int)j) *last = (int)j;
    }
    if (b->ops[j].in0 == id || b->ops[j].in1 == id) *last = (int)j;
  }
}

/* Greedy by size (TFLite Micro's greedy_memory_planner idea): place the largest tensors first,
 * each at the lowest 4-aligned offset that does not collide with an already placed tensor whose
 * lifetime intersects its own. Returns the arena size. */
static uint32_t plan_arena(bb_builder* b, uint32_t output) {
  uint32_t order[BB_MAX_TENSORS], placed[BB_MAX_TENSORS];
  uint32_t n = 0, np = 0, i, j, arena = 0;
  for (i = 0; i < b->num_tensors; ++i) order[n++] = i;
  for (i = 1; i < n; ++i) { /* insertion sort by size, descending; stable */
    const uint32_t id = order[i];
    for (j = i; j > 0 && b->tensors[order[j - 1]].size < b->tensors[id].size; --j) {
      order[j] = order[j - 1];
    }
    order[j] = id;
  }
  for (i = 0; i < n; ++i) {
    const uint32_t id = order[i], size = (b->tensors[id].size + 3) & ~3u;
    uint32_t offset = 0;
    int def, last, moved = 1;
    lifetime(b, id, output, &def, &last);
    while (moved) { /* bump past every conflicting placed tensor until none collides */
      moved = 0;
      for (j = 0; j < np; ++j) {
        const uint32_t o = placed[j];
        const uint32_t lo = b->tensors[o].offset;
        const uint32_t hi = lo + ((b->tensors[o].size + 3) & ~3u);
        int d2, l2;
        lifetime(b, o, output, &d2, &l2);
        if (def <= l2 && d2 <= last && offset < hi && lo < offset + size) {
          offset = hi;
          moved = 1;
        }
      }
    }
    b->tensors[id].offset = offset;
    placed[np++] = id;
    if (offset + size > arena) arena = offset + size;
  }
  return arena;
}

/* ------------------------------------------------------------------ writing */

static void put16(uint8_t* p, uint32_t v) {
  p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8);
}

/* Writes op record `o` at p (format version 3); returns its size. */
static uint32_t put_op(const bb_op* o, uint8_t* p) {
  p[PPGKD_OP_TYPE] = (uint8_t)o->type, p[PPGKD_OP_FLAGS] = (uint8_t)o->activation;
  put16(p + PPGKD_OP_IN0, o->in0), put16(p + PPGKD_OP_OUT, o->out);
  switch (o->type) {
    case PPGKD_OPT_CONV1D:
      p[PPGKD_CONV_TAPS] = (uint8_t)o->taps, p[PPGKD_CONV_STRIDE] = (uint8_t)o->stride;
      p[PPGKD_CONV_PADDING] = (uint8_t)o->padding, p[PPGKD_CONV_DILATION] = (uint8_t)o->dilation;
      return PPGKD_CONV_BYTES;
    case PPGKD_OPT_DENSE:
      return PPGKD_DENSE_BYTES;
    case PPGKD_OPT_ADD:
      put16(p + PPGKD_ADD_IN1, o->in1);
      return PPGKD_ADD_BYTES;
    case PPGKD_OPT_AVG_POOL1D:
      put16(p + PPGKD_POOL_KERNEL, o->kernel), put16(p + PPGKD_POOL_STRIDE, o->stride);
      return PPGKD_POOL_BYTES;
    default:
      return PPGKD_RELU_BYTES;
  }
}

int bb_finish(bb_builder* b, uint32_t output, uint32_t num_classes, uint8_t* out, size_t cap,
              size_t* len) {
  static uint8_t ops[BB_MAX_OPS * 32];
  const uint32_t tbytes = b->int8 ? PPGKD_T_BYTES_INT8 : PPGKD_T_BYTES_F32;
  uint32_t i, w, h[PPGKD_HEADER_WORDS], ops_bytes = 0;
  size_t tables, data_at, total;
  uint8_t* p = out;
  if (b->error) return -1;
  for (i = 0; i < b->num_ops; ++i) ops_bytes += put_op(&b->ops[i], ops + ops_bytes);
  tables = PPGKD_HEADER_BYTES + ops_bytes + (size_t)tbytes * b->num_tensors;
  data_at = (tables + 3) & ~(size_t)3;
  total = data_at + b->data_size + PPGKD_CRC_BYTES;
  if (total > cap) return -1;
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
  h[PPGKD_H_OPS_BYTES] = ops_bytes;
  for (w = 0; w < PPGKD_HEADER_WORDS; ++w, p += 4) put32(p, h[w]);
  memcpy(p, ops, ops_bytes);
  p += ops_bytes;
  for (i = 0; i < b->num_tensors; ++i, p += tbytes) {
    const bb_tensor* t = &b->tensors[i];
    p[PPGKD_T_RANK] = (uint8_t)t->rank;
    p[PPGKD_T_ZERO_POINT] = (uint8_t)(t->zero_point & 0xFF);
    put16(p + PPGKD_T_DIM0, t->dim0), put16(p + PPGKD_T_DIM1, t->dim1);
    put32(p + PPGKD_T_OFFSET, t->offset);
    if (b->int8) put32(p + PPGKD_T_SCALE, f32_bits(t->scale));
  }
  while ((size_t)(p - out) < data_at) *p++ = 0;
  memcpy(p, b->data, b->data_size);
  p += b->data_size;
  put32(p, ppgkd_crc32(out, total - PPGKD_CRC_BYTES));
  *len = total;
  return 0;
}

size_t bb_op_offset(const uint8_t* blob, uint32_t op) {
  size_t at = PPGKD_HEADER_BYTES;
  uint32_t j;
  for (j = 0; j < op; ++j) {
    switch (blob[at + PPGKD_OP_TYPE]) {
      case PPGKD_OPT_CONV1D:
        at += PPGKD_CONV_BYTES;
        break;
      case PPGKD_OPT_DENSE:
        at += PPGKD_DENSE_BYTES;
        break;
      case PPGKD_OPT_ADD:
        at += PPGKD_ADD_BYTES;
        break;
      case PPGKD_OPT_AVG_POOL1D:
        at += PPGKD_POOL_BYTES;
        break;
      default:
        at += PPGKD_RELU_BYTES;
        break;
    }
  }
  return at;
}
size_t bb_tensor_offset(const uint8_t* blob, uint32_t tensor) {
  const int int8 = (get32(blob + 4 * PPGKD_H_FLAGS) & PPGKD_FLAG_INT8) != 0;
  return PPGKD_HEADER_BYTES + get32(blob + 4 * PPGKD_H_OPS_BYTES) +
         (size_t)(int8 ? PPGKD_T_BYTES_INT8 : PPGKD_T_BYTES_F32) * tensor;
}
size_t bb_data_offset(const uint8_t* blob) {
  return (bb_tensor_offset(blob, get32(blob + 4 * PPGKD_H_NUM_TENSORS)) + 3) & ~(size_t)3;
}
uint32_t bb_get_word(const uint8_t* blob, size_t byte_offset) {
  return get32(blob + byte_offset);
}
void bb_set_word(uint8_t* blob, size_t byte_offset, uint32_t value) {
  put32(blob + byte_offset, value);
}
uint32_t bb_get_u16(const uint8_t* blob, size_t byte_offset) {
  return (uint32_t)blob[byte_offset] | ((uint32_t)blob[byte_offset + 1] << 8);
}
void bb_set_u16(uint8_t* blob, size_t byte_offset, uint32_t value) {
  put16(blob + byte_offset, value);
}
void bb_fix_crc(uint8_t* blob, size_t len) {
  put32(blob + len - PPGKD_CRC_BYTES, ppgkd_crc32(blob, len - PPGKD_CRC_BYTES));
}
