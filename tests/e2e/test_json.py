"""End to end: JSON input. The records of orders_flat_snappy.parquet, in the corpus's canonical
JSONL form beside it, pushed as JSON Lines (aws CLI), as one JSON array and gzip'd JSON Lines
(boto3, under names that do not say JSON), and one of them as a single pretty-printed object,
load into flat tables whose rows equal the parquet file's decoding. (The reference is that
decoding, the corpus's .jsonl, not a load of the parquet file: its UBIGINT column holds values
above INT64_MAX, which the SQLite pool refuses by design.) Then the errors: a value that does
not fit names the line and the path; damaged JSON names the line."""

import gzip
import json
import math
import os
import struct
import tempfile
import unittest

from harness import GENERATED, TEST_PG, SluiceTestCase
from test_flat import comparable

PARQUET = os.path.join(GENERATED, "orders_flat_snappy.parquet")
JSONL = os.path.join(GENERATED, "orders_flat_snappy.jsonl")
# Columns whose parquet type is FLOAT: the pool holds the binary32 value widened to double,
# while the JSON text is the shortest binary32 rendering; they compare after rounding to float.
FLOAT32 = {"weight_f32"}


def normalise(column, v):
    """A pool value (or canonical JSONL value) in a form both loads compare equal in."""
    if isinstance(v, bool):
        v = int(v)  # the pool stores booleans as 0/1
    if isinstance(v, str) and v in ("NaN", "Infinity", "-Infinity"):
        v = float(v)  # the canonical form's spelling of non-finite floats
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        if column in FLOAT32:
            v = struct.unpack("f", struct.pack("f", v))[0]
        return repr(v) if math.isinf(v) else comparable(v)
    if isinstance(v, str) and column in FLOAT32:
        try:
            return normalise(column, float(v))
        except ValueError:
            return v
    if isinstance(v, (dict, list)):
        return json.dumps(v, separators=(",", ":"))
    if isinstance(v, str) and v[:1] in "{[":
        try:
            return json.dumps(json.loads(v), separators=(",", ":"))
        except ValueError:
            return v
    return comparable(v)


def records():
    with open(JSONL) as f:
        return [json.loads(line) for line in f]


