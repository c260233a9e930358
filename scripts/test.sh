#!/usr/bin/env bash
# Builds sluice and runs the whole test suite: unit tests per module, the conformance tests
# over ../shared, and the end-to-end tests that drive a real `sluice serve` with the aws CLI
# and boto3. Installs what it needs (Debian packages, the npm test tools) when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
# DuckDB (npm) writes the parquet files the end-to-end tests need beyond ../shared.
if [ ! -d tests/tools/node_modules/@duckdb/node-api ]; then
  (cd tests/tools && npm ci --no-audit --no-fund --loglevel=error)
fi
cd build
ctest --output-on-failure -j "$(nproc)" --timeout 900 "$@"
