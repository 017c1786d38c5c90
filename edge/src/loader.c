/* loader.c — validation of a model blob and binding to an arena (ppgkd_init,
 * ppgkd_arena_required). Trusts nothing: after this file accepts a blob, every tensor access the
 * graph runner makes lies inside the blob or the arena, every kernel's dims agree and no int8
 * accumulator can overflow. It does not run anything (graph.c) and allocates nothing.
 *
 * Order of checks (so tests can expect one specific code): pointers and alignment, length >=
 * header, magic, version, flags, total_len against len, counts, layout arithmetic, CRC, the op
 * table's extent (record sizes by type), header fields, tensor records, graph input/output, op
 * records (flags, tensor ids, graph order, shapes, then the op's constants placed in op order:
 * sizes, extent, zero padding, quantisation), the data section used exactly, arena plan (ranges,
 * then overlaps of tensors alive together), arena length. */
#include <stdint.h>

#include "blob_read.h"
#include "ppgkd_edge.h"
#include "ppgkd_edge_format.h"
#include "ppgkd_edge_ops.h"

#define MAX_PROD 0x7FFFFFFFu /* tensor bytes fit in int32 */

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

static int little_endian_host(void) {
  const uint32_t one = 1;
  return *(const uint8_t*)&one == 1;
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

static int is_int8(const view* v) {
  return (v->flags & PPGKD_FLAG_INT8) != 0;
}

/* ------------------------------------------------------------------ tensor records */

static ppgkd_status check_tensor(const view* v, uint32_t id) {
  const uint8_t* rec = v->tensors + ppgkd_tensor_record_bytes(is_int8(v)) * id;
  ppgkd_tensor_rec t;
  uint64_t bytes;
  ppgkd_read_tensor(v->tensors, id, is_int8(v), &t);
  if (t.rank < 1 || t.rank > 2 || t.dim[0] < 1 || t.dim[1] < 1) return PPGKD_ERR_TENSOR;
  if (t.rank == 1 && t.dim[1] != 1) return PPGKD_ERR_TENSOR;
  /* dims < 2^16 each: the 64-bit product cannot wrap */
  bytes = (uint64_t)t.dim[0] * t.dim[1] * (is_int8(v) ? 1u : 4u);
  if (bytes > MAX_PROD) return PPGKD_ERR_SIZE_OVERFLOW;
  if (t.offset % PPGKD_ALIGN != 0) return PPGKD_ERR_OFFSET;
  if ((uint64_t)t.offset + bytes > v->arena_size) return PPGKD_ERR_ARENA_RANGE;
  if (is_int8(v)) {
    if (!is_finite(t.scale) || !(t.scale > 0.0f)) return PPGKD_ERR_QUANT;
  } else if (rec[PPGKD_T_ZERO_POINT] != 0) {
    return PPGKD_ERR_TENSOR; /* quantisation only on int8 activations */
  }
  return PPGKD_OK;
}

/* ------------------------------------------------------------------ op records */

/* An activation slot: the id must be in range. */
static ppgkd_status act_slot(const view* v, uint32_t id, ppgkd_tensor_rec* t) {
  if (id >= v->num_tensors) return PPGKD_ERR_OP;
  ppgkd_read_tensor(v->tensors, id, is_int8(v), t);
  return PPGKD_OK;
}

/* Is arena tensor `id` the graph input or written by an op before `op_index`? */
static int defined_before(const view* v, uint32_t id, uint32_t op_index) {
  const uint8_t* r = v->ops;
  uint32_t j;
  if (id == v->input) return 1;
  for (j = 0; j < op_index; ++j) {
    ppgkd_op_rec o;
    ppgkd_read_op(r, &o);
    if (o.out == id) return 1;
    r += o.bytes;
  }
  return 0;
}

/* The requantisation entries of a quant constant at data offset `at` (n entries, then for ADD its
 * left shift): every shift in PPGKD_SHIFT_MIN..PPGKD_SHIFT_MAX (any u16 multiplier is valid). */
static ppgkd_status check_rq_entries(const view* v, uint32_t at, uint32_t n) {
  uint32_t i;
  for (i = 0; i < n; ++i) {
    int32_t m, sh;
    ppgkd_rq_entry(v->data + at, n, i, &m, &sh);
    if (!quant_ok(m, sh)) return PPGKD_ERR_QUANT;
  }
  return PPGKD_OK;
}

/* int8 weights and bias of a conv1d/dense: symmetric weights (no -128) and the accumulator
 * bound of ppgkd_s8_accumulator_fits. */
static ppgkd_status check_s8_weights(const view* v, const ppgkd_op_rec* o,
                                     const ppgkd_const_sizes* cs) {
  const int8_t* wq = (const int8_t*)(v->data + o->weight);
  uint32_t i, max_abs_bias = 0;
  for (i = 0; i < (uint32_t)cs->weight; ++i) {
    if (wq[i] == -128) return PPGKD_ERR_QUANT;
  }
  if (o->bias != PPGKD_NONE) {
    const uint8_t* b = v->data + o->bias;
    for (i = 0; i < cs->rows; ++i) {
      const int32_t x = ppgkd_s32_from_bits(ppgkd_rd32(b + 4 * i));
      const uint32_t a = x < 0 ? 0u - (uint32_t)x : (uint32_t)x;
      if (a > max_abs_bias) max_abs_bias = a;
    }
  }
  /* n_terms = n_in * taps <= the weight's element count, which fits in 31 bits */
  return ppgkd_s8_accumulator_fits(cs->n_in * cs->taps, max_abs_bias) ? PPGKD_OK
                                                                      : PPGKD_ERR_ACC_OVERFLOW;
}

/* A constant of `bytes` at `offset` (placed by ppgkd_layout_consts): its padding up to the next
 * multiple of 4 must be zero. The caller checked offset + bytes <= data_size. */
static int padding_zero(const view* v, uint32_t offset, uint64_t bytes) {
  uint64_t i;
  for (i = offset + bytes; i < ppgkd_align4(offset + bytes); ++i) {
    if (v->data[i] != 0) return 0;
  }
  return 1;
}

/* The op's constants, placed from data offset *at (advanced past them): sizes that fit in 31 bits
 * (SIZE_OVERFLOW), inside the data section (OFFSET), zero padding (LENGTH), then their values. */
static ppgkd_status check_consts(const view* v, ppgkd_op_rec* o, const ppgkd_tensor_rec* in,
                                 const ppgkd_tensor_rec* out, uint64_t* at) {
  ppgkd_const_sizes cs;
  uint64_t end;
  ppgkd_op_const_sizes(o, in, out, is_int8(v), &cs);
  if (cs.weight > MAX_PROD || cs.bias > MAX_PROD || cs.quant > MAX_PROD) {
    return PPGKD_ERR_SIZE_OVERFLOW;
  }
  end = ppgkd_layout_consts(o, &cs, *at);
  if (end > v->data_size) return PPGKD_ERR_OFFSET;
  *at = end;
  if ((cs.weight && !padding_zero(v, o->weight, cs.weight)) ||
      (cs.bias && !padding_zero(v, o->bias, cs.bias)) ||
      (cs.quant && !padding_zero(v, o->quant, cs.quant))) {
    return PPGKD_ERR_LENGTH;
  }
  if (!is_int8(v) || !cs.quant) return PPGKD_OK;
  if (check_rq_entries(v, o->quant, cs.entries) != PPGKD_OK) return PPGKD_ERR_QUANT;
  if (o->type == PPGKD_OPT_ADD &&
      v->data[o->quant + PPGKD_ADD_RQ_ENTRIES * PPGKD_RQ_ENTRY_BYTES] > PPGKD_ADD_MAX_LEFT_SHIFT) {
    return PPGKD_ERR_QUANT;
  }
  if (o->type == PPGKD_OPT_CONV1D || o->type == PPGKD_OPT_DENSE) return check_s8_weights(v, o, &cs);
  /* AVG_POOL1D: |sum| <= kernel * 255 < 2^16 * 255 always fits int32 (kernel is a u16 field) */
  return PPGKD_OK;
}

/* Flags an op type may carry. */
static uint32_t allowed_flags(uint32_t type, int int8) {
  switch (type) {
    case PPGKD_OPT_CONV1D:
    case PPGKD_OPT_DENSE:
      return PPGKD_OPF_RELU | PPGKD_OPF_BIAS | (int8 ? PPGKD_OPF_PER_TENSOR : 0u);
    case PPGKD_OPT_RELU:
      return 0;
    default:
      return PPGKD_OPF_RELU;
  }
}

/* The op record at `rec` (index `index`), whose constants start at data offset *at. */
static ppgkd_status check_op(const view* v, const uint8_t* rec, uint32_t index, uint64_t* at) {
  ppgkd_op_rec o;
  ppgkd_tensor_rec in = {0}, in1 = {0}, out = {0};
  ppgkd_status s;
  ppgkd_read_op(rec, &o);
  if (o.bytes == 0 || (o.flags & ~allowed_flags(o.type, is_int8(v))) != 0) return PPGKD_ERR_OP;
  if ((s = act_slot(v, o.in0, &in)) != PPGKD_OK) return s;
  if ((s = act_slot(v, o.out, &out)) != PPGKD_OK) return s;
  if (o.type == PPGKD_OPT_ADD && (s = act_slot(v, o.in1, &in1)) != PPGKD_OK) return s;
  /* graph order: inputs written before, output written once and never the graph input */
  if (!defined_before(v, o.in0, index) ||
      (o.type == PPGKD_OPT_ADD && !defined_before(v, o.in1, index))) {
    return PPGKD_ERR_GRAPH;
  }
  if (defined_before(v, o.out, index)) return PPGKD_ERR_GRAPH;
  if (o.out == o.in0 || (o.type == PPGKD_OPT_ADD && o.out == o.in1)) return PPGKD_ERR_GRAPH;

  switch (o.type) {
    case PPGKD_OPT_CONV1D: {
      ppgkd_conv1d_params p;
      if (o.taps < 1 || o.stride < 1 || o.dilation < 1) return PPGKD_ERR_OP;
      if (in.rank != 2 || out.rank != 2) return PPGKD_ERR_SHAPE;
      p.stride = (int32_t)o.stride, p.padding = (int32_t)o.padding;
      p.dilation = (int32_t)o.dilation, p.relu = 0;
      /* out_length is 0 (never a valid dim) when the window does not fit the input */
      if (out.dim[1] !=
          (uint32_t)ppgkd_conv1d_out_length((int32_t)in.dim[1], (int32_t)o.taps, &p)) {
        return PPGKD_ERR_SHAPE;
      }
      break;
    }
    case PPGKD_OPT_DENSE:
      break;
    case PPGKD_OPT_ADD:
      if (!same_shape(&in, &in1) || !same_shape(&in, &out)) return PPGKD_ERR_SHAPE;
      break;
    case PPGKD_OPT_RELU:
      if (!same_shape(&in, &out)) return PPGKD_ERR_SHAPE;
      if (is_int8(v) && (in.scale != out.scale || in.zero_point != out.zero_point)) {
        return PPGKD_ERR_QUANT;
      }
      break;
    case PPGKD_OPT_AVG_POOL1D:
      if (o.stride < 1) return PPGKD_ERR_OP;
      if (in.rank != 2 || out.rank != 2 || out.dim[0] != in.dim[0]) return PPGKD_ERR_SHAPE;
      if (o.kernel < 1 || o.kernel > in.dim[1]) return PPGKD_ERR_SHAPE;
      if (out.dim[1] != (in.dim[1] - o.kernel) / o.stride + 1) return PPGKD_ERR_SHAPE;
      break;
    default:
      return PPGKD_ERR_OP;
  }
  return check_consts(v, &o, &in, &out, at);
}

/* ------------------------------------------------------------------ the arena plan */

/* The kernel scratch of an int8 model: the largest any op's kernel wants (conv1d, add), placed
 * after the activations (rounded up to 8 bytes). Run on a validated op table; each need is
 * bounded whatever the shape (at most 9,220 bytes for a conv1d, 2,048 for an add). */
static size_t scratch_needed(const view* v) {
  const uint8_t* r = v->ops;
  size_t need = 0;
  uint32_t j;
  if (!is_int8(v)) return 0;
  for (j = 0; j < v->num_ops; ++j) {
    ppgkd_op_rec o;
    ppgkd_tensor_rec in, out;
    size_t n = 0;
    ppgkd_read_op(r, &o);
    r += o.bytes;
    ppgkd_read_tensor(v->tensors, o.in0, 1, &in);
    ppgkd_read_tensor(v->tensors, o.out, 1, &out);
    if (o.type == PPGKD_OPT_CONV1D) {
      ppgkd_conv1d_params p;
      p.stride = (int32_t)o.stride, p.padding = (int32_t)o.padding;
      p.dilation = (int32_t)o.dilation, p.relu = (int32_t)o.activation;
      n = ppgkd_conv1d_s8_scratch_bytes(&p, (int32_t)in.dim[0], (int32_t)out.dim[0],
                                        (int32_t)o.taps, (int32_t)(out.dim[1] * out.dim[2]));
    } else if (o.type == PPGKD_OPT_ADD) {
      n = ppgkd_add_s8_scratch_bytes((int64_t)ppgkd_elems(&out));
    }
    if (n > need) need = n;
  }
  return need;
}

/* The arena an application must give: the plan rounded up to 8, then the scratch. 0 when that
 * does not fit 32 bits (the caller reports PPGKD_ERR_SIZE_OVERFLOW). */
static uint64_t arena_needed(const view* v, uint32_t* scratch_offset, uint32_t* scratch_size) {
  const uint64_t at = ((uint64_t)v->arena_size + 7u) / 8u * 8u;
  const uint64_t scratch = scratch_needed(v);
  *scratch_offset = scratch ? (uint32_t)at : 0;
  *scratch_size = (uint32_t)scratch;
  if (!scratch) return v->arena_size;
  return at + scratch > UINT32_MAX ? 0 : at + scratch;
}

/* Lifetime of an arena tensor in op indices: written at *def (-1: the graph input), last read at
 * *last (num_ops: the graph output, read after the last op). Returns 0 for a tensor no op
 * touches. */
static int lifetime(const view* v, uint32_t id, int32_t* def, int32_t* last) {
  const uint8_t* r = v->ops;
  uint32_t j;
  int used = 0;
  *def = id == v->input ? -1 : (int32_t)v->num_ops;
  *last = id == v->output ? (int32_t)v->num_ops : -1;
  if (id == v->input || id == v->output) used = 1;
  for (j = 0; j < v->num_ops; ++j) {
    ppgkd_op_rec o;
    ppgkd_read_op(r, &o);
    r += o.bytes;
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
    ppgkd_read_tensor(v->tensors, a, is_int8(v), &ta);
    if (!lifetime(v, a, &def_a, &last_a)) return PPGKD_ERR_GRAPH; /* a dangling activation */
    for (b = a + 1; b < v->num_tensors; ++b) {
      ppgkd_tensor_rec tb;
      int32_t def_b, last_b;
      ppgkd_read_tensor(v->tensors, b, is_int8(v), &tb);
      if (ta.offset >= tb.offset + tb.size || tb.offset >= ta.offset + ta.size) continue;
      if (!lifetime(v, b, &def_b, &last_b)) return PPGKD_ERR_GRAPH;
      if (def_a <= last_b && def_b <= last_a) return PPGKD_ERR_ARENA_OVERLAP;
    }
  }
  return PPGKD_OK;
}

/* ------------------------------------------------------------------ the whole blob */

/* Walks the op table: every record's type must be known and the records must fill exactly
 * ops_bytes (which the layout check already placed inside the blob). */
static ppgkd_status check_op_table(const view* v, uint32_t ops_bytes) {
  uint32_t j, at = 0;
  for (j = 0; j < v->num_ops; ++j) {
    uint32_t n;
    if (ops_bytes - at < PPGKD_OP_COMMON_BYTES) return PPGKD_ERR_LENGTH;
    n = ppgkd_op_record_bytes(v->ops[at + PPGKD_OP_TYPE]);
    if (n == 0) return PPGKD_ERR_OP;
    if (ops_bytes - at < n) return PPGKD_ERR_LENGTH;
    at += n;
  }
  return at == ops_bytes ? PPGKD_OK : PPGKD_ERR_LENGTH;
}

static ppgkd_status validate(const uint8_t* blob, size_t len, view* v, ppgkd_model* m) {
  uint32_t total_len, version, ops_bytes, i;
  uint64_t tables, data_at, at = 0;
  ppgkd_status s;
  ppgkd_tensor_rec tin, tout;
  const uint8_t* r;
  if (!blob) return PPGKD_ERR_ARG;
  if ((uintptr_t)blob % PPGKD_ALIGN != 0) return PPGKD_ERR_ALIGN;
  if (!little_endian_host()) return PPGKD_ERR_UNSUPPORTED;
  /* magic and version first, from the first 8 bytes, so an old blob says what it is */
  if (len < 8) return PPGKD_ERR_TRUNCATED;
  if (ppgkd_word(blob, PPGKD_H_MAGIC) != PPGKD_MAGIC) return PPGKD_ERR_MAGIC;
  version = ppgkd_word(blob, PPGKD_H_VERSION);
  if (version != PPGKD_VERSION) return PPGKD_ERR_VERSION;
  if (len < PPGKD_HEADER_BYTES) return PPGKD_ERR_TRUNCATED;
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
  ops_bytes = ppgkd_word(blob, PPGKD_H_OPS_BYTES);
  /* 64-bit layout sum: counts are bounded above, sizes < 2^32, so no overflow. The data
   * section starts at the next multiple of 4 after the tables. */
  tables = (uint64_t)PPGKD_HEADER_BYTES + ops_bytes +
           (uint64_t)ppgkd_tensor_record_bytes(v->flags & PPGKD_FLAG_INT8) * v->num_tensors;
  data_at = (tables + PPGKD_ALIGN - 1) / PPGKD_ALIGN * PPGKD_ALIGN;
  if (data_at + v->data_size + PPGKD_CRC_BYTES != total_len || v->data_size % PPGKD_ALIGN != 0) {
    return PPGKD_ERR_LENGTH;
  }
  if (ppgkd_crc32(blob, total_len - PPGKD_CRC_BYTES) != ppgkd_rd32(blob + total_len - 4)) {
    return PPGKD_ERR_CRC;
  }
  for (r = blob + tables; r < blob + data_at; ++r) {
    if (*r != 0) return PPGKD_ERR_LENGTH; /* the alignment bytes are zero */
  }
  v->ops = blob + PPGKD_HEADER_BYTES;
  v->tensors = v->ops + ops_bytes;
  v->data = blob + data_at;
  if ((s = check_op_table(v, ops_bytes)) != PPGKD_OK) return s;
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
  ppgkd_read_tensor(v->tensors, v->input, is_int8(v), &tin);
  ppgkd_read_tensor(v->tensors, v->output, is_int8(v), &tout);
  if (tin.rank != 2 || tin.dim[0] != m->in_channels || tin.dim[1] != m->in_length) {
    return PPGKD_ERR_SHAPE;
  }
  if (ppgkd_elems(&tout) != m->num_classes) return PPGKD_ERR_SHAPE;
  for (i = 0, r = v->ops; i < v->num_ops; ++i) {
    if ((s = check_op(v, r, i, &at)) != PPGKD_OK) return s;
    r += ppgkd_op_record_bytes(r[PPGKD_OP_TYPE]);
  }
  if (at != v->data_size) return PPGKD_ERR_LENGTH; /* data no op uses */
  if (!defined_before(v, v->output, v->num_ops)) return PPGKD_ERR_GRAPH;
  return check_arena_plan(v);
}

ppgkd_status ppgkd_arena_required(const uint8_t* blob, size_t len, size_t* bytes) {
  view v;
  ppgkd_model m;
  ppgkd_status s;
  uint64_t need;
  uint32_t off, size;
  if (!bytes) return PPGKD_ERR_ARG;
  if ((s = validate(blob, len, &v, &m)) != PPGKD_OK) return s;
  if ((need = arena_needed(&v, &off, &size)) == 0 && v.arena_size != 0) {
    return PPGKD_ERR_SIZE_OVERFLOW;
  }
  *bytes = (size_t)need;
  return PPGKD_OK;
}

ppgkd_status ppgkd_init(ppgkd_model* model, const uint8_t* blob, size_t len, uint8_t* arena,
                        size_t arena_len) {
  view v;
  ppgkd_model m;
  ppgkd_status s;
  uint64_t need;
  if (!model) return PPGKD_ERR_ARG;
  model->ready = 0;
  if (!arena) return PPGKD_ERR_ARG;
  if ((uintptr_t)arena % PPGKD_ALIGN != 0) return PPGKD_ERR_ALIGN;
  if ((s = validate(blob, len, &v, &m)) != PPGKD_OK) return s;
  if ((need = arena_needed(&v, &m.scratch_offset, &m.scratch_size)) == 0 && v.arena_size != 0) {
    return PPGKD_ERR_SIZE_OVERFLOW;
  }
  if ((uint64_t)arena_len < need) return PPGKD_ERR_ARENA_SMALL;
  m.blob = blob, m.ops = v.ops, m.tensors = v.tensors, m.data = v.data, m.arena = arena;
  m.ready = 1;
  *model = m;
  return PPGKD_OK;
}
