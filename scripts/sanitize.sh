#!/usr/bin/env bash
# Sanitizer gate (issues 4 and 10), with clang, each configuration built once:
#   1. ./build-asan (-DSLUICE_FUZZ=ON): AddressSanitizer + UndefinedBehaviorSanitizer. Builds
#      every GoogleTest binary (the `unit_tests` target: each module's test and the corpus
#      conformance test) and every libFuzzer target, runs the unit tests (`ctest -L unit`).
#   2. ./build-tsan (-DSLUICE_TSAN=ON): ThreadSanitizer. Builds the tests of the modules that
#      run threads (`threaded_tests`: sluice_module_test(... THREADED ...)) and runs them
#      (`ctest -L threaded`).
#   3. Each fuzz target for a bounded time from its seeds.
# Both builds compile with -Wthread-safety (core/thread_annotations.h), an error in CI.
# Any sanitizer report, crash, leak, data race, hang (-timeout) or oversized allocation
# (-rss_limit_mb / -malloc_limit_mb) fails the script.
#
# Tests and fuzz targets are found, not listed: sluice_module_test() registers each test
# binary and its labels, and every binary that sluice_fuzz_target() put in build-asan/fuzz/
# runs (parquet here, json, auth, http and s3 beside their modules).
#
# Environment: SLUICE_FUZZ_SECONDS (per target, default 30), SLUICE_ASAN_BUILD (default
# build-asan), SLUICE_TSAN_BUILD (default build-tsan), SLUICE_FUZZ_ONLY (a regex of target
# names to run; default all), SLUICE_SANITIZE_STEPS (default "asan tsan fuzz"; fuzz needs
# the asan build), SLUICE_SANITIZE_JOBS (ctest -j, default the number of cores).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build=${SLUICE_ASAN_BUILD:-build-asan}
tsan_build=${SLUICE_TSAN_BUILD:-build-tsan}
seconds=${SLUICE_FUZZ_SECONDS:-30}
only=${SLUICE_FUZZ_ONLY:-.}
steps=" ${SLUICE_SANITIZE_STEPS:-asan tsan fuzz} "
jobs=${SLUICE_SANITIZE_JOBS:-$(nproc)}

werror=OFF
[ "${CI:-}" = "true" ] && werror=ON

elapsed() { echo "$(($(date +%s) - $1))s"; }

# The asan and tsan presets of CMakePresets.json: clang, -O1 and line tables only (sanitizer
# reports need file:line, not variables, and the lighter flags keep the two extra builds within
# CI's time; the sanitizers' own guidance is -O1).
if [[ "$steps" == *" asan "* || "$steps" == *" fuzz "* ]]; then
  t0=$(date +%s)
  cmake --preset asan -B "$build" -DSLUICE_WERROR="$werror" >/dev/null
  # Only what this gate runs (no server binary, no benchmarks): the whole tree under ASan
  # would cost CI minutes for nothing.
  targets=()
  [[ "$steps" == *" asan "* ]] && targets+=(unit_tests)
  [[ "$steps" == *" fuzz "* ]] && targets+=(fuzz_targets)
  ninja -C "$build" "${targets[@]}"
  echo "sanitize: asan build $(elapsed "$t0")"
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}

ran=()
if [[ "$steps" == *" asan "* ]]; then
  t0=$(date +%s)
  echo "sanitize: unit tests under ASan/UBSan"
  (cd "$build" && ctest -L '^unit$' -j "$jobs" --timeout 900 --output-on-failure)
  echo "sanitize: asan tests $(elapsed "$t0")"
  ran+=("unit tests (asan)")
fi

if [[ "$steps" == *" tsan "* ]]; then
  t0=$(date +%s)
  cmake --preset tsan -B "$tsan_build" -DSLUICE_WERROR="$werror" >/dev/null
  ninja -C "$tsan_build" threaded_tests
  echo "sanitize: tsan build $(elapsed "$t0")"
  t0=$(date +%s)
  echo "sanitize: threaded modules' tests under TSan"
  (cd "$tsan_build" && ctest -L '^threaded$' -j "$jobs" --timeout 900 --output-on-failure)
  echo "sanitize: tsan tests $(elapsed "$t0")"
  ran+=("threaded tests (tsan)")
fi

if [[ "$steps" != *" fuzz "* ]]; then
  echo "sanitize: ran ${ran[*]}"
  echo "sanitize: clean"
  exit 0
fi

work="$build/fuzz/work"
rm -rf "$work"
mkdir -p "$work"
shopt -s nullglob
targets=()
for bin in "$build"/fuzz/*; do
  [ -f "$bin" ] && [ -x "$bin" ] || continue
  name=$(basename "$bin")
  [[ "$name" =~ $only ]] && targets+=("$name")
done
if [ ${#targets[@]} -eq 0 ]; then
  echo "sanitize: no fuzz targets in $build/fuzz" >&2
  exit 1
fi

failed=()
for name in "${targets[@]}"; do
  bin="$build/fuzz/$name"
  max_len=65536
  [ -f "$bin.max_len" ] && max_len=$(<"$bin.max_len")
  seeds=()
  if [ -f "$bin.seed_dirs" ]; then
    while IFS= read -r dir; do
      [ -n "$dir" ] && [ -d "$dir" ] && seeds+=("$dir")
    done <"$bin.seed_dirs"
  fi
  corpus="$work/$name.corpus"
  artifacts="$work/$name.artifacts"
  mkdir -p "$corpus" "$artifacts"
  nseeds=0
  for dir in "${seeds[@]}"; do nseeds=$((nseeds + $(find "$dir" -type f | wc -l))); done
  echo "sanitize: fuzz $name for ${seconds}s (max_len $max_len, $nseeds seeds)"
  # New inputs go to the first directory (the scratch corpus), never to the seed directories.
  if "$bin" "$corpus" "${seeds[@]}" -max_total_time="$seconds" -max_len="$max_len" \
      -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1536 -print_final_stats=1 \
      -artifact_prefix="$artifacts/" >"$work/$name.log" 2>&1; then
    grep -E '^(#[0-9]+.*DONE|stat::number_of_executed_units|stat::peak_rss_mb)' \
      "$work/$name.log" | sed "s/^/  $name: /" || true
    ran+=("$name")
  else
    echo "sanitize: $name FAILED; last lines of $work/$name.log:" >&2
    tail -n 60 "$work/$name.log" >&2
    for a in "$artifacts"/*; do
      echo "  reproducer: $a ($(stat -c %s "$a") bytes): $bin $a" >&2
    done
    failed+=("$name")
  fi
done

echo "sanitize: ran ${ran[*]}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "sanitize: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "sanitize: clean"
