// MatFile: libmatio behind a validating front door (see mat_file.h). Not a writer: tests write
// their .mat files with libmatio directly.
#include "data/readers/mat_file.h"

#include <matio.h>
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <mutex>

#include "common/atomic_file.h"
#include "common/error.h"

namespace ppgkd {

// ---------------------------------------------------------------------------- libmatio's log
// libmatio reports problems through a process-wide log function that prints to stderr by
// default. We route it into a per-thread buffer so that the message can end up in an Error
// instead of on the terminal.

namespace {

thread_local std::string g_matio_message;

void capture_matio_log(int /*level*/, char* message) {
  if (message == nullptr) return;
  if (!g_matio_message.empty()) g_matio_message += "; ";
  g_matio_message += message;
}

void install_matio_log() {
  static std::once_flag once;
  std::call_once(once, [] { Mat_LogInitFunc("ppgkd", capture_matio_log); });
}

std::string take_matio_message() {
  std::string m;
  m.swap(g_matio_message);
  return m;
}

// ---------------------------------------------------------------------------- v5 validation
// A v5 MAT-file is a 128-byte header (116 bytes of text starting "MATLAB", 8 bytes of subsystem
// offset, a 2-byte version 0x0100 and the endian indicator "IM" or "MI"), then a sequence of
// top-level data elements, each an 8-byte tag (type, byte count) and its payload. Uncompressed
// miMATRIX (14) payloads are padded to 8 bytes; miCOMPRESSED (15) payloads are not. Checking
// that every element lies inside the file catches truncation before libmatio reads past the end.

constexpr size_t kHeaderBytes = 128;
constexpr uint32_t kMiMatrix = 14;
constexpr uint32_t kMiCompressed = 15;

uint32_t read_u32(const unsigned char* p, bool swap) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  if (swap) v = __builtin_bswap32(v);
  return v;
}

enum class MatKind { kV5, kV73 };

// True when `n` bytes at `p` are one complete zlib stream. libmatio inflates only as far as it
// needs and never reaches the stream's checksum, so corrupt compressed data would otherwise be
// read as if it were signal; inflating to the end here makes zlib verify it.
bool inflates_completely(const unsigned char* p, size_t n, std::string& why) {
  z_stream z{};
  if (inflateInit(&z) != Z_OK) {
    why = "zlib init failed";
    return false;
  }
  unsigned char sink[1 << 16];
  z.next_in = const_cast<unsigned char*>(p);
  z.avail_in = static_cast<uInt>(n);
  int rc = Z_OK;
  while (rc == Z_OK) {
    z.next_out = sink;
    z.avail_out = sizeof sink;
    rc = inflate(&z, Z_NO_FLUSH);
    if (rc == Z_BUF_ERROR && z.avail_in == 0) break;  // input ended before the stream did
  }
  if (rc != Z_STREAM_END) why = z.msg != nullptr ? z.msg : "stream ends early";
  inflateEnd(&z);
  return rc == Z_STREAM_END;
}

// Throws Error(path, ...) unless `path` is a well-formed v5 file or carries a v7.3 header (HDF5,
// which libmatio validates itself).
MatKind validate_mat_file(const std::string& path) {
  const std::string bytes = read_file(path);  // throws "cannot open file"
  const auto* b = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t size = bytes.size();
  if (size < 6 || std::memcmp(b, "MATLAB", 6) != 0) {
    throw Error(path, "not a MAT-file (no \"MATLAB\" header)");
  }
  if (size < kHeaderBytes) {
    throw Error(path, "truncated MAT-file (header is " + std::to_string(size) +
                          " bytes, expected " + std::to_string(kHeaderBytes) + ")");
  }
  bool swap;
  if (b[126] == 'I' && b[127] == 'M') {
    swap = false;
  } else if (b[126] == 'M' && b[127] == 'I') {
    swap = true;
  } else {
    throw Error(path, "not a MAT-file (bad endian indicator)");
  }
  uint16_t version;
  std::memcpy(&version, b + 124, 2);
  if (swap) version = __builtin_bswap16(version);
  if (version == 0x0200) return MatKind::kV73;
  if (version != 0x0100)
    throw Error(path, "unsupported MAT-file version " + std::to_string(version));

  size_t off = kHeaderBytes;
  if (off == size) throw Error(path, "MAT-file holds no variables");
  while (off < size) {
    if (size - off < 8) {
      throw Error(path,
                  "truncated MAT-file (partial element tag at byte " + std::to_string(off) + ")");
    }
    const uint32_t type = read_u32(b + off, swap);
    const uint64_t nbytes = read_u32(b + off + 4, swap);
    if (type != kMiMatrix && type != kMiCompressed) {
      throw Error(path, "not a MAT-file (unexpected element type " + std::to_string(type) +
                            " at byte " + std::to_string(off) + ")");
    }
    uint64_t total = 8 + nbytes;
    if (type == kMiMatrix) total = (total + 7) / 8 * 8;
    // The last element may omit its padding; what it cannot omit is payload.
    if (8 + nbytes > size - off) {
      throw Error(path, "truncated MAT-file (element at byte " + std::to_string(off) + " needs " +
                            std::to_string(8 + nbytes) + " bytes, " + std::to_string(size - off) +
                            " remain)");
    }
    std::string why;
    if (type == kMiCompressed && !inflates_completely(b + off + 8, nbytes, why)) {
      throw Error(path, "corrupt MAT-file (compressed element at byte " + std::to_string(off) +
                            ": " + why + ")");
    }
    off += std::min<uint64_t>(total, size - off);
  }
  return MatKind::kV5;
}

// ---------------------------------------------------------------------------- conversion

template <typename T>
void convert(const void* src, size_t n, std::vector<double>& out) {
  const T* p = static_cast<const T*>(src);
  out.resize(n);
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<double>(p[i]);
}

bool convert_numeric(const matvar_t* v, size_t n, std::vector<double>& out) {
  switch (v->class_type) {
    case MAT_C_DOUBLE:
      convert<double>(v->data, n, out);
      return true;
    case MAT_C_SINGLE:
      convert<float>(v->data, n, out);
      return true;
    case MAT_C_INT8:
      convert<int8_t>(v->data, n, out);
      return true;
    case MAT_C_UINT8:
      convert<uint8_t>(v->data, n, out);
      return true;
    case MAT_C_INT16:
      convert<int16_t>(v->data, n, out);
      return true;
    case MAT_C_UINT16:
      convert<uint16_t>(v->data, n, out);
      return true;
    case MAT_C_INT32:
      convert<int32_t>(v->data, n, out);
      return true;
    case MAT_C_UINT32:
      convert<uint32_t>(v->data, n, out);
      return true;
    case MAT_C_INT64:
      convert<int64_t>(v->data, n, out);
      return true;
    case MAT_C_UINT64:
      convert<uint64_t>(v->data, n, out);
      return true;
    default:
      return false;
  }
}

size_t element_bytes(matio_classes c) {
  switch (c) {
    case MAT_C_DOUBLE:
    case MAT_C_INT64:
    case MAT_C_UINT64:
      return 8;
    case MAT_C_SINGLE:
    case MAT_C_INT32:
    case MAT_C_UINT32:
      return 4;
    case MAT_C_INT16:
    case MAT_C_UINT16:
      return 2;
    case MAT_C_INT8:
    case MAT_C_UINT8:
      return 1;
    default:
      return 0;
  }
}

struct VarDeleter {
  void operator()(matvar_t* v) const { Mat_VarFree(v); }
};
using VarPtr = std::unique_ptr<matvar_t, VarDeleter>;

}  // namespace

