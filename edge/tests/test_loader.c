/* test_loader.c — ppgkd_init rejects every kind of bad blob with its specific status: bad magic,
 * version, flags, CRC, truncation at every length, trailing bytes, counts, offsets out of range,
 * size products overflowing, bad records, shapes, quantisation, accumulator bounds, graph order,
 * arena plan overlaps and a too-small arena. Each corruption re-seals the CRC (unless the CRC
 * is the point) so the check under test is the one that fires. The graph (C = 2, L = 8, K = 12):
 *   op0 conv 2->3 k3 p1 +ReLU, op1 conv 3->3 k3 p1, op2 add(op1, op0) +ReLU,
 *   op3 global avg pool (3, 8) -> (3, 1), op4 dense 3 -> 12. */
#include <string.h>

#include "blob_builder.h"
#include "micro_test.h"
#include "ppgkd_edge.h"
#include "tests.h"

static uint8_t data_buf[4096];
static uint8_t good[8192] __attribute__((aligned(8)));
static uint8_t bad[8192 + 8] __attribute__((aligned(8)));
static uint8_t arena[4096] __attribute__((aligned(8)));
static bb_builder b;
static size_t good_len;

/* The graph above; per_tensor: the dense layer's int8 quantisation per tensor. */
static size_t build_with(int int8, int per_tensor) {
  static float w1[18], b1[3], w2[27], b2[3], w3[36], b3[12];
  bb_qparams q;
  uint32_t in, c1, c2, s, p, out;
  int i;
  for (i = 0; i < 18; ++i) w1[i] = 0.1f * (float)(i % 5) - 0.2f;
  for (i = 0; i < 27; ++i) w2[i] = 0.05f * (float)(i % 7) - 0.15f;
  for (i = 0; i < 36; ++i) w3[i] = 0.2f * (float)(i % 3) - 0.2f;
  for (i = 0; i < 3; ++i) b1[i] = b2[i] = 0.1f;
  for (i = 0; i < 12; ++i) b3[i] = 0.01f * (float)i;
  q.scale = 0.05f, q.zero_point = -3;
  bb_init(&b, int8, data_buf, sizeof data_buf);
  in = bb_input(&b, 2, 8, q);
  c1 = bb_conv1d(&b, in, 3, 3, 1, 1, 1, 1, w1, b1, q);
  c2 = bb_conv1d(&b, c1, 3, 3, 1, 1, 1, 0, w2, b2, q);
  s = bb_add(&b, c2, c1, 1, q);
  p = bb_avg_pool1d(&b, s, 8, 1, q);
  b.per_tensor = per_tensor;
  out = bb_dense(&b, p, 12, 0, w3, b3, q);
  b.per_tensor = 0;
  good_len = 0;
  if (bb_finish(&b, out, 12, good, sizeof good, &good_len) != 0) good_len = 0;
  return good_len;
}

static size_t build(int int8) {
  return build_with(int8, 0);
}

/* init on `bad` (len bytes) with a generous arena */
static ppgkd_status try_bad(size_t len) {
  ppgkd_model m;
  return ppgkd_init(&m, bad, len, arena, sizeof arena);
}

static void reset_bad(void) {
  memcpy(bad, good, good_len);
}

static size_t op_field(uint32_t op, uint32_t byte) {
  return bb_op_offset(good, op) + byte;
}
static size_t tensor_field(uint32_t t, uint32_t byte) {
  return bb_tensor_offset(good, t) + byte;
}

/* Sets a word, re-seals the CRC and runs init. */
static ppgkd_status patch(size_t byte_offset, uint32_t value) {
  reset_bad();
  bb_set_word(bad, byte_offset, value);
  bb_fix_crc(bad, good_len);
  return try_bad(good_len);
}

