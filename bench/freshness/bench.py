#!/usr/bin/env python3
"""Freshness benchmark (issue 5, "Performance"): 1,000 one-row parquet files PUT one after
another with boto3; per file, the time from the start of its PUT until its row is queryable.

"Queryable" is read where a user would query: the pool's SQLite file, through a read-only
connection of this process (WAL: a reader never blocks the loader), with
`SELECT v FROM fresh WHERE id = ?` polled every --poll-ms (default 1 ms) after the PUT returns.
So the figure is PUT (landing fsync + ledger commit) + queue + load + pool commit, with at most
one poll interval of slack. The poller is one Python thread sleeping between single-row index
lookups (a few µs each), so it takes little of the 2 cores sluice runs on.

Prints p50/p95/p99/max of the freshness and of the PUT alone (goal p50 <= 20 ms,
p99 <= 100 ms). Sluice has no peer here: Snowpipe measures this in minutes; the goal is the
reference.
"""

import argparse
import os
import shutil
import sqlite3
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from sluice_bench import ROOT, Sluice, duckdb  # noqa: E402


def percentile(sorted_values, p):
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, int(round(p / 100 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[k]


def main():
    build = os.path.join(ROOT, "build")
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--files", type=int, default=1000)
    ap.add_argument("--poll-ms", type=float, default=1.0)
    ap.add_argument("--sluice", default=os.path.join(build, "sluice"))
    ap.add_argument("--dir", default=os.path.join(build, "bench", "freshness", "data"))
    args = ap.parse_args()
    args.dir = os.path.abspath(args.dir)  # DuckDB runs in tests/tools

    files_dir = os.path.join(args.dir, f"files_{args.files}")
    if not os.path.isdir(files_dir):
        os.makedirs(files_dir + ".tmp", exist_ok=True)
        statements = [f"COPY (SELECT {i}::BIGINT AS id, {i * 7}::BIGINT AS v, 'row {i}' AS note) "
                      f"TO '{files_dir}.tmp/{i}.parquet' (FORMAT parquet)" for i in range(args.files)]
        for start in range(0, len(statements), 500):
            duckdb(*statements[start:start + 500])
        os.replace(files_dir + ".tmp", files_dir)
    bodies = []
    for i in range(args.files):
        with open(os.path.join(files_dir, f"{i}.parquet"), "rb") as f:
            bodies.append(f.read())

    data = os.path.join(args.dir, "sluice-data")
    shutil.rmtree(data, ignore_errors=True)
    server = Sluice(args.sluice, data).start()
    try:
        server.cli("table", "add", server.bucket, "fresh", "--pk", "id")
        s3 = server.client()
        poll = args.poll_ms / 1000
        db = None
        fresh, puts = [], []
        for i, body in enumerate(bodies):
            start = time.perf_counter()
            s3.put_object(Bucket=server.bucket, Key=f"fresh/{i:05d}.parquet", Body=body)
            put_done = time.perf_counter()
            while True:
                if db is None and os.path.exists(server.pool_path()):
                    db = sqlite3.connect(f"file:{server.pool_path()}?mode=ro", uri=True,
                                         check_same_thread=False)
                try:
                    row = db.execute("SELECT v FROM fresh WHERE id = ?", (i,)).fetchone() if db else None
                except sqlite3.OperationalError:  # the first file has not created the table yet
                    row = None
                if row is not None:
                    if row[0] != i * 7:
                        raise SystemExit(f"bench: row {i} holds {row[0]}, not {i * 7}")
                    break
                if time.perf_counter() - start > 60:
                    raise SystemExit(f"bench: file {i} not queryable after 60 s")
                time.sleep(poll)
            fresh.append(time.perf_counter() - start)
            puts.append(put_done - start)
        if db:
            db.close()
    finally:
        server.stop()

    fresh.sort()
    puts.sort()
    print(f"\nfreshness: {args.files} one-row files PUT one after another (boto3), "
          f"poll every {args.poll_ms:g} ms")
    print(f"{'ms':<22}{'p50':>8}{'p95':>8}{'p99':>8}{'max':>8}")
    for name, values in (("PUT start -> queryable", fresh), ("PUT alone", puts)):
        print(f"{name:<22}" + "".join(f"{percentile(values, p) * 1000:>8.1f}"
                                      for p in (50, 95, 99, 100)))
    p50, p99 = percentile(fresh, 50) * 1000, percentile(fresh, 99) * 1000
    print(f"goal p50 <= 20 ms: {'met' if p50 <= 20 else 'missed'} ({p50:.1f}); "
          f"p99 <= 100 ms: {'met' if p99 <= 100 else 'missed'} ({p99:.1f})")


if __name__ == "__main__":
    main()
