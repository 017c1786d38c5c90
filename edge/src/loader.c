/* loader.c — validation of a model blob and binding to an arena (ppgkd_init,
 * ppgkd_arena_required). Trusts nothing: after this file accepts a blob, every tensor access the
 * graph runner makes lies inside the blob or the arena, every kernel's dims agree and no int8
 * accumulator can overflow. It does not run anything (graph.c) and allocates nothing.
 *
 * Order of checks (so tests can expect one specific code): pointers and alignment, length >=
 * header, magic, version, flags, total_len against len, counts, layout arithmetic, CRC, header
 * fields, tensor records, op records (arity, dtypes, shapes, quantisation, graph order), graph
 * input/output, arena plan (ranges, then overlaps of tensors alive together), arena length. */
#include <stdint.h>

#include "blob_read.h"
#include "ppgkd_edge.h"
#include "ppgkd_edge_format.h"
#include "ppgkd_edge_ops.h"

#define MAX_DIM (1u << 24)      /* keeps every index computation inside int32 */
#define MAX_OP_PARAM (1u << 16) /* stride, padding, dilation */
#define MAX_PROD 0x7FFFFFFFu    /* tensor bytes fit in int32 */

const char* ppgkd_status_str(ppgkd_status s) {
  switch (s) {
    case PPGKD_OK:
      return "PPGKD_OK";
    case PPGKD_ERR_ARG:
      return "PPGKD_ERR_ARG";
    case PPGKD_ERR_ALIGN:
      return "PPGKD_ERR_ALIGN";
    case PPGKD_ERR_TRUNCATED:
      return "PPGKD_ERR_TRUNCATED";
    case PPGKD_ERR_LENGTH:
      return "PPGKD_ERR_LENGTH";
    case PPGKD_ERR_MAGIC:
      return "PPGKD_ERR_MAGIC";
    case PPGKD_ERR_VERSION:
      return "PPGKD_ERR_VERSION";
    case PPGKD_ERR_FLAGS:
      return "PPGKD_ERR_FLAGS";
    case PPGKD_ERR_CRC:
      return "PPGKD_ERR_CRC";
    case PPGKD_ERR_COUNT:
      return "PPGKD_ERR_COUNT";
    case PPGKD_ERR_SIZE_OVERFLOW:
      return "PPGKD_ERR_SIZE_OVERFLOW";
    case PPGKD_ERR_TENSOR:
      return "PPGKD_ERR_TENSOR";
    case PPGKD_ERR_OFFSET:
      return "PPGKD_ERR_OFFSET";
    case PPGKD_ERR_OP:
      return "PPGKD_ERR_OP";
    case PPGKD_ERR_SHAPE:
      return "PPGKD_ERR_SHAPE";
    case PPGKD_ERR_QUANT:
      return "PPGKD_ERR_QUANT";
    case PPGKD_ERR_ACC_OVERFLOW:
      return "PPGKD_ERR_ACC_OVERFLOW";
    case PPGKD_ERR_GRAPH:
      return "PPGKD_ERR_GRAPH";
    case PPGKD_ERR_ARENA_RANGE:
      return "PPGKD_ERR_ARENA_RANGE";
    case PPGKD_ERR_ARENA_OVERLAP:
      return "PPGKD_ERR_ARENA_OVERLAP";
    case PPGKD_ERR_ARENA_SMALL:
      return "PPGKD_ERR_ARENA_SMALL";
    case PPGKD_ERR_INPUT:
      return "PPGKD_ERR_INPUT";
    case PPGKD_ERR_UNSUPPORTED:
      return "PPGKD_ERR_UNSUPPORTED";
    case PPGKD_ERR_DECODE:
      return "PPGKD_ERR_DECODE";
  }
  return "PPGKD_ERR_UNKNOWN";
}

/* ------------------------------------------------------------------ small predicates */

static int is_finite(float x) {
  return x - x == 0.0f;
}

static uint32_t dtype_size(uint32_t dtype) {
  return dtype == PPGKD_DT_S8 ? 1u : 4u;
}

