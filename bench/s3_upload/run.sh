#!/usr/bin/env bash
# Runs the S3 upload benchmark: sluice vs nginx WebDAV PUT on loopback, side by side, printing
# MB/s, req/s and the ratios sluice/nginx. Bounded to 20 minutes.
# Usage: bench/s3_upload/run.sh [--sluice BIN] [--quick] [--rounds N] [--json FILE]
# Needs curl and nginx (Debian nginx-light has the WebDAV PUT module; scripts/deps.sh installs it).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
sluice="${SLUICE_BIN:-$here/../../build/sluice}"
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --sluice) sluice="$2"; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
[ -x "$sluice" ] || { echo "run.sh: no sluice binary at $sluice (build first, or --sluice BIN)" >&2; exit 2; }
command -v curl >/dev/null || { echo "run.sh: curl is not installed" >&2; exit 2; }
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || { echo "run.sh: nginx is not installed" >&2; exit 2; }
exec timeout 1200 python3 "$here/bench.py" --sluice "$sluice" "${args[@]}"
