# Configures ppgkd in WORK with PPGKD_WITH_TORCH=OFF, builds the libtorch-free libraries, the
# torch-free ppgkd binary and the tests of those libraries, then checks that
#   - the configuration never looked for libtorch (no Torch_DIR in the cache),
#   - no link line names libtorch or c10, and no built program loads them (ldd),
#   - the tests pass,
#   - the torch-free ppgkd reports on a sweep: the sweep test driver runs an 18-run plan with the
#     fake child (whose MAEs follow a known law, tests/sweep/fake_child.cpp), then `ppgkd report`
#     writes its report and `ppgkd recommend` picks fake:3000 with DKD under 12,500 float32 bytes
#     (3,125 parameters: fake:3000 is the largest student that fits; DKD's offset is -0.5).
# Inputs: SRC (source tree), WORK (build directory, reused between runs), BUILD_TYPE.
cmake_minimum_required(VERSION 3.18)

set(programs ppgkd test_model_spec test_metrics test_validate_report test_sweep_plan_store
             test_sweep_report test_scaling_fit sweep_cli_driver fake_child)
set(tests test_model_spec test_metrics test_validate_report test_sweep_plan_store
          test_sweep_report test_scaling_fit)

function(run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${out}\n${err}")
  endif()
endfunction()

run("configure without libtorch"
    ${CMAKE_COMMAND} -S ${SRC} -B ${WORK} -DPPGKD_WITH_TORCH=OFF -DPPGKD_BUILD_TESTS=ON
    -DPPGKD_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=${BUILD_TYPE})
file(STRINGS ${WORK}/CMakeCache.txt torch_dir REGEX "^Torch_DIR:")
if(torch_dir)
  message(FATAL_ERROR "the configuration without libtorch looked for it: ${torch_dir}")
endif()

run("build without libtorch" ${CMAKE_COMMAND} --build ${WORK} -j 2 --target ${programs})

foreach(p IN LISTS programs)
  file(GLOB_RECURSE link_txt ${WORK}/link.txt)
  list(FILTER link_txt INCLUDE REGEX "/CMakeFiles/${p}\\.dir/link\\.txt$")
  list(LENGTH link_txt n)
  if(NOT n EQUAL 1)
    message(FATAL_ERROR "${p}: expected one link.txt below ${WORK}, found ${n}")
  endif()
  file(READ ${link_txt} line)
  if(line MATCHES "(libtorch|libc10|/torch/lib/|-ltorch|-lc10)")
    message(FATAL_ERROR "${p} links libtorch (${CMAKE_MATCH_1}): ${line}")
  endif()
  get_filename_component(dir ${link_txt} DIRECTORY)  # .../CMakeFiles/p.dir
  get_filename_component(dir ${dir} DIRECTORY)
  get_filename_component(dir ${dir} DIRECTORY)
  set(exe ${dir}/${p})
  if(NOT EXISTS ${exe})
    message(FATAL_ERROR "${p}: not built at ${exe}")
  endif()
  execute_process(COMMAND ldd ${exe} RESULT_VARIABLE rc OUTPUT_VARIABLE deps)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "ldd ${exe} failed (${rc})")
  endif()
  if(deps MATCHES "(libtorch[^ ]*|libc10[^ ]*)")
    message(FATAL_ERROR "${exe} loads ${CMAKE_MATCH_1}:\n${deps}")
  endif()
  if(p IN_LIST tests)
    run("${p} (built without libtorch)" ${exe})
  endif()
  set(exe_${p} ${exe})
endforeach()

# A sweep with fake children, reported on by the torch-free ppgkd.
set(e2e ${WORK}/e2e)
file(REMOVE_RECURSE ${e2e})
file(WRITE ${e2e}/plan.json [[{"name": "fake", "data": "synthetic", "folds": 2, "seeds": [1],
  "train": {"epochs": 1}, "teachers": ["fake:1000000"],
  "students": {"fake": ["fake:1000", "fake:3000", "fake:10000", "fake:30000"]},
  "strategies": [{"name": "none"}, {"name": "dkd", "alpha": 1, "beta": 8}]}]])
run("fake sweep" ${exe_sweep_cli_driver} sweep --plan ${e2e}/plan.json --out ${e2e}/out --jobs 2
    --child-exe ${exe_fake_child})
run("ppgkd report without libtorch" ${exe_ppgkd} report --sweep ${e2e}/out --bootstrap 50 --no-plots)
if(NOT EXISTS ${e2e}/out/report/report.md)
  message(FATAL_ERROR "ppgkd report wrote no ${e2e}/out/report/report.md")
endif()
execute_process(COMMAND ${exe_ppgkd} recommend --sweep ${e2e}/out --max-bytes 12500 --precision f32
                        --bootstrap 50
                RESULT_VARIABLE rc OUTPUT_VARIABLE rec ERROR_VARIABLE err)
set(want "Best measured under 12500 float32 bytes: fake student fake:3000 (fake:3000) with strategy dkd from teacher fake:1000000\n")
string(FIND "${rec}" "${want}" at)
if(NOT rc EQUAL 0 OR NOT at EQUAL 0)
  message(FATAL_ERROR "ppgkd recommend without libtorch (${rc}):\n${rec}${err}")
endif()
message(STATUS "built, linked and tested without libtorch: ${programs}; report and recommend ran")