static int little_endian_host(void) {
  const uint32_t one = 1;
  return *(const uint8_t*)&one == 1;
}

/* Reserved words of a record (from `first` to the end) must be zero. */
static int reserved_zero(const uint8_t* rec, uint32_t first) {
  uint32_t i;
  for (i = first; i < PPGKD_RECORD_WORDS; ++i) {
    if (ppgkd_word(rec, i) != 0) return 0;
  }
  return 1;
}

static int quant_ok(int32_t multiplier, int32_t shift) {
  return multiplier >= 0 && shift >= PPGKD_SHIFT_MIN && shift <= PPGKD_SHIFT_MAX;
}

static int same_shape(const ppgkd_tensor_rec* a, const ppgkd_tensor_rec* b) {
  return a->rank == b->rank && a->dim[0] == b->dim[0] && a->dim[1] == b->dim[1] &&
         a->dim[2] == b->dim[2];
}

/* ------------------------------------------------------------------ the blob view */

typedef struct {
  const uint8_t* ops;
  const uint8_t* tensors;
  const uint8_t* data;
  uint32_t num_ops, num_tensors, data_size, arena_size, flags, input, output;
} view;

static const int32_t* const_s32(const view* v, const ppgkd_tensor_rec* t) {
  return (const int32_t*)(const void*)(v->data + t->offset);
}

static int is_int8(const view* v) {
  return (v->flags & PPGKD_FLAG_INT8) != 0;
}

/* ------------------------------------------------------------------ tensor records */

static ppgkd_status check_tensor(const view* v, uint32_t id) {
  const uint8_t* rec = v->tensors + PPGKD_RECORD_BYTES * id;
  ppgkd_tensor_rec t;
  uint64_t bytes = 1;
  uint32_t i;
  ppgkd_read_tensor(v->tensors, id, &t);
  if (t.storage > PPGKD_STORAGE_CONST || t.dtype > PPGKD_DT_S32) return PPGKD_ERR_TENSOR;
  if (t.rank < 1 || t.rank > PPGKD_MAX_RANK || !reserved_zero(rec, 10)) return PPGKD_ERR_TENSOR;
  for (i = 0; i < PPGKD_MAX_RANK; ++i) {
    if (t.dim[i] < 1 || (i >= t.rank && t.dim[i] != 1)) return PPGKD_ERR_TENSOR;
    /* Each factor < 2^32 and the running product <= 2^31, so 64 bits never overflow. */
    bytes *= t.dim[i];
    if (bytes > MAX_PROD) return PPGKD_ERR_SIZE_OVERFLOW;
  }
  bytes *= dtype_size(t.dtype);
  if (bytes > MAX_PROD) return PPGKD_ERR_SIZE_OVERFLOW;
  for (i = 0; i < PPGKD_MAX_RANK; ++i) {
    if (t.dim[i] > MAX_DIM) return PPGKD_ERR_TENSOR;
  }
  if (t.size != bytes) return PPGKD_ERR_TENSOR;
  if (t.offset % PPGKD_ALIGN != 0) return PPGKD_ERR_OFFSET;
  if (t.storage == PPGKD_STORAGE_CONST) {
    if ((uint64_t)t.offset + t.size > v->data_size) return PPGKD_ERR_OFFSET;
  } else if ((uint64_t)t.offset + t.size > v->arena_size) {
    return PPGKD_ERR_ARENA_RANGE;
  }
  /* dtypes a model of this kind may hold */
  if (!is_int8(v) && t.dtype != PPGKD_DT_F32) return PPGKD_ERR_TENSOR;
  if (is_int8(v) && t.dtype == PPGKD_DT_F32) return PPGKD_ERR_TENSOR;
  if (is_int8(v) && t.storage == PPGKD_STORAGE_ARENA && t.dtype != PPGKD_DT_S8) {
    return PPGKD_ERR_TENSOR;
  }
  if (t.dtype == PPGKD_DT_S8 && t.storage == PPGKD_STORAGE_ARENA) {
    if (!is_finite(t.scale) || !(t.scale > 0.0f)) return PPGKD_ERR_QUANT;
    if (t.zero_point < -128 || t.zero_point > 127) return PPGKD_ERR_QUANT;
  } else if (ppgkd_word(rec, PPGKD_T_SCALE) != 0 || ppgkd_word(rec, PPGKD_T_ZERO_POINT) != 0) {
    return PPGKD_ERR_TENSOR; /* quantisation only on int8 activations */
  }
  return PPGKD_OK;
}

