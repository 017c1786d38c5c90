# ppgkd_require_no_torch(target...): stops the configuration when anything a target links, directly
# or through the libraries it links, is libtorch (the targets and files of TORCH_LIBRARIES, or any
# library named torch*, c10* or caffe2*). Modules that need no libtorch call it, so a dependency
# that would drag libtorch into them fails at configure time in every configuration, naming the
# chain of targets that brought it in.

function(_ppgkd_torch_item item out)
  set(${out} FALSE PARENT_SCOPE)
  if(TORCH_LIBRARIES AND "${item}" IN_LIST TORCH_LIBRARIES)
    set(${out} TRUE PARENT_SCOPE)
    return()
  endif()
  get_filename_component(name "${item}" NAME)
  if(name MATCHES "^(lib)?(torch|c10|caffe2)([_.].*)?$" OR item MATCHES "^(Torch|torch|c10)::")
    set(${out} TRUE PARENT_SCOPE)
  endif()
endfunction()

# Walks every link of `target` once (targets seen are kept in a global property); `chain` names the
# path from the checked target, for the error.
function(_ppgkd_walk_links root target chain)
  get_property(seen GLOBAL PROPERTY _PPGKD_NO_TORCH_SEEN)
  if("${target}" IN_LIST seen)
    return()
  endif()
  set_property(GLOBAL APPEND PROPERTY _PPGKD_NO_TORCH_SEEN "${target}")
  get_target_property(type ${target} TYPE)
  set(items "")
  if(NOT type STREQUAL "INTERFACE_LIBRARY")
    get_target_property(direct ${target} LINK_LIBRARIES)
    if(direct)
      list(APPEND items ${direct})
    endif()
  endif()
  get_target_property(iface ${target} INTERFACE_LINK_LIBRARIES)
  if(iface)
    list(APPEND items ${iface})
  endif()
  foreach(raw IN LISTS items)
    # Unwrap $<LINK_ONLY:x> (a static library's private links) and drop the ::@(dir) marker of
    # links made from another directory.
    string(REGEX REPLACE "^\\$<LINK_ONLY:(.*)>$" "\\1" item "${raw}")
    string(REGEX REPLACE "::@\\(.*\\)$" "" item "${item}")
    _ppgkd_torch_item("${item}" is_torch)
    if(is_torch)
      message(FATAL_ERROR "${root} links libtorch (${chain} -> ${item}) but must build without "
                          "it (cmake/no_torch.cmake)")
    endif()
    if(TARGET "${item}")
      _ppgkd_walk_links(${root} "${item}" "${chain} -> ${item}")
    elseif(item MATCHES "\\$<")
      if(item MATCHES "(torch|c10|caffe2)")
        message(FATAL_ERROR "${root} may link libtorch (${chain} -> ${item}) but must build "
                            "without it (cmake/no_torch.cmake)")
      endif()
    endif()
  endforeach()
endfunction()

function(ppgkd_require_no_torch)
  foreach(target IN LISTS ARGN)
    if(NOT TARGET ${target})
      message(FATAL_ERROR "ppgkd_require_no_torch: no target ${target}")
    endif()
    set_property(GLOBAL PROPERTY _PPGKD_NO_TORCH_SEEN "")
    _ppgkd_walk_links(${target} ${target} ${target})
  endforeach()
endfunction()