/* The same for a u16 field and a byte. */
static ppgkd_status patch16(size_t byte_offset, uint32_t value) {
  reset_bad();
  bb_set_u16(bad, byte_offset, value);
  bb_fix_crc(bad, good_len);
  return try_bad(good_len);
}
static ppgkd_status patch8(size_t byte_offset, uint8_t value) {
  reset_bad();
  bad[byte_offset] = value;
  bb_fix_crc(bad, good_len);
  return try_bad(good_len);
}

static void test_valid_blob_loads_and_runs(void) {
  ppgkd_model m;
  size_t need = 0;
  float x[16], bpm = 0, conf = 0, logits[12];
  int i;
  for (i = 0; i < 16; ++i) x[i] = (float)(i % 4) - 1.5f;
  EXPECT_TRUE(build(0) > 0);
  EXPECT_STATUS(PPGKD_OK, ppgkd_arena_required(good, good_len, &need));
  EXPECT_EQ_INT(bb_get_word(good, 4 * PPGKD_H_ARENA_SIZE), need);
  EXPECT_STATUS(PPGKD_OK, ppgkd_init(&m, good, good_len, arena, need));
  EXPECT_STATUS(PPGKD_OK, ppgkd_run(&m, x, &bpm, &conf));
  EXPECT_TRUE(bpm >= 30.0f && bpm <= 42.0f && conf > 0.0f && conf <= 1.0001f);
  EXPECT_STATUS(PPGKD_ERR_ARG, ppgkd_run_logits(&m, x, logits, 11));
  x[3] = x[3] / 0.0f; /* infinity */
  EXPECT_STATUS(PPGKD_ERR_INPUT, ppgkd_run(&m, x, &bpm, &conf));
}

static void test_rejects_arguments_and_alignment(void) {
  ppgkd_model m;
  size_t need;
  reset_bad();
  EXPECT_STATUS(PPGKD_ERR_ARG, ppgkd_init(0, bad, good_len, arena, sizeof arena));
  EXPECT_STATUS(PPGKD_ERR_ARG, ppgkd_init(&m, 0, good_len, arena, sizeof arena));
  EXPECT_STATUS(PPGKD_ERR_ARG, ppgkd_init(&m, bad, good_len, 0, sizeof arena));
  EXPECT_STATUS(PPGKD_ERR_ARG, ppgkd_arena_required(bad, good_len, 0));
  EXPECT_STATUS(PPGKD_ERR_ALIGN, ppgkd_init(&m, bad, good_len, arena + 1, sizeof arena - 1));
  memmove(bad + 2, bad, good_len);
  EXPECT_STATUS(PPGKD_ERR_ALIGN, ppgkd_arena_required(bad + 2, good_len, &need));
  m.ready = 1;
  EXPECT_STATUS(PPGKD_ERR_MAGIC, ppgkd_init(&m, arena, sizeof arena, arena, sizeof arena));
  EXPECT_EQ_INT(0, m.ready); /* a failed init leaves the model unusable */
}