/* ------------------------------------------------------------------ op records */

/* A tensor slot: id must be in range, of the given storage and dtype. */
static ppgkd_status slot(const view* v, uint32_t id, uint32_t storage, uint32_t dtype,
                         ppgkd_tensor_rec* t) {
  if (id >= v->num_tensors) return PPGKD_ERR_OP;
  ppgkd_read_tensor(v->tensors, id, t);
  if (t->storage != storage || t->dtype != dtype) return PPGKD_ERR_OP;
  return PPGKD_OK;
}

/* Is arena tensor `id` the graph input or written by an op before `op_index`? */
static int defined_before(const view* v, uint32_t id, uint32_t op_index) {
  uint32_t j;
  if (id == v->input) return 1;
  for (j = 0; j < op_index; ++j) {
    if (ppgkd_word(v->ops + PPGKD_RECORD_BYTES * j, PPGKD_OP_OUT) == id) return 1;
  }
  return 0;
}

/* Per-channel quant tensor (2, C) of conv1d/dense. */
static ppgkd_status check_channel_quant(const view* v, const ppgkd_tensor_rec* q, uint32_t c) {
  const int32_t* m = const_s32(v, q);
  uint32_t i;
  if (q->rank != 2 || q->dim[0] != 2 || q->dim[1] != c) return PPGKD_ERR_SHAPE;
  for (i = 0; i < c; ++i) {
    if (!quant_ok(m[i], m[c + i])) return PPGKD_ERR_QUANT;
  }
  return PPGKD_OK;
}

/* int8 weights and bias of a conv1d/dense: symmetric weights (no -128) and the accumulator
 * bound of ppgkd_s8_accumulator_fits. */
static ppgkd_status check_s8_weights(const view* v, const ppgkd_tensor_rec* w, uint32_t n_terms,
                                     const ppgkd_tensor_rec* bias) {
  const int8_t* wq = (const int8_t*)(v->data + w->offset);
  uint32_t i, max_abs_bias = 0;
  for (i = 0; i < w->size; ++i) {
    if (wq[i] == -128) return PPGKD_ERR_QUANT;
  }
  if (bias) {
    const int32_t* b = const_s32(v, bias);
    for (i = 0; i < ppgkd_elems(bias); ++i) {
      const uint32_t a = b[i] < 0 ? 0u - (uint32_t)b[i] : (uint32_t)b[i];
      if (a > max_abs_bias) max_abs_bias = a;
    }
  }
  return ppgkd_s8_accumulator_fits(n_terms, max_abs_bias) ? PPGKD_OK : PPGKD_ERR_ACC_OVERFLOW;
}

