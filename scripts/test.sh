#!/usr/bin/env bash
# Builds sluice and runs the whole test suite: unit tests per module, the conformance tests
# over ../shared, and the end-to-end tests that drive a real `sluice serve` with the aws CLI
# and boto3, then the sanitizer gate (scripts/sanitize.sh: every unit test under ASan/UBSan,
# the threaded modules' tests under TSan, a bounded run of every fuzz target). Installs what it needs (Debian packages, the npm test tools) when
# missing.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
# The npm test tools: DuckDB writes the parquet files the tests need beyond ../shared, and
# the AWS JS SDK is one of the real clients. Reinstalled whenever the lock file changed.
if [ ! -f tests/tools/node_modules/.package-lock.json ] ||
   [ tests/tools/package-lock.json -nt tests/tools/node_modules/.package-lock.json ]; then
  (cd tests/tools && npm ci --no-audit --no-fund --loglevel=error)
fi
(cd build && ctest --output-on-failure -j "$(nproc)" --timeout 900 "$@")
# The sanitizer gate (clang); SLUICE_SANITIZE=0 skips.
if [ "${SLUICE_SANITIZE:-1}" != 0 ]; then
  bash scripts/sanitize.sh
fi