static void test_rejects_header(void) {
  reset_bad();
  bad[0] = 'X';
  EXPECT_STATUS(PPGKD_ERR_MAGIC, try_bad(good_len));
  EXPECT_STATUS(PPGKD_ERR_VERSION, patch(4 * PPGKD_H_VERSION, 1)); /* the 64-byte-record format */
  EXPECT_STATUS(PPGKD_ERR_VERSION, patch(4 * PPGKD_H_VERSION, 2)); /* constant offsets, s32 quant */
  EXPECT_STATUS(PPGKD_ERR_VERSION, patch(4 * PPGKD_H_VERSION, 4));
  EXPECT_STATUS(PPGKD_ERR_FLAGS, patch(4 * PPGKD_H_FLAGS, 0x2));
  EXPECT_STATUS(PPGKD_ERR_COUNT, patch(4 * PPGKD_H_NUM_OPS, 0));
  EXPECT_STATUS(PPGKD_ERR_COUNT, patch(4 * PPGKD_H_NUM_TENSORS, PPGKD_MAX_TENSORS + 1));
  EXPECT_STATUS(PPGKD_ERR_LENGTH,
                patch(4 * PPGKD_H_DATA_SIZE, bb_get_word(good, 4 * PPGKD_H_DATA_SIZE) + 4));
  EXPECT_STATUS(PPGKD_ERR_LENGTH,
                patch(4 * PPGKD_H_OPS_BYTES, bb_get_word(good, 4 * PPGKD_H_OPS_BYTES) + 4));
  EXPECT_STATUS(PPGKD_ERR_LENGTH, patch(4 * PPGKD_H_NUM_OPS, 6)); /* records no longer add up */
  EXPECT_STATUS(PPGKD_ERR_LENGTH, patch(4 * PPGKD_H_NUM_OPS, 4));
  EXPECT_STATUS(PPGKD_ERR_DECODE, patch(4 * PPGKD_H_DECODE_RADIUS, 12));
  EXPECT_STATUS(PPGKD_ERR_DECODE, patch(4 * PPGKD_H_BPM_STEP, 0));
  EXPECT_STATUS(PPGKD_ERR_GRAPH, patch(4 * PPGKD_H_INPUT, 9999));
  EXPECT_STATUS(PPGKD_ERR_SHAPE, patch(4 * PPGKD_H_IN_LENGTH, 9));
  EXPECT_STATUS(PPGKD_ERR_SHAPE, patch(4 * PPGKD_H_NUM_CLASSES, 11));
}

/* A version-1 blob (magic, then version 1) is refused by its version, whatever follows, even
 * when it is shorter than a header. */
static void test_rejects_version_1_blob(void) {
  static uint8_t old[64] __attribute__((aligned(4)));
  ppgkd_model m;
  memset(old, 0, sizeof old);
  bb_set_word(old, 0, PPGKD_MAGIC);
  bb_set_word(old, 4, 1);
  EXPECT_STATUS(PPGKD_ERR_VERSION, ppgkd_init(&m, old, sizeof old, arena, sizeof arena));
  EXPECT_STATUS(PPGKD_ERR_VERSION, ppgkd_init(&m, old, 8, arena, sizeof arena));
}

/* The bytes between the tables and the 4-aligned data section must be zero. A dense-only graph
 * (1, 8) -> 12 has 68 + 6 + 2 x 10 = 94 bytes of tables, so 2 alignment bytes. */
static void test_rejects_nonzero_alignment_bytes(void) {
  static float w[96], bias[12];
  bb_qparams q;
  uint32_t in, out;
  size_t len = 0, pad_at;
  ppgkd_model m;
  q.scale = 0.05f, q.zero_point = 0;
  bb_init(&b, 0, data_buf, sizeof data_buf);
  in = bb_input(&b, 1, 8, q);
  out = bb_dense(&b, in, 12, 0, w, bias, q);
  EXPECT_EQ_INT(0, bb_finish(&b, out, 12, bad, sizeof bad, &len));
  pad_at = bb_tensor_offset(bad, 2);
  EXPECT_EQ_INT(94, pad_at);
  EXPECT_EQ_INT(96, bb_data_offset(bad));
  EXPECT_STATUS(PPGKD_OK, ppgkd_init(&m, bad, len, arena, sizeof arena));
  bad[pad_at + 1] = 1;
  bb_fix_crc(bad, len);
  EXPECT_STATUS(PPGKD_ERR_LENGTH, ppgkd_init(&m, bad, len, arena, sizeof arena));
  build(0); /* the other tests' blob */
}

static void test_rejects_crc_and_every_truncation(void) {
  size_t n;
  int all_truncated = 1;
  reset_bad();
  bad[good_len - 20] ^= 0x01; /* a data byte */
  EXPECT_STATUS(PPGKD_ERR_CRC, try_bad(good_len));
  reset_bad();
  bad[good_len - 1] ^= 0x80; /* the CRC itself */
  EXPECT_STATUS(PPGKD_ERR_CRC, try_bad(good_len));
  reset_bad();
  for (n = 0; n < good_len; ++n) {
    if (try_bad(n) != PPGKD_ERR_TRUNCATED) {
      all_truncated = 0;
      MT_FAIL("length %u: %s", (unsigned)n, ppgkd_status_str(try_bad(n)));
      break;
    }
  }
  EXPECT_TRUE(all_truncated);
  bad[good_len] = 0;
  EXPECT_STATUS(PPGKD_ERR_LENGTH, try_bad(good_len + 1)); /* trailing byte */
}