static ppgkd_status check_op(const view* v, uint32_t index) {
  const uint8_t* rec = v->ops + PPGKD_RECORD_BYTES * index;
  const uint32_t act_dt = is_int8(v) ? PPGKD_DT_S8 : PPGKD_DT_F32;
  const uint32_t bias_dt = is_int8(v) ? PPGKD_DT_S32 : PPGKD_DT_F32;
  ppgkd_op_rec o;
  ppgkd_tensor_rec in = {0}, in1 = {0}, w = {0}, b = {0}, q = {0}, out = {0};
  ppgkd_status s;
  int want_w = 0, want_in1 = 0, want_q = 0, want_conv = 0, want_pool = 0;
  ppgkd_read_op(v->ops, index, &o);
  if (!reserved_zero(rec, 12) || o.activation > PPGKD_ACT_RELU) return PPGKD_ERR_OP;
  switch (o.type) {
    case PPGKD_OPT_CONV1D:
      want_w = 1, want_q = is_int8(v), want_conv = 1;
      break;
    case PPGKD_OPT_DENSE:
      want_w = 1, want_q = is_int8(v);
      break;
    case PPGKD_OPT_ADD:
      want_in1 = 1, want_q = is_int8(v);
      break;
    case PPGKD_OPT_RELU:
      if (o.activation != PPGKD_ACT_NONE) return PPGKD_ERR_OP;
      break;
    case PPGKD_OPT_AVG_POOL1D:
      want_q = is_int8(v), want_pool = 1;
      break;
    default:
      return PPGKD_ERR_OP;
  }
  /* arity: every slot is present exactly when the op takes it */
  if ((o.in1 != PPGKD_NONE) != want_in1 || (o.weight != PPGKD_NONE) != want_w) return PPGKD_ERR_OP;
  if (!want_w && o.bias != PPGKD_NONE) return PPGKD_ERR_OP;
  if ((o.quant != PPGKD_NONE) != want_q) return PPGKD_ERR_OP;
  if (!want_conv && (o.padding != 0 || o.dilation != 0)) return PPGKD_ERR_OP;
  if (!want_conv && !want_pool && o.stride != 0) return PPGKD_ERR_OP;
  if (!want_pool && o.kernel != 0) return PPGKD_ERR_OP;
  /* tensor slots: storage and dtype by role */
  if ((s = slot(v, o.in0, PPGKD_STORAGE_ARENA, act_dt, &in)) != PPGKD_OK) return s;
  if ((s = slot(v, o.out, PPGKD_STORAGE_ARENA, act_dt, &out)) != PPGKD_OK) return s;
  if (want_in1 && (s = slot(v, o.in1, PPGKD_STORAGE_ARENA, act_dt, &in1)) != PPGKD_OK) return s;
  if (want_w && (s = slot(v, o.weight, PPGKD_STORAGE_CONST, act_dt, &w)) != PPGKD_OK) return s;
  if (o.bias != PPGKD_NONE && (s = slot(v, o.bias, PPGKD_STORAGE_CONST, bias_dt, &b)) != PPGKD_OK) {
    return s;
  }
  if (want_q && (s = slot(v, o.quant, PPGKD_STORAGE_CONST, PPGKD_DT_S32, &q)) != PPGKD_OK) return s;
  /* graph order: inputs written before, output written once and never the graph input */
  if (!defined_before(v, o.in0, index) || (want_in1 && !defined_before(v, o.in1, index))) {
    return PPGKD_ERR_GRAPH;
  }
  if (defined_before(v, o.out, index)) return PPGKD_ERR_GRAPH;
  if (o.out == o.in0 || (want_in1 && o.out == o.in1)) return PPGKD_ERR_GRAPH;

  switch (o.type) {
    case PPGKD_OPT_CONV1D: {
      ppgkd_conv1d_params p;
      if (o.stride < 1 || o.stride > MAX_OP_PARAM || o.dilation < 1 || o.dilation > MAX_OP_PARAM ||
          o.padding > MAX_OP_PARAM) {
        return PPGKD_ERR_OP;
      }
      if (in.rank != 2 || w.rank != 3 || out.rank != 2) return PPGKD_ERR_SHAPE;
      if (w.dim[1] != in.dim[0] || out.dim[0] != w.dim[0]) return PPGKD_ERR_SHAPE;
      if (o.bias != PPGKD_NONE && (b.rank != 1 || b.dim[0] != w.dim[0])) return PPGKD_ERR_SHAPE;
      p.stride = (int32_t)o.stride, p.padding = (int32_t)o.padding;
      p.dilation = (int32_t)o.dilation, p.relu = 0;
      if (out.dim[1] !=
              (uint32_t)ppgkd_conv1d_out_length((int32_t)in.dim[1], (int32_t)w.dim[2], &p) ||
          out.dim[1] < 1) {
        return PPGKD_ERR_SHAPE;
      }
      if (is_int8(v)) {
        if ((s = check_channel_quant(v, &q, w.dim[0])) != PPGKD_OK) return s;
        return check_s8_weights(v, &w, w.dim[1] * w.dim[2], o.bias != PPGKD_NONE ? &b : 0);
      }
      return PPGKD_OK;
    }
    case PPGKD_OPT_DENSE:
      if (w.rank != 2 || w.dim[1] != ppgkd_elems(&in) || ppgkd_elems(&out) != w.dim[0]) {
        return PPGKD_ERR_SHAPE;
      }
      if (o.bias != PPGKD_NONE && (b.rank != 1 || b.dim[0] != w.dim[0])) return PPGKD_ERR_SHAPE;
      if (is_int8(v)) {
        if ((s = check_channel_quant(v, &q, w.dim[0])) != PPGKD_OK) return s;
        return check_s8_weights(v, &w, w.dim[1], o.bias != PPGKD_NONE ? &b : 0);
      }
      return PPGKD_OK;
    case PPGKD_OPT_ADD:
      if (!same_shape(&in, &in1) || !same_shape(&in, &out)) return PPGKD_ERR_SHAPE;
      if (is_int8(v)) {
        const int32_t* a = const_s32(v, &q);
        if (q.rank != 1 || q.dim[0] != PPGKD_ADD_QUANT_WORDS) return PPGKD_ERR_SHAPE;
        if (a[0] < 0 || a[0] > PPGKD_ADD_MAX_LEFT_SHIFT || !quant_ok(a[1], a[2]) ||
            !quant_ok(a[3], a[4]) || !quant_ok(a[5], a[6])) {
          return PPGKD_ERR_QUANT;
        }
      }
      return PPGKD_OK;
    case PPGKD_OPT_RELU:
      if (!same_shape(&in, &out)) return PPGKD_ERR_SHAPE;
      if (is_int8(v) && (in.scale != out.scale || in.zero_point != out.zero_point)) {
        return PPGKD_ERR_QUANT;
      }
      return PPGKD_OK;
    case PPGKD_OPT_AVG_POOL1D:
      if (o.stride < 1 || o.stride > MAX_OP_PARAM) return PPGKD_ERR_OP;
      if (in.rank != 2 || out.rank != 2 || out.dim[0] != in.dim[0]) return PPGKD_ERR_SHAPE;
      if (o.kernel < 1 || o.kernel > in.dim[1]) return PPGKD_ERR_SHAPE;
      if (out.dim[1] != (in.dim[1] - o.kernel) / o.stride + 1) return PPGKD_ERR_SHAPE;
      if (is_int8(v)) {
        const int32_t* a = const_s32(v, &q);
        if (q.rank != 1 || q.dim[0] != 2) return PPGKD_ERR_SHAPE;
        if (!quant_ok(a[0], a[1])) return PPGKD_ERR_QUANT;
        /* |sum| <= kernel * 255 <= 2^24 * 255 < 2^32: fits when kernel <= 2^31 / 255 */
        if (o.kernel > 0x7FFFFFFFu / 255u) return PPGKD_ERR_ACC_OVERFLOW;
      }
      return PPGKD_OK;
    default:
      return PPGKD_ERR_OP;
  }
}

