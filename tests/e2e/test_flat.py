"""End to end on the embedded default: the seed's flat demo, upserts with and without an age
column, and bad files that fail with a clear error while their table waits (FIFO)."""

import decimal
import json
import os
import tempfile
import unittest

from harness import GENERATED, TEST_PG, SluiceTestCase, comparable, duckdb

def read_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


class FlatTest(SluiceTestCase):
    def test_seed_flat_demo_with_aws_cli(self):
        conn = self.create_connection("seed-demo")
        self.add_table(conn, "flat", "order_id")
        self.aws(conn, "s3", "cp", os.path.join(GENERATED, "seed_order_flat_v1.parquet"),
                 f"s3://{conn['bucket']}/flat/order_v1.parquet")
        files = self.wait_files(conn, "flat", 1)
        self.assertEqual(files[0]["inserted"], 1)
        rows = self.query(conn, "SELECT order_id, order_value, payment_method FROM flat")
        self.assertEqual(len(rows), 1)
        self.assertEqual(comparable(rows[0]["order_value"]), decimal.Decimal("597"))
        self.assertEqual(rows[0]["payment_method"], "credit_card")
        if TEST_PG:
            # The seed's demo through psql: the table is <connection>.<table>, its types exact.
            text = self.psql(f'SELECT order_id, order_value, payment_method FROM "{conn["bucket"]}".flat')
            self.assertIn("ORD-1001 |      597.00 | credit_card", text)
            self.assertIn("numeric(10,2)", self.psql(f'\\d "{conn["bucket"]}".flat'))

        self.aws(conn, "s3", "cp", os.path.join(GENERATED, "seed_order_flat_v2.parquet"),
                 f"s3://{conn['bucket']}/flat/order_v2.parquet")
        files = self.wait_files(conn, "flat", 2)
        self.assertEqual([f["status"] for f in files], ["loaded", "loaded"])
        self.assertEqual(files[1]["updated"], 1)
        rows = self.query(conn, "SELECT * FROM flat")
        self.assertEqual(len(rows), 1)
        expected = read_jsonl(os.path.join(GENERATED, "seed_order_final.jsonl"))[0]
        self.assertEqual({k: comparable(v) for k, v in rows[0].items()},
                         {k: comparable(v) for k, v in expected.items()})
        self.assertEqual(rows[0]["payment_method"], "cash")
        self.assertEqual(comparable(rows[0]["order_value"]), decimal.Decimal("600"))

        # The aligned table a person reads.
        text = self.sluice("query", "SELECT order_id, order_value, payment_method FROM flat",
                           "--connection", conn["bucket"]).stdout
        self.assertIn("cash", text)
        self.assertIn("600", text)
        self.assertIn("(1 row)", text)

    def upsert_orders(self, conn, table, age):
        self.add_table(conn, table, "order_id", age=age)
        s3 = self.boto3(conn)
        s3.upload_file(os.path.join(GENERATED, "orders_v1.parquet"), conn["bucket"], f"{table}/v1.parquet")
        s3.upload_file(os.path.join(GENERATED, "orders_v2.parquet"), conn["bucket"], f"{table}/v2.parquet")
        files = self.wait_files(conn, table, 2)
        rows = self.query(conn, f"SELECT * FROM {table} ORDER BY order_id")
        return files, rows

    def assert_table_equals(self, rows, expected_path):
        expected = read_jsonl(expected_path)
        self.assertEqual(len(rows), len(expected))
        for got, want in zip(rows, expected):
            self.assertEqual({k: comparable(v) for k, v in got.items()},
                             {k: comparable(v) for k, v in want.items()})

    def test_plain_upsert_with_boto3(self):
        conn = self.create_connection("orders-plain")
        files, rows = self.upsert_orders(conn, "orders_plain", None)
        self.assertEqual((files[0]["inserted"], files[0]["updated"]), (1000, 0))
        self.assertEqual((files[1]["inserted"], files[1]["updated"]), (50, 100))
        self.assert_table_equals(rows, os.path.join(GENERATED, "orders_final_plain_upsert.jsonl"))

    def test_age_column_refuses_older_versions(self):
        conn = self.create_connection("orders-age")
        files, rows = self.upsert_orders(conn, "orders_age", "created_at")
        # Of the 100 updates, 60 are newer, 20 equal (applied) and 20 older (refused).
        self.assertEqual((files[1]["inserted"], files[1]["updated"], files[1]["refused"]),
                         (50, 80, 20))
        self.assert_table_equals(rows, os.path.join(GENERATED, "orders_final_age_upsert.jsonl"))

    def test_missing_key_blocks_the_table_until_fixed_and_retried(self):
        conn = self.create_connection("fifo")
        bucket = conn["bucket"]
        # A configuration mistake: the key column is misspelt, so the file has no such column.
        self.add_table(conn, "fifo_orders", "orderid")
        self.aws(conn, "s3", "cp", os.path.join(GENERATED, "seed_order_flat_v1.parquet"),
                 f"s3://{bucket}/fifo_orders/1.parquet")
        files = self.wait_files(conn, "fifo_orders", 1, statuses=("failed",))
        self.assertEqual(files[0]["error_code"], "PK_NOT_FOUND")
        self.assertIn("orderid", files[0]["error_message"])
        self.assertIn("order_id", files[0]["error_message"])  # names the columns the file has

        # The next good file waits behind the failed one: order is the contract.
        self.aws(conn, "s3", "cp", os.path.join(GENERATED, "seed_order_flat_v2.parquet"),
                 f"s3://{bucket}/fifo_orders/2.parquet")
        self.wait_files(conn, "fifo_orders", 2, statuses=("failed", "queued"))
        import time
        time.sleep(1.0)
        self.assertEqual([f["status"] for f in self.files(conn, "fifo_orders")], ["failed", "queued"])

        # Fix the configuration, retry the failed file: both load, in order.
        self.sluice("table", "update", bucket, "fifo_orders", "--pk", "order_id")
        self.sluice("files", "retry", str(files[0]["seq"]))
        files = self.wait_files(conn, "fifo_orders", 2)
        rows = self.query(conn, "SELECT order_value, payment_method FROM fifo_orders")
        self.assertEqual(len(rows), 1)
        self.assertEqual(rows[0]["payment_method"], "cash")

    def test_bad_files_fail_clearly_and_skip_moves_on(self):
        conn = self.create_connection("bad-files")
        bucket = conn["bucket"]
        self.add_table(conn, "bad_nokey", "order_id")
        self.add_table(conn, "bad_age", "order_id", age="updated_at")
        self.add_table(conn, "bad_null", "order_id")
        self.add_table(conn, "bad_format", "order_id")
        self.add_table(conn, "good", "order_id")
        with tempfile.TemporaryDirectory() as tmp:
            nokey = os.path.join(tmp, "nokey.parquet")
            nullkey = os.path.join(tmp, "nullkey.parquet")
            fixed = os.path.join(tmp, "fixed.parquet")
            duckdb(f"COPY (SELECT 1 AS id, 'x' AS note) TO '{nokey}' (FORMAT parquet)",
                   f"COPY (SELECT * FROM (VALUES (1, 'a'), (NULL, 'b')) t(order_id, note)) "
                   f"TO '{nullkey}' (FORMAT parquet)",
                   f"COPY (SELECT 7 AS order_id, 'ok' AS note) TO '{fixed}' (FORMAT parquet)")
            garbage = os.path.join(tmp, "garbage.parquet")
            with open(garbage, "wb") as f:
                f.write(b"order_id,note\n1,not parquet\n")
            truncated = os.path.join(tmp, "truncated.parquet")
            with open(os.path.join(GENERATED, "orders_v1.parquet"), "rb") as src:
                data = src.read()
            with open(truncated, "wb") as f:
                f.write(data[:len(data) // 2] + data[-8:])  # valid magic, missing middle

            s3 = self.boto3(conn)
            s3.upload_file(nokey, bucket, "bad_nokey/a.parquet")
            s3.upload_file(fixed, bucket, "bad_age/a.parquet")
            s3.upload_file(nullkey, bucket, "bad_null/a.parquet")
            s3.upload_file(garbage, bucket, "bad_format/a.parquet")
            s3.upload_file(truncated, bucket, "bad_format/b.parquet")
            s3.upload_file(fixed, bucket, "good/a.parquet")

        self.assertEqual(self.wait_files(conn, "bad_nokey", 1, ("failed",))[0]["error_code"], "PK_NOT_FOUND")
        self.assertEqual(self.wait_files(conn, "bad_age", 1, ("failed",))[0]["error_code"],
                         "AGE_COLUMN_NOT_FOUND")
        null_file = self.wait_files(conn, "bad_null", 1, ("failed",))[0]
        self.assertEqual(null_file["error_code"], "PK_NULL")
        self.assertIn("row 1", null_file["error_message"])
        first = self.wait_files(conn, "bad_format", 1, ("failed",))[0]
        self.assertEqual(first["error_code"], "UNSUPPORTED_FORMAT")
        # Other tables go on while these wait.
        self.wait_files(conn, "good", 1)
        self.assertEqual(self.query(conn, "SELECT count(*) AS n FROM good"), [{"n": 1}])
        # A failed file keeps nothing of itself in the pool: the whole file or nothing.
        self.assertNotIn("bad_null", self.table_names(conn))

        # Skipping the unreadable file lets the table move on to the damaged one.
        self.sluice("files", "skip", str(first["seq"]))
        files = self.wait_files(conn, "bad_format", 1, ("failed",))
        files = self.wait_files(conn, "bad_format", 2, ("failed", "skipped"))
        self.assertEqual(files[0]["status"], "skipped")
        self.assertEqual(files[1]["error_code"], "CORRUPT_FILE")

        # Retrying a file that is not failed is refused with a clear message.
        p = self.sluice("files", "retry", str(files[0]["seq"]), check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("skipped", p.stderr)

    def test_unconfigured_table_is_held_then_loaded(self):
        conn = self.create_connection("held")
        bucket = conn["bucket"]
        self.aws(conn, "s3", "cp", os.path.join(GENERATED, "seed_order_flat_v1.parquet"),
                 f"s3://{bucket}/later/a.parquet")
        files = self.wait_files(conn, "later", 1, ("failed",))
        self.assertEqual(files[0]["error_code"], "TABLE_NOT_CONFIGURED")
        self.add_table(conn, "later", "order_id")
        self.sluice("files", "retry", str(files[0]["seq"]))
        self.wait_files(conn, "later", 1)
        self.assertEqual(len(self.query(conn, "SELECT * FROM later")), 1)


if __name__ == "__main__":
    unittest.main()
