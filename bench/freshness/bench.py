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

--mixed (issue 12): the same one-row files, pushed to table `fresh` of one connection while a
--bulk-rows (2M) `orders` file is uploaded to and loaded into a table of another connection.
Each PUT carries x-amz-meta-sluice-wait, so it returns when its file's load finished (the
loader wakes the waiting response at once, no polling) and must say `loaded`: push start ->
queryable with no poll slack, measured the same way on either pool (--pool sqlite, the
default, or postgresql: `sluice serve --pool` on a throwaway server from scripts/pg_server.sh).
First --baseline (200) pushes run with nothing else loading (the machine's own figure, side by
side); then pushes start with the bulk upload, at most one per --interval-ms, and stop when the
bulk file is loaded; p50/p95/p99/max are printed for each group. Goal: p99 <= 100 ms for the
pushes during the bulk upload and load.
"""

import argparse
import contextlib
import json
import os
import shutil
import sqlite3
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from pg_bench import PgServer, peak_rss_mib  # noqa: E402
from sluice_bench import ROOT, Sluice, gen_orders, parquet_files  # noqa: E402


def percentile(sorted_values, p):
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, int(round(p / 100 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[k]


def one_row_files(directory, n):
    """The bodies of n one-row parquet files (id i, v 7i), written by DuckDB once and cached."""
    return parquet_files(directory, f"files_{n}", n,
                         lambda i: f"SELECT {i}::BIGINT AS id, {i * 7}::BIGINT AS v, 'row {i}' AS "
                                   "note")


def run_mixed(args):
    """--mixed: one-row files pushed to table `fresh` of one connection while a --bulk-rows file
    loads into table `orders` of another; per one-row file, push start -> loaded."""
    os.makedirs(args.dir, exist_ok=True)
    bulk = gen_orders("flat", args.bulk_rows,
                      os.path.join(args.dir, f"orders_flat_{args.bulk_rows}.parquet"))
    bodies = one_row_files(args.dir, args.files)
    data = os.path.join(args.dir, "sluice-data-mixed")
    shutil.rmtree(data, ignore_errors=True)
    with contextlib.ExitStack() as stack:
        serve_args = []
        if args.pool == "postgresql":
            pg = stack.enter_context(PgServer(args.pg_dir))
            pg.create_database("sluice")
            serve_args = ["--pool", pg.uri("sluice")]
        server = Sluice(args.sluice, data, serve_args=serve_args)
        stack.callback(server.stop)
        server.start()
        server.cli("table", "add", server.bucket, "fresh", "--pk", "id")
        other = json.loads(server.cli("connection", "create", "bulk", "--json"))
        server.cli("table", "add", other["bucket"], "orders", "--pk", "order_id")
        s3, s3_bulk = server.client(), server.client(other)
        # The table `fresh` exists once its first file loaded: push one before the clock.
        warm = s3.put_object(Bucket=server.bucket, Key="fresh/warm.parquet", Body=bodies[-1],
                             Metadata={"sluice-wait": "60"})
        if warm["ResponseMetadata"]["HTTPHeaders"].get("x-amz-meta-sluice-status") != "loaded":
            raise SystemExit(f"bench: the first one-row file did not load: {warm}")

        window = {}  # monotonic times: bulk upload start, upload end, loaded

        def load_bulk():
            try:
                window["start"] = time.perf_counter()
                s3_bulk.upload_file(bulk, other["bucket"], "orders/bulk.parquet")
                window["uploaded"] = time.perf_counter()
                while True:
                    head = s3_bulk.head_object(Bucket=other["bucket"], Key="orders/bulk.parquet")
                    status = head["Metadata"].get("sluice-status")
                    if status in ("loaded", "failed", "skipped"):
                        window["status"] = status
                        break
                    time.sleep(0.02)
                window["loaded"] = time.perf_counter()
            except Exception as e:  # reported by the main thread
                window["error"] = repr(e)
                window["loaded"] = time.perf_counter()

        interval = args.interval_ms / 1000
        next_file = iter(range(len(bodies) - 1))

        def push():
            """Pushes the next one-row file, paced; (push start, seconds to loaded) or None when
            the files ran out."""
            i = next(next_file, None)
            if i is None:
                return None
            start = time.perf_counter()
            out = s3.put_object(Bucket=server.bucket, Key=f"fresh/{i:05d}.parquet", Body=bodies[i],
                                Metadata={"sluice-wait": "60"})
            done = time.perf_counter()
            status = out["ResponseMetadata"]["HTTPHeaders"].get("x-amz-meta-sluice-status")
            if status != "loaded":
                raise SystemExit(f"bench: one-row file {i} is {status} after its PUT returned")
            time.sleep(max(0.0, start + interval - time.perf_counter()))
            return start, done - start

        # The same pushes with nothing else loading first: the machine's own figure, side by side.
        alone = sorted(push()[1] for _ in range(args.baseline))
        bulk_thread = threading.Thread(target=load_bulk)
        bulk_thread.start()
        samples = []  # (push start, seconds to loaded)
        while "loaded" not in window:
            sample = push()
            if sample is None:
                print(f"bench: all {args.files} one-row files were pushed before the bulk file "
                      "loaded; pass a larger --files", flush=True)
                break
            samples.append(sample)
        bulk_thread.join()
        if "error" in window or window.get("status") != "loaded":
            raise SystemExit(f"bench: the bulk file did not load: {window}")
        peak = peak_rss_mib(server.proc.pid)

    during_upload = sorted(t for s, t in samples if s < window["uploaded"])
    during_load = sorted(t for s, t in samples if window["uploaded"] <= s < window["loaded"])
    print(f"\nmixed freshness, {args.pool} pool: one-row files pushed to connection A (PUT with "
          f"sluice-wait, one every {args.interval_ms:g} ms at most) while a "
          f"{args.bulk_rows:,}-row file loads into connection B")
    print(f"bulk file: upload {window['uploaded'] - window['start']:.2f} s, then load "
          f"{window['loaded'] - window['uploaded']:.2f} s; load average "
          f"{os.getloadavg()[0]:.1f}; peak RSS of sluice serve {peak or 0:,.0f} MiB")
    print(f"{'push -> loaded, ms':<30}{'files':>7}{'p50':>9}{'p95':>9}{'p99':>9}{'max':>9}")
    for name, values in (("alone, before the bulk file", alone),
                         ("during the bulk upload", during_upload),
                         ("during the bulk load", during_load)):
        print(f"{name:<30}{len(values):>7}" + "".join(
            f"{percentile(values, p) * 1000:>9.1f}" for p in (50, 95, 99, 100)))
    if samples:
        start, worst = max(samples, key=lambda st: st[1])
        print(f"slowest push: {worst * 1000:.1f} ms, started {window['loaded'] - start:.2f} s "
              "before the bulk file was seen loaded")
    both = sorted(during_upload + during_load)
    p99 = percentile(both, 99) * 1000
    print(f"goal p99 <= 100 ms while the other connection loads: "
          f"{'met' if p99 <= 100 else 'missed'} ({p99:.1f} ms over {len(both)} files)")


def main():
    build = os.path.join(ROOT, "build")
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--files", type=int, help="one-row files (default 1000; --mixed: 3000)")
    ap.add_argument("--poll-ms", type=float, default=1.0)
    ap.add_argument("--sluice", default=os.path.join(build, "sluice"))
    ap.add_argument("--dir", default=os.path.join(build, "bench", "freshness", "data"))
    ap.add_argument("--mixed", action="store_true",
                    help="push the one-row files while another connection loads --bulk-rows")
    ap.add_argument("--bulk-rows", type=int, default=2_000_000)
    ap.add_argument("--baseline", type=int, default=200,
                    help="--mixed: one-row files pushed first, with nothing else loading")
    ap.add_argument("--interval-ms", type=float, default=10.0,
                    help="--mixed: at most one push started per interval")
    ap.add_argument("--pool", choices=("sqlite", "postgresql"), default="sqlite",
                    help="--mixed: the pool (postgresql: a throwaway server, scripts/pg_server.sh)")
    ap.add_argument("--pg-dir", default=f"/tmp/sluice-bench-pg-{os.getpid()}",
                    help="the throwaway PostgreSQL server's directory (removed after)")
    args = ap.parse_args()
    args.dir = os.path.abspath(args.dir)  # DuckDB runs in tests/tools
    args.files = args.files or (3000 if args.mixed else 1000)
    if args.mixed:
        return run_mixed(args)
    if args.pool != "sqlite":
        raise SystemExit("bench: --pool postgresql is for --mixed (the plain run reads pool.db)")

    bodies = one_row_files(args.dir, args.files)

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
