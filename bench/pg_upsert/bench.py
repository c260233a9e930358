#!/usr/bin/env python3
"""PostgreSQL bulk-upsert benchmark (issue 12): sluice end to end on its PostgreSQL pool against
a libpq ceiling, side by side in one run, on one throwaway server.

Server: scripts/pg_server.sh starts a fresh PostgreSQL 15 cluster on a Unix socket under /tmp
(fsync on, synchronous_commit on, shared_buffers 256MB, max_wal_size 4GB); it is stopped and
removed after the run, also when the run fails.

Files: those of bench/upsert (shared with it, under build/bench/upsert/data): A, the `orders`
reference file (5M rows by default, gen_orders.mjs, snappy), and B, a delta of rows/5 rows
(half updates of keys spread over A, half new keys).

sluice: a fresh database and data directory per round; `sluice serve --pool <URI>`;
`table add orders --pk order_id`; A is pushed with boto3 (upload_file: multipart above 8 MiB)
into the empty pool, then B; each timed from the start of its upload until HeadObject says
`loaded` (polled every 20 ms).

Ceiling: sluice_pg_ceiling (pg_ceiling.cc) on a fresh database, filling the identical table (the
columns and primary key sluice's pool created) from the same files, pre-encoded as binary COPY
streams before its clock starts: per file one transaction of binary COPY into an UNLOGGED stage,
INSERT ... SELECT DISTINCT ON (order_id) ... ON CONFLICT DO UPDATE, COMMIT. It also times a plain
binary COPY of A into an empty table with a primary key, for scale.

Both engines start each phase after a CHECKPOINT, so that neither pays for the other's (or its
own previous phase's) WAL. Both must end with the same rows (count and a hash of every row).
Rounds (--repeat) alternate sluice, ceiling; the table gives medians and the spread of the
ratio. Goal: sluice / ceiling >= 0.8 in both phases.

Until `sluice serve --pool` exists (the flag lands in stages), or with --pool-alone, sluice's
side is its PostgreSQL pool alone: sluice_pg_pool_driver (pg_pool_driver.cc) applies the same
files' batches, decoded before its clock, through pool::OpenPostgresPool, one load transaction
per file — the pool's share of the gap, without S3, the ledger and the loader. --ceiling-only
runs the ceiling alone.
"""

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
import time

BENCH = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, BENCH)
from pg_bench import PgServer, peak_rss_mib, sluice_has_flag  # noqa: E402
from sluice_bench import ROOT, Sluice, json_lines  # noqa: E402

COLUMNS = ("order_id", "customer_id", "status", "amount", "currency", "created_at", "updated_at",
           "note", "qty", "flag")


def upsert_files(data_dir, rows, delta):
    """A and B exactly as bench/upsert makes them (one generator for both benchmarks)."""
    spec = importlib.util.spec_from_file_location("upsert_bench",
                                                  os.path.join(BENCH, "upsert", "bench.py"))
    upsert = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(upsert)
    return upsert.files(data_dir, rows, delta)


def run_sluice(binary, pg, database, work, a, b):
    pg.create_database(database)
    data = os.path.join(work, "sluice-data")
    shutil.rmtree(data, ignore_errors=True)
    server = Sluice(binary, data, serve_args=["--pool", pg.uri(database)])
    try:
        server.start()
        server.cli("table", "add", server.bucket, "orders", "--pk", "order_id")
        s3 = server.client()
        out = []
        for key, path in (("orders/a.parquet", a), ("orders/b.parquet", b)):
            pg.checkpoint()
            out += server.timed_loads(s3, [(key, path)])
        rss = peak_rss_mib(server.proc.pid)
    finally:
        server.stop()
    table = pg.find_table(database, "orders", prefer_schema=server.bucket)
    ddl = pg.table_ddl(database, table, "orders")
    fingerprint = pg.fingerprint(database, table, COLUMNS)
    pg.drop_database(database)
    shutil.rmtree(data, ignore_errors=True)
    return out, rss, ddl, fingerprint


