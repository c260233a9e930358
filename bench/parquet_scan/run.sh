#!/usr/bin/env bash
# Parquet scan benchmark (issue 4, "Performance"): sluice's reader against DuckDB
# (@duckdb/node-api, SET threads=1), side by side on the same files, full scans that decode
# every column. Prints rows/s (median of the repetitions) for each and the ratio sluice/DuckDB.
#
# Usage: bench/parquet_scan/run.sh [--rows N] [--repeat N] [--kinds flat,nested]
#                                  [--scan PATH/sluice_parquet_scan] [--dir DATA_DIR]
# Defaults: 5,000,000 rows, 5 repetitions, both files, ./build's scanner, files under
# ./build/bench/parquet_scan/data (written on first use by gen_orders.mjs, never committed).
#
# Exit status: non-zero when a scan fails for another reason than the reader refusing the
# file as unsupported (reported as such), or when sluice and DuckDB read different row counts.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
rows=5000000
repeat=5
kinds=flat,nested
scan="$root/build/bench/parquet_scan/sluice_parquet_scan"
dir="$root/build/bench/parquet_scan/data"
while [ $# -gt 0 ]; do
  case "$1" in
    --rows) rows=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    --kinds) kinds=$2; shift 2 ;;
    --scan) scan=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 1 ;;
  esac
done
[ -x "$scan" ] || { echo "run.sh: no scanner at $scan (ninja sluice_parquet_scan)" >&2; exit 1; }
[ -d "$root/tests/tools/node_modules/@duckdb/node-api" ] ||
  (cd "$root/tests/tools" && npm ci --no-audit --no-fund --loglevel=error)
mkdir -p "$dir"

status=0
results=()
for kind in ${kinds//,/ }; do
  file="$dir/orders_${kind}_${rows}.parquet"
  if [ ! -f "$file" ] || [ "$here/gen_orders.mjs" -nt "$file" ]; then
    echo "generating $file"
    node "$here/gen_orders.mjs" "$kind" "$rows" "$file.tmp"
    mv "$file.tmp" "$file"
  fi
  # One repetition of each engine in turn, so that a noisy neighbour (2 shared cores) slows
  # both alike instead of skewing the ratio; summarize.py takes the medians.
  for ((r = 0; r < repeat; r++)); do
    duck=$(node "$here/duckdb_scan.mjs" "$file" 1)
    if sluice_out=$("$scan" "$file" 2>"$dir/sluice_${kind}.err"); then
      :
    else
      code=$?
      err=$(cat "$dir/sluice_${kind}.err")
      if [ $code -eq 2 ] && [[ "$err" == *UNSUPPORTED* || "$err" == *"not supported"* ]]; then
        sluice_out="{\"engine\":\"sluice\",\"refused\":$(printf '%s' "$err" |
          python3 -c 'import json,sys;print(json.dumps(sys.stdin.read()))')}"
      else
        echo "run.sh: sluice scan of $file failed ($code): $err" >&2
        status=1
        break
      fi
    fi
    results+=("$kind $(basename "$file") $duck $sluice_out")
  done
done

printf '%s\n' "${results[@]}" | python3 "$here/summarize.py" || status=1
exit $status
