#!/usr/bin/env python3
"""Nodes benchmark (issue 12): many small files across 8 tables, pushed by --clients boto3
threads spread over the nodes' endpoints, into one node and then into two nodes sharing one
PostgreSQL database and one landing directory (docs/design/nodes.md). Per run: files/s from the
first PUT until the last file is `loaded` in the shared ledger; then the ratio two / one.

Both runs use the same files, clients and a fresh database each, on one throwaway PostgreSQL
(scripts/pg_server.sh). On one machine the nodes share its cores, so the ratio says what a
second node costs or gains in coordination (claims, LISTEN/NOTIFY, the shared counter rows)
rather than what a second machine would add.
"""

import argparse
import concurrent.futures
import contextlib
import json
import os
import shutil
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from pg_bench import PgServer, peak_rss_mib  # noqa: E402
from sluice_bench import ROOT, Sluice, parquet_files, wait_for  # noqa: E402

TABLES = [f"t{i}" for i in range(8)]


def small_files(directory, n, rows):
    """n parquet files of `rows` rows each (ids disjoint per file), written by DuckDB once."""
    return parquet_files(directory, f"small_{n}_{rows}", n,
                         lambda i: f"SELECT ({i} * {rows} + r)::BIGINT AS id, r AS v, 'note ' || r "
                                   f"AS note FROM range({rows}) t(r)")


def client(endpoint, conn):
    import boto3
    from botocore.config import Config
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id=conn["access_key_id"],
                        aws_secret_access_key=conn["secret_access_key"],
                        config=Config(retries={"max_attempts": 3, "mode": "standard"},
                                      max_pool_connections=64))


def run(args, pg, bodies, node_count):
    database = f"nodes_{node_count}"
    pg.create_database(database)
    base = os.path.join(args.dir, f"run-{node_count}")
    shutil.rmtree(base, ignore_errors=True)
    landing = os.path.join(base, "landing")
    nodes = [Sluice(args.sluice, os.path.join(base, f"node{i}"),
                    serve_args=["--pool", pg.uri(database), "--landing", landing])
             for i in range(node_count)]
    try:
        for node in nodes:
            node.start(connection=None)
        conn = json.loads(nodes[0].cli("connection", "create", "bench", "--json"))
        for t in TABLES:
            nodes[0].cli("table", "add", conn["bucket"], t, "--pk", "id")
        clients = [client(node.endpoint, conn) for node in nodes]
        lock = threading.Lock()
        next_file = [0]

        def worker(w):
            s3 = clients[w % len(clients)]
            while True:
                with lock:
                    i = next_file[0]
                    next_file[0] += 1
                if i >= len(bodies):
                    return
                s3.put_object(Bucket=conn["bucket"], Key=f"{TABLES[i % len(TABLES)]}/f{i}.parquet",
                              Body=bodies[i])

        start = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.clients) as pool:
            list(pool.map(worker, range(args.clients)))
        pushed = time.monotonic()

        def loaded():
            rows = pg.sql("SELECT count(*) FILTER (WHERE status = 'loaded'), count(*) FILTER "
                          "(WHERE status = 'failed') FROM _sluice_catalog.files", database)
            done, failed = int(rows[0][0]), int(rows[0][1])
            if failed:
                raise SystemExit(f"bench: {failed} files failed to load")
            return done == len(bodies)

        wait_for(loaded, 3600, "every file loaded", interval=0.01)
        end = time.monotonic()
        rss = round(max(peak_rss_mib(node.proc.pid) or 0 for node in nodes))
        return {"nodes": node_count, "files": len(bodies), "push_s": pushed - start,
                "total_s": end - start, "files_per_s": len(bodies) / (end - start),
                "peak_rss_mib": rss}
    finally:
        for node in nodes:
            node.stop()
        pg.drop_database(database)


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sluice", default=os.path.join(ROOT, "build", "sluice"))
    p.add_argument("--dir", default="/tmp/sluice-bench-nodes")
    p.add_argument("--files", type=int, default=2000)
    p.add_argument("--rows", type=int, default=100, help="rows per file")
    p.add_argument("--clients", type=int, default=16)
    args = p.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    bodies = small_files(args.dir, args.files, args.rows)
    with contextlib.ExitStack() as stack:
        pg = stack.enter_context(PgServer(os.path.join(args.dir, "pg")))
        results = [run(args, pg, bodies, 1), run(args, pg, bodies, 2)]
    for r in results:
        print(f"{r['nodes']} node(s): {r['files']} files of {args.rows} rows into {len(TABLES)} "
              f"tables by {args.clients} clients: {r['files_per_s']:.0f} files/s (pushed in "
              f"{r['push_s']:.2f} s, all loaded after {r['total_s']:.2f} s; peak RSS of a node "
              f"{r['peak_rss_mib']} MiB)")
    print(f"ratio two nodes / one node: {results[1]['files_per_s'] / results[0]['files_per_s']:.2f}")


if __name__ == "__main__":
    main()
