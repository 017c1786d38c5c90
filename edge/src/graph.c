/* graph.c — running a validated model: input quantisation, the op sequence, output
 * dequantisation and decoding (ppgkd_run, ppgkd_run_logits). No checks beyond what the kernels
 * do in O(1): ppgkd_init validated every record this file decodes. */
#include <stdint.h>

#include "blob_read.h"
#include "ppgkd_edge.h"
#include "ppgkd_edge_ops.h"

static int is_int8(const ppgkd_model* m) {
  return (m->flags & PPGKD_FLAG_INT8) != 0;
}

static void* tensor_ptr(const ppgkd_model* m, const ppgkd_tensor_rec* t) {
  /* Constants are read-only; the cast drops const only so both storages share one helper. */
  return t->storage == PPGKD_STORAGE_CONST ? (void*)(uintptr_t)(m->data + t->offset)
                                           : (void*)(m->arena + t->offset);
}

/* Activations: (C, L) -> (1, C, L); vectors (N) -> (1, N, 1). */
static ppgkd_dims act_dims(const ppgkd_tensor_rec* t) {
  ppgkd_dims d;
  d.n = 1;
  d.c = (int32_t)t->dim[0];
  d.l = t->rank >= 2 ? (int32_t)(t->dim[1] * t->dim[2]) : 1;
  return d;
}

static ppgkd_s8_act s8_act(const ppgkd_tensor_rec* in, const ppgkd_tensor_rec* out, uint32_t relu) {
  ppgkd_s8_act a;
  a.in_zp = in->zero_point;
  a.out_zp = out->zero_point;
  a.act_min = relu ? out->zero_point : -128;
  a.act_max = 127;
  return a;
}

/* The per-channel (entries = C_out) or per-tensor (entries = 1) quant constant at q, read in
 * place: u16 multipliers, then s8 shifts (the data section is 4-aligned, so the u16s are). */
static ppgkd_per_channel_quant channel_quant(const uint8_t* q, uint32_t entries) {
  ppgkd_per_channel_quant pq;
  pq.multiplier = (const uint16_t*)(const void*)q;
  pq.shift = (const int8_t*)(const void*)(q + 2 * entries);
  pq.per_tensor = entries == 1;
  return pq;
}

/* Runs the op whose record starts at `rec` and whose constants start at data offset *at (advanced
 * past them: constants follow each other in op order). */
