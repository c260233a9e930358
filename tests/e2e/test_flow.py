"""End to end: the flow around PUTs on a real `sluice serve` — waiting for the load with
x-amz-meta-sluice-wait (boto3 and the aws CLI, single PUT and multipart), backpressure
(pending files, free-disk floor) answered with 503 SlowDown while nothing accepted is lost,
retention of landed files, and the Prometheus /metrics page."""

import json
import os
import subprocess
import time
import unittest
import urllib.request

from botocore.exceptions import ClientError

from harness import GENERATED, SluiceTestCase, duckdb, parse_metrics, wait_for

SEED = os.path.join(GENERATED, "seed_order_flat_v1.parquet")


def read(path):
    with open(path, "rb") as f:
        return f.read()


class FlowTest(SluiceTestCase):
    def test_wait_with_boto3_returns_the_load_outcome(self):
        conn = self.create_connection("flow-wait")
        self.add_table(conn, "orders", "order_id")
        s3 = self.boto3(conn)
        r = s3.put_object(Bucket=conn["bucket"], Key="orders/a.parquet", Body=read(SEED),
                          Metadata={"sluice-wait": "30"})
        h = r["ResponseMetadata"]["HTTPHeaders"]
        self.assertEqual(h["x-amz-meta-sluice-status"], "loaded")
        self.assertEqual(h["x-amz-meta-sluice-rows-inserted"], "1")
        # The rows are queryable the moment the PUT returned.
        self.assertEqual(len(self.query(conn, "SELECT * FROM orders")), 1)
        head = s3.head_object(Bucket=conn["bucket"], Key="orders/a.parquet")
        self.assertEqual(head["Metadata"]["sluice-status"], "loaded")
        self.assertEqual(head["Metadata"]["sluice-rows-inserted"], "1")

        # A file that fails: the wait ends with failed and the error code.
        r = s3.put_object(Bucket=conn["bucket"], Key="orders/bad.parquet", Body=b"not parquet",
                          Metadata={"sluice-wait": "30"})
        h = r["ResponseMetadata"]["HTTPHeaders"]
        self.assertEqual(h["x-amz-meta-sluice-status"], "failed")
        self.assertEqual(h["x-amz-meta-sluice-error-code"], "UNSUPPORTED_FORMAT")

        # Behind the failed file the table waits: a short wait times out, still queued.
        start = time.monotonic()
        r = s3.put_object(Bucket=conn["bucket"], Key="orders/b.parquet", Body=read(SEED),
                          Metadata={"sluice-wait": "1"})
        self.assertGreaterEqual(time.monotonic() - start, 0.9)
        self.assertEqual(r["ResponseMetadata"]["HTTPHeaders"]["x-amz-meta-sluice-status"], "queued")

        with self.assertRaises(ClientError) as e:
            s3.put_object(Bucket=conn["bucket"], Key="orders/c.parquet", Body=read(SEED),
                          Metadata={"sluice-wait": "soon"})
        self.assertEqual(e.exception.response["Error"]["Code"], "InvalidArgument")

        # Verified checksums are in the ledger (admin API).
        s3.put_object(Bucket=conn["bucket"], Key="misc/sum.bin", Body=b"abc",
                      ChecksumAlgorithm="CRC32")
        files = self.admin_files(conn)
        self.assertEqual(files[-1]["checksums"], {"crc32": "NSRBwg=="})

        page = parse_metrics(self.server.http_get("/metrics"))
        bucket = conn["bucket"]
        self.assertGreaterEqual(page[("sluice_received_files_total",
                                      frozenset({("connection", bucket)}))], 4)
        self.assertEqual(page[("sluice_files", frozenset({("connection", bucket), ("table", "orders"),
                                                          ("status", "failed"),
                                                          ("error_code", "UNSUPPORTED_FORMAT")}))], 1)
        self.assertEqual(page[("sluice_backlog_files",
                               frozenset({("connection", bucket), ("table", "orders")}))], 1)
        self.assertGreaterEqual(page[("sluice_load_duration_seconds_count", frozenset())], 1)
        self.assertEqual(page[("sluice_rows_total", frozenset({("connection", bucket), ("table", "orders"),
                                                               ("outcome", "inserted")}))], 1)

    def test_wait_with_the_aws_cli_multipart(self):
        conn = self.create_connection("flow-cli")
        self.add_table(conn, "big", "id")
        path = os.path.join(self.tmp, "big.parquet")
        duckdb(f"COPY (SELECT i AS id, i * 7 AS v, md5(i::VARCHAR) AS s FROM range(300000) t(i)) "
               f"TO '{path}' (FORMAT parquet, COMPRESSION uncompressed)")
        self.assertGreater(os.path.getsize(path), 8 * 1024 * 1024)  # multipart in the aws CLI
        self.aws(conn, "s3", "cp", path, f"s3://{conn['bucket']}/big/all.parquet",
                 "--metadata", "sluice-wait=60")
        files = self.files(conn, "big")  # no waiting: the cp returned after the load
        self.assertEqual(files[0]["status"], "loaded", files)
        self.assertEqual(files[0]["inserted"], 300000)
        head = json.loads(self.aws(conn, "s3api", "head-object", "--bucket", conn["bucket"],
                                   "--key", "big/all.parquet").stdout)
        self.assertEqual(head["Metadata"]["sluice-status"], "loaded")
        self.assertEqual(head["Metadata"]["sluice-rows-inserted"], "300000")
        self.assertRegex(head["ETag"], r'^"[0-9a-f]{32}-[0-9]+"$')  # a multipart object

    def admin_files(self, conn):
        with open(os.path.join(self.data_dir, "admin.token")) as f:
            token = f.read().strip()
        req = urllib.request.Request(
            f"{self.server.admin_url}/api/v1/connections/{conn['bucket']}/files",
            headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(req, timeout=5) as r:
            return json.loads(r.read())


# The same seed file pushed again and again: forced, or all but the first would be skipped as
# duplicates.
FORCE = {"sluice-force": "true"}


class BackpressureFilesTest(SluiceTestCase):
    server_args = ("--max-pending-files", "3")

    def test_pending_files_limit_gives_slowdown_and_loses_nothing(self):
        conn = self.create_connection("flow-bp")
        self.add_table(conn, "orders", "order_id")
        s3 = self.boto3(conn)
        s3.put_object(Bucket=conn["bucket"], Key="orders/0-bad.parquet", Body=b"not parquet")
        bad = self.wait_files(conn, "orders", 1, ("failed",))[0]
        for i in range(3):
            s3.put_object(Bucket=conn["bucket"], Key=f"orders/{i + 1}.parquet", Body=read(SEED),
                          Metadata=FORCE)
        with self.assertRaises(ClientError) as e:
            s3.put_object(Bucket=conn["bucket"], Key="orders/4.parquet", Body=read(SEED),
                          Metadata=FORCE)
        self.assertEqual(e.exception.response["Error"]["Code"], "SlowDown")
        self.assertEqual(e.exception.response["ResponseMetadata"]["HTTPStatusCode"], 503)
        self.assertIn("--max-pending-files", e.exception.response["Error"]["Message"])
        self.assertEqual(len(self.files(conn, "orders")), 4)

        self.sluice("files", "skip", str(bad["seq"]))
        self.wait_files(conn, "orders", 3)

        def accepted():
            try:
                s3.put_object(Bucket=conn["bucket"], Key="orders/4.parquet", Body=read(SEED),
                              Metadata=FORCE)
                return True
            except ClientError as err:
                if err.response["Error"]["Code"] != "SlowDown":
                    raise
                return False
        wait_for(accepted, timeout=10, interval=0.2, what="the PUT to be accepted again")
        files = self.wait_files(conn, "orders", 4)
        self.assertEqual([f["key"] for f in files if f["status"] == "loaded"],
                         [f"orders/{i}.parquet" for i in range(1, 5)])
        page = parse_metrics(self.server.http_get("/metrics"))
        self.assertGreaterEqual(page[("sluice_backpressure_refusals_total",
                                      frozenset({("connection", conn["bucket"]), ("limit", "files")}))], 1)


class BackpressureDiskTest(SluiceTestCase):
    server_args = ("--min-free-disk", "1000000T")

    def test_disk_floor_gives_slowdown_and_stores_nothing(self):
        conn = self.create_connection("flow-disk")
        self.add_table(conn, "orders", "order_id")
        s3 = self.boto3(conn)
        with self.assertRaises(ClientError) as e:
            s3.put_object(Bucket=conn["bucket"], Key="orders/a.parquet", Body=read(SEED))
        self.assertEqual(e.exception.response["Error"]["Code"], "SlowDown")
        self.assertIn("--min-free-disk", e.exception.response["Error"]["Message"])
        with self.assertRaises(ClientError) as e:
            s3.create_multipart_upload(Bucket=conn["bucket"], Key="orders/m.parquet")
        self.assertEqual(e.exception.response["Error"]["Code"], "SlowDown")
        # The aws CLI retries SlowDown, then gives up with the error.
        p = self.aws(conn, "s3", "cp", SEED, f"s3://{conn['bucket']}/orders/b.parquet", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("SlowDown", p.stderr)
        self.assertEqual(self.files(conn), [])
        self.assertEqual(os.listdir(os.path.join(self.data_dir, "landing", "objects")), [])


class RetentionTest(SluiceTestCase):
    server_args = ("--retention", "2s")

    def test_loaded_files_are_purged_after_the_retention(self):
        conn = self.create_connection("flow-keep")
        self.add_table(conn, "orders", "order_id")
        s3 = self.boto3(conn)
        s3.put_object(Bucket=conn["bucket"], Key="orders/a.parquet", Body=read(SEED))
        s3.put_object(Bucket=conn["bucket"], Key="orders/bad.parquet", Body=b"not parquet")
        self.wait_files(conn, "orders", 2, ("loaded", "failed"))
        self.assertEqual(s3.get_object(Bucket=conn["bucket"], Key="orders/a.parquet")["Body"].read(),
                         read(SEED))

        def gone():
            try:
                s3.head_object(Bucket=conn["bucket"], Key="orders/a.parquet")
                return False
            except ClientError as err:
                return err.response["ResponseMetadata"]["HTTPStatusCode"] == 404
        wait_for(gone, timeout=15, interval=0.2, what="the loaded file to be purged")
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=conn["bucket"]).get("Contents", [])]
        self.assertEqual(keys, ["orders/bad.parquet"])  # failed files are kept
        self.assertEqual(s3.get_object(Bucket=conn["bucket"], Key="orders/bad.parquet")["Body"].read(),
                         b"not parquet")
        files = FlowTest.admin_files(self, conn)
        self.assertNotEqual(files[0]["purged_at"], "")
        self.assertEqual(files[0]["status"], "loaded")
        shown = json.loads(self.sluice("files", "show", str(files[0]["seq"]), "--json").stdout)
        self.assertFalse(shown["deleted"])  # purged by retention, not deleted through S3
        self.assertTrue(shown["purged_at"])
        self.assertEqual(files[1]["purged_at"], "")
        self.assertEqual(len(self.files(conn, "orders")), 2)  # the ledger keeps the record
        self.assertEqual(len(self.query(conn, "SELECT * FROM orders")), 1)  # rows stay


if __name__ == "__main__":
    unittest.main()
