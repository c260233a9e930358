"""End to end: every ledger error code as a user sees it (HeadObject's x-amz-meta-sluice-*
headers through boto3 and the aws CLI, and `sluice files show`), the block and skip failure
policies, duplicate re-pushes skipped and then forced, and failed files staying downloadable."""

import json
import os
import tempfile
import time
import unittest

from harness import GENERATED, SluiceTestCase, duckdb, wait_for


def read(path):
    with open(path, "rb") as f:
        return f.read()


class EngineErrorsTest(SluiceTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.files_dir = tempfile.mkdtemp(prefix="sluice-e2e-files-", dir=cls.tmp)
        cls.nokey = os.path.join(cls.files_dir, "nokey.parquet")
        cls.nullkey = os.path.join(cls.files_dir, "nullkey.parquet")
        cls.text_id = os.path.join(cls.files_dir, "text_id.parquet")
        cls.good = os.path.join(cls.files_dir, "good.parquet")
        cls.good2 = os.path.join(cls.files_dir, "good2.parquet")
        duckdb(f"COPY (SELECT 1 AS id, 'x' AS note) TO '{cls.nokey}' (FORMAT parquet)",
               f"COPY (SELECT * FROM (VALUES (1, 'a'), (NULL, 'b')) t(order_id, note)) "
               f"TO '{cls.nullkey}' (FORMAT parquet)",
               f"COPY (SELECT 'A-1' AS order_id, 'x' AS note) TO '{cls.text_id}' (FORMAT parquet)",
               f"COPY (SELECT 7 AS order_id, 'first' AS note) TO '{cls.good}' (FORMAT parquet)",
               f"COPY (SELECT 7 AS order_id, 'second' AS note) TO '{cls.good2}' (FORMAT parquet)")

    # --- helpers ---------------------------------------------------------------------------

    def head_boto3(self, conn, key):
        meta = self.boto3(conn).head_object(Bucket=conn["bucket"], Key=key)["Metadata"]
        return {k[len("sluice-"):]: v for k, v in meta.items() if k.startswith("sluice-")}

    def head_aws(self, conn, key):
        out = self.aws(conn, "s3api", "head-object", "--bucket", conn["bucket"], "--key", key)
        meta = json.loads(out.stdout)["Metadata"]
        return {k[len("sluice-"):]: v for k, v in meta.items() if k.startswith("sluice-")}

    def show(self, seq):
        return json.loads(self.sluice("files", "show", str(seq), "--json").stdout)

    def wait_status(self, conn, key, statuses, timeout=30):
        def done():
            head = self.head_boto3(conn, key)
            return head if head.get("status") in statuses else None
        try:
            return wait_for(done, timeout=timeout, what=f"{key} to be {statuses}")
        except AssertionError:
            print(self.server.log())
            raise

    def push(self, conn, key, path=None, body=None, metadata=None):
        s3 = self.boto3(conn)
        data = read(path) if path else body
        extra = {"Metadata": metadata} if metadata else {}
        s3.put_object(Bucket=conn["bucket"], Key=key, Body=data, **extra)
        return data

    def expect_failure(self, conn, key, code, mentions=()):
        """The file under `key` failed with `code`: in HeadObject through boto3 and the aws CLI,
        and in `sluice files show`. Returns the ledger record."""
        head = self.wait_status(conn, key, ("failed",))
        self.assertEqual(head["error-code"], code, head)
        self.assertEqual(self.head_aws(conn, key)["error-code"], code)
        record = self.show(int(head["seq"]))
        self.assertEqual(record["status"], "failed")
        self.assertEqual(record["error_code"], code)
        self.assertEqual(record["key"], key)
        self.assertEqual(record["connection"], conn["bucket"])
        for m in mentions:
            self.assertIn(m, record["error_message"])
        # The header carries the message (percent-escaped, possibly shortened).
        self.assertTrue(head["error-message"])
        for field in ("received_at", "started_at", "finished_at"):
            if record[field] is not None:
                self.assertRegex(record[field], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")
        self.assertIsNotNone(record["finished_at"])
        return record

    # --- one test per error code -----------------------------------------------------------

    def test_each_error_code_in_head_object_and_files_show(self):
        conn = self.create_connection("codes")
        bucket = conn["bucket"]
        for table, pk, age in (("c_nokey", "order_id", None), ("c_null", "order_id", None),
                               ("c_age", "order_id", "updated_at"), ("c_schema", "order_id", None),
                               ("c_corrupt", "order_id", None), ("c_format", "order_id", None)):
            self.add_table(conn, table, pk, age=age)

        self.push(conn, "c_nokey/a.parquet", self.nokey)
        self.expect_failure(conn, "c_nokey/a.parquet", "PK_NOT_FOUND", ["order_id", "id, note"])

        self.push(conn, "c_null/a.parquet", self.nullkey)
        self.expect_failure(conn, "c_null/a.parquet", "PK_NULL", ["order_id", "row 1"])

        self.push(conn, "c_age/a.parquet", self.good)
        self.expect_failure(conn, "c_age/a.parquet", "AGE_COLUMN_NOT_FOUND", ["updated_at"])

        self.push(conn, "c_schema/a.parquet", self.good)
        self.wait_status(conn, "c_schema/a.parquet", ("loaded",))
        self.push(conn, "c_schema/b.parquet", self.text_id)
        self.expect_failure(conn, "c_schema/b.parquet", "SCHEMA_MISMATCH", ["order_id"])

        data = bytearray(read(os.path.join(GENERATED, "orders_v1.parquet")))
        for i in range(40, 200):
            data[i] ^= 0xFF
        self.push(conn, "c_corrupt/a.parquet", body=bytes(data))
        rec = self.expect_failure(conn, "c_corrupt/a.parquet", "CORRUPT_FILE",
                                  ["c_corrupt/a.parquet: row group 0, column 'order_id'", "page 0"])
        self.assertNotIn("landing", rec["error_message"])

        self.push(conn, "c_format/a.parquet", body=b'<orders><order_id>1</order_id></orders>\n')
        self.expect_failure(conn, "c_format/a.parquet", "UNSUPPORTED_FORMAT",
                            ["not a parquet or JSON file", "XML", "Apache Parquet"])

        # A key outside any configured table is held (the connection's default policy).
        self.push(conn, "c_unconfigured/a.parquet", self.good)
        self.expect_failure(conn, "c_unconfigured/a.parquet", "TABLE_NOT_CONFIGURED",
                            ["c_unconfigured"])

        # Every failed file is still downloadable as pushed.
        got = self.boto3(conn).get_object(Bucket=bucket, Key="c_format/a.parquet")["Body"].read()
        self.assertEqual(got, b'<orders><order_id>1</order_id></orders>\n')
        self.assertEqual(self.boto3(conn).get_object(Bucket=bucket, Key="c_corrupt/a.parquet")
                         ["Body"].read(), bytes(data))

    def test_internal_when_the_landed_bytes_are_gone(self):
        conn = self.create_connection("internal")
        self.add_table(conn, "lost", "id_missing")  # blocks the file first
        body = b"PAR1" + os.urandom(16)  # unique bytes, to find the landed copy
        self.push(conn, "lost/a.parquet", body=body)
        first = self.wait_status(conn, "lost/a.parquet", ("failed",))
        objects = os.path.join(self.data_dir, "landing", "objects")
        landed = [os.path.join(objects, n) for n in os.listdir(objects)
                  if read(os.path.join(objects, n)) == body]
        self.assertEqual(len(landed), 1)
        os.remove(landed[0])  # the disk lost it
        self.sluice("files", "retry", first["seq"])
        record = self.expect_failure(conn, "lost/a.parquet", "INTERNAL",
                                     ["lost/a.parquet", "landed file"])
        self.assertEqual(record["seq"], int(first["seq"]))

    # --- policies ------------------------------------------------------------------------

    def test_block_then_retry_after_fixing_the_table(self):
        conn = self.create_connection("block")
        self.add_table(conn, "blocked", "orderid")  # misspelt key
        self.push(conn, "blocked/1.parquet", self.good)
        self.push(conn, "blocked/2.parquet", self.good2)
        first = self.expect_failure(conn, "blocked/1.parquet", "PK_NOT_FOUND", ["orderid"])
        time.sleep(0.5)
        self.assertEqual(self.head_boto3(conn, "blocked/2.parquet")["status"], "queued")

        self.sluice("table", "update", conn["bucket"], "blocked", "--pk", "order_id")
        self.sluice("files", "retry", str(first["seq"]))
        self.wait_status(conn, "blocked/2.parquet", ("loaded",))
        self.assertEqual(self.head_boto3(conn, "blocked/1.parquet")["status"], "loaded")
        # Applied in order: the second file's value wins.
        self.assertEqual(self.query(conn, "SELECT note FROM blocked"), [{"note": "second"}])
        self.assertEqual(self.show(first["seq"])["rows_inserted"], 1)

    def test_skip_policy_moves_on_and_retry_loads_the_file_next(self):
        conn = self.create_connection("skip")
        bucket = conn["bucket"]
        self.sluice("table", "add", bucket, "skipping", "--pk", "order_id", "--on-error", "skip")
        tables = json.loads(self.sluice("table", "list", bucket, "--json").stdout)
        self.assertEqual(tables[0]["on_error"], "skip")

        self.push(conn, "skipping/1.parquet", self.nokey)
        self.push(conn, "skipping/2.parquet", self.good)
        self.wait_status(conn, "skipping/2.parquet", ("loaded",))
        bad = self.expect_failure(conn, "skipping/1.parquet", "PK_NOT_FOUND")
        self.assertTrue(bad["passed"])
        self.assertEqual(self.query(conn, "SELECT note FROM skipping"), [{"note": "first"}])

        # The failed file stays downloadable, through S3 and the CLI.
        got = self.boto3(conn).get_object(Bucket=bucket, Key="skipping/1.parquet")["Body"].read()
        self.assertEqual(got, read(self.nokey))
        out = os.path.join(self.tmp, "skipped-copy.parquet")
        self.sluice("files", "get", str(bad["seq"]), "-o", out)
        self.assertEqual(read(out), read(self.nokey))

        # A retry queues it again and it is the next file the table loads: it fails again
        # (same key problem), and the table moves past it again.
        self.sluice("files", "retry", str(bad["seq"]))
        self.push(conn, "skipping/3.parquet", self.good2)
        self.wait_status(conn, "skipping/3.parquet", ("loaded",))
        again = self.show(bad["seq"])
        self.assertEqual(again["status"], "failed")
        self.assertTrue(again["passed"])
        self.assertEqual(self.query(conn, "SELECT note FROM skipping"), [{"note": "second"}])

    def test_operator_skip_moves_past_a_blocked_file(self):
        conn = self.create_connection("op-skip")
        self.add_table(conn, "opskip", "order_id")
        self.push(conn, "opskip/1.parquet", body=b"order_id,note\n1,x\n")
        self.push(conn, "opskip/2.parquet", self.good)
        bad = self.expect_failure(conn, "opskip/1.parquet", "UNSUPPORTED_FORMAT", ["CSV"])
        self.sluice("files", "skip", str(bad["seq"]))
        self.wait_status(conn, "opskip/2.parquet", ("loaded",))
        self.assertEqual(self.show(bad["seq"])["status"], "skipped")

    # --- duplicates ----------------------------------------------------------------------

    def test_duplicate_is_skipped_then_forced(self):
        conn = self.create_connection("dups")
        bucket = conn["bucket"]
        self.add_table(conn, "dup", "order_id")
        self.aws(conn, "s3", "cp", self.good, f"s3://{bucket}/dup/a.parquet")
        first = self.wait_status(conn, "dup/a.parquet", ("loaded",))
        self.push(conn, "dup/b.parquet", self.good2)
        self.wait_status(conn, "dup/b.parquet", ("loaded",))

        # The same bytes again, under another key: skipped, naming the file it repeats.
        self.aws(conn, "s3", "cp", self.good, f"s3://{bucket}/dup/a-again.parquet")
        head = self.wait_status(conn, "dup/a-again.parquet", ("skipped",))
        # HeadObject says what it repeats.
        self.assertEqual(head.get("duplicate-of"), str(first["seq"]))
        self.assertTrue(head.get("error-message", "").startswith("duplicate of sequence"), head)
        record = self.show(head["seq"])
        self.assertEqual(record["duplicate_of"], int(first["seq"]))
        self.assertTrue(record["error_message"].startswith(
            f"duplicate of sequence {first['seq']} (key dup/a.parquet)"), record["error_message"])
        self.assertIsNone(record["error_code"])
        listed = self.files(conn, "dup")
        self.assertEqual(listed[-1]["duplicate_of"], int(first["seq"]))
        self.assertEqual(self.query(conn, "SELECT note FROM dup"), [{"note": "second"}])

        # Forced from the CLI: loaded after all (and re-applies the first version).
        p = self.sluice("files", "retry", str(head["seq"]), check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("--force", p.stderr)
        self.sluice("files", "retry", "--force", str(head["seq"]))
        self.wait_status(conn, "dup/a-again.parquet", ("loaded",))
        self.assertEqual(self.query(conn, "SELECT note FROM dup"), [{"note": "first"}])
        self.assertTrue(self.show(head["seq"])["forced"])

        # Forced by the client with x-amz-meta-sluice-force (aws CLI --metadata, then boto3).
        self.push(conn, "dup/b-again.parquet", self.good2)
        self.wait_status(conn, "dup/b-again.parquet", ("skipped",))
        self.aws(conn, "s3", "cp", self.good2, f"s3://{bucket}/dup/b-forced.parquet",
                 "--metadata", "sluice-force=true")
        forced = self.wait_status(conn, "dup/b-forced.parquet", ("loaded",))
        self.assertEqual(self.show(forced["seq"])["metadata"]["x-amz-meta-sluice-force"], "true")
        self.assertEqual(self.query(conn, "SELECT note FROM dup"), [{"note": "second"}])
        self.push(conn, "dup/a-forced.parquet", self.good, metadata={"sluice-force": "true"})
        self.wait_status(conn, "dup/a-forced.parquet", ("loaded",))
        self.assertEqual(self.query(conn, "SELECT note FROM dup"), [{"note": "first"}])

    def test_different_bytes_under_the_same_key_are_a_new_file(self):
        conn = self.create_connection("same-key")
        self.add_table(conn, "samekey", "order_id")
        self.push(conn, "samekey/o.parquet", self.good)
        self.wait_status(conn, "samekey/o.parquet", ("loaded",))
        self.push(conn, "samekey/o.parquet", self.good2)
        head = self.wait_status(conn, "samekey/o.parquet", ("loaded",))
        files = self.files(conn, "samekey")
        self.assertEqual([f["status"] for f in files], ["loaded", "loaded"])
        self.assertEqual(files[1]["seq"], int(head["seq"]))
        self.assertEqual(files[1]["updated"], 1)
        self.assertEqual(self.query(conn, "SELECT note FROM samekey"), [{"note": "second"}])


if __name__ == "__main__":
    unittest.main()
