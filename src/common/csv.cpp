// The CSV reader (see csv.h). Sections: fields, the reader, whole-file numeric columns.
#include "common/csv.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>
#include <limits>
#include <streambuf>
#include <utility>

#include "common/error.h"

namespace ppgkd {

// ---------------------------------------------------------------------------- fields

namespace {

bool is_space(char c) {
  return std::isspace(static_cast<unsigned char>(c)) != 0;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

}  // namespace

namespace {

// csv_split without the error: false on an unterminated quote (the caller names the place, so a
// reader builds "file:line" only when it is needed).
bool split_fields(std::string_view line, std::vector<std::string>* fields) {
  // The strings of `fields` are reused (cleared, not destroyed): a reader splits every line into
  // the same vector, so their buffers are allocated once.
  size_t k = 0;
  auto next_field = [&]() -> std::string& {
    if (k == fields->size()) fields->emplace_back();
    std::string& f = (*fields)[k++];
    f.clear();
    return f;
  };
  if (line.find('"') == std::string_view::npos) {  // the common case: no quotes at all
    for (;;) {
      const size_t comma = line.find(',');
      next_field().assign(line.substr(0, comma));
      if (comma == std::string_view::npos) break;
      line.remove_prefix(comma + 1);
    }
    fields->resize(k);
    return true;
  }
  std::string* f = &next_field();
  bool quoted = false, was_quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char ch = line[i];
    if (quoted) {
      if (ch != '"') {
        *f += ch;
      } else if (i + 1 < line.size() && line[i + 1] == '"') {
        *f += '"';
        ++i;
      } else {
        quoted = false;
      }
    } else if (ch == ',') {
      f = &next_field();
      was_quoted = false;
    } else if (ch == '"' && !was_quoted && trim(*f).empty()) {
      f->clear();  // spaces before an opening quote are not part of the field
      quoted = was_quoted = true;
    } else {
      *f += ch;
    }
  }
  fields->resize(k);
  return !quoted;
}

}  // namespace

void csv_split(std::string_view line, std::vector<std::string>* fields, const std::string& where) {
  if (!split_fields(line, fields)) throw Error(where, "unterminated quoted field");
}

bool csv_number(std::string_view field, double* out) {
  field = trim(field);
  if (field.empty() || iequals(field, "nan") || iequals(field, "na")) {
    *out = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  if (field.front() == '+') field.remove_prefix(1);
  const auto res = std::from_chars(field.data(), field.data() + field.size(), *out);
  return res.ec == std::errc() && res.ptr == field.data() + field.size();
}

// ---------------------------------------------------------------------------- the reader

CsvReader::CsvReader(const std::string& path) : where_(path) {
  // A file is read whole (BIDMC: 53 files of 60k lines); lines are then cut out of it in place.
  std::ifstream file(path, std::ios::binary);
  if (!file) throw Error(path, "cannot open file");
  file.seekg(0, std::ios::end);
  const std::streamoff size = file.tellg();
  file.seekg(0, std::ios::beg);
  if (size < 0) throw Error(path, "cannot read file");
  text_.resize(static_cast<size_t>(size));
  if (!file.read(text_.data(), size)) throw Error(path, "read failed");
  read_header();
}

CsvReader::CsvReader(std::istream& in, std::string where) : in_(&in), where_(std::move(where)) {
  read_header();
}

void CsvReader::read_header() {
  std::string line;
  if (!read_line(&line)) throw Error(where_, "empty CSV file (no header)");
  if (!split_fields(line, &header_)) throw Error(at(), "unterminated quoted field");
  for (auto& h : header_) h = std::string(trim(h));
}

bool CsvReader::read_line(std::string* line) {
  line->clear();
  if (!in_) {  // a file, in memory
    if (pos_ >= text_.size()) return false;
    ++line_;
    const size_t nl = text_.find('\n', pos_);
    const size_t end = nl == std::string::npos ? text_.size() : nl;
    if (end - pos_ > kCsvMaxLine)
      throw Error(at(), "line longer than " + std::to_string(kCsvMaxLine) + " bytes");
    line->assign(text_, pos_, end - pos_);
    pos_ = end + 1;
  } else {  // a stream: a character at a time, so a line is used as soon as it has arrived
    std::streambuf* sb = in_->rdbuf();
    int c = sb->sbumpc();
    if (c == std::char_traits<char>::eof()) return false;
    ++line_;
    while (c != std::char_traits<char>::eof() && c != '\n') {
      if (line->size() == kCsvMaxLine)
        throw Error(at(), "line longer than " + std::to_string(kCsvMaxLine) + " bytes");
      line->push_back(static_cast<char>(c));
      c = sb->sbumpc();
    }
  }
  if (!line->empty() && line->back() == '\r') line->pop_back();
  if (line_ == 1 && line->compare(0, 3, "\xEF\xBB\xBF") == 0) line->erase(0, 3);  // UTF-8 BOM
  return true;
}

std::string CsvReader::at() const {
  return where_ + ":" + std::to_string(line_);
}

int CsvReader::find(std::string_view name) const {
  for (size_t i = 0; i < header_.size(); ++i)
    if (iequals(header_[i], name)) return static_cast<int>(i);
  return -1;
}

int CsvReader::require(std::string_view name) const {
  const int c = find(name);
  if (c >= 0) return c;
  std::string list;
  for (const auto& h : header_) list += (list.empty() ? "" : ", ") + h;
  throw Error(where_ + ":1", "missing column '" + std::string(name) + "' (columns: " + list + ")");
}

bool CsvReader::next() {
  do {
    if (!read_line(&buf_)) return false;
  } while (trim(buf_).empty());
  if (!split_fields(buf_, &fields_)) throw Error(at(), "unterminated quoted field");
  if (fields_.size() != header_.size())
    throw Error(at(), "row has " + std::to_string(fields_.size()) + " fields, the header has " +
                          std::to_string(header_.size()));
  return true;
}

double CsvReader::number(int col) const {
  double v;
  const std::string& f = field(col);
  if (!csv_number(f, &v))
    throw Error(at(), "column '" + header_.at(static_cast<size_t>(col)) + "': '" +
                          std::string(trim(f)) + "' is not a number");
  return v;
}

// ---------------------------------------------------------------------------- numeric columns

CsvColumns read_csv_columns(const std::string& path, const std::vector<std::string>& wanted,
                            const std::vector<bool>& required) {
  CsvReader csv(path);
  CsvColumns out;
  out.header = csv.header();
  out.columns.resize(wanted.size());
  std::vector<int> col(wanted.size());
  for (size_t w = 0; w < wanted.size(); ++w)
    col[w] = required.at(w) ? csv.require(wanted[w]) : csv.find(wanted[w]);
  while (csv.next()) {
    for (size_t w = 0; w < wanted.size(); ++w)
      if (col[w] >= 0) out.columns[w].push_back(csv.number(col[w]));
    ++out.rows;
  }
  return out;
}

}  // namespace ppgkd
