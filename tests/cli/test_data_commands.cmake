# `ppgkd data windows|summary` end to end (run by CTest as `cmake -DPPGKD=... -DWORK=... -P`):
#   1. an empty folder:               exit 1, "ppgkd: error: DIR: no recordings found (...)"
#   2. a folder with a non-MAT .mat:  exit 1, the error names the file
#   3. a tiny BIDMC folder:           exit 0, the CSV written to --out equals hand-computed rows
#   4. summary on the same folder:    exit 0, the bidmc line counts 1 recording and 2 windows
#   5. --data as every command takes it (data/data_spec.h): synthetic:3, and a list pooling the
#      BIDMC folder and synthetic:3; a bad seed is refused naming the entry
#   6. summary --json on the pooled list: the same counts and the hand-computed BIDMC HR range
cmake_minimum_required(VERSION 3.19)  # string(JSON)

include("${CMAKE_CURRENT_LIST_DIR}/expect.cmake")

file(REMOVE_RECURSE "${WORK}")

# 1. Empty folder.
file(MAKE_DIRECTORY "${WORK}/empty")
execute_process(COMMAND "${PPGKD}" data windows --data "${WORK}/empty"
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
expect_eq("empty folder: exit status" "${rc}" "1")
expect_eq("empty folder: stderr" "${err}"
  "ppgkd: error: ${WORK}/empty: no recordings found (looked for IEEE SPC 2015, BAMI and BIDMC files)\n")
expect_eq("empty folder: stdout" "${out}" "")

# 2. A .mat file that is not one.
file(WRITE "${WORK}/junk/Subject_1.mat" "not a MAT-file at all")
execute_process(COMMAND "${PPGKD}" data windows --data "${WORK}/junk"
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
expect_eq("junk .mat: exit status" "${rc}" "1")
expect_eq("junk .mat: stderr" "${err}"
  "ppgkd: error: ${WORK}/junk/Subject_1.mat: not a MAT-file (no \"MATLAB\" header)\n")

# 3. BIDMC: 1250 samples at 125 Hz hold 2 windows ([0, 8) s and [2, 10) s); HR(t) = 60 + t, so
#    the labels are mean(60..67) = 63.5 and mean(62..69) = 65.5.
set(sig "Time [s], RESP, PLETH, II\n")
foreach(i RANGE 0 1249)
  math(EXPR ms "${i} * 8")
  string(APPEND sig "${ms}e-3,0.5,0.${i},0.25\n")
endforeach()
file(WRITE "${WORK}/bidmc/bidmc_01_Signals.csv" "${sig}")
set(num "Time [s], HR, PULSE, RESP, SpO2\n")
foreach(t RANGE 0 10)
  math(EXPR hr "60 + ${t}")
  string(APPEND num "${t},${hr},70,15,97\n")
endforeach()
file(WRITE "${WORK}/bidmc/bidmc_01_Numerics.csv" "${num}")
execute_process(COMMAND "${PPGKD}" data windows --data "${WORK}/bidmc" --out "${WORK}/out/windows.csv"
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
expect_eq("bidmc windows: exit status" "${rc}" "0")
expect_eq("bidmc windows: stderr" "${err}" "")
file(READ "${WORK}/out/windows.csv" csv)
expect_eq("bidmc windows: CSV" "${csv}"
"dataset,recording,subject,window,t_start_s,hr_bpm
bidmc,bidmc_01,bidmc/01,0,0,63.5
bidmc,bidmc_01,bidmc/01,1,2,65.5
")

# 4. Summary of the same folder.
execute_process(COMMAND "${PPGKD}" data summary --data "${WORK}/bidmc"
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
expect_eq("bidmc summary: exit status" "${rc}" "0")
if(NOT out MATCHES "\nbidmc +1 +1 +2 +63\\.5 +64\\.5 +65\\.5 +0\n")
  message(FATAL_ERROR "bidmc summary: unexpected output:\n${out}")
endif()
# 5. The synthetic generator: 24 subjects of one 300 s recording each, so 24 x ((300 - 8) / 2 + 1)
#    = 24 x 147 = 3528 windows; pooled with the BIDMC folder, 25 recordings and 3530 windows.
execute_process(COMMAND "${PPGKD}" data summary --data synthetic:3
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
expect_eq("synthetic summary: exit status" "${rc}" "0")
if(NOT out MATCHES "\nsynthetic +24 +24 +3528 ")
  message(FATAL_ERROR "synthetic summary: unexpected output:\n${out}${err}")
endif()
execute_process(COMMAND "${PPGKD}" data summary --data "${WORK}/bidmc,synthetic:3"
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
expect_eq("pooled summary: exit status" "${rc}" "0")
if(NOT out MATCHES "\nbidmc +1 +1 +2 .*\nsynthetic +24 +24 +3528 .*\ntotal +25 +25 +3530 ")
  message(FATAL_ERROR "pooled summary: unexpected output:\n${out}${err}")
endif()
execute_process(COMMAND "${PPGKD}" data windows --data "${WORK}/bidmc,synthetic:x"
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
expect_eq("bad seed: exit status" "${rc}" "1")
expect_eq("bad seed: stderr" "${err}"
  "ppgkd: error: synthetic:x: synthetic seed must be a non-negative integer\n")
# 6. The pooled summary as JSON: the counts of 5. and the BIDMC labels of 3. (63.5, 65.5).
execute_process(COMMAND "${PPGKD}" data summary --json --data "${WORK}/bidmc,synthetic:3"
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
expect_eq("summary --json: exit status" "${rc}" "0")
expect_eq("summary --json: stderr" "${err}" "")
function(expect_json what want)
  string(JSON got ERROR_VARIABLE jerr GET "${out}" ${ARGN})
  if(jerr)
    message(FATAL_ERROR "summary --json: ${what}: ${jerr}\n${out}")
  endif()
  expect_eq("summary --json: ${what}" "${got}" "${want}")
endfunction()
string(JSON n LENGTH "${out}" datasets)
expect_eq("summary --json: number of datasets" "${n}" "2")
expect_json("dataset 0" "bidmc" datasets 0 dataset)
expect_json("bidmc recordings" "1" datasets 0 recordings)
expect_json("bidmc subjects" "1" datasets 0 subjects)
expect_json("bidmc windows" "2" datasets 0 windows)
expect_json("bidmc hr_min" "63.5" datasets 0 hr_min)
expect_json("bidmc hr_median" "64.5" datasets 0 hr_median)
expect_json("bidmc hr_max" "65.5" datasets 0 hr_max)
expect_json("bidmc dropped" "0" datasets 0 dropped)
expect_json("dataset 1" "synthetic" datasets 1 dataset)
expect_json("synthetic recordings" "24" datasets 1 recordings)
expect_json("synthetic subjects" "24" datasets 1 subjects)
expect_json("synthetic windows" "3528" datasets 1 windows)
expect_json("total recordings" "25" total recordings)
expect_json("total subjects" "25" total subjects)
expect_json("total windows" "3530" total windows)
message(STATUS "ppgkd data commands: 6 passed")
