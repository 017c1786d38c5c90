// The sweep report's memory table joined to Cortex-M4 measurements (bench/m4_ladder.sh's CSV): a
// tiny store written through Store, a hand-written CSV, and the cells expected from it by hand.
// Malformed CSVs are errors naming the file and line.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "analysis/sweep_report.h"
#include "common/atomic_file.h"
#include "common/error.h"
#include "sweep/run_result.h"
#include "sweep/store.h"
#include "test_util.h"

namespace ppgkd {
namespace {

namespace fs = std::filesystem;

struct Student {
  std::string family, model, spec;
  int64_t params;
};

// A finished sweep of scratch students, one run each, in DIR/sweep.db.
void write_tiny_sweep(const std::string& dir, const std::vector<Student>& students) {
  Store store(dir + "/sweep.db");
  std::vector<PlannedRun> runs;
  for (size_t i = 0; i < students.size(); ++i) {
    PlannedRun r;
    r.index = i;
    r.key = "00000000000000a" + std::to_string(i);
    r.kind = "student";
    r.model = students[i].model;
    r.family = students[i].family;
    r.strategy = "none";
    r.config = nlohmann::json::object();
    runs.push_back(r);
  }
  store.sync_plan("tinyplan", nlohmann::json::object(), runs);
  for (size_t i = 0; i < students.size(); ++i) {
    const auto& s = students[i];
    const double mae = 5.0 + static_cast<double>(i);
    const nlohmann::json mj =
        testing::run_result_json(s.spec, s.params, 10 * s.params, 4 * s.params,
                                 {{"mae_bpm", mae}, {"subject_mae_bpm", {{"syn/s0", mae}}}});
    ASSERT_TRUE(store.claim(runs[i].key, 1, "host", "test", 0.0));
    store.mark_done(runs[i].key, mj, 1.0, 1.0, "test");
  }
}

const std::string kHeader =
    "rung,spec,quant,params,macs,weight_bytes,blob_bytes,arena_bytes,fits,text,data,bss,"
    "stack_bytes,instr_per_inference,instr_min,instr_max,instr_per_mac,host_m4_logits_equal,"
    "host_m4_bpm_conf_equal,note\n";

// r1 measured in both quantisations; m1's f32 image does not fit; rx is not measured at all.
const std::string kCsv =
    kHeader +
    "r1,\"resnet1d:stem=3,stages=3-3-4-4-4,blocks=1,k=3\",f32,1481,34076,5708,10704,8000,yes,"
    "21472,1076,11200,776,733293,733280,733320,21.52,3/3,3/3,\"\"\n"
    "r1,\"resnet1d:stem=3,stages=3-3-4-4-4,blocks=1,k=3\",int8,1481,34076,2136,10560,2000,yes,"
    "21328,1076,5200,792,1215227,1214320,1216560,35.66,3/3,3/3,\"\"\n"
    "m1,\"mlp:hidden=4\",f32,4104,3920,16416,4500000,3216,no,,,,,,,,,,,"
    "\"blob 4,500,000 B > 4 MiB flash\"\n"
    "m1,\"mlp:hidden=4\",int8,4104,3920,4656,6900,804,yes,17668,1076,4008,672,81600,81320,81800,"
    "20.82,3/3,3/3,\"\"\n";

const std::vector<Student> kStudents = {
    {"resnet", "r1", "resnet1d:stem=3,stages=3-3-4-4-4,blocks=1,k=3", 1481},
    {"resnet", "rx", "resnet1d:stem=5,stages=5,blocks=1,k=3", 500},
    {"mlp", "m1", "mlp:hidden=4", 4104},
};

bool contains(const std::string& text, const std::string& line) {
  return text.find(line) != std::string::npos;
}

TEST(SweepReportM4, JoinsTheCsvByCanonicalSpec) {
  const auto dir = testing::scratch_dir();
  write_tiny_sweep(dir, kStudents);
  write_file_atomic(dir + "/m4.csv", kCsv);
  ReportOptions o;
  o.n_boot = 10;
  o.plots = false;
  o.edge_csv = dir + "/m4.csv";
  const auto md = read_file(write_sweep_report(dir, o));
  EXPECT_TRUE(contains(md, "2 of 3 students measured")) << md;
  EXPECT_TRUE(contains(md,
                       "| family | model | params | MACs/window | float32 bytes | int8 bytes | "
                       "int8 blob B | int8 flash B | int8 RAM B | int8 arena B | "
                       "int8 M4 instructions | f32 flash B | f32 RAM B | f32 M4 instructions |\n"))
      << md;
  // flash = text + data, RAM = bss + stack; int8 bytes = the CSV's int8 weight_bytes.
  EXPECT_TRUE(contains(md,
                       "| mlp | m1 | 4104 | 41040 | 16416 | 4656 (exact) | 6900 | 18744 | 4680 | "
                       "804 | 81600 | does not fit | - | - |\n"))
      << md;
  // Not in the CSV: "-" cells, the approximate int8 bytes (500 + 4 * (180 + 5 + 2 * 5)).
  EXPECT_TRUE(contains(md,
                       "| resnet | rx | 500 | 5000 | 2000 | 1280 (approx.) | - | - | - | - | "
                       "- | - | - | - |\n"))
      << md;
  EXPECT_TRUE(
      contains(md,
               "| resnet | r1 | 1481 | 14810 | 5924 | 2136 (exact) | 10560 | 22404 | 5992 | "
               "2000 | 1215227 | 22548 | 11976 | 733293 |\n"))
      << md;
  EXPECT_FALSE(contains(md, "| edge |")) << md;

  const auto mem = read_file(dir + "/report/memory.csv");
  EXPECT_EQ(mem,
            "family,model,spec,params,macs_per_window,bytes_f32,bytes_int8,bytes_int8_exact,"
            "int8_m4_rung,int8_fits,int8_blob_bytes,int8_flash_bytes,int8_ram_bytes,"
            "int8_arena_bytes,int8_instr_per_inference,f32_m4_rung,f32_fits,f32_blob_bytes,"
            "f32_flash_bytes,f32_ram_bytes,f32_arena_bytes,f32_instr_per_inference\n"
            "mlp,m1,mlp:hidden=4,4104,41040,16416,4656,1,m1,yes,6900,18744,4680,804,81600,"
            "m1,no,4500000,,,3216,\n"
            "resnet,rx,\"resnet1d:stem=5,stages=5,blocks=1,k=3\",500,5000,2000,1280,0,,,,,,,,,,,,,"
            ",\n"
            "resnet,r1,\"resnet1d:stem=3,stages=3-3-4-4-4,blocks=1,k=3\",1481,14810,5924,2136,1,"
            "r1,yes,10560,22404,5992,2000,1215227,r1,yes,10704,22548,11976,8000,733293\n");
}

TEST(SweepReportM4, WithoutTheCsvTheTableIsTheApproximation) {
  const auto dir = testing::scratch_dir();
  write_tiny_sweep(dir, kStudents);
  ReportOptions o;
  o.n_boot = 10;
  o.plots = false;
  const auto md = read_file(write_sweep_report(dir, o));
  EXPECT_TRUE(contains(md,
                       "| family | model | params | MACs/window | float32 bytes | int8 bytes |\n"
                       "|---|---|---:|---:|---:|---:|\n"
                       "| mlp | m1 | 4104 | 41040 | 16416 | 4840 |\n"
                       "| resnet | rx | 500 | 5000 | 2000 | 1280 |\n"))
      << md;
  EXPECT_EQ(read_file(dir + "/report/memory.csv"),
            "family,model,spec,params,macs_per_window,bytes_f32,bytes_int8_approx\n"
            "mlp,m1,mlp:hidden=4,4104,41040,16416,4840\n"
            "resnet,rx,\"resnet1d:stem=5,stages=5,blocks=1,k=3\",500,5000,2000,1280\n"
            "resnet,r1,\"resnet1d:stem=3,stages=3-3-4-4-4,blocks=1,k=3\",1481,14810,5924,2417\n");
}

TEST(SweepReportM4, ReadsTheBenchCsv) {
  const auto dir = testing::scratch_dir();
  write_file_atomic(dir + "/m4.csv", kCsv);
  const auto t = read_m4_csv(dir + "/m4.csv");
  ASSERT_EQ(t.size(), 2u);
  const auto& m1 = t.at("mlp:hidden=4");
  ASSERT_TRUE(m1.f32 && m1.int8);
  EXPECT_EQ(m1.f32->fits, "no");
  EXPECT_EQ(m1.f32->blob_bytes, 4500000);
  EXPECT_EQ(m1.f32->flash_bytes, -1);
  EXPECT_EQ(m1.f32->ram_bytes, -1);
  EXPECT_EQ(m1.f32->instr_per_inference, -1);
  EXPECT_EQ(m1.int8->rung, "m1");
  EXPECT_EQ(m1.int8->weight_bytes, 4656);
  EXPECT_EQ(m1.int8->flash_bytes, 17668 + 1076);
  EXPECT_EQ(m1.int8->ram_bytes, 4008 + 672);
  EXPECT_EQ(m1.int8->arena_bytes, 804);
  EXPECT_EQ(m1.int8->instr_per_inference, 81600);
}

// The message of the Error that read_m4_csv throws on `text`, with the file's path as "F".
std::string csv_error(const std::string& text) {
  const auto dir = testing::scratch_dir();
  const std::string path = dir + "/bad.csv";
  write_file_atomic(path, text);
  try {
    read_m4_csv(path);
  } catch (const Error& e) {
    std::string msg = e.what();
    if (msg.rfind(path, 0) == 0) msg = "F" + msg.substr(path.size());
    return msg;
  }
  return "(no error)";
}

const std::string kR1 =
    "r1,\"resnet1d:stem=3,stages=3-3-4-4-4,blocks=1,k=3\",int8,1481,34076,2136,10560,2000,yes,"
    "21328,1076,5200,792,1215227,1214320,1216560,35.66,3/3,3/3,\"\"\n";

TEST(SweepReportM4, MalformedCsvsAreErrorsWithFileAndLine) {
  EXPECT_EQ(csv_error("rung,spec,quant,weight_bytes,blob_bytes,fits,text,data,bss,stack_bytes,"
                      "instr_per_inference\n"),
            "F:1: missing column 'arena_bytes' (columns: rung, spec, quant, weight_bytes, "
            "blob_bytes, fits, text, data, bss, stack_bytes, instr_per_inference)");
  EXPECT_EQ(csv_error(kHeader + kR1 + "r2,\"mlp:hidden=4\",int8\n"),
            "F:3: row has 3 fields, the header has 20");
  EXPECT_EQ(csv_error(kHeader + kR1 + "r2,mlp:hidden=4,int8,1,1,1,1,1,yes,12a,1,1,1,1,,,,,,\n"),
            "F:3: column 'text': '12a' is not a non-negative integer");
  EXPECT_EQ(csv_error(kHeader + "r2,mlp:hidden=4,int8,1,1,1,-5,1,yes,1,1,1,1,1,,,,,,\n"),
            "F:2: column 'blob_bytes': '-5' is not a non-negative integer");
  EXPECT_EQ(csv_error(kHeader + "r2,mlp:hidden=4,int8,1,1,1,1,1,yes,1,1,1,1,,,,,,,\n"),
            "F:2: column 'instr_per_inference' is empty");
  EXPECT_EQ(csv_error(kHeader + "r2,mlp:hidden=4,int8,1,1,1,,1,no,,,,,,,,,,,\n"),
            "F:2: column 'blob_bytes' is empty");
  EXPECT_EQ(csv_error(kHeader + "r2,mlp:hidden=4,f16,1,1,1,1,1,yes,1,1,1,1,1,,,,,,\n"),
            "F:2: column 'quant': 'f16' is not f32 or int8");
  EXPECT_EQ(csv_error(kHeader + "r2,mlp:hidden=4,int8,1,1,1,1,1,maybe,1,1,1,1,1,,,,,,\n"),
            "F:2: column 'fits': 'maybe' is not yes, no or bench");
  EXPECT_EQ(csv_error(kHeader + kR1 + kR1),
            "F:3: spec 'resnet1d:stem=3,stages=3-3-4-4-4,"
            "blocks=1,k=3' quant int8 is already on line 2");
  EXPECT_EQ(csv_error(kHeader + "r2,\"mlp:hidden=4,int8,1\n"), "F:2: unterminated quoted field");
  EXPECT_EQ(csv_error(""), "F: empty CSV file (no header)");
}

TEST(SweepReportM4, AMalformedCsvWritesNoReport) {
  const auto dir = testing::scratch_dir();
  write_tiny_sweep(dir, kStudents);
  write_file_atomic(dir + "/m4.csv", "rung,spec\n");
  ReportOptions o;
  o.plots = false;
  o.edge_csv = dir + "/m4.csv";
  EXPECT_THROW(write_sweep_report(dir, o), Error);
  EXPECT_FALSE(fs::exists(dir + "/report/report.md"));
}

}  // namespace
}  // namespace ppgkd
