"""The S3 surface of this cut as the clients see it: listings, bucket checks, and the errors
with their real codes."""

import datetime
import os
import unittest
from unittest import mock

import botocore.exceptions

from harness import GENERATED, SluiceTestCase


class S3Test(SluiceTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()

    def setUp(self):
        if not hasattr(type(self), "conn"):
            type(self).conn = self.create_connection("s3-surface")
            type(self).other = self.create_connection("s3-other")
            self.add_table(self.conn, "flat", "order_id")

    def error_code(self, call):
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            call()
        return cm.exception.response["Error"]["Code"], cm.exception.response["ResponseMetadata"]["HTTPStatusCode"]

    def test_list_buckets_shows_only_own_connection(self):
        names = [b["Name"] for b in self.boto3(self.conn).list_buckets()["Buckets"]]
        self.assertEqual(names, [self.conn["bucket"]])
        out = self.aws(self.conn, "s3", "ls").stdout
        self.assertIn(self.conn["bucket"], out)
        self.assertNotIn(self.other["bucket"], out)

    def test_head_bucket(self):
        r = self.boto3(self.conn).head_bucket(Bucket=self.conn["bucket"])
        self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 200)
        self.assertEqual(self.error_code(lambda: self.boto3(self.conn).head_bucket(Bucket=self.other["bucket"])),
                         ("403", 403))
        self.assertEqual(self.error_code(lambda: self.boto3(self.conn).head_bucket(Bucket="no-such-bucket")),
                         ("404", 404))

    def test_put_object_returns_md5_etag(self):
        body = bytes(i % 251 for i in range(1024))
        r = self.boto3(self.conn).put_object(Bucket=self.conn["bucket"], Key="flat/raw.bin", Body=body)
        self.assertEqual(r["ETag"], '"9ee0a0e0c0bc0f1ff29d663d1fdf0743"')

    def test_errors(self):
        bucket = self.conn["bucket"]
        path = os.path.join(GENERATED, "seed_order_flat_v1.parquet")
        put = lambda client, b=bucket: client.put_object(Bucket=b, Key="flat/x.parquet", Body=b"x")
        self.assertEqual(self.error_code(lambda: put(self.boto3(self.conn, secret="W" * 40))),
                         ("SignatureDoesNotMatch", 403))
        self.assertEqual(self.error_code(lambda: put(self.boto3(self.conn, access_key="SKNOSUCHKEY000000000"))),
                         ("InvalidAccessKeyId", 403))
        self.assertEqual(self.error_code(lambda: put(self.boto3(self.conn), self.other["bucket"])),
                         ("AccessDenied", 403))
        self.assertEqual(self.error_code(lambda: put(self.boto3(self.conn), "no-such-bucket")),
                         ("NoSuchBucket", 404))
        self.assertEqual(self.error_code(lambda: self.boto3(self.conn).get_object(Bucket=bucket, Key="flat/x")),
                         ("NoSuchKey", 404))
        skewed = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) - datetime.timedelta(minutes=20)
        with mock.patch("botocore.auth.get_current_datetime", return_value=skewed):
            self.assertEqual(self.error_code(lambda: put(self.boto3(self.conn))),
                             ("RequestTimeTooSkewed", 403))
        # The aws CLI reports a signature failure and stores nothing.
        p = self.aws(dict(self.conn, secret_access_key="W" * 40), "s3", "cp", path,
                     f"s3://{bucket}/flat/bad.parquet", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("SignatureDoesNotMatch", p.stderr)
        self.assertEqual([f for f in self.files(self.conn, "flat") if f["key"].endswith("bad.parquet")], [])

    def test_secrets_never_logged(self):
        log = self.server.log()
        self.assertNotIn(self.conn["secret_access_key"], log)


if __name__ == "__main__":
    unittest.main()
