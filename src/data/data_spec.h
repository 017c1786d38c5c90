// `--data`: which recordings a command reads and the fingerprint that names them. The one parser
// of data specifications: every command (train, distill, group, pretrain, eval, predict, data),
// the window cache and the sweep (whose run keys hash the fingerprint its children record) call
// it, so they cannot disagree on what a specification means. Not here: preprocessing or caching
// the windows (cache.h).
//
//   DIR              every recording below a folder (load_recordings), or one file
//   synthetic        the deterministic synthetic dataset with its default config
//   synthetic:SEED   ... with seed SEED (a non-negative integer of at most 19 digits)
//   A,B,...          several of those; their recordings are pooled in this order
//
// Fingerprints (16 hex digits): a folder hashes (relative path, size, content hash) of every
// regular file below it, so renaming or editing a file changes it and touching one does not;
// synthetic hashes the generator's config, not its code (after changing the generator, clear the
// window cache); a list of two or more hashes its entries' fingerprints in order; a list of one is
// its entry.
#pragma once

#include <string>
#include <vector>

#include "data/recording.h"
#include "data/synthetic/synthetic.h"

namespace ppgkd {

struct DataSource {
  enum class Kind { kFolder, kSynthetic };
  Kind kind = Kind::kFolder;
  std::string text;           // the entry as written
  SyntheticConfig synthetic;  // kSynthetic: the generator's config (the seed from the entry)
};

// The entries of a specification, checked for syntax only (a folder is not looked at). Throws
// Error(data, "empty data specification"), Error(data, "empty entry in the data list") or
// Error(entry, "synthetic seed must be a non-negative integer").
std::vector<DataSource> parse_data_spec(const std::string& data);

// The fingerprint of a specification (see above). Throws Error(folder, ...) for a folder that does
// not exist or cannot be read, and parse_data_spec's errors.
std::string data_fingerprint(const std::string& data);

// The recordings of a specification, uncached, pooled in the order of its entries.
std::vector<Recording> load_data(const std::string& data);

}  // namespace ppgkd
