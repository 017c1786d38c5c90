# The Python bench scripts on bad input (run by CTest as
# `cmake -DPYTHON=... -DBENCH=... -DPPGKD=... -DWORK=... -P`): each stops with exit status 1 and
# one stderr line naming what is wrong, never a traceback.
#   1. teacher_phases.py with no ppgkd binary at the given path: the path
#   2. teacher_phases.py on an empty folder as a model dir: the command and ppgkd's error
#   3. spc_early_misses.py with no CV folder: the missing fold-0/model.json
#   4. spc_early_misses.py on a label file that is not a MAT-file: the file and the variable
#   5. miss_ratios.py on a folder without teacher_phases.py's reports: the folder
cmake_minimum_required(VERSION 3.19)

include("${CMAKE_CURRENT_LIST_DIR}/expect.cmake")

file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}/not-a-model")

# 1. No binary.
execute_process(COMMAND "${PYTHON}" "${BENCH}/teacher_phases.py" "${WORK}/no-ppgkd" "${WORK}/data"
                        "${WORK}/out" "${WORK}/not-a-model"
                RESULT_VARIABLE rc ERROR_VARIABLE err)
expect_eq("no binary: exit status" "${rc}" "1")
expect_eq("no binary: stderr" "${err}"
  "teacher_phases: ${WORK}/no-ppgkd: No such file or directory\n")

# 2. Not a model dir.
execute_process(COMMAND "${PYTHON}" "${BENCH}/teacher_phases.py" "${PPGKD}" "${WORK}/data"
                        "${WORK}/out" "${WORK}/not-a-model"
                RESULT_VARIABLE rc ERROR_VARIABLE err)
expect_eq("not a model dir: exit status" "${rc}" "1")
expect_eq("not a model dir: stderr" "${err}"
  "teacher_phases: ${PPGKD} validate --model ${WORK}/not-a-model failed (exit 1): ppgkd: error: ${WORK}/not-a-model/model.json: cannot open file\n")

# 3. No CV folder.
file(MAKE_DIRECTORY "${WORK}/spc")
execute_process(COMMAND "${PYTHON}" "${BENCH}/spc_early_misses.py" "${PPGKD}" "${WORK}/spc"
                        "${WORK}/no-cv"
                RESULT_VARIABLE rc ERROR_VARIABLE err)
expect_eq("no CV folder: exit status" "${rc}" "1")
expect_eq("no CV folder: stderr" "${err}"
  "spc_early_misses: ${WORK}/no-cv/fold-0/model.json: No such file or directory\n")

# 4. A label file that is not a MAT-file (the CV folds hold the recording's subject).
foreach(f 0 1 2 3)
  file(WRITE "${WORK}/cv/fold-${f}/model.json"
       "{\"split\": {\"test_subjects\": [\"spc2015/train01\"]}}")
endforeach()
file(WRITE "${WORK}/spc/DATA_01_TYPE01.mat" "not a MAT-file at all")
file(WRITE "${WORK}/spc/DATA_01_TYPE01_BPMtrace.mat" "not a MAT-file at all")
execute_process(COMMAND "${PYTHON}" "${BENCH}/spc_early_misses.py" "${PPGKD}" "${WORK}/spc"
                        "${WORK}/cv"
                RESULT_VARIABLE rc ERROR_VARIABLE err)
expect_eq("junk labels: exit status" "${rc}" "1")
expect_eq("junk labels: stderr" "${err}"
  "spc_early_misses: ${WORK}/spc/DATA_01_TYPE01_BPMtrace.mat: no variable 'BPM0'\n")

# 5. No per-window reports.
execute_process(COMMAND "${PYTHON}" "${BENCH}/miss_ratios.py" "${WORK}/not-a-model"
                RESULT_VARIABLE rc ERROR_VARIABLE err)
expect_eq("no reports: exit status" "${rc}" "1")
expect_eq("no reports: stderr" "${err}"
  "miss_ratios: ${WORK}/not-a-model: no <n>-window/plots/bland_altman.dat (run bench/teacher_phases.py first)\n")