static void test_rejects_tensor_records(void) {
  const uint32_t in = bb_get_word(good, 4 * PPGKD_H_INPUT);
  const uint32_t c1 = bb_get_u16(good, op_field(0, PPGKD_OP_OUT));
  const uint32_t dense_out = bb_get_u16(good, op_field(4, PPGKD_OP_OUT));
  const uint32_t data_size = bb_get_word(good, 4 * PPGKD_H_DATA_SIZE);
  const uint32_t arena_size = bb_get_word(good, 4 * PPGKD_H_ARENA_SIZE);
  reset_bad();
  /* constants: they follow each other in op order and must use the data section exactly */
  EXPECT_STATUS(PPGKD_ERR_LENGTH, patch8(op_field(0, PPGKD_OP_FLAGS), PPGKD_OPF_RELU)); /* bias */
  reset_bad();
  memset(bad + good_len - PPGKD_CRC_BYTES, 0, 2 * PPGKD_CRC_BYTES); /* 4 unused data bytes */
  bb_set_word(bad, 4 * PPGKD_H_TOTAL_LEN, (uint32_t)good_len + 4);
  bb_set_word(bad, 4 * PPGKD_H_DATA_SIZE, data_size + 4);
  bb_fix_crc(bad, good_len + 4);
  EXPECT_STATUS(PPGKD_ERR_LENGTH, try_bad(good_len + 4));
  reset_bad(); /* a conv weight (200, 2, 3) that runs past the data section */
  bb_set_u16(bad, tensor_field(c1, PPGKD_T_DIM0), 200);
  bb_set_word(bad, 4 * PPGKD_H_ARENA_SIZE, 0x100000u);
  bb_fix_crc(bad, good_len);
  EXPECT_STATUS(PPGKD_ERR_OFFSET, try_bad(good_len));
  /* activations */
  EXPECT_STATUS(PPGKD_ERR_ARENA_RANGE, patch(tensor_field(c1, PPGKD_T_OFFSET), arena_size));
  EXPECT_STATUS(PPGKD_ERR_ARENA_RANGE, patch(tensor_field(c1, PPGKD_T_OFFSET), 0xFFFFFFF0u));
  EXPECT_STATUS(PPGKD_ERR_OFFSET, patch(tensor_field(c1, PPGKD_T_OFFSET), 2)); /* misaligned */
  EXPECT_STATUS(PPGKD_ERR_TENSOR, patch8(tensor_field(c1, PPGKD_T_RANK), 0));
  EXPECT_STATUS(PPGKD_ERR_TENSOR, patch8(tensor_field(c1, PPGKD_T_RANK), 3));
  EXPECT_STATUS(PPGKD_ERR_TENSOR, patch16(tensor_field(c1, PPGKD_T_DIM1), 0));
  EXPECT_STATUS(PPGKD_ERR_TENSOR, patch16(tensor_field(dense_out, PPGKD_T_DIM1), 2)); /* rank 1 */
  EXPECT_STATUS(PPGKD_ERR_TENSOR, patch8(tensor_field(c1, PPGKD_T_ZERO_POINT), 1));   /* f32 */
  /* size products that overflow: an activation of 65535 x 65535 floats (2^34 bytes), and a
   * 65535 x 65535 x 3 conv weight between activations that are themselves fine */
  reset_bad();
  bb_set_u16(bad, tensor_field(c1, PPGKD_T_DIM0), 65535);
  bb_set_u16(bad, tensor_field(c1, PPGKD_T_DIM1), 65535);
  bb_fix_crc(bad, good_len);
  EXPECT_STATUS(PPGKD_ERR_SIZE_OVERFLOW, try_bad(good_len));
  reset_bad();
  bb_set_u16(bad, tensor_field(in, PPGKD_T_DIM0), 65535);
  bb_set_word(bad, 4 * PPGKD_H_IN_CHANNELS, 65535);
  bb_set_u16(bad, tensor_field(c1, PPGKD_T_DIM0), 65535);
  bb_set_word(bad, 4 * PPGKD_H_ARENA_SIZE, 0x7FFFFFF0u);
  bb_fix_crc(bad, good_len);
  EXPECT_STATUS(PPGKD_ERR_SIZE_OVERFLOW, try_bad(good_len));
}

