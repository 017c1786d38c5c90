// Atomic writes: the content goes to a temporary file beside the target, is flushed, and is then
// renamed over the target, so a reader sees the old file or the new one, never half of one.
#pragma once

#include <string>
#include <string_view>

namespace ppgkd {

// Writes `bytes` to `path` atomically; creates parent directories. Throws Error on failure.
void write_file_atomic(const std::string& path, std::string_view bytes);

// Reads a whole file; throws Error naming the file when it cannot be read.
std::string read_file(const std::string& path);

}  // namespace ppgkd