class JsonTest(SluiceTestCase):
    maxDiff = None

    def rows(self, conn, table):
        # `sluice query --json` prints numeric-looking text as a JSON number (a double); text
        # is fetched with a prefix so that exact decimals and big integers arrive as written.
        columns = list(self.query(conn, f"SELECT * FROM {table} LIMIT 1")[0].keys())
        select = ", ".join(f"CASE WHEN typeof(\"{c}\") = 'text' THEN 't:' || \"{c}\" "
                           f"ELSE \"{c}\" END AS \"{c}\"" for c in columns)
        got = self.query(conn, f"SELECT {select} FROM {table} ORDER BY order_id")
        return [{k: normalise(k, v[2:] if isinstance(v, str) else v) for k, v in row.items()}
                for row in got]

    def assert_same_rows(self, conn, table, reference):
        got = self.rows(conn, table)
        self.assertEqual(len(got), len(reference), table)
        for g, w in zip(got, reference):
            self.assertEqual(g, w, f"{table}: order_id {w['order_id']}")

    def test_every_json_form_loads_the_rows_of_the_parquet_file(self):
        conn = self.create_connection("json-forms")
        bucket = conn["bucket"]
        for table in ("jl", "ja", "jg", "jo"):
            self.add_table(conn, table, "order_id")
        self.aws(conn, "s3", "cp", JSONL, f"s3://{bucket}/jl/orders.jsonl")
        recs = records()
        s3 = self.boto3(conn)
        s3.put_object(Bucket=bucket, Key="ja/orders.json",
                      Body=("[\n" + ",\n".join(json.dumps(r) for r in recs) + "\n]\n").encode())
        with open(JSONL, "rb") as f:
            s3.put_object(Bucket=bucket, Key="jg/orders.data", Body=gzip.compress(f.read()))
        s3.put_object(Bucket=bucket, Key="jo/one.json",
                      Body=json.dumps(recs[1], indent=2, ensure_ascii=False).encode())
        for table in ("jl", "ja", "jg", "jo"):
            files = self.wait_files(conn, table, 1, statuses=("loaded", "failed"))
            if TEST_PG:
                # PostgreSQL keeps microseconds: the corpus's nanosecond timestamps fail the
                # file, naming the column (docs/design/pool.md, "PostgreSQL storage").
                self.assertEqual((files[0]["status"], files[0]["error_code"]),
                                 ("failed", "SCHEMA_MISMATCH"), files[0])
                self.assertIn("column 'created_ns' row ", files[0]["error_message"])
                self.assertIn("nanoseconds", files[0]["error_message"])
                continue
            self.assertEqual(files[0]["status"], "loaded", files[0])
        if TEST_PG:
            return  # the rows below are compared in the SQLite pool's storage forms

        reference = sorted(({k: normalise(k, v) for k, v in r.items()} for r in recs),
                           key=lambda r: r["order_id"])
        self.assertEqual(len(reference), 500)
        for table in ("jl", "ja", "jg"):
            self.assert_same_rows(conn, table, reference)
            self.assertEqual(self.files(conn, table)[0]["inserted"], len(recs))
        self.assert_same_rows(conn, "jo", [r for r in reference if r["order_id"] == recs[1]["order_id"]])
        # Exact integers survive where no binary64 holds them.
        big = [r for r in recs if isinstance(r["ref_i64"], str)]
        self.assertTrue(big)
        got = self.query(conn, f"SELECT ref_i64 FROM jl WHERE order_id = {big[0]['order_id']}")
        self.assertEqual(str(got[0]["ref_i64"]), big[0]["ref_i64"])
        # Dates and timestamps were recognised and typed, not left as text.
        history = json.loads(self.sluice("table", "history", bucket, "jl", "--json").stdout)
        types = {h["column"]: h["new_type"] for h in history}
        self.assertEqual(types["order_date"], "DATE")
        self.assertEqual(types["created_us"], "TIMESTAMP")
        self.assertEqual(types["created_ns"], "TIMESTAMP_NS")
        self.assertEqual(types["updated_tz"], "TIMESTAMP WITH TIME ZONE")

    def test_a_value_that_does_not_fit_names_the_line_and_the_path(self):
        conn = self.create_connection("json-errors")
        bucket = conn["bucket"]
        self.add_table(conn, "items", "id")
        s3 = self.boto3(conn)
        # The first file sets the types; the second brings text where the table holds numbers.
        s3.put_object(Bucket=bucket, Key="items/1.jsonl",
                      Body=b'{"id":1,"qty":2,"line_items":[{"sku":"a","qty":1}]}\n')
        self.wait_files(conn, "items", 1)
        lines = [{"id": i, "qty": i, "line_items": [{"sku": "a", "qty": 1}] * 3} for i in range(2, 70000)]
        lines[-1]["line_items"][2] = {"sku": "a", "qty": "three"}
        s3.put_object(Bucket=bucket, Key="items/2.jsonl",
                      Body="".join(json.dumps(r) + "\n" for r in lines).encode())
        files = self.wait_files(conn, "items", 2, statuses=("loaded", "failed"))
        self.assertEqual(files[1]["status"], "failed")
        self.assertEqual(files[1]["error_code"], "SCHEMA_MISMATCH")
        msg = files[1]["error_message"]
        self.assertIn("items/2.jsonl: line 69998", msg)
        self.assertIn("line_items[2].qty", msg)
        self.assertEqual(self.query(conn, "SELECT count(*) AS n FROM items")[0]["n"], 1)

    def test_damaged_json_fails_as_corrupt_naming_the_line(self):
        conn = self.create_connection("json-corrupt")
        bucket = conn["bucket"]
        self.add_table(conn, "broken", "id")
        s3 = self.boto3(conn)
        s3.put_object(Bucket=bucket, Key="broken/a.jsonl", Body=b'{"id":1}\n{"id":2,"x":[1 2]}\n')
        s3.put_object(Bucket=bucket, Key="broken/b.json.gz",
                      Body=gzip.compress(b'[{"id":1},{"id":2}')[:-6])
        files = self.wait_files(conn, "broken", 1, statuses=("failed",))
        self.assertEqual(files[0]["error_code"], "CORRUPT_FILE")
        self.assertIn("broken/a.jsonl: line 2", files[0]["error_message"])
        # The table waits behind its failed file (FIFO); skip it to see the next one fail too.
        self.sluice("files", "skip", str(files[0]["seq"]))
        files = self.wait_files(conn, "broken", 2, statuses=("failed", "skipped"))
        self.assertEqual(files[1]["error_code"], "CORRUPT_FILE")
        self.assertIn("broken/b.json.gz", files[1]["error_message"])


if __name__ == "__main__":
    unittest.main()
