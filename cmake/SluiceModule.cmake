# sluice_module(NAME SOURCES a.cc ... [DEPS other_module ...] [PRIVATE_LIBS lib ...])
#   One static library per module, sluice_<NAME>. DEPS are other sluice modules (public, so
#   their headers are visible to users of this module); PRIVATE_LIBS are third-party libraries.
function(sluice_module name)
  cmake_parse_arguments(M "" "" "SOURCES;DEPS;PRIVATE_LIBS;PUBLIC_LIBS" ${ARGN})
  add_library(sluice_${name} STATIC ${M_SOURCES})
  target_include_directories(sluice_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_compile_options(sluice_${name} PRIVATE ${SLUICE_WARNINGS})
  foreach(dep ${M_DEPS})
    target_link_libraries(sluice_${name} PUBLIC sluice_${dep})
  endforeach()
  if(M_PRIVATE_LIBS)
    target_link_libraries(sluice_${name} PRIVATE ${M_PRIVATE_LIBS})
  endif()
  if(M_PUBLIC_LIBS)
    target_link_libraries(sluice_${name} PUBLIC ${M_PUBLIC_LIBS})
  endif()
endfunction()

# sluice_module_test(NAME SOURCES a_test.cc ... [LIBS extra ...])
#   One test binary per module, <NAME>_test, registered with CTest under label NAME.
function(sluice_module_test name)
  if(NOT SLUICE_TESTS)
    return()
  endif()
  cmake_parse_arguments(T "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name}_test ${T_SOURCES})
  target_compile_options(${name}_test PRIVATE ${SLUICE_WARNINGS})
  target_link_libraries(${name}_test PRIVATE sluice_${name} ${T_LIBS} GTest::gtest GTest::gtest_main)
  target_compile_definitions(${name}_test PRIVATE
    SLUICE_SHARED_DIR="${SLUICE_SHARED_DIR}" SLUICE_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  gtest_discover_tests(${name}_test PROPERTIES LABELS ${name} DISCOVERY_TIMEOUT 60)
endfunction()

# Aggregates with default member initialisers are meant to be partly initialised.
set(SLUICE_WARNINGS -Wall -Wextra -Wno-missing-field-initializers)
if(SLUICE_WERROR)
  list(APPEND SLUICE_WARNINGS -Werror)
endif()

# ../shared beside the checkout holds the corpora the conformance and end-to-end tests walk.
get_filename_component(_shared "${PROJECT_SOURCE_DIR}/../shared" ABSOLUTE)
set(SLUICE_SHARED_DIR "${_shared}" CACHE PATH "The shared corpora (parquet, s3-transcripts)")

# Fuzzing (clang only): -DSLUICE_FUZZ=ON builds every module with AddressSanitizer,
# UndefinedBehaviorSanitizer and libFuzzer coverage, and defines the fuzz targets.
# scripts/sanitize.sh configures such a build (build-asan) and runs every fuzz target.
option(SLUICE_FUZZ "Build libFuzzer targets with ASan/UBSan (needs clang)" OFF)
if(SLUICE_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "SLUICE_FUZZ needs clang (CC=clang CXX=clang++), not ${CMAKE_CXX_COMPILER_ID}")
  endif()
  # -fno-sanitize=function: clang 14 cannot emit that check's prologue data for coroutine
  # functions ("Cannot represent a difference across sections"), so http/ would not build.
  add_compile_options(-fsanitize=address,undefined,fuzzer-no-link -fno-sanitize-recover=undefined
                      -fno-sanitize=function -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
  # `ninja fuzz_targets` builds every fuzz target, wherever it is declared.
  add_custom_target(fuzz_targets)
  set(SLUICE_FUZZ_DIR "${CMAKE_BINARY_DIR}/fuzz")
endif()

# sluice_fuzz_target(NAME SOURCES x_fuzz.cc DEPS module ... [SEEDS dir ...] [MAX_LEN bytes]
#                    [SEED_TARGET target]): a libFuzzer binary NAME, built only with SLUICE_FUZZ,
#   into <build>/fuzz/NAME. scripts/sanitize.sh runs every binary there; it reads
#   <build>/fuzz/NAME.seed_dirs (the SEEDS directories, one a line) and NAME.max_len.
#   SEED_TARGET is a target that writes seeds at build time (the fuzz target depends on it).
function(sluice_fuzz_target name)
  if(NOT SLUICE_FUZZ)
    return()
  endif()
  cmake_parse_arguments(F "" "MAX_LEN;SEED_TARGET" "SOURCES;DEPS;SEEDS" ${ARGN})
  add_executable(${name} ${F_SOURCES})
  target_compile_options(${name} PRIVATE ${SLUICE_WARNINGS})
  foreach(dep ${F_DEPS})
    target_link_libraries(${name} PRIVATE sluice_${dep})
  endforeach()
  target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${SLUICE_FUZZ_DIR})
  add_dependencies(fuzz_targets ${name})
  if(F_SEED_TARGET)
    add_dependencies(${name} ${F_SEED_TARGET})
  endif()
  list(JOIN F_SEEDS "\n" seed_lines)
  file(WRITE ${SLUICE_FUZZ_DIR}/${name}.seed_dirs "${seed_lines}\n")
  if(NOT F_MAX_LEN)
    set(F_MAX_LEN 65536)
  endif()
  file(WRITE ${SLUICE_FUZZ_DIR}/${name}.max_len "${F_MAX_LEN}\n")
endfunction()
