#!/usr/bin/env bash
# Sanitizer gate (issue 4): builds the parquet and JSON readers' tests and every libFuzzer target
# with clang under AddressSanitizer + UndefinedBehaviorSanitizer in ./build-asan
# (-DSLUICE_FUZZ=ON), runs those unit tests and the corpus conformance test there, then runs each fuzz target
# for a bounded time from its seeds. Any sanitizer report, crash, leak, hang (-timeout) or
# oversized allocation (-rss_limit_mb / -malloc_limit_mb) fails the script.
#
# Fuzz targets are found, not listed: every binary that sluice_fuzz_target() put in
# build-asan/fuzz/ runs (parquet here, auth and s3 beside their modules).
#
# Environment: SLUICE_FUZZ_SECONDS (per target, default 30), SLUICE_ASAN_BUILD (default
# build-asan), SLUICE_FUZZ_ONLY (a regex of target names to run; default all).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build=${SLUICE_ASAN_BUILD:-build-asan}
seconds=${SLUICE_FUZZ_SECONDS:-30}
only=${SLUICE_FUZZ_ONLY:-.}

werror=OFF
[ "${CI:-}" = "true" ] && werror=ON
CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DSLUICE_FUZZ=ON -DSLUICE_WERROR="$werror" \
  >/dev/null
# Only what this gate runs: the whole tree under ASan would double CI's build time.
ninja -C "$build" fuzz_targets conformance_test parquet_test json_test

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

ran=()
echo "sanitize: parquet_test under ASan/UBSan"
"$build/src/sluice/parquet/parquet_test" --gtest_brief=1
ran+=("parquet_test")
echo "sanitize: json_test under ASan/UBSan"
"$build/src/sluice/json/json_test" --gtest_brief=1
ran+=("json_test")
echo "sanitize: conformance_test under ASan/UBSan"
"$build/tests/conformance/conformance_test" --gtest_brief=1
ran+=("conformance_test")

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
