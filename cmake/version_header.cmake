# Writes the version header (engine/version.hpp.in) with the source tree's
# git revision, and only when its content changes, so that an unchanged
# revision rebuilds nothing. Run at every build (target artel_version) and
# once at configure time:
#   cmake -DSRC=<source dir> -DIN=<template> -DOUT=<header> -DPROJECT_VERSION=<x.y.z> -P version_header.cmake
execute_process(COMMAND git -C "${SRC}" describe --always --dirty --abbrev=12
                OUTPUT_VARIABLE ARTEL_GIT_REVISION OUTPUT_STRIP_TRAILING_WHITESPACE
                ERROR_QUIET)
if(NOT ARTEL_GIT_REVISION)
  set(ARTEL_GIT_REVISION "unknown")
endif()
configure_file("${IN}" "${OUT}.tmp" @ONLY)
execute_process(COMMAND "${CMAKE_COMMAND}" -E copy_if_different "${OUT}.tmp" "${OUT}")
file(REMOVE "${OUT}.tmp")
