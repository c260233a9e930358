#!/usr/bin/env python3
"""Nested benchmark (issue 6, "Performance"): sluice unnesting nested orders end to end, beside
the SQLite ceiling and DuckDB, in one run.

Files: A, `orders` with line items (bench/parquet_scan/gen_orders.mjs nested: 1M orders by
default, 1 to 5 items each, 3 on average; written by DuckDB, snappy); B, a delta of orders/5
orders written by DuckDB from A: half updates of keys spread over A whose lists change length
(every other one loses its last item, the others gain one), half new orders.

sluice: a fresh `sluice serve`, the nested table `orders` (configured from an example record,
key order_id; line items with the synthetic key, so `children: replace`), A then B pushed with
boto3 (upload_file, multipart above 8 MiB); each timed from the start of the upload until
HeadObject reports `loaded` (polled every 20 ms).

Ceiling: sluice_nested_ceiling (nested_ceiling.cc) fills the identical two tables (the CREATE
TABLEs sluice's pool wrote) from the same rows, unnested by DuckDB into flat files and decoded
in memory before its clock starts: per order one prepared upsert, DELETE of its previous line
items by foreign key, prepared upserts of its items; one transaction per file, WAL,
synchronous=NORMAL, 1 GiB cache.

DuckDB (duckdb_load.mjs, for the record): the same nested files into the same two tables in a
DuckDB database file: INSERT ... SELECT ... UNNEST; for the delta INSERT OR REPLACE of the
orders, DELETE of their line items, INSERT of the new ones.

Every engine must end with the same numbers of orders and line items. Prints orders/s and
rows/s (orders + line items) of the three and the ratios to the ceiling (goal for sluice:
>= 0.7).
"""

import argparse
import json
import os
import shutil
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from sluice_bench import (ROOT, Sluice, count_rows, duckdb, gen_orders, generated,  # noqa: E402
                          json_lines, remove_db, table_ddl)

HERE = os.path.dirname(os.path.abspath(__file__))
CHILD = "orders_line_items"

# The example record a user would paste to configure the table (its types are those of A).
EXAMPLE = {
    "order_id": 1, "customer_id": 7, "status": "paid", "amount": 10.5, "currency": "EUR",
    "created_at": "2024-01-01T00:00:00", "updated_at": "2024-01-02T00:00:00", "note": "n",
    "qty": 1, "flag": True,
    "line_items": [{"line_no": 1, "sku": "SKU-00001", "qty": 2, "unit_price": 1.25}],
}


