#!/usr/bin/env python3
"""Bulk-upsert benchmark (issue 5, "Performance"): sluice end to end against the SQLite ceiling,
side by side in one run.

sluice: a fresh `sluice serve`; file A (the `orders` reference file, 5M rows by default,
written by bench/parquet_scan/gen_orders.mjs with DuckDB, snappy) is pushed with boto3
(upload_file, as a user would: multipart above 8 MiB) into an empty pool, then file B, a delta
of rows/5 rows (half updates of keys spread over A, half new keys; written by DuckDB from A).
Each is timed from the start of the upload until HeadObject reports the file `loaded` (polled
every 20 ms; the pool commit precedes the ledger's `loaded` by one catalog write).

Ceiling: sluice_upsert_ceiling (upsert_ceiling.cc) fills the identical table (the CREATE TABLE
sluice's pool wrote) from the same two files, pre-decoded in memory before its clock starts,
with one prepared INSERT ... ON CONFLICT DO UPDATE in one transaction per file, WAL,
synchronous=NORMAL, 1 GiB cache: the tuned ceiling of PERFORMANCE.md.

Prints rows/s of each and the ratio sluice / ceiling (goal >= 0.7).
"""

import argparse
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from sluice_bench import (ROOT, Sluice, count_rows, duckdb, gen_orders, generated,  # noqa: E402
                          json_lines, remove_db, table_ddl)


def files(data_dir, rows, delta):
    os.makedirs(data_dir, exist_ok=True)
    a = gen_orders("flat", rows, os.path.join(data_dir, f"orders_flat_{rows}.parquet"))

    def make_b(tmp):
        half = delta // 2
        step = max(1, rows // half)
        # Updates: every step-th key of A with changed values; new keys: A's first rows moved
        # past its end.
        duckdb(f"""COPY (
            SELECT * REPLACE ('shipped' AS status, (amount / 2)::DECIMAL(18,2) AS amount,
                              updated_at + INTERVAL 1 DAY AS updated_at, qty + 1 AS qty)
              FROM read_parquet('{a}') WHERE order_id % {step} = 0 AND order_id < {step * half}
            UNION ALL
            SELECT * REPLACE (order_id + {rows} AS order_id)
              FROM read_parquet('{a}') WHERE order_id < {delta - half}
            ORDER BY order_id) TO '{tmp}' (FORMAT parquet, COMPRESSION snappy)""")

    b = generated(os.path.join(data_dir, f"orders_delta_{rows}_{delta}.parquet"), __file__, make_b)
    return a, b


def run_sluice(binary, work, a, b):
    data = os.path.join(work, "sluice-data")
    shutil.rmtree(data, ignore_errors=True)
    server = Sluice(binary, data).start()
    try:
        server.cli("table", "add", server.bucket, "orders", "--pk", "order_id")
        out = server.timed_loads(server.client(), [("orders/a.parquet", a), ("orders/b.parquet", b)])
        pool = server.pool_path()
        return out, count_rows(pool, "orders")[0], table_ddl(pool, "orders")["orders"]
    finally:
        server.stop()


def run_ceiling(binary, work, ddl, a, b):
    db = os.path.join(work, "ceiling.db")
    remove_db(db)
    out = json_lines([binary, "--db", db, "--table", "orders", "--pk", "order_id", "--ddl", ddl,
                      a, b], "ceiling")
    rows = count_rows(db, "orders")[0]
    remove_db(db)
    return out, rows


def main():
    build = os.path.join(ROOT, "build")
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=5_000_000)
    ap.add_argument("--delta", type=int, help="rows of the delta (default rows / 5)")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--sluice", default=os.path.join(build, "sluice"))
    ap.add_argument("--ceiling", default=os.path.join(build, "bench", "upsert", "sluice_upsert_ceiling"))
    ap.add_argument("--dir", default=os.path.join(build, "bench", "upsert", "data"),
                    help="generated files and the pools (never committed)")
    args = ap.parse_args()
    args.dir = os.path.abspath(args.dir)  # DuckDB runs in tests/tools
    delta = args.delta or max(2, args.rows // 5)
    a, b = files(args.dir, args.rows, delta)
    work = os.path.join(args.dir, "work")
    os.makedirs(work, exist_ok=True)
    expected_rows = args.rows + (delta - delta // 2)

    runs = []
    for _ in range(args.repeat):
        # One engine after the other in each round, so that a busy neighbour slows both alike.
        s_out, s_rows, ddl = run_sluice(args.sluice, work, a, b)
        c_out, c_rows = run_ceiling(args.ceiling, work, ddl, a, b)
        if s_rows != expected_rows or c_rows != expected_rows:
            raise SystemExit(f"bench: expected {expected_rows} rows, sluice has {s_rows}, "
                             f"the ceiling {c_rows}")
        runs.append((s_out, c_out))

    def median(values):
        values = sorted(values)
        return values[(len(values) - 1) // 2]

    phases = (("load A", args.rows), ("upsert B", delta))
    print(f"\nbulk upsert: orders, {args.rows:,} rows then a {delta:,}-row delta "
          f"(half updates, half new keys); load average {os.getloadavg()[0]:.1f}")
    for n, (s_out, c_out) in enumerate(runs):
        print(f"  round {n + 1}: " + "; ".join(
            f"{phase} sluice {s_out[i]['total']:.2f} s (upload {s_out[i]['upload']:.2f} s), "
            f"ceiling {c_out[i]['seconds']:.2f} s" for i, (phase, _) in enumerate(phases)))
    print(f"{'phase':<10}{'rows':>11}{'sluice e2e rows/s':>19}{'upload s':>10}{'total s':>9}"
          f"{'ceiling rows/s':>16}{'ratio':>7}{'after upload':>14}")
    for i, (phase, rows) in enumerate(phases):
        total = median([r[0][i]["total"] for r in runs])
        upload = median([r[0][i]["upload"] for r in runs])
        ceiling = median([r[1][i]["seconds"] for r in runs])
        print(f"{phase:<10}{rows:>11,}{rows / total:>19,.0f}{upload:>10.2f}{total:>9.2f}"
              f"{rows / ceiling:>16,.0f}{ceiling / total:>7.2f}{ceiling / (total - upload):>14.2f}")
    print("ratio = sluice end-to-end rows/s / ceiling rows/s (goal >= 0.70); 'after upload' "
          "leaves the client's upload out of sluice's time;\nmedians of the rounds (the lower "
          "middle one); the ceiling's decode is outside its clock")


if __name__ == "__main__":
    main()