static void test_rejects_op_records(void) {
  const uint32_t nt = bb_get_word(good, 4 * PPGKD_H_NUM_TENSORS);
  const uint32_t c1 = bb_get_u16(good, op_field(0, PPGKD_OP_OUT));
  const uint32_t c2 = bb_get_u16(good, op_field(1, PPGKD_OP_OUT));
  reset_bad();
  EXPECT_STATUS(PPGKD_ERR_OP, patch8(op_field(0, PPGKD_OP_TYPE), 99));
  EXPECT_STATUS(PPGKD_ERR_OP, patch8(op_field(0, PPGKD_OP_TYPE), 0));
  EXPECT_STATUS(PPGKD_ERR_OP, patch8(op_field(0, PPGKD_OP_FLAGS), 0x8 | PPGKD_OPF_BIAS));
  EXPECT_STATUS(PPGKD_ERR_OP, patch8(op_field(0, PPGKD_OP_FLAGS), /* per tensor in f32 */
                                     PPGKD_OPF_PER_TENSOR | PPGKD_OPF_BIAS | PPGKD_OPF_RELU));
  EXPECT_STATUS(PPGKD_ERR_OP, patch8(op_field(2, PPGKD_OP_FLAGS), PPGKD_OPF_BIAS)); /* add */
  EXPECT_STATUS(PPGKD_ERR_OP, patch16(op_field(0, PPGKD_OP_IN0), nt));
  EXPECT_STATUS(PPGKD_ERR_OP, patch16(op_field(0, PPGKD_OP_OUT), 0xFFFF));
  EXPECT_STATUS(PPGKD_ERR_OP, patch16(op_field(2, PPGKD_ADD_IN1), nt)); /* add's second input */
  EXPECT_STATUS(PPGKD_ERR_OP, patch8(op_field(0, PPGKD_CONV_STRIDE), 0));
  EXPECT_STATUS(PPGKD_ERR_OP, patch8(op_field(0, PPGKD_CONV_DILATION), 0));
  EXPECT_STATUS(PPGKD_ERR_OP, patch8(op_field(0, PPGKD_CONV_TAPS), 0));
  EXPECT_STATUS(PPGKD_ERR_OP, patch16(op_field(3, PPGKD_POOL_STRIDE), 0));
  /* a type whose record size differs: the table no longer adds up (add 8 bytes -> relu 6) */
  EXPECT_STATUS(PPGKD_ERR_LENGTH, patch8(op_field(2, PPGKD_OP_TYPE), PPGKD_OPT_RELU));
  /* shapes disagreeing with params */
  EXPECT_STATUS(PPGKD_ERR_SHAPE, patch8(op_field(0, PPGKD_CONV_STRIDE), 2));
  EXPECT_STATUS(PPGKD_ERR_SHAPE, patch8(op_field(0, PPGKD_CONV_PADDING), 0));
  EXPECT_STATUS(PPGKD_ERR_SHAPE, patch8(op_field(0, PPGKD_CONV_TAPS), 5));
  EXPECT_STATUS(PPGKD_ERR_SHAPE, patch8(op_field(0, PPGKD_CONV_DILATION), 200)); /* > input */
  EXPECT_STATUS(PPGKD_ERR_SHAPE, patch16(op_field(3, PPGKD_POOL_KERNEL), 4));
  EXPECT_STATUS(PPGKD_ERR_SHAPE, patch16(op_field(3, PPGKD_POOL_KERNEL), 9)); /* > input */
  EXPECT_STATUS(PPGKD_ERR_SHAPE, patch16(op_field(3, PPGKD_POOL_KERNEL), 0));
  /* graph order: op0 reading op1's output, op1 writing op0's output, an op writing its input */
  EXPECT_STATUS(PPGKD_ERR_GRAPH, patch16(op_field(0, PPGKD_OP_IN0), c2));
  EXPECT_STATUS(PPGKD_ERR_GRAPH, patch16(op_field(1, PPGKD_OP_OUT), c1));
  EXPECT_STATUS(PPGKD_ERR_GRAPH,
                patch16(op_field(1, PPGKD_OP_OUT), bb_get_word(good, 4 * PPGKD_H_INPUT)));
  EXPECT_STATUS(PPGKD_ERR_GRAPH, patch16(op_field(2, PPGKD_OP_OUT), c1)); /* out == in1 */
}

