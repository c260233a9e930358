#!/usr/bin/env bash
# Builds sluice and starts `sluice serve` on the embedded default (./data, SQLite pool,
# S3 on 127.0.0.1:8787, admin on 127.0.0.1:8788). Extra arguments go to `sluice serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
exec ./build/sluice serve "$@"
