// Serialising an edge graph into the runtime's model blob (docs/FORMAT.md, constants from
// edge/include/ppgkd_edge_format.h, version 3): header, op records sized by type, activation
// records, 4-aligned data section (constants have neither records nor offsets: they follow each
// other in op order; requantisation as u16 multipliers and s8 shifts), CRC.
// f32 when no quantisation is given, else int8. The arena is planned here (arena_plan.h).
// Not here: BN folding, calibration, quantisation arithmetic, files.
#pragma once

#include <cstdint>
#include <string>

#include "export/graph.h"
#include "export/quantize.h"

namespace ppgkd {

struct BlobStats {
  int64_t blob_bytes = 0;
  int64_t arena_bytes = 0;        // arena the runtime requires: planned peak + kernel scratch
  int64_t arena_lower_bound = 0;  // largest set of simultaneously live activations
  int64_t weight_bytes = 0;       // weight and bias constants, each with its padding to 4
  int64_t quant_bytes = 0;        // requantisation constants (int8), each with its padding
  int64_t num_ops = 0, num_tensors = 0;
  // Where the rest goes: blob = header + op_table + tensor_table + table_pad + weight_bytes +
  // quant_bytes + crc. const_pad_bytes: the padding inside weight_bytes and quant_bytes.
  int64_t header_bytes = 0, op_table_bytes = 0, tensor_table_bytes = 0, table_pad_bytes = 0;
  int64_t crc_bytes = 0, weight_pad_bytes = 0, quant_pad_bytes = 0;
};

// The blob bytes. q == nullptr writes an f32 model. decode_radius: bins either side of the argmax
// (< the class count). Throws Error("blob", ...) when the graph exceeds the format's limits.
std::string write_blob(const EdgeGraph& g, const QuantizedGraph* q, int decode_radius,
                       BlobStats* stats);

}  // namespace ppgkd
