// The blob as C99 source for firmware that links its model instead of loading a file:
//   model_data.h  #defines of blob and arena bytes, the extern declaration
//   model_data.c  the blob as a const, 4-byte-aligned uint8_t array (the runtime reads weights in
//                 place, so the alignment matters), 16 bytes a line
// The bytes are the model.ppgm bytes exactly. Not here: anything about the blob's content.
#pragma once

#include <cstdint>
#include <string>

namespace ppgkd {

// Symbols: <prefix>_data (the array), <PREFIX>_BYTES, <PREFIX>_ARENA_BYTES. prefix must be a C
// identifier (e.g. "ppgkd_model"); header_name is what the .c file includes. `extra` is C text
// added to the header (before its closing #endif; the header then includes ppgkd_edge.h) and to
// the end of the source: the bundle's preprocessing (bundle.h).
std::string model_data_header(const std::string& blob, int64_t arena_bytes,
                              const std::string& prefix, const std::string& extra = "");
std::string model_data_source(const std::string& blob, const std::string& prefix,
                              const std::string& header_name, const std::string& extra = "");

}  // namespace ppgkd
