#!/usr/bin/env bash
# Builds sluice into ./build (Release-with-debug-info, ccache, Ninja). Installs the Debian
# packages it needs first when any is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
# The configurations live in CMakePresets.json: `release` here, `ci` (warnings as errors) in CI.
preset=release
[ "${CI:-}" = "true" ] && preset=ci
cmake --preset "$preset" >/dev/null
cmake --build build -j "$(nproc)"
