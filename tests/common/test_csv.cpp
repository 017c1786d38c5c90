// The CSV reader (common/csv.h) on hand-written text: values known by construction, NaN cells,
// quoted fields, missing optional columns, CRLF, a byte-order mark, a stream read record by
// record, and one error per kind with its exact file:line message.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <functional>
#include <sstream>

#include "common/csv.h"
#include "common/error.h"
#include "test_util.h"

namespace ppgkd {
namespace {

std::string write_text(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

// The message of the Error `f` throws, with `path` shown as "F"; "(no error)" when none.
std::string error_of(const std::function<void()>& f, const std::string& path = "") {
  try {
    f();
  } catch (const Error& e) {
    std::string msg = e.what();
    if (!path.empty() && msg.rfind(path, 0) == 0) msg = "F" + msg.substr(path.size());
    return msg;
  }
  return "(no error)";
}

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> f;
  csv_split(line, &f, "L");
  return f;
}

// ---------------------------------------------------------------------------- fields

TEST(CsvSplit, PlainAndQuotedFields) {
  EXPECT_EQ(split("a,b,,c"), (std::vector<std::string>{"a", "b", "", "c"}));
  EXPECT_EQ(split(""), (std::vector<std::string>{""}));
  EXPECT_EQ(split(","), (std::vector<std::string>{"", ""}));
  // A quoted field holds commas and doubled quotes; spaces before its opening quote are dropped.
  EXPECT_EQ(split("\"x,y\",\"say \"\"hi\"\"\", \"z\""),
            (std::vector<std::string>{"x,y", "say \"hi\"", "z"}));
  // A quote inside an unquoted field is an ordinary character.
  EXPECT_EQ(split("5\"6,a"), (std::vector<std::string>{"5\"6", "a"}));
  EXPECT_EQ(error_of([] { split("a,\"b,c"); }), "L: unterminated quoted field");
}

TEST(CsvNumber, DecimalNumbersAndMissingCells) {
  double v = 0;
  ASSERT_TRUE(csv_number(" 1.5 ", &v));
  EXPECT_EQ(v, 1.5);
  ASSERT_TRUE(csv_number("+2e-1", &v));
  EXPECT_EQ(v, 0.2);
  ASSERT_TRUE(csv_number("-7", &v));
  EXPECT_EQ(v, -7.0);
  for (const char* missing : {"", "  ", "nan", "NaN", "NA", "na"}) {
    v = 0;
    ASSERT_TRUE(csv_number(missing, &v)) << missing;
    EXPECT_TRUE(std::isnan(v)) << missing;
  }
  for (const char* bad : {"abc", "1.5x", "1,5", "--1", "0x10"})
    EXPECT_FALSE(csv_number(bad, &v)) << bad;
}

// ---------------------------------------------------------------------------- whole files

TEST(CsvColumnsTest, KnownValuesNanCellsAndAnOptionalColumn) {
  const std::string dir = testing::scratch_dir();
  // The columns found by stripped, case-insensitive name, in any order; "extra" is not wanted.
  const std::string path = write_text(dir + "/a.csv",
                                      " Time [s], PPG ,extra\n"
                                      "0,1.25,x\n"
                                      "0.5,,y\n"
                                      "1.0,NaN,z\n"
                                      "\n"
                                      "1.5,-3,w\n");
  const CsvColumns c = read_csv_columns(path, {"ppg", "time [s]", "acc_x"}, {true, true, false});
  EXPECT_EQ(c.header, (std::vector<std::string>{"Time [s]", "PPG", "extra"}));
  EXPECT_EQ(c.rows, 4u);
  ASSERT_EQ(c.columns[0].size(), 4u);
  EXPECT_EQ(c.columns[0][0], 1.25);
  EXPECT_TRUE(std::isnan(c.columns[0][1]));
  EXPECT_TRUE(std::isnan(c.columns[0][2]));
  EXPECT_EQ(c.columns[0][3], -3.0);
  EXPECT_EQ(c.columns[1], (std::vector<double>{0, 0.5, 1.0, 1.5}));
  EXPECT_TRUE(c.columns[2].empty());  // optional and absent
}

TEST(CsvColumnsTest, CrlfBomAndQuotedHeader) {
  const std::string dir = testing::scratch_dir();
  const std::string path = write_text(
      dir + "/b.csv", "\xEF\xBB\xBF\"ppg\",\"note, with comma\"\r\n4,\"a,b\"\r\n\r\n5,c\r\n");
  const CsvColumns c = read_csv_columns(path, {"ppg"}, {true});
  EXPECT_EQ(c.header, (std::vector<std::string>{"ppg", "note, with comma"}));
  EXPECT_EQ(c.columns[0], (std::vector<double>{4, 5}));
}

TEST(CsvColumnsTest, OneErrorPerKindNamesFileAndLine) {
  const std::string dir = testing::scratch_dir();
  auto err = [&](const std::string& text, const std::vector<std::string>& wanted) {
    const std::string path = write_text(dir + "/e.csv", text);
    return error_of([&] { read_csv_columns(path, wanted, std::vector<bool>(wanted.size(), true)); },
                    path);
  };
  EXPECT_EQ(err("time,pleth\n0,1\n", {"ppg"}), "F:1: missing column 'ppg' (columns: time, pleth)");
  EXPECT_EQ(err("a,b\n1,2\n3\n", {"a"}), "F:3: row has 1 fields, the header has 2");
  EXPECT_EQ(err("a,b\n1,2\n3,4,5\n", {"a"}), "F:3: row has 3 fields, the header has 2");
  EXPECT_EQ(err("a,b\n1,2\n\n3,x7\n", {"a", "b"}), "F:4: column 'b': 'x7' is not a number");
  EXPECT_EQ(err("a,b\n1,\"2\n", {"a"}), "F:2: unterminated quoted field");
  EXPECT_EQ(err("", {"a"}), "F: empty CSV file (no header)");
  EXPECT_EQ(err("a\n" + std::string(kCsvMaxLine + 1, '1') + "\n", {"a"}),
            "F:2: line longer than 1048576 bytes");
  EXPECT_EQ(
      error_of([&] { read_csv_columns(dir + "/absent.csv", {"a"}, {true}); }, dir + "/absent.csv"),
      "F: cannot open file");
}

// ---------------------------------------------------------------------------- streams

TEST(CsvReaderTest, AStreamIsReadRecordByRecord) {
  std::istringstream in("ppg,acc_x\n1,2\r\n  \nnan,4\n5,6");  // no newline after the last record
  CsvReader csv(in, "stdin");
  EXPECT_EQ(csv.find("PPG"), 0);
  EXPECT_EQ(csv.find("acc_y"), -1);
  EXPECT_EQ(csv.require("acc_x"), 1);
  ASSERT_TRUE(csv.next());
  EXPECT_EQ(csv.line(), 2u);
  EXPECT_EQ(csv.number(0), 1.0);
  EXPECT_EQ(csv.field(1), "2");
  ASSERT_TRUE(csv.next());
  EXPECT_EQ(csv.line(), 4u);  // line 3 is blank
  EXPECT_TRUE(std::isnan(csv.number(0)));
  ASSERT_TRUE(csv.next());
  EXPECT_EQ(csv.at(), "stdin:5");
  EXPECT_EQ(csv.number(1), 6.0);
  EXPECT_FALSE(csv.next());
  std::istringstream empty("");
  EXPECT_EQ(error_of([&] { CsvReader r(empty, "stdin"); }), "stdin: empty CSV file (no header)");
  // A stream without a newline stops at the bound instead of growing.
  std::istringstream endless("ppg\n" + std::string(kCsvMaxLine + 10, '0'));
  CsvReader r(endless, "stdin");
  EXPECT_EQ(error_of([&] { r.next(); }), "stdin:2: line longer than 1048576 bytes");
}

}  // namespace
}  // namespace ppgkd
