#!/usr/bin/env python3
"""Writes the data directories test_pool_migration.py starts from, with the release before
pool namespaces (every table of every connection in one <data>/pool.db):

  SLUICE_BIN=<that release's sluice> python3 make_pre_namespace_data_dirs.py

makes testdata/pre-namespaces-{single,multi}.tar.gz. `single`: one connection `shop` with a
flat table `orders` (an update and an age-refused row across two files) and a nested table
`nested` (the seed's order). `multi`: `shop` as in single, plus a connection `crm` with its
own `contacts` and `leads` tables (that release refused a table name another connection
used). The files were made at eccad94 (the last commit before namespaces).
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import SHARED, Server, SluiceTestCase, duckdb  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
# The seed's nested order (test_nested.py's example).
EXAMPLE = {"order_id": "ORD-2001",
           "customer": {"name": "Ana Lima", "address": {"city": "Porto"}},
           "tags": ["priority", "gift"],
           "line_items": [{"order_line_id": 1, "product": "espresso machine",
                           "quantity": 1, "price": 249.90},
                          {"order_line_id": 2, "product": "coffee beans 1kg",
                           "quantity": 3, "price": 18.50}],
           "created_at": "2024-05-03T14:30:00"}


def parquet(path, select):
    duckdb(f"COPY ({select}) TO '{path}' (FORMAT parquet)")
    with open(path, "rb") as f:
        return f.read()


def make(kind, tmp):
    data = os.path.join(tmp, kind)
    server = Server(data).start()
    helper = SluiceTestCase("run")
    helper.data_dir = data
    helper.server = server
    try:
        shop = helper.create_connection("shop")
        helper.add_table(shop, "orders", "order_id", age="version")
        s3 = helper.boto3(shop)
        s3.put_object(Bucket="shop", Key="orders/1.parquet", Body=parquet(
            os.path.join(tmp, "o1.parquet"),
            "SELECT * FROM (VALUES (1, 1, 'new', 10.50::DECIMAL(10,2)), "
            "(2, 1, 'new', 20.00::DECIMAL(10,2))) t(order_id, version, status, amount)"))
        helper.wait_files(shop, "orders", 1)
        s3.put_object(Bucket="shop", Key="orders/2.parquet", Body=parquet(
            os.path.join(tmp, "o2.parquet"),
            "SELECT * FROM (VALUES (1, 2, 'shipped', 10.50::DECIMAL(10,2)), "
            "(2, 0, 'stale', 0.00::DECIMAL(10,2))) t(order_id, version, status, amount)"))
        helper.wait_files(shop, "orders", 2)
        example = os.path.join(tmp, "example.json")
        with open(example, "w") as f:
            json.dump(EXAMPLE, f)
        helper.sluice("table", "add", "shop", "nested", "--nested", "--example", example,
                      "--pk", "order_id", "--child-pk", "line_items=order_line_id")
        with open(os.path.join(SHARED, "parquet", "generated", "seed_order_nested.parquet"),
                  "rb") as f:
            s3.put_object(Bucket="shop", Key="nested/1.parquet", Body=f.read())
        helper.wait_files(shop, "nested", 1)
        if kind == "multi":
            crm = helper.create_connection("crm")
            helper.add_table(crm, "contacts", "id")
            helper.add_table(crm, "leads", "order_id", age="version")
            c3 = helper.boto3(crm)
            c3.put_object(Bucket="crm", Key="contacts/1.parquet", Body=parquet(
                os.path.join(tmp, "c1.parquet"),
                "SELECT * FROM (VALUES (7, 'ada'), (8, 'bob')) t(id, name)"))
            c3.put_object(Bucket="crm", Key="leads/1.parquet", Body=parquet(
                os.path.join(tmp, "c2.parquet"),
                "SELECT * FROM (VALUES (3, 1, 'crm', 1.00::DECIMAL(10,2))) "
                "t(order_id, version, status, amount)"))
            helper.wait_files(crm, "contacts", 1)
            helper.wait_files(crm, "leads", 1)
    finally:
        server.stop()
    for name in ("serve.json", "serve.log"):
        if os.path.exists(os.path.join(data, name)):
            os.remove(os.path.join(data, name))
    out = os.path.join(HERE, "testdata", f"pre-namespaces-{kind}.tar.gz")
    subprocess.run(["tar", "-czf", out, "-C", tmp, kind], check=True)
    print(out)


def main():
    if "SLUICE_BIN" not in os.environ:
        raise SystemExit("set SLUICE_BIN to the sluice binary of the release before namespaces")
    tmp = tempfile.mkdtemp(prefix="sluice-pre-ns-")
    try:
        for kind in ("single", "multi"):
            make(kind, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
