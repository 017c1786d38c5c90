# Configures ppgkd in WORK with PPGKD_WITH_TORCH=OFF, builds the libtorch-free libraries, the
# torch-free ppgkd binary and the tests of those libraries, then checks that
#   - the configuration never looked for libtorch (no Torch_DIR in the cache),
#   - no link line names libtorch or c10, and no built program loads them (ldd),
#   - the tests pass.
# Inputs: SRC (source tree), WORK (build directory, reused between runs), BUILD_TYPE.
cmake_minimum_required(VERSION 3.18)

set(programs ppgkd test_model_spec test_metrics test_validate_report test_sweep_plan_store
             test_sweep_report test_scaling_fit sweep_cli_driver)
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
endforeach()
message(STATUS "built, linked and tested without libtorch: ${programs}")
