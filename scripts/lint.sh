#!/usr/bin/env bash
# Style gates that CI runs (through CTest, label `lint`): the module rules (scripts/
# check_modules.py: dependency order, private headers, test support), clang-format over every
# C++ file, every header compiling on its own (scripts/check_headers.py), clang-tidy (the checks
# in .clang-tidy) over the non-test sources of src/.
# Usage: scripts/lint.sh BUILD_DIR   (a configured build with compile_commands.json)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
python3 scripts/check_modules.py .
mapfile -t all < <(git ls-files 'src/*.cc' 'src/*.h' 'tests/*.cc' 'tests/*.h' 'bench/*.cc')
clang-format --dry-run --Werror "${all[@]}"
echo "clang-format: ${#all[@]} files clean"
python3 scripts/check_headers.py "$build"
mapfile -t sources < <(git ls-files 'src/*.cc' | grep -v -E '_(test|bench|fuzz)\.cc$')
run-clang-tidy -quiet -p "$build" -j "$(nproc)" "${sources[@]}" > "$build/clang-tidy.log" 2>&1 || {
  grep -E 'error:|warning:' "$build/clang-tidy.log" | sort -u | head -50
  echo "clang-tidy: failed (full log in $build/clang-tidy.log)"
  exit 1
}
echo "clang-tidy: ${#sources[@]} files clean"