static ppgkd_status run_op(const ppgkd_model* m, const uint8_t* rec, uint64_t* at) {
  ppgkd_context ctx; /* the kernels' scratch: the end of the arena (ppgkd_arena_required) */
  ppgkd_op_rec o;
  ppgkd_tensor_rec in = {0}, in1 = {0}, out = {0};
  ppgkd_dims din, dout, dw, db;
  const int s8 = is_int8(m);
  void *xin, *xout;
  const uint8_t* quant = 0;
  ppgkd_const_sizes cs;
  ctx.buf = m->scratch_size ? (void*)(m->arena + m->scratch_offset) : 0;
  ctx.size = m->scratch_size;
  ppgkd_read_op(rec, &o);
  ppgkd_read_tensor(m->tensors, o.in0, s8, &in);
  ppgkd_read_tensor(m->tensors, o.out, s8, &out);
  ppgkd_op_const_sizes(&o, &in, &out, s8, &cs);
  *at = ppgkd_layout_consts(&o, &cs, *at);
  din = act_dims(&in), dout = act_dims(&out);
  xin = tensor_ptr(m, &in), xout = tensor_ptr(m, &out);
  if (o.quant != PPGKD_NONE) quant = m->data + o.quant;
  switch (o.type) {
    case PPGKD_OPT_CONV1D:
    case PPGKD_OPT_DENSE: {
      const void* bias = o.bias != PPGKD_NONE ? (const void*)(m->data + o.bias) : 0;
      const void* weight = m->data + o.weight;
      /* weight (C_out, C_in, K) for conv1d, (M, N, 1) for dense */
      dw.n = (int32_t)out.dim[0], dw.c = (int32_t)in.dim[0], dw.l = (int32_t)o.taps;
      if (o.type == PPGKD_OPT_DENSE) {
        dw.n = (int32_t)ppgkd_elems(&out), dw.c = (int32_t)ppgkd_elems(&in), dw.l = 1;
      }
      db.n = dw.n, db.c = 1, db.l = 1;
      if (o.type == PPGKD_OPT_CONV1D) {
        ppgkd_conv1d_params p;
        p.stride = (int32_t)o.stride, p.padding = (int32_t)o.padding;
        p.dilation = (int32_t)o.dilation, p.relu = (int32_t)o.activation;
        if (!s8) {
          return ppgkd_conv1d_f32(&ctx, &p, &din, (const float*)xin, &dw, weight, &db,
                                  (const float*)bias, &dout, (float*)xout);
        } else {
          const ppgkd_s8_act a = s8_act(&in, &out, o.activation);
          const ppgkd_per_channel_quant pq = channel_quant(quant, cs.entries);
          return ppgkd_conv1d_s8(&ctx, &p, &a, &pq, &din, (const int8_t*)xin, &dw, weight, &db,
                                 (const int32_t*)bias, &dout, (int8_t*)xout);
        }
      } else {
        ppgkd_dense_params p;
        p.relu = (int32_t)o.activation;
        if (!s8) {
          return ppgkd_dense_f32(&ctx, &p, &din, (const float*)xin, &dw, weight, &db,
                                 (const float*)bias, &dout, (float*)xout);
        } else {
          const ppgkd_s8_act a = s8_act(&in, &out, o.activation);
          const ppgkd_per_channel_quant pq = channel_quant(quant, cs.entries);
          return ppgkd_dense_s8(&ctx, &p, &a, &pq, &din, (const int8_t*)xin, &dw, weight, &db,
                                (const int32_t*)bias, &dout, (int8_t*)xout);
        }
      }
    }
    case PPGKD_OPT_ADD: {
      ppgkd_add_params p;
      ppgkd_dims d1;
      ppgkd_read_tensor(m->tensors, o.in1, s8, &in1);
      d1 = act_dims(&in1);
      p.relu = (int32_t)o.activation;
      if (!s8) {
        return ppgkd_add_f32(&ctx, &p, &din, (const float*)xin, &d1,
                             (const float*)tensor_ptr(m, &in1), &dout, (float*)xout);
      } else {
        const ppgkd_s8_act a = s8_act(&in, &out, o.activation);
        ppgkd_add_s8_quant aq;
        aq.a_zp = in.zero_point, aq.b_zp = in1.zero_point;
        aq.left_shift = quant[PPGKD_ADD_RQ_ENTRIES * PPGKD_RQ_ENTRY_BYTES];
        ppgkd_rq_entry(quant, PPGKD_ADD_RQ_ENTRIES, 0, &aq.q_a.multiplier, &aq.q_a.shift);
        ppgkd_rq_entry(quant, PPGKD_ADD_RQ_ENTRIES, 1, &aq.q_b.multiplier, &aq.q_b.shift);
        ppgkd_rq_entry(quant, PPGKD_ADD_RQ_ENTRIES, 2, &aq.q_out.multiplier, &aq.q_out.shift);
        return ppgkd_add_s8(&ctx, &p, &a, &aq, &din, (const int8_t*)xin, &d1,
                            (const int8_t*)tensor_ptr(m, &in1), &dout, (int8_t*)xout);
      }
    }
    case PPGKD_OPT_RELU:
      if (!s8) return ppgkd_relu_f32(&ctx, &din, (const float*)xin, &dout, (float*)xout);
      return ppgkd_relu_s8(&ctx, in.zero_point, &din, (const int8_t*)xin, &dout, (int8_t*)xout);
    case PPGKD_OPT_AVG_POOL1D: {
      ppgkd_pool_params p;
      p.kernel = (int32_t)o.kernel, p.stride = (int32_t)o.stride;
      if (!s8) {
        return ppgkd_avg_pool1d_f32(&ctx, &p, &din, (const float*)xin, &dout, (float*)xout);
      } else {
        const ppgkd_s8_act a = s8_act(&in, &out, o.activation);
        ppgkd_quant pq;
        ppgkd_rq_entry(quant, 1, 0, &pq.multiplier, &pq.shift);
        return ppgkd_avg_pool1d_s8(&ctx, &p, &a, &pq, &din, (const int8_t*)xin, &dout,
                                   (int8_t*)xout);
      }
    }
    default:
      return PPGKD_ERR_OP; /* unreachable after ppgkd_init */
  }
}