static void test_rejects_arena_plan(void) {
  ppgkd_model m;
  const uint32_t c1 = bb_get_u16(good, op_field(0, PPGKD_OP_OUT));
  const uint32_t c2 = bb_get_u16(good, op_field(1, PPGKD_OP_OUT));
  const uint32_t need = bb_get_word(good, 4 * PPGKD_H_ARENA_SIZE);
  reset_bad();
  /* c1 and c2 are alive together (the add reads both): sharing an offset must fail */
  EXPECT_STATUS(
      PPGKD_ERR_ARENA_OVERLAP,
      patch(tensor_field(c2, PPGKD_T_OFFSET), bb_get_word(good, tensor_field(c1, PPGKD_T_OFFSET))));
  reset_bad();
  EXPECT_STATUS(PPGKD_ERR_ARENA_SMALL, ppgkd_init(&m, bad, good_len, arena, need - 4));
  EXPECT_STATUS(PPGKD_OK, ppgkd_init(&m, bad, good_len, arena, need));
}

static void test_rejects_int8_quantisation(void) {
  size_t data_at, w_at, b_at, q_at, db_at, aq_at;
  uint32_t c1;
  size_t len = build(1);
  EXPECT_TRUE(len > 0);
  data_at = bb_data_offset(good);
  w_at = data_at + b.ops[0].weight; /* the builder's layout, which the format implies */
  b_at = data_at + b.ops[0].bias;
  q_at = data_at + b.ops[0].quant;
  db_at = data_at + b.ops[4].bias;
  aq_at = data_at + b.ops[2].quant;
  c1 = bb_get_u16(good, op_field(0, PPGKD_OP_OUT));
  reset_bad();
  EXPECT_STATUS(PPGKD_OK, try_bad(good_len));
  /* conv (3 channels): multipliers at q_at (u16 x 3), shifts at q_at + 6 */
  EXPECT_STATUS(PPGKD_ERR_QUANT, patch8(q_at + 6 + 1, 31));           /* shift above 30 */
  EXPECT_STATUS(PPGKD_ERR_QUANT, patch8(q_at + 6 + 2, (uint8_t)-32)); /* shift below -31 */
  EXPECT_STATUS(PPGKD_ERR_QUANT, patch8(aq_at + 6 + 2, 31));          /* add's output shift */
  EXPECT_STATUS(PPGKD_ERR_QUANT, patch8(aq_at + 9, 21));              /* add left shift */
  EXPECT_STATUS(PPGKD_ERR_QUANT, patch(tensor_field(c1, PPGKD_T_SCALE), 0));
  EXPECT_STATUS(PPGKD_ERR_QUANT, patch(tensor_field(c1, PPGKD_T_SCALE), 0x7FC00000u)); /* NaN */
  EXPECT_STATUS(PPGKD_ERR_QUANT, patch(tensor_field(c1, PPGKD_T_SCALE), 0xBF800000u)); /* -1 */
  /* the padding after the 3 x 2 x 3 = 18 weight bytes and after the 9 quant bytes is zero */
  EXPECT_STATUS(PPGKD_ERR_LENGTH, patch8(w_at + 18, 1));
  EXPECT_STATUS(PPGKD_ERR_LENGTH, patch8(q_at + 9 + 2, 1));
  /* one quant entry instead of three: the layout no longer fits the bytes */
  EXPECT_STATUS(PPGKD_ERR_LENGTH, patch8(op_field(0, PPGKD_OP_FLAGS),
                                         PPGKD_OPF_RELU | PPGKD_OPF_BIAS | PPGKD_OPF_PER_TENSOR));
  /* weight -128 breaks symmetry (and the accumulator argument) */
  reset_bad();
  bad[w_at] = 0x80;
  bb_fix_crc(bad, good_len);
  EXPECT_STATUS(PPGKD_ERR_QUANT, try_bad(good_len));
  /* a bias near INT32_MAX leaves no room for 6 * 127 * 255 of products */
  EXPECT_STATUS(PPGKD_ERR_ACC_OVERFLOW, patch(b_at, 0x7FFFFF00u));
  EXPECT_STATUS(PPGKD_ERR_ACC_OVERFLOW, patch(db_at, 0x80000000u)); /* |INT32_MIN| = 2^31 */
}

