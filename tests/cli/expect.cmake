# expect_eq(WHAT GOT WANT) for the end-to-end CMake test scripts: stops the script with both
# values when they differ.
function(expect_eq what got want)
  if(NOT got STREQUAL want)
    message(FATAL_ERROR "${what}:\n  got:  [${got}]\n  want: [${want}]")
  endif()
endfunction()
