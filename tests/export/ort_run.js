// Runs an ONNX model under onnxruntime (npm's onnxruntime-node, CPU) for the ONNX parity test:
//   node ort_run.js MODEL.onnx WINDOWS.bin N C L OUT.bin [all|disabled]
// WINDOWS.bin holds N*C*L little-endian float32 (the "window" input, (N, C, L) row-major);
// OUT.bin receives the "logits" output as float32, (N, K) row-major. The last argument picks the
// graph optimisation level (default "all": QDQ patterns fused into integer kernels, as a
// deployment would run them). Prints one line: the onnxruntime version and the output shape.
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

async function main() {
  const [model, input, n, c, l, output, level] = process.argv.slice(2);
  if (!output) throw new Error('usage: ort_run.js MODEL WINDOWS.bin N C L OUT.bin [all|disabled]');
  const dims = [Number(n), Number(c), Number(l)];
  const buf = fs.readFileSync(input);
  const count = dims[0] * dims[1] * dims[2];
  if (buf.length !== 4 * count) throw new Error(`${input}: ${buf.length} bytes, expected ${4 * count}`);
  const x = new Float32Array(count);
  for (let i = 0; i < count; ++i) x[i] = buf.readFloatLE(4 * i);
  const session = await ort.InferenceSession.create(model, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: level || 'all',
    intraOpNumThreads: 1,
  });
  const out = await session.run({window: new ort.Tensor('float32', x, dims)});
  const y = out.logits;
  const bytes = Buffer.alloc(4 * y.data.length);
  for (let i = 0; i < y.data.length; ++i) bytes.writeFloatLE(y.data[i], 4 * i);
  fs.writeFileSync(output, bytes);
  console.log(`onnxruntime ${ort.env.versions.common}: logits [${y.dims.join(', ')}]`);
}

main().catch((e) => {
  console.error(`ort_run.js: ${e.message}`);
  process.exit(1);
});