def files(data_dir, orders, delta):
    os.makedirs(data_dir, exist_ok=True)
    a = gen_orders("nested", orders, os.path.join(data_dir, f"orders_nested_{orders}.parquet"))

    def make_b(tmp):
        half = delta // 2
        step = max(1, orders // half)
        duckdb(f"""COPY (
            SELECT * REPLACE ('shipped' AS status, updated_at + INTERVAL 1 DAY AS updated_at,
                CASE WHEN order_id % (2 * {step}) = 0 AND len(line_items) > 1
                     THEN line_items[1:len(line_items) - 1]
                     ELSE list_append(line_items, {{'line_no': (len(line_items) + 1)::INT,
                          'sku': 'SKU-NEW', 'qty': 1::INT, 'unit_price': 9.99::DECIMAL(18,2)}})
                END AS line_items)
              FROM read_parquet('{a}') WHERE order_id % {step} = 0 AND order_id < {step * half}
            UNION ALL
            SELECT * REPLACE (order_id + {orders} AS order_id)
              FROM read_parquet('{a}') WHERE order_id < {delta - half}
            ORDER BY order_id) TO '{tmp}' (FORMAT parquet, COMPRESSION snappy)""")

    b = generated(os.path.join(data_dir, f"orders_nested_delta_{orders}_{delta}.parquet"),
                  __file__, make_b)
    return a, b


def counts(db_path):
    return count_rows(db_path, "orders", CHILD)


def run_sluice(binary, work, a, b):
    data = os.path.join(work, "sluice-data")
    shutil.rmtree(data, ignore_errors=True)
    server = Sluice(binary, data).start()
    try:
        example = os.path.join(work, "order.json")
        with open(example, "w") as f:
            json.dump(EXAMPLE, f)
        server.cli("table", "add", server.bucket, "orders", "--nested", "--example", example,
                   "--pk", "order_id")
        out = server.timed_loads(server.client(), [("orders/a.parquet", a), ("orders/b.parquet", b)])
        pool = server.pool_path()
        ddl = table_ddl(pool, "orders", CHILD)
        db = sqlite3.connect(f"file:{pool}?mode=ro", uri=True)
        child_cols = [r[1] for r in db.execute(f"PRAGMA table_info('{CHILD}')")]
        child_pk = [r[1] for r in sorted(db.execute(f"PRAGMA table_info('{CHILD}')"),
                                          key=lambda r: r[5]) if r[5] > 0]
        db.close()
        return out, counts(pool), ddl, child_cols, child_pk, pool
    finally:
        server.stop()


def child_select(child_cols):
    """The SELECT list producing a child row from order o, item li and its position i."""
    out = []
    for c in child_cols:
        if c == "orders_order_id":
            out.append("o.order_id AS orders_order_id")
        elif c == "_index":
            out.append("(i - 1)::BIGINT AS _index")
        else:
            out.append(f'li."{c}" AS "{c}"')
    return ", ".join(out)


def unnested(work, path, child_cols):
    """The file's rows as sluice writes them: one flat file per table, in root-key order."""
    base = os.path.join(work, os.path.basename(path).replace(".parquet", ""))
    root, child = base + ".root.parquet", base + ".child.parquet"
    duckdb(f"""COPY (SELECT * EXCLUDE (line_items) FROM read_parquet('{path}') ORDER BY order_id)
               TO '{root}' (FORMAT parquet, COMPRESSION snappy)""",
           f"""COPY (SELECT {child_select(child_cols)} FROM (SELECT o, unnest(o.line_items) AS li,
                     generate_subscripts(o.line_items, 1) AS i FROM read_parquet('{path}') o)
                     ORDER BY 1, 2) TO '{child}' (FORMAT parquet, COMPRESSION snappy)""")
    return root, child


def run_ceiling(binary, work, ddl, child_cols, child_pk, a, b):
    db = os.path.join(work, "ceiling.db")
    remove_db(db)
    args = [binary, "--db", db, "--ddl", ddl["orders"] + ";" + ddl[CHILD], "--root", "orders",
            "--root-pk", "order_id", "--child", CHILD, "--child-fk", "orders_order_id",
            "--child-pk", ",".join(child_pk)]
    for path in (a, b):
        args += list(unnested(work, path, child_cols))
    out = json_lines(args, "ceiling")
    result = counts(db)
    remove_db(db)
    return out, result


def run_duckdb(work, pool_ddl_db, child_cols, child_pk, a, b):
    path = os.path.join(work, "duckdb.db")
    remove_db(path, ("", ".wal"))
    # The same two tables: sluice's columns and keys, DuckDB types.
    db = sqlite3.connect(f"file:{pool_ddl_db}?mode=ro", uri=True)
    types = {}
    for t in ("orders", CHILD):
        types[t] = db.execute(
            "SELECT column_name, type_name FROM _sluice_columns WHERE table_name = ? "
            "ORDER BY position", (t,)).fetchall()
    db.close()

    def ddl(table, pk):
        cols = ", ".join(f'"{c}" {t}' for c, t in types[table])
        return f'CREATE TABLE "{table}" ({cols}, PRIMARY KEY ({", ".join(pk)}))'

    lines = json_lines(["node", os.path.join(HERE, "duckdb_load.mjs"), path,
                        ddl("orders", ["order_id"]), ddl(CHILD, child_pk),
                        child_select(child_cols), a, b], "duckdb")
    result = (lines[-1]["roots"], lines[-1]["children"])
    remove_db(path, ("", ".wal"))
    return lines[:-1], tuple(int(x) for x in result)


def main():
    build = os.path.join(ROOT, "build")
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--orders", type=int, default=1_000_000)
    ap.add_argument("--delta", type=int, help="orders of the delta (default orders / 5)")
    ap.add_argument("--sluice", default=os.path.join(build, "sluice"))
    ap.add_argument("--ceiling",
                    default=os.path.join(build, "bench", "nested", "sluice_nested_ceiling"))
    ap.add_argument("--dir", default=os.path.join(build, "bench", "nested", "data"),
                    help="generated files and the pools (never committed)")
    args = ap.parse_args()
    args.dir = os.path.abspath(args.dir)  # DuckDB runs in tests/tools
    delta = args.delta or max(2, args.orders // 5)
    a, b = files(args.dir, args.orders, delta)
    work = os.path.join(args.dir, "work")
    os.makedirs(work, exist_ok=True)
    load_before = os.getloadavg()[0]

    s_out, s_counts, ddl, child_cols, child_pk, s_pool = run_sluice(args.sluice, work, a, b)
    c_out, c_counts = run_ceiling(args.ceiling, work, ddl, child_cols, child_pk, a, b)
    # DuckDB needs sluice's column types: from the pool sluice left behind.
    d_out, d_counts = run_duckdb(work, s_pool, child_cols,
                                 child_pk, a, b)
    if not (s_counts == c_counts == d_counts):
        raise SystemExit(f"bench: (orders, line items) differ: sluice {s_counts}, ceiling "
                         f"{c_counts}, duckdb {d_counts}")

    phases = [("load A", c_out[0]["roots"], c_out[0]["children"]),
              ("delta B", c_out[1]["roots"], c_out[1]["children"])]
    print(f"\nnested: {args.orders:,} orders with line items, then a {delta:,}-order delta; "
          f"final {s_counts[0]:,} orders, {s_counts[1]:,} line items; load average "
          f"{load_before:.1f} before, {os.getloadavg()[0]:.1f} after")
    print(f"{'phase':<9}{'orders':>10}{'items':>10}{'sluice orders/s':>17}{'rows/s':>11}"
          f"{'upload s':>9}{'total s':>9}{'ceiling orders/s':>18}{'duckdb orders/s':>17}"
          f"{'sluice/ceil':>12}{'after upload':>13}{'duckdb/ceil':>12}")
    for i, (phase, roots, items) in enumerate(phases):
        total, upload = s_out[i]["total"], s_out[i]["upload"]
        ceiling, duck = c_out[i]["seconds"], d_out[i]["seconds"]
        print(f"{phase:<9}{roots:>10,}{items:>10,}{roots / total:>17,.0f}"
              f"{(roots + items) / total:>11,.0f}{upload:>9.2f}{total:>9.2f}"
              f"{roots / ceiling:>18,.0f}{roots / duck:>17,.0f}{ceiling / total:>12.2f}"
              f"{ceiling / (total - upload):>13.2f}{ceiling / duck:>12.2f}")
    print("sluice/ceil = sluice end-to-end orders/s / ceiling orders/s (goal >= 0.70); 'after "
          "upload' leaves the client's upload out of sluice's time; rows/s counts orders and "
          "line items;\nthe ceiling's decode and unnest are outside its clock; DuckDB is timed "
          "inside its process (statements only)")


if __name__ == "__main__":
    main()