// ---------------------------------------------------------------------------- MatFile

struct MatFile::Impl {
  mat_t* mat = nullptr;
};

std::string MatArray::shape() const {
  return std::to_string(rows) + "x" + std::to_string(cols);
}

MatFile::MatFile(const std::string& path) : path_(path), impl_(std::make_unique<Impl>()) {
  install_matio_log();
  validate_mat_file(path);
  take_matio_message();
  impl_->mat = Mat_Open(path.c_str(), MAT_ACC_RDONLY);
  if (impl_->mat == nullptr) {
    const std::string why = take_matio_message();
    throw Error(path, "not a readable MAT-file" + (why.empty() ? "" : " (" + why + ")"));
  }
  // List the variables once; a failure here means a corrupt element libmatio cannot parse.
  while (matvar_t* info = Mat_VarReadNextInfo(impl_->mat)) {
    if (info->name != nullptr) names_.emplace_back(info->name);
    Mat_VarFree(info);
  }
  const std::string why = take_matio_message();
  Mat_Rewind(impl_->mat);
  if (!why.empty()) {
    Mat_Close(impl_->mat);
    impl_->mat = nullptr;
    throw Error(path, "corrupt MAT-file (" + why + ")");
  }
}

MatFile::~MatFile() {
  if (impl_ && impl_->mat != nullptr) Mat_Close(impl_->mat);
}

bool MatFile::has(const std::string& name) const {
  return std::find(names_.begin(), names_.end(), name) != names_.end();
}

MatArray MatFile::read(const std::string& name) const {
  if (!has(name)) throw Error(path_, "missing variable '" + name + "'");
  take_matio_message();
  VarPtr v(Mat_VarRead(impl_->mat, name.c_str()));
  const std::string why = take_matio_message();
  if (!v) {
    throw Error(path_,
                "cannot read variable '" + name + "'" + (why.empty() ? "" : " (" + why + ")"));
  }
  const size_t elem = element_bytes(v->class_type);
  if (elem == 0 || v->isComplex) {
    throw Error(path_, "variable '" + name + "' is not a real numeric array");
  }
  if (v->rank != 2) {
    throw Error(path_, "variable '" + name + "' has " + std::to_string(v->rank) +
                           " dimensions, expected 2");
  }
  MatArray a;
  a.name = name;
  a.rows = v->dims[0];
  a.cols = v->dims[1];
  const size_t n = a.rows * a.cols;
  if (n > 0 && (v->data == nullptr || v->nbytes < n * elem || !why.empty())) {
    throw Error(path_,
                "cannot read variable '" + name + "'" + (why.empty() ? "" : " (" + why + ")"));
  }
  if (n > 0) convert_numeric(v.get(), n, a.data);
  return a;
}

}  // namespace ppgkd
