"""The per-connection disk quota (issue 10) on a real `sluice serve` with boto3: a connection
past its quota gets 403 QuotaExceeded naming its usage and quota, before its body is stored,
while other connections keep writing; deletes, aborted multipart uploads and retention give the
bytes back, and writes succeed again; multipart parts count; usage shows in `sluice connection
list` and on /metrics."""

import json
import os
import unittest

from botocore.exceptions import ClientError

from harness import GENERATED, SluiceTestCase, wait_for

SEED = os.path.join(GENERATED, "seed_order_flat_v1.parquet")
KiB = 1024
MiB = 1024 * 1024


def read(path):
    with open(path, "rb") as f:
        return f.read()


class QuotaTest(SluiceTestCase):
    # 64 KiB for every connection without its own; loaded files are purged 3 s after loading.
    server_args = ("--connection-quota", "64K", "--retention", "3s")

    def refusal(self, call):
        with self.assertRaises(ClientError) as cm:
            call()
        return cm.exception.response

    def usage(self, bucket):
        listed = json.loads(self.sluice("connection", "list", "--json").stdout)
        row = next(c for c in listed if c["bucket"] == bucket)
        return int(row["disk_bytes"]), str(row["quota"])

    def landed_objects(self):
        return len(os.listdir(os.path.join(self.data_dir, "landing", "objects")))

    def test_put_past_the_quota_is_refused_and_a_delete_makes_room(self):
        conn = self.create_connection("quota-put")
        bucket = conn["bucket"]
        # Plain objects (the `store` policy) count: they stay on disk until deleted.
        self.sluice("connection", "set-unconfigured", bucket, "store")
        other = self.create_connection("quota-roomy")
        self.sluice("connection", "set-quota", other["bucket"], "0")  # no quota
        s3 = self.boto3(conn)
        s3.put_object(Bucket=bucket, Key="plain/a.bin", Body=b"a" * (40 * KiB))
        self.assertEqual(self.usage(bucket), (40 * KiB, "default"))

        before = self.landed_objects()
        r = self.refusal(lambda: s3.put_object(Bucket=bucket, Key="plain/b.bin",
                                               Body=b"b" * (30 * KiB)))
        self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 403)
        self.assertEqual(r["Error"]["Code"], "QuotaExceeded")
        message = r["Error"]["Message"]
        self.assertIn("connection '" + bucket + "'", message)
        self.assertIn("keeps 40.0 KiB (40960 bytes)", message)
        self.assertIn("quota of 64.0 KiB (65536 bytes)", message)
        # Nothing of the refused body stays; the key does not exist.
        self.assertEqual(self.landed_objects(), before)
        self.assertEqual(self.refusal(lambda: s3.head_object(Bucket=bucket, Key="plain/b.bin"))
                         ["ResponseMetadata"]["HTTPStatusCode"], 404)
        self.assertEqual(self.usage(bucket)[0], 40 * KiB)

        # Another connection is not affected.
        self.boto3(other).put_object(Bucket=other["bucket"], Key="plain/big.bin",
                                     Body=b"o" * (300 * KiB))

        # A delete gives the bytes back at once; the same PUT then succeeds.
        s3.delete_object(Bucket=bucket, Key="plain/a.bin")
        self.assertEqual(self.usage(bucket)[0], 0)
        s3.put_object(Bucket=bucket, Key="plain/b.bin", Body=b"b" * (30 * KiB))
        self.assertEqual(self.usage(bucket)[0], 30 * KiB)

        # Held files (no table configured) count as well, and a quota set with the CLI holds
        # from the next upload on.
        self.sluice("connection", "set-unconfigured", bucket, "hold")
        self.sluice("connection", "set-quota", bucket, "40K")
        r = self.refusal(lambda: s3.put_object(Bucket=bucket, Key="held/c.bin",
                                               Body=b"c" * (11 * KiB)))
        self.assertEqual(r["Error"]["Code"], "QuotaExceeded")
        self.assertIn("quota of 40.0 KiB (40960 bytes)", r["Error"]["Message"])
        s3.put_object(Bucket=bucket, Key="held/c.bin", Body=b"c" * (10 * KiB))
        self.assertEqual(self.usage(bucket), (40 * KiB, str(40 * KiB)))

        # /metrics shows the running count and the quota.
        metrics = self.server.http_get("/metrics")
        self.assertIn('sluice_connection_disk_bytes{connection="%s"} %d' % (bucket, 40 * KiB),
                      metrics)
        self.assertIn('sluice_connection_disk_quota_bytes{connection="%s"} %d'
                      % (bucket, 40 * KiB), metrics)

    def test_multipart_parts_count_and_abort_gives_them_back(self):
        conn = self.create_connection("quota-multipart")
        bucket = conn["bucket"]
        self.sluice("connection", "set-unconfigured", bucket, "store")
        self.sluice("connection", "set-quota", bucket, "12M")
        s3 = self.boto3(conn)
        key = "big/object.bin"
        upload = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
        part = b"p" * (5 * MiB)
        for n in (1, 2):
            s3.upload_part(Bucket=bucket, Key=key, UploadId=upload, PartNumber=n, Body=part)
        self.assertEqual(self.usage(bucket)[0], 10 * MiB)
        r = self.refusal(lambda: s3.upload_part(Bucket=bucket, Key=key, UploadId=upload,
                                                PartNumber=3, Body=part))
        self.assertEqual(r["Error"]["Code"], "QuotaExceeded")
        self.assertIn("keeps 10.0 MiB", r["Error"]["Message"])
        # The refused part is not there; the upload goes on.
        parts = s3.list_parts(Bucket=bucket, Key=key, UploadId=upload)["Parts"]
        self.assertEqual([p["PartNumber"] for p in parts], [1, 2])

        s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload)
        self.assertEqual(self.usage(bucket)[0], 0)

        # Room again: three parts fit now, and Complete turns them into one object of the same
        # size (Complete is never refused: the object replaces its parts).
        upload = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
        etags = [s3.upload_part(Bucket=bucket, Key=key, UploadId=upload, PartNumber=n,
                                Body=body)["ETag"]
                 for n, body in ((1, part), (2, part), (3, b"q" * MiB))]
        s3.complete_multipart_upload(
            Bucket=bucket, Key=key, UploadId=upload,
            MultipartUpload={"Parts": [{"PartNumber": n + 1, "ETag": e}
                                       for n, e in enumerate(etags)]})
        self.assertEqual(self.usage(bucket)[0], 11 * MiB)
        self.assertEqual(s3.head_object(Bucket=bucket, Key=key)["ContentLength"], 11 * MiB)

    def test_retention_purges_loaded_files_and_gives_their_bytes_back(self):
        conn = self.create_connection("quota-retained")
        bucket = conn["bucket"]
        self.add_table(conn, "orders", "order_id")
        body = read(SEED)
        # Room for one copy of the file, not two.
        self.sluice("connection", "set-quota", bucket, str(len(body) + len(body) // 2))
        s3 = self.boto3(conn)
        s3.put_object(Bucket=bucket, Key="orders/a.parquet", Body=body,
                      Metadata={"sluice-wait": "30"})
        self.wait_files(conn, "orders", 1)
        # Loaded but not yet purged: its bytes are still on disk and count. (Retention is 3 s;
        # the PUT below comes well before it.)
        r = self.refusal(lambda: s3.put_object(Bucket=bucket, Key="orders/b.parquet",
                                               Body=body))
        self.assertEqual(r["Error"]["Code"], "QuotaExceeded")
        wait_for(lambda: self.usage(bucket)[0] == 0, timeout=30,
                 what="retention to purge the loaded file")
        s3.put_object(Bucket=bucket, Key="orders/b.parquet", Body=body)
        # The same bytes again: skipped as a duplicate of the first file, which is fine here.
        self.wait_files(conn, "orders", 2, statuses=("loaded", "skipped"))


if __name__ == "__main__":
    unittest.main()