/* Writes the window into the input tensor (quantised for int8) and runs every op. */
static ppgkd_status forward(ppgkd_model* m, const float* window, ppgkd_tensor_rec* out) {
  ppgkd_tensor_rec in;
  uint32_t i, n;
  ppgkd_status s;
  const uint8_t* rec;
  uint64_t at = 0;
  if (!m || !window || !m->ready) return PPGKD_ERR_ARG;
  rec = m->ops;
  ppgkd_read_tensor(m->tensors, m->input, is_int8(m), &in);
  n = ppgkd_elems(&in);
  if (!is_int8(m)) {
    float* x = (float*)tensor_ptr(m, &in);
    for (i = 0; i < n; ++i) {
      if (!(window[i] - window[i] == 0.0f)) return PPGKD_ERR_INPUT; /* NaN or infinity */
    }
    for (i = 0; i < n; ++i) x[i] = window[i];
  } else if ((s = ppgkd_quantize_input_s8(window, n, in.scale, in.zero_point,
                                          (int8_t*)tensor_ptr(m, &in))) != PPGKD_OK) {
    return s; /* NaN or infinity */
  }
  for (i = 0; i < m->num_ops; ++i) {
    if ((s = run_op(m, rec, &at)) != PPGKD_OK) return s;
    rec += ppgkd_op_record_bytes(rec[PPGKD_OP_TYPE]);
  }
  ppgkd_read_tensor(m->tensors, m->output, is_int8(m), out);
  return PPGKD_OK;
}

ppgkd_status ppgkd_run_logits(ppgkd_model* model, const float* window, float* logits,
                              size_t num_logits) {
  ppgkd_tensor_rec out;
  ppgkd_status s;
  uint32_t i;
  if (!model || !logits || !model->ready || num_logits != model->num_classes) return PPGKD_ERR_ARG;
  if ((s = forward(model, window, &out)) != PPGKD_OK) return s;
  if (!is_int8(model)) {
    const float* y = (const float*)tensor_ptr(model, &out);
    for (i = 0; i < model->num_classes; ++i) logits[i] = y[i];
  } else {
    const int8_t* y = (const int8_t*)tensor_ptr(model, &out);
    for (i = 0; i < model->num_classes; ++i) {
      logits[i] = out.scale * (float)((int32_t)y[i] - out.zero_point);
    }
  }
  return PPGKD_OK;
}

ppgkd_status ppgkd_run(ppgkd_model* model, const float* window, float* bpm, float* confidence) {
  ppgkd_tensor_rec out;
  ppgkd_decode_params p;
  ppgkd_status s;
  if (!model || !bpm || !confidence) return PPGKD_ERR_ARG;
  if ((s = forward(model, window, &out)) != PPGKD_OK) return s;
  p.num_classes = model->num_classes, p.radius = model->radius;
  p.bpm_lo = model->bpm_lo, p.bpm_step = model->bpm_step;
  p.smooth_sigma = PPGKD_DECODE_SMOOTH_SIGMA;
  if (!is_int8(model)) {
    return ppgkd_decode_f32(&p, (const float*)tensor_ptr(model, &out), bpm, confidence);
  }
  return ppgkd_decode_s8(&p, out.scale, out.zero_point, (const int8_t*)tensor_ptr(model, &out), bpm,
                         confidence);
}
