// Data specifications (see data_spec.h): parsing, fingerprints, loading.
#include "data/data_spec.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <utility>

#include "common/error.h"
#include "common/hash.h"
#include "data/readers/readers.h"

namespace ppgkd {

namespace {

namespace fs = std::filesystem;

constexpr const char* kSyntheticPrefix = "synthetic:";

// Hash of (relative path, size, content) of every regular file below a folder (or of the file).
std::string folder_fingerprint(const std::string& data_root) {
  std::error_code ec;
  const fs::path root(data_root);
  if (!fs::exists(root, ec)) throw Error(data_root, "data root does not exist");
  std::vector<std::pair<std::string, fs::path>> files;  // (relative path, path)
  if (fs::is_regular_file(root, ec)) {
    files.emplace_back(root.filename().generic_string(), root);
  } else {
    fs::recursive_directory_iterator it(root, ec), end;
    if (ec) throw Error(data_root, "cannot list directory: " + ec.message());
    for (; it != end; it.increment(ec)) {
      if (ec) throw Error(data_root, "cannot list directory: " + ec.message());
      if (it->is_regular_file(ec)) {
        files.emplace_back(fs::relative(it->path(), root).generic_string(), it->path());
      }
    }
  }
  std::sort(files.begin(), files.end());
  Hasher h;
  for (const auto& [rel, path] : files) {
    const uint64_t size = fs::file_size(path, ec);
    if (ec) throw Error(path.string(), "cannot stat: " + ec.message());
    const uint64_t content = hash_file_words(path.string());
    h.update(rel).update("\0", 1).update(&size, sizeof size).update(&content, sizeof content);
  }
  return h.hex();
}

// The generator's config, every field: two configs that generate different data never share a
// fingerprint. (The text is the window cache's since its first version: keep it, or every cached
// synthetic window set is rebuilt.)
std::string synthetic_fingerprint(const SyntheticConfig& sc) {
  return Hasher()
      .update(fmt::format("synthetic seed={} subjects={} recordings={} "
                          "duration={} fs={} motion={} noise={}",
                          sc.seed, sc.subjects, sc.recordings_per_subject, sc.duration_s, sc.fs,
                          sc.motion_scale, sc.noise_scale))
      .hex();
}

DataSource parse_entry(const std::string& entry) {
  DataSource s;
  s.text = entry;
  if (entry == "synthetic" || entry.rfind(kSyntheticPrefix, 0) == 0) {
    s.kind = DataSource::Kind::kSynthetic;
    if (entry != "synthetic") {
      const std::string seed = entry.substr(std::string(kSyntheticPrefix).size());
      // At most 19 digits, so the value fits uint64_t without an overflow check.
      if (seed.empty() || seed.size() > 19 ||
          !std::all_of(seed.begin(), seed.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        throw Error(entry, "synthetic seed must be a non-negative integer");
      }
      s.synthetic.seed = std::stoull(seed);
    }
    return s;
  }
  s.kind = DataSource::Kind::kFolder;
  return s;
}

std::string source_fingerprint(const DataSource& s) {
  return s.kind == DataSource::Kind::kSynthetic ? synthetic_fingerprint(s.synthetic)
                                                : folder_fingerprint(s.text);
}

}  // namespace

std::vector<DataSource> parse_data_spec(const std::string& data) {
  if (data.empty()) throw Error("data", "the data specification is empty");
  std::vector<std::string> entries;
  size_t start = 0;
  while (true) {
    const size_t comma = data.find(',', start);
    entries.push_back(data.substr(start, comma == std::string::npos ? comma : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  std::vector<DataSource> sources;
  for (const std::string& e : entries) {
    if (e.empty()) throw Error(data, "empty entry in the data list");
    sources.push_back(parse_entry(e));
  }
  return sources;
}

std::string data_fingerprint(const std::string& data) {
  const std::vector<DataSource> sources = parse_data_spec(data);
  if (sources.size() == 1) return source_fingerprint(sources[0]);
  Hasher h;
  for (const DataSource& s : sources) h.update(source_fingerprint(s)).update(",");
  return h.hex();
}

std::vector<Recording> load_data(const std::string& data) {
  std::vector<Recording> all;
  for (const DataSource& s : parse_data_spec(data)) {
    std::vector<Recording> recs = s.kind == DataSource::Kind::kSynthetic
                                      ? make_synthetic(s.synthetic)
                                      : load_recordings(s.text);
    for (Recording& r : recs) all.push_back(std::move(r));
  }
  return all;
}

}  // namespace ppgkd