def run_pool_alone(binary, pg, database, a, b):
    """sluice_pg_pool_driver: the PostgreSQL pool alone (no S3, ledger or loader), the batches
    decoded before its clock; shaped as run_sluice's result (no upload, no RSS)."""
    pg.create_database(database)
    out = json_lines([binary, "--dsn", pg.uri(database), "--schema", "bench", "--table", "orders",
                      "--pk", "order_id", a, b], "the pool driver")
    table = pg.find_table(database, "orders", prefer_schema="bench")
    ddl = pg.table_ddl(database, table, "orders")
    fingerprint = pg.fingerprint(database, table, COLUMNS)
    pg.drop_database(database)
    return [{"upload": 0.0, "total": o["seconds"]} for o in out], None, ddl, fingerprint


def run_ceiling(binary, pg, database, ddl, a, b, stage):
    pg.create_database(database)
    args = [binary, "--dsn", pg.uri(database), "--table", "orders", "--pk", "order_id",
            "--checkpoint", "--stage", stage, "--plain-copy", a, a, b]
    if ddl:
        args += ["--ddl", ddl]
    out = json_lines(args, "the ceiling")
    fingerprint = pg.fingerprint(database, '"orders"', COLUMNS)
    pg.drop_database(database)
    upserts = [o for o in out if o["phase"] == "upsert"]
    plain = [o for o in out if o["phase"] == "plain_copy"][0]
    return upserts, plain, fingerprint