/* A per-tensor int8 dense layer stores one requantisation entry instead of one per row. Every
 * row of the test dense has the same largest |weight| (0.2), so per-channel quantisation chooses
 * the same scale for each row: both blobs must give the same logits bit for bit, and the
 * per-tensor one is 11 entries (33 bytes, 32 after alignment) smaller. */
static void test_per_tensor_layer_equals_equal_channels(void) {
  static uint8_t per_channel[8192] __attribute__((aligned(8)));
  ppgkd_model m;
  float x[16], y_pc[12], y_pt[12];
  size_t len_pc, len_pt;
  int i;
  for (i = 0; i < 16; ++i) x[i] = 0.3f * (float)(i % 5) - 0.5f;
  len_pc = build_with(1, 0);
  memcpy(per_channel, good, len_pc);
  len_pt = build_with(1, 1);
  EXPECT_EQ_INT(len_pc - 32, len_pt);
  EXPECT_EQ_INT(PPGKD_OPF_PER_TENSOR, good[op_field(4, PPGKD_OP_FLAGS)] & PPGKD_OPF_PER_TENSOR);
  EXPECT_STATUS(PPGKD_OK, ppgkd_init(&m, per_channel, len_pc, arena, sizeof arena));
  EXPECT_STATUS(PPGKD_OK, ppgkd_run_logits(&m, x, y_pc, 12));
  EXPECT_STATUS(PPGKD_OK, ppgkd_init(&m, good, len_pt, arena, sizeof arena));
  EXPECT_STATUS(PPGKD_OK, ppgkd_run_logits(&m, x, y_pt, 12));
  EXPECT_TRUE(memcmp(y_pc, y_pt, sizeof y_pc) == 0);
  build(0); /* the other tests' blob */
}

void run_loader_tests(void) {
  RUN_TEST(test_valid_blob_loads_and_runs);
  RUN_TEST(test_rejects_arguments_and_alignment);
  RUN_TEST(test_rejects_header);
  RUN_TEST(test_rejects_version_1_blob);
  RUN_TEST(test_rejects_nonzero_alignment_bytes);
  RUN_TEST(test_rejects_crc_and_every_truncation);
  RUN_TEST(test_rejects_tensor_records);
  RUN_TEST(test_rejects_op_records);
  RUN_TEST(test_rejects_arena_plan);
  RUN_TEST(test_rejects_int8_quantisation);
  RUN_TEST(test_per_tensor_layer_equals_equal_channels);
}
