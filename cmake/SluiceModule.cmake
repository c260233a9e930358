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

# sluice_pg_fixture(): defines (once per build tree) the CTest fixture `pg_server`: a setup test
#   that starts a throwaway PostgreSQL server (scripts/pg_server.sh) and a cleanup test that
#   stops it. The server lives in /tmp/sluice-pg-<hash of the build dir>: one per build tree
#   (build, build-asan, build-tsan do not share one), and under /tmp because the `postgres`
#   user the script runs the server as cannot reliably traverse the checkout's path. Sets
#   SLUICE_PG_DSN (the libpq connection string of that server) in the caller's scope.
function(sluice_pg_fixture)
  string(MD5 build_hash "${CMAKE_BINARY_DIR}")
  string(SUBSTRING "${build_hash}" 0 12 build_hash)
  set(dir "/tmp/sluice-pg-${build_hash}")
  set(SLUICE_PG_DSN "host=${dir}/sock dbname=postgres user=postgres" PARENT_SCOPE)
  get_property(defined GLOBAL PROPERTY SLUICE_PG_FIXTURE_DEFINED)
  if(defined)
    return()
  endif()
  set_property(GLOBAL PROPERTY SLUICE_PG_FIXTURE_DEFINED TRUE)
  set(script ${PROJECT_SOURCE_DIR}/scripts/pg_server.sh)
  # A server left behind by an interrupted run is stopped first (start would wipe its files
  # under it).
  add_test(NAME pg_server_start
    COMMAND bash -c "\"$0\" stop \"$1\" && \"$0\" start \"$1\"" ${script} ${dir})
  add_test(NAME pg_server_stop COMMAND ${script} stop ${dir})
  set_tests_properties(pg_server_start PROPERTIES FIXTURES_SETUP pg_server LABELS "pg;unit")
  set_tests_properties(pg_server_stop PROPERTIES FIXTURES_CLEANUP pg_server LABELS "pg;unit")
endfunction()

# sluice_module_test(NAME [THREADED] [PG] SOURCES a_test.cc ... [LIBS extra ...])
#   One test binary per module, <NAME>_test, registered with CTest under labels NAME and `unit`
#   and added to the `unit_tests` target (scripts/sanitize.sh builds that target under
#   ASan/UBSan and runs `ctest -L unit`). THREADED: the module runs threads of its own, so its
#   tests are also labelled `threaded` and join `threaded_tests`, which the ThreadSanitizer
#   build (SLUICE_TSAN) builds and runs. PG: the tests need a PostgreSQL server; every test
#   requires the `pg_server` fixture (sluice_pg_fixture) and finds the server's connection
#   string in the environment variable SLUICE_TEST_PG (postgres/postgres_testing.h gives each
#   test a database of its own there).
function(sluice_module_test name)
  if(NOT SLUICE_TESTS)
    return()
  endif()
  cmake_parse_arguments(T "THREADED;PG" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name}_test ${T_SOURCES})
  target_compile_options(${name}_test PRIVATE ${SLUICE_WARNINGS})
  target_link_libraries(${name}_test PRIVATE sluice_${name} ${T_LIBS} GTest::gtest GTest::gtest_main)
  target_compile_definitions(${name}_test PRIVATE
    SLUICE_SHARED_DIR="${SLUICE_SHARED_DIR}" SLUICE_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  set(labels ${name} unit)
  sluice_register_unit_test(${name}_test)
  if(T_THREADED)
    list(APPEND labels threaded)
    add_dependencies(threaded_tests ${name}_test)
  endif()
  gtest_discover_tests(${name}_test DISCOVERY_TIMEOUT 60)
  # The labels go on in a CTest include file read after the discovered tests: a list given
  # to gtest_discover_tests(PROPERTIES LABELS ...) loses its separators on the way through.
  set(label_file ${CMAKE_CURRENT_BINARY_DIR}/${name}_test_labels.cmake)
  set(pg_properties "")
  if(T_PG)
    sluice_pg_fixture()
    set(pg_properties " FIXTURES_REQUIRED pg_server ENVIRONMENT \"SLUICE_TEST_PG=${SLUICE_PG_DSN}\"")
  endif()
  file(WRITE ${label_file} "if(${name}_test_TESTS)\n"
    "  set_tests_properties(\${${name}_test_TESTS} PROPERTIES LABELS \"${labels}\"${pg_properties})\n"
    "endif()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${label_file})
endfunction()

# sluice_register_unit_test(TARGET): TARGET is a GoogleTest binary the sanitizer gate builds
#   (through `unit_tests`); its CTest tests must carry the label `unit`.
function(sluice_register_unit_test target)
  add_dependencies(unit_tests ${target})
endfunction()

# Aggregates with default member initialisers are meant to be partly initialised.
set(SLUICE_WARNINGS -Wall -Wextra -Wno-missing-field-initializers)
# Clang checks the lock annotations of core/thread_annotations.h (GUARDED_BY, REQUIRES, ...).
if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  list(APPEND SLUICE_WARNINGS -Wthread-safety)
endif()
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
option(SLUICE_TSAN "Build everything with ThreadSanitizer (needs clang)" OFF)
if(SLUICE_FUZZ AND SLUICE_TSAN)
  message(FATAL_ERROR "SLUICE_FUZZ (ASan) and SLUICE_TSAN cannot share a build directory")
endif()
# `unit_tests` builds every GoogleTest binary; `threaded_tests` those of modules with threads.
if(SLUICE_TESTS)
  add_custom_target(unit_tests)
  add_custom_target(threaded_tests)
endif()
# ThreadSanitizer: scripts/sanitize.sh configures build-tsan with it and runs `ctest -L threaded`.
if(SLUICE_TSAN)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "SLUICE_TSAN needs clang (CC=clang CXX=clang++), not ${CMAKE_CXX_COMPILER_ID}")
  endif()
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
endif()
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