def median(values):
    values = sorted(values)
    return values[(len(values) - 1) // 2]


def main():
    build = os.path.join(ROOT, "build")
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=5_000_000)
    ap.add_argument("--delta", type=int, help="rows of the delta (default rows / 5)")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--sluice", default=os.path.join(build, "sluice"))
    ap.add_argument("--ceiling",
                    default=os.path.join(build, "bench", "pg_upsert", "sluice_pg_ceiling"))
    ap.add_argument("--ceiling-only", action="store_true",
                    help="run the ceiling alone (its table from the file's schema)")
    ap.add_argument("--pool-alone", action="store_true",
                    help="sluice's PostgreSQL pool alone (sluice_pg_pool_driver) instead of "
                         "sluice end to end; also the fallback while serve has no --pool")
    ap.add_argument("--pool-driver",
                    default=os.path.join(build, "bench", "pg_upsert", "sluice_pg_pool_driver"))
    ap.add_argument("--stage", choices=("unlogged", "temp"), default="unlogged",
                    help="the ceiling's staging table (pg_ceiling.cc says why unlogged)")
    ap.add_argument("--dir", default=os.path.join(build, "bench", "upsert", "data"),
                    help="generated files, shared with bench/upsert (never committed)")
    ap.add_argument("--pg-dir", default=f"/tmp/sluice-bench-pg-{os.getpid()}",
                    help="the throwaway server's directory (removed after)")
    args = ap.parse_args()
    args.dir = os.path.abspath(args.dir)  # DuckDB runs in tests/tools
    delta = args.delta or max(2, args.rows // 5)
    a, b = upsert_files(args.dir, args.rows, delta)
    work = os.path.join(args.dir, "pg-work")
    os.makedirs(work, exist_ok=True)
    expected_rows = args.rows + (delta - delta // 2)
    with_sluice = not args.ceiling_only
    pool_alone = with_sluice and args.pool_alone
    if with_sluice and not pool_alone and not sluice_has_flag(args.sluice, "serve", "--pool"):
        pool_alone = os.path.exists(args.pool_driver)
        print(f"bench: {args.sluice} has no `serve --pool` yet: "
              + ("sluice's pool runs alone (sluice_pg_pool_driver)" if pool_alone
                 else "the ceiling runs alone"), flush=True)
        with_sluice = pool_alone
    who = "sluice pool alone" if pool_alone else "sluice e2e"

    runs = []
    with PgServer(args.pg_dir) as pg:
        for n in range(args.repeat):
            # One engine after the other in each round, so that a busy neighbour slows both.
            s_out, s_rss, ddl, s_print = (None, None, None, None)
            if pool_alone:
                s_out, s_rss, ddl, s_print = run_pool_alone(args.pool_driver, pg, f"sluice_{n}",
                                                            a, b)
            elif with_sluice:
                s_out, s_rss, ddl, s_print = run_sluice(args.sluice, pg, f"sluice_{n}", work, a, b)
            c_out, plain, c_print = run_ceiling(args.ceiling, pg, f"ceiling_{n}", ddl, a, b,
                                                args.stage)
            for engine, fp in (("sluice", s_print), ("the ceiling", c_print)):
                if fp is not None and fp[0] != expected_rows:
                    raise SystemExit(f"bench: expected {expected_rows} rows, {engine} has "
                                     f"{fp[0]}")
            if s_print is not None and s_print != c_print:
                raise SystemExit(f"bench: sluice's rows differ from the ceiling's: {s_print} "
                                 f"vs {c_print} (count, hash)")
            runs.append((s_out, s_rss, c_out, plain))
            print(f"  round {n + 1}: " + "; ".join(
                (f"{phase} {who} {s_out[i]['total']:.2f} s (upload {s_out[i]['upload']:.2f} s), "
                 if s_out else f"{phase} ") +
                f"ceiling {c_out[i]['seconds']:.2f} s (copy {c_out[i]['copy_seconds']:.2f}, "
                f"upsert {c_out[i]['upsert_seconds']:.2f}, commit {c_out[i]['commit_seconds']:.2f})"
                for i, phase in enumerate(("load A", "upsert B")))
                + f"; plain COPY {plain['seconds']:.2f} s", flush=True)

    phases = (("load A", args.rows), ("upsert B", delta))
    print(f"\nPostgreSQL bulk upsert: orders, {args.rows:,} rows then a {delta:,}-row delta "
          f"(half updates, half new keys); {args.repeat} round(s); load average "
          f"{os.getloadavg()[0]:.1f}")
    print(f"{'phase':<10}{'rows':>11}{' ' + who + ' rows/s':>24}{'upload s':>10}{'total s':>9}"
          f"{'ceiling rows/s':>16}{'ratio':>7}{'spread':>13}{'after upload':>14}")
    for i, (phase, rows) in enumerate(phases):
        ceiling = median([r[2][i]["seconds"] for r in runs])
        line = f"{phase:<10}{rows:>11,}"
        if with_sluice:
            total = median([r[0][i]["total"] for r in runs])
            upload = median([r[0][i]["upload"] for r in runs])
            ratios = [r[2][i]["seconds"] / r[0][i]["total"] for r in runs]
            spread = f"{min(ratios):.2f}-{max(ratios):.2f}"
            line += (f"{rows / total:>24,.0f}{upload:>10.2f}{total:>9.2f}{rows / ceiling:>16,.0f}"
                     f"{median(ratios):>7.2f}{spread:>13}{ceiling / (total - upload):>14.2f}")
        else:
            line += f"{'-':>24}{'-':>10}{'-':>9}{rows / ceiling:>16,.0f}{'-':>7}{'-':>13}{'-':>14}"
        print(line)
    plain_s = [r[3]["seconds"] for r in runs]
    print(f"plain binary COPY of A into an empty table with a primary key (for scale): "
          f"{args.rows / median(plain_s):,.0f} rows/s (rounds {args.rows / max(plain_s):,.0f}-"
          f"{args.rows / min(plain_s):,.0f})")
    ceiling_rows_s = [[r[2][i]["rows"] / r[2][i]["seconds"] for r in runs] for i in range(2)]
    print("ceiling rounds: " + "; ".join(
        f"{phase} {min(v):,.0f}-{max(v):,.0f} rows/s" for (phase, _), v in
        zip(phases, ceiling_rows_s)))
    rss = [r[1] for r in runs if r[1]]
    c_rss = [o.get("peak_rss_mib", 0) for r in runs for o in r[2]]
    print(f"peak RSS: sluice serve {max(rss):,.0f} MiB; " if rss else "peak RSS: ", end="")
    print(f"ceiling {max(c_rss):,.0f} MiB (whole file encoded in memory)")
    if with_sluice:
        print(f"ratio = {who} rows/s / ceiling rows/s (goal >= 0.80 end to end), median of the "
              "rounds (the lower middle one), spread = lowest-highest round; 'after upload' "
              "leaves the client's upload out of sluice's time; the ceiling's decode and "
              "encode are outside its clock")


if __name__ == "__main__":
    main()