/* ------------------------------------------------------------------ the arena plan */

/* Lifetime of an arena tensor in op indices: written at *def (-1: the graph input), last read at
 * *last (num_ops: the graph output, read after the last op). Returns 0 for a tensor no op
 * touches. */
static int lifetime(const view* v, uint32_t id, int32_t* def, int32_t* last) {
  uint32_t j;
  int used = 0;
  *def = id == v->input ? -1 : (int32_t)v->num_ops;
  *last = id == v->output ? (int32_t)v->num_ops : -1;
  if (id == v->input || id == v->output) used = 1;
  for (j = 0; j < v->num_ops; ++j) {
    ppgkd_op_rec o;
    ppgkd_read_op(v->ops, j, &o);
    if (o.out == id) {
      *def = (int32_t)j, used = 1;
      if (*last < (int32_t)j) *last = (int32_t)j; /* written but never read: alive at j */
    }
    if (o.in0 == id || o.in1 == id) *last = (int32_t)j, used = 1;
  }
  return used;
}

/* Tensors alive at the same time must not share bytes. Lifetimes are only computed for pairs
 * whose byte ranges overlap, which a good plan keeps rare. */
static ppgkd_status check_arena_plan(const view* v) {
  uint32_t a, b;
  for (a = 0; a < v->num_tensors; ++a) {
    ppgkd_tensor_rec ta;
    int32_t def_a, last_a;
    ppgkd_read_tensor(v->tensors, a, &ta);
    if (ta.storage != PPGKD_STORAGE_ARENA) continue;
    if (!lifetime(v, a, &def_a, &last_a)) return PPGKD_ERR_GRAPH; /* a dangling activation */
    for (b = a + 1; b < v->num_tensors; ++b) {
      ppgkd_tensor_rec tb;
      int32_t def_b, last_b;
      ppgkd_read_tensor(v->tensors, b, &tb);
      if (tb.storage != PPGKD_STORAGE_ARENA) continue;
      if (ta.offset >= tb.offset + tb.size || tb.offset >= ta.offset + ta.size) continue;
      if (!lifetime(v, b, &def_b, &last_b)) return PPGKD_ERR_GRAPH;
      if (def_a <= last_b && def_b <= last_a) return PPGKD_ERR_ARENA_OVERLAP;
    }
  }
  return PPGKD_OK;
}

