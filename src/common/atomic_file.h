// Atomic writes: the content goes to a temporary file beside the target, is flushed, and is then
// renamed over the target, so a reader sees the old file or the new one, never half of one.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ppgkd {

// Writes `bytes` to `path` atomically; creates parent directories. Throws Error on failure.
void write_file_atomic(const std::string& path, std::string_view bytes);

// Writes a set of files (name inside `dir`, bytes) so that a reader of `dir` sees the whole old
// set or the whole new one, never a mix: the set is written into a staging directory beside
// `dir`, which then replaces it by rename (the old directory is moved aside first and removed
// last; entries of the old directory that are not in the set move into the new one). A failure
// before the swap leaves `dir` untouched and removes the staging directory. Names are plain file
// names (no '/'). Throws Error naming the file or directory that failed.
void write_file_set_atomic(const std::string& dir,
                           const std::vector<std::pair<std::string, std::string>>& files);

// Reads a whole file; throws Error naming the file when it cannot be read.
std::string read_file(const std::string& path);

}  // namespace ppgkd
