#!/usr/bin/env bash
# Builds sluice into ./build (Release-with-debug-info, ccache, Ninja). Installs the Debian
# packages it needs first when any is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
werror=OFF
[ "${CI:-}" = "true" ] && werror=ON
cmake -S . -B build -G Ninja -DSLUICE_WERROR="$werror" >/dev/null
cmake --build build -j "$(nproc)"