/* ------------------------------------------------------------------ the whole blob */

static ppgkd_status validate(const uint8_t* blob, size_t len, view* v, ppgkd_model* m) {
  uint32_t total_len, version, i;
  uint64_t layout;
  ppgkd_status s;
  ppgkd_tensor_rec tin, tout;
  if (!blob) return PPGKD_ERR_ARG;
  if ((uintptr_t)blob % PPGKD_ALIGN != 0) return PPGKD_ERR_ALIGN;
  if (!little_endian_host()) return PPGKD_ERR_UNSUPPORTED;
  if (len < PPGKD_HEADER_BYTES) return PPGKD_ERR_TRUNCATED;
  if (ppgkd_word(blob, PPGKD_H_MAGIC) != PPGKD_MAGIC) return PPGKD_ERR_MAGIC;
  version = ppgkd_word(blob, PPGKD_H_VERSION);
  if (version != PPGKD_VERSION) return PPGKD_ERR_VERSION;
  v->flags = ppgkd_word(blob, PPGKD_H_FLAGS);
  if ((v->flags & ~PPGKD_FLAG_INT8) != 0) return PPGKD_ERR_FLAGS;
  total_len = ppgkd_word(blob, PPGKD_H_TOTAL_LEN);
  if (len < total_len) return PPGKD_ERR_TRUNCATED;
  if (len > total_len) return PPGKD_ERR_LENGTH;
  v->num_tensors = ppgkd_word(blob, PPGKD_H_NUM_TENSORS);
  v->num_ops = ppgkd_word(blob, PPGKD_H_NUM_OPS);
  if (v->num_tensors < 1 || v->num_tensors > PPGKD_MAX_TENSORS) return PPGKD_ERR_COUNT;
  if (v->num_ops < 1 || v->num_ops > PPGKD_MAX_OPS) return PPGKD_ERR_COUNT;
  v->data_size = ppgkd_word(blob, PPGKD_H_DATA_SIZE);
  /* 64-bit layout sum: counts are bounded above, data_size < 2^32, so no overflow. */
  layout = (uint64_t)PPGKD_HEADER_BYTES +
           (uint64_t)PPGKD_RECORD_BYTES * ((uint64_t)v->num_ops + v->num_tensors) + v->data_size +
           PPGKD_CRC_BYTES;
  if (layout != total_len || v->data_size % PPGKD_ALIGN != 0) return PPGKD_ERR_LENGTH;
  if (ppgkd_crc32(blob, total_len - PPGKD_CRC_BYTES) != ppgkd_rd32(blob + total_len - 4)) {
    return PPGKD_ERR_CRC;
  }
  v->ops = blob + PPGKD_HEADER_BYTES;
  v->tensors = v->ops + PPGKD_RECORD_BYTES * v->num_ops;
  v->data = v->tensors + PPGKD_RECORD_BYTES * v->num_tensors;
  v->arena_size = ppgkd_word(blob, PPGKD_H_ARENA_SIZE);
  v->input = ppgkd_word(blob, PPGKD_H_INPUT);
  v->output = ppgkd_word(blob, PPGKD_H_OUTPUT);

  m->num_ops = v->num_ops, m->num_tensors = v->num_tensors, m->flags = v->flags;
  m->input = v->input, m->output = v->output, m->arena_size = v->arena_size;
  m->in_channels = ppgkd_word(blob, PPGKD_H_IN_CHANNELS);
  m->in_length = ppgkd_word(blob, PPGKD_H_IN_LENGTH);
  m->num_classes = ppgkd_word(blob, PPGKD_H_NUM_CLASSES);
  m->radius = ppgkd_word(blob, PPGKD_H_DECODE_RADIUS);
  m->bpm_lo = ppgkd_f32_from_bits(ppgkd_word(blob, PPGKD_H_BPM_LO));
  m->bpm_step = ppgkd_f32_from_bits(ppgkd_word(blob, PPGKD_H_BPM_STEP));
  if (m->num_classes < 1 || m->radius >= m->num_classes) return PPGKD_ERR_DECODE;
  if (!is_finite(m->bpm_lo) || !is_finite(m->bpm_step) || !(m->bpm_step > 0.0f)) {
    return PPGKD_ERR_DECODE;
  }

  for (i = 0; i < v->num_tensors; ++i) {
    if ((s = check_tensor(v, i)) != PPGKD_OK) return s;
  }
  if (v->input >= v->num_tensors || v->output >= v->num_tensors || v->input == v->output) {
    return PPGKD_ERR_GRAPH;
  }
  ppgkd_read_tensor(v->tensors, v->input, &tin);
  ppgkd_read_tensor(v->tensors, v->output, &tout);
  if (tin.storage != PPGKD_STORAGE_ARENA || tout.storage != PPGKD_STORAGE_ARENA) {
    return PPGKD_ERR_GRAPH;
  }
  if (tin.rank != 2 || tin.dim[0] != m->in_channels || tin.dim[1] != m->in_length) {
    return PPGKD_ERR_SHAPE;
  }
  if (ppgkd_elems(&tout) != m->num_classes) return PPGKD_ERR_SHAPE;
  for (i = 0; i < v->num_ops; ++i) {
    if ((s = check_op(v, i)) != PPGKD_OK) return s;
  }
  if (!defined_before(v, v->output, v->num_ops)) return PPGKD_ERR_GRAPH;
  return check_arena_plan(v);
}

ppgkd_status ppgkd_arena_required(const uint8_t* blob, size_t len, size_t* bytes) {
  view v;
  ppgkd_model m;
  ppgkd_status s;
  if (!bytes) return PPGKD_ERR_ARG;
  if ((s = validate(blob, len, &v, &m)) != PPGKD_OK) return s;
  *bytes = v.arena_size;
  return PPGKD_OK;
}

ppgkd_status ppgkd_init(ppgkd_model* model, const uint8_t* blob, size_t len, uint8_t* arena,
                        size_t arena_len) {
  view v;
  ppgkd_model m;
  ppgkd_status s;
  if (!model) return PPGKD_ERR_ARG;
  model->ready = 0;
  if (!arena) return PPGKD_ERR_ARG;
  if ((uintptr_t)arena % PPGKD_ALIGN != 0) return PPGKD_ERR_ALIGN;
  if ((s = validate(blob, len, &v, &m)) != PPGKD_OK) return s;
  if (arena_len < v.arena_size) return PPGKD_ERR_ARENA_SMALL;
  m.blob = blob, m.ops = v.ops, m.tensors = v.tensors, m.data = v.data, m.arena = arena;
  m.ready = 1;
  *model = m;
  return PPGKD_OK;
}
