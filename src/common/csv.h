// The one CSV reader: dataset readers (BIDMC, `predict`'s CSV input, offline and streaming) and the
// sweep report's Cortex-M4 measurements all read CSV through it.
//
// The format: a header line naming the columns, then one record per line; fields separated by
// commas; a field that starts with a double quote may hold commas and doubled quotes ("");
// LF or CRLF line ends; a UTF-8 byte-order mark before the header is skipped; lines that are
// empty or only whitespace are skipped. A record never spans lines.
//
// Every error is an Error whose `where` names the file (or "stdin") and, for a line, the line:
//   data.csv:1: missing column 'ppg' (columns: time, pleth)
//   data.csv:7: row has 3 fields, the header has 4
//   data.csv:9: column 'ppg': 'abc' is not a number
//   data.csv:2: unterminated quoted field
//   data.csv:3: line longer than 1048576 bytes
//   data.csv: empty CSV file (no header)
#pragma once

#include <cstddef>
#include <istream>
#include <string>
#include <string_view>
#include <vector>

namespace ppgkd {

// The longest line a CSV may hold, in bytes: a stream without newlines (e.g. /dev/zero on stdin)
// stops here with an error instead of growing without limit.
constexpr size_t kCsvMaxLine = size_t{1} << 20;

// Splits one line (without its line end) into `fields` (cleared first). Throws
// Error(where, "unterminated quoted field").
void csv_split(std::string_view line, std::vector<std::string>* fields, const std::string& where);

// A numeric field: surrounding spaces ignored; empty, "nan" or "na" (any case) is NaN; otherwise a
// decimal number (from_chars, optional leading '+'). Returns false when it is not a number.
bool csv_number(std::string_view field, double* out);

// CSV read line by line from a file or a stream (stdin): the header when constructed, records
// when asked, so a stream's records are used as they arrive.
class CsvReader {
 public:
  // Opens `path`. Throws Error(path, "cannot open file") or the header's errors.
  explicit CsvReader(const std::string& path);
  // Reads from `in`, calling it `where` in errors. Throws Error(where, "empty CSV file (no
  // header)") when `in` holds no header line.
  CsvReader(std::istream& in, std::string where);

  const std::string& where() const { return where_; }
  // Column names in file order, surrounding whitespace removed.
  const std::vector<std::string>& header() const { return header_; }
  // The index of the column named `name` (case-insensitive), or -1.
  int find(std::string_view name) const;
  // find(name), or Error("where:1", "missing column 'NAME' (columns: a, b, ...)").
  int require(std::string_view name) const;

  // Reads the next non-blank record; false at the end of the input. Throws Error("where:line",
  // ...) on a ragged row (its field count differs from the header's), an unterminated quote or
  // an overlong line.
  bool next();
  // The current record's line number (the header is line 1).
  size_t line() const { return line_; }
  // "where:line" of the current record.
  std::string at() const;
  // Field `col` of the current record, as written (quotes resolved).
  const std::string& field(int col) const { return fields_.at(static_cast<size_t>(col)); }
  // Field `col` as a number (csv_number); Error(at(), "column 'NAME': 'TEXT' is not a number").
  double number(int col) const;

 private:
  void read_header();
  bool read_line(std::string* line);  // false at the end; counts lines; bounds their length

  std::istream* in_ = nullptr;  // a stream, or null for a file read whole into text_
  std::string text_;
  size_t pos_ = 0;  // in text_
  std::string where_;
  std::vector<std::string> header_;
  std::vector<std::string> fields_;
  std::string buf_;
  size_t line_ = 0;
};

// Numeric columns of a whole CSV file, by name.
struct CsvColumns {
  std::vector<std::string> header;           // column names, in file order
  std::vector<std::vector<double>> columns;  // one per wanted name; empty when optional + absent
  size_t rows = 0;
};

// Reads `path` and the columns `wanted` (required[i]: a missing column is an error) as numbers;
// the other columns are only checked for being there (no ragged rows). Throws as CsvReader does.
CsvColumns read_csv_columns(const std::string& path, const std::vector<std::string>& wanted,
                            const std::vector<bool>& required);

}  // namespace ppgkd
