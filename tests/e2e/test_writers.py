"""End to end: the writers that already speak S3 and use more of it than PUT -- a Hadoop/Spark
committer (temporary files, a server-side copy, a delete, a _SUCCESS marker), `aws s3 mv` and
`aws s3 sync --delete`, boto3's batch delete, conditional creates racing from two clients, and
the standard object headers a PUT stores and a GET returns."""

import gzip
import os
import tempfile
import threading
import unittest

import boto3
from botocore.exceptions import ClientError

from harness import SluiceTestCase, duckdb, wait_for


def parquet_bytes(sql):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "f.parquet")
        duckdb(f"COPY ({sql}) TO '{path}' (FORMAT parquet)")
        with open(path, "rb") as f:
            return f.read()


def rows(first, count):
    return parquet_bytes(f"SELECT i AS id, 'v' || i AS v FROM range({first}, {first + count}) t(i)")


def error_code(e):
    return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]


class WritersTest(SluiceTestCase):
    def count(self, conn, table):
        return self.query(conn, f"SELECT count(*) AS n FROM {table}")[0]["n"]

    def test_hadoop_committer_loads_each_final_file_once(self):
        conn = self.create_connection("committer")
        self.add_table(conn, "events", "id")
        s3 = self.boto3(conn)
        b = conn["bucket"]
        job = "events/_temporary/0/_temporary/attempt_202612080000_0001_m_000000_0"
        # Two tasks write their output under _temporary; Spark's staging dir too.
        s3.put_object(Bucket=b, Key=f"{job}/part-00000.parquet", Body=rows(0, 100))
        s3.put_object(Bucket=b, Key=f"{job}/part-00001.parquet", Body=rows(100, 50))
        s3.put_object(Bucket=b, Key="events/.spark-staging-1/part-00002.parquet",
                      Body=rows(1000, 7))
        # The job commit: copy each to its final key (one of them as a multipart copy, as the
        # S3A committer does for large files), delete the temporaries, write the marker.
        s3.copy_object(Bucket=b, Key="events/part-00000.parquet",
                       CopySource={"Bucket": b, "Key": f"{job}/part-00000.parquet"})
        up = s3.create_multipart_upload(Bucket=b, Key="events/part-00001.parquet")
        size = s3.head_object(Bucket=b, Key=f"{job}/part-00001.parquet")["ContentLength"]
        part = s3.upload_part_copy(Bucket=b, Key="events/part-00001.parquet",
                                   UploadId=up["UploadId"], PartNumber=1,
                                   CopySource={"Bucket": b, "Key": f"{job}/part-00001.parquet"},
                                   CopySourceRange=f"bytes=0-{size - 1}")
        s3.complete_multipart_upload(
            Bucket=b, Key="events/part-00001.parquet", UploadId=up["UploadId"],
            MultipartUpload={"Parts": [{"PartNumber": 1,
                                        "ETag": part["CopyPartResult"]["ETag"]}]})
        listed = s3.list_objects_v2(Bucket=b, Prefix="events/_temporary/")["Contents"]
        s3.delete_objects(Bucket=b, Delete={"Objects": [{"Key": o["Key"]} for o in listed]})
        s3.put_object(Bucket=b, Key="events/_SUCCESS", Body=b"")

        files = self.wait_files(conn, "events", 6, statuses=("loaded", "skipped"))
        by_key = {f["key"]: f for f in files}
        self.assertEqual(by_key["events/part-00000.parquet"]["status"], "loaded")
        self.assertEqual(by_key["events/part-00001.parquet"]["status"], "loaded")
        for key in (f"{job}/part-00000.parquet", f"{job}/part-00001.parquet", "events/_SUCCESS",
                    "events/.spark-staging-1/part-00002.parquet"):
            self.assertEqual(by_key[key]["status"], "skipped", key)
            self.assertEqual(by_key[key]["error_code"], "HIDDEN_KEY", key)
        self.assertEqual(self.count(conn, "events"), 150)
        self.assertEqual(self.query(conn, "SELECT min(id) AS lo, max(id) AS hi FROM events"),
                         [{"lo": 0, "hi": 149}])
        # The marker and the copies read back like any object; the temporaries are gone.
        self.assertEqual(s3.head_object(Bucket=b, Key="events/_SUCCESS")["ContentLength"], 0)
        self.assertNotIn("Contents", s3.list_objects_v2(Bucket=b, Prefix="events/_temporary/"))
        got = s3.get_object(Bucket=b, Key="events/part-00000.parquet")["Body"].read()
        self.assertEqual(got, rows(0, 100))

    def test_a_table_may_load_its_hidden_keys(self):
        conn = self.create_connection("hidden-load")
        self.sluice("table", "add", conn["bucket"], "raw", "--pk", "id", "--hidden-keys", "load")
        s3 = self.boto3(conn)
        s3.put_object(Bucket=conn["bucket"], Key="raw/_part/a.parquet", Body=rows(0, 3))
        self.wait_files(conn, "raw", 1)
        self.assertEqual(self.count(conn, "raw"), 3)
        shown = self.sluice("table", "show", conn["bucket"], "raw").stdout
        self.assertIn("hidden keys loaded", shown)

    def test_aws_mv_and_sync_delete(self):
        conn = self.create_connection("awsmv")
        self.add_table(conn, "orders", "id")
        b = conn["bucket"]
        with tempfile.TemporaryDirectory() as tmp:
            local = os.path.join(tmp, "one.parquet")
            with open(local, "wb") as f:
                f.write(rows(0, 10))
            self.aws(conn, "s3", "mv", local, f"s3://{b}/orders/one.parquet")
            self.assertFalse(os.path.exists(local))
            # A server-side move: CopyObject then DeleteObject.
            self.aws(conn, "s3", "mv", f"s3://{b}/orders/one.parquet",
                     f"s3://{b}/orders/moved/one.parquet")
            sync = os.path.join(tmp, "sync")
            os.mkdir(sync)
            for i in range(3):
                with open(os.path.join(sync, f"s{i}.parquet"), "wb") as f:
                    f.write(rows(100 + 10 * i, 10))
            self.aws(conn, "s3", "sync", sync, f"s3://{b}/orders/synced/")
            os.remove(os.path.join(sync, "s1.parquet"))
            out = self.aws(conn, "s3", "sync", sync, f"s3://{b}/orders/synced/", "--delete").stdout
            self.assertIn("delete: s3://", out)
        files = self.wait_files(conn, "orders", 5, statuses=("loaded", "skipped"))
        # The moved copy holds the bytes already loaded from one.parquet: recognised as a
        # duplicate, not loaded twice.
        moved = [f for f in files if f["key"] == "orders/moved/one.parquet"][0]
        self.assertEqual((moved["status"], moved["duplicate_of"]), ("skipped", files[0]["seq"]))
        keys = sorted(o["Key"] for o in self.boto3(conn).list_objects_v2(
            Bucket=b, Prefix="orders/")["Contents"])
        self.assertEqual(keys, ["orders/moved/one.parquet", "orders/synced/s0.parquet",
                                "orders/synced/s2.parquet"])
        # The deleted key's rows stay, as for any delete.
        self.assertEqual(self.count(conn, "orders"), 40)

    def test_boto3_batch_delete(self):
        conn = self.create_connection("batchdel")
        self.sluice("connection", "set-unconfigured", conn["bucket"], "store")
        s3 = self.boto3(conn)
        b = conn["bucket"]
        for i in range(25):
            s3.put_object(Bucket=b, Key=f"scratch/{i:03}.bin", Body=b"x" * i)
        s3.put_object(Bucket=b, Key="keep/me.bin", Body=b"kept")
        resource = boto3.resource(
            "s3", endpoint_url=self.s3_endpoint(), region_name="us-east-1",
            aws_access_key_id=conn["access_key_id"],
            aws_secret_access_key=conn["secret_access_key"])
        deleted = resource.Bucket(b).objects.filter(Prefix="scratch/").delete()
        self.assertEqual(sum(len(r.get("Deleted", [])) for r in deleted), 25)
        self.assertNotIn("Contents", s3.list_objects_v2(Bucket=b, Prefix="scratch/"))
        self.assertEqual(s3.get_object(Bucket=b, Key="keep/me.bin")["Body"].read(), b"kept")
        # Quiet mode reports only the failures; an invalid key fails alone.
        s3.put_object(Bucket=b, Key="scratch/again.bin", Body=b"1")
        r = s3.delete_objects(Bucket=b, Delete={
            "Quiet": True, "Objects": [{"Key": "scratch/again.bin"}, {"Key": "x" * 1100}]})
        self.assertNotIn("Deleted", r)
        self.assertEqual([e["Code"] for e in r["Errors"]], ["InvalidArgument"])
        self.assertNotIn("Contents", s3.list_objects_v2(Bucket=b, Prefix="scratch/"))

    def test_conditional_creates_race_and_exactly_one_wins(self):
        conn = self.create_connection("condrace")
        self.add_table(conn, "claims", "id")
        b = conn["bucket"]
        clients = [self.boto3(conn), self.boto3(conn)]
        rounds = 12
        outcomes = {}

        def writer(n):
            for r in range(rounds):
                key = f"claims/claim-{r:02}.parquet"
                try:
                    clients[n].put_object(Bucket=b, Key=key, Body=rows(r * 10 + n, 1),
                                          IfNoneMatch="*")
                    outcomes.setdefault(key, []).append(("won", n))
                except ClientError as e:
                    outcomes.setdefault(key, []).append((error_code(e), n))
        threads = [threading.Thread(target=writer, args=(n,)) for n in (0, 1)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for key, results in outcomes.items():
            won = [n for what, n in results if what == "won"]
            lost = [what for what, n in results if what != "won"]
            self.assertEqual(len(won), 1, (key, results))
            self.assertIn(lost[0], (("PreconditionFailed", 412),
                                    ("ConditionalRequestConflict", 409)), (key, results))
        self.assertEqual(len(outcomes), rounds)
        files = self.wait_files(conn, "claims", rounds)
        self.assertEqual(len(files), rounds)  # the losers were never recorded
        self.assertEqual(self.count(conn, "claims"), rounds)

    def test_conditional_writes_if_match(self):
        conn = self.create_connection("ifmatch")
        self.sluice("connection", "set-unconfigured", conn["bucket"], "store")
        s3 = self.boto3(conn)
        b = conn["bucket"]
        with self.assertRaises(ClientError) as e:
            s3.put_object(Bucket=b, Key="doc/a.json", Body=b"{}", IfMatch='"0123"')
        self.assertEqual(error_code(e.exception), ("NoSuchKey", 404))
        first = s3.put_object(Bucket=b, Key="doc/a.json", Body=b"{\"v\":1}")["ETag"]
        with self.assertRaises(ClientError) as e:
            s3.put_object(Bucket=b, Key="doc/a.json", Body=b"{\"v\":2}", IfNoneMatch="*")
        self.assertEqual(error_code(e.exception), ("PreconditionFailed", 412))
        with self.assertRaises(ClientError) as e:
            s3.put_object(Bucket=b, Key="doc/a.json", Body=b"{\"v\":2}", IfMatch='"ffff"')
        self.assertEqual(error_code(e.exception), ("PreconditionFailed", 412))
        second = s3.put_object(Bucket=b, Key="doc/a.json", Body=b"{\"v\":2}", IfMatch=first)
        self.assertNotEqual(second["ETag"], first)
        self.assertEqual(s3.get_object(Bucket=b, Key="doc/a.json")["Body"].read(), b"{\"v\":2}")
        # The same on CompleteMultipartUpload.
        up = s3.create_multipart_upload(Bucket=b, Key="doc/a.json")
        part = s3.upload_part(Bucket=b, Key="doc/a.json", UploadId=up["UploadId"], PartNumber=1,
                              Body=b"{\"v\":3}")
        done = {"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]}
        with self.assertRaises(ClientError) as e:
            s3.complete_multipart_upload(Bucket=b, Key="doc/a.json", UploadId=up["UploadId"],
                                         MultipartUpload=done, IfNoneMatch="*")
        self.assertEqual(error_code(e.exception), ("PreconditionFailed", 412))
        s3.complete_multipart_upload(Bucket=b, Key="doc/a.json", UploadId=up["UploadId"],
                                     MultipartUpload=done, IfMatch=second["ETag"])
        self.assertEqual(s3.get_object(Bucket=b, Key="doc/a.json")["Body"].read(), b"{\"v\":3}")

    def test_object_headers_are_stored_and_returned(self):
        conn = self.create_connection("headers")
        self.sluice("connection", "set-unconfigured", conn["bucket"], "store")
        s3 = self.boto3(conn)
        b = conn["bucket"]
        body = gzip.compress(b"hello " * 100)
        s3.put_object(Bucket=b, Key="web/page.txt.gz", Body=body, ContentType="text/plain",
                      ContentEncoding="gzip", CacheControl="max-age=60",
                      ContentDisposition='attachment; filename="page.txt"',
                      ContentLanguage="de-CH", Expires="Wed, 21 Oct 2026 07:28:00 GMT",
                      Metadata={"origin": "test"})
        head = s3.head_object(Bucket=b, Key="web/page.txt.gz")
        self.assertEqual(head["ContentEncoding"], "gzip")
        self.assertEqual(head["CacheControl"], "max-age=60")
        self.assertEqual(head["ContentDisposition"], 'attachment; filename="page.txt"')
        self.assertEqual(head["ContentLanguage"], "de-CH")
        self.assertEqual(head["ResponseMetadata"]["HTTPHeaders"]["expires"],
                         "Wed, 21 Oct 2026 07:28:00 GMT")
        self.assertEqual(head["Metadata"]["origin"], "test")
        got = s3.get_object(Bucket=b, Key="web/page.txt.gz", ResponseContentType="application/gzip",
                            ResponseContentDisposition="inline",
                            ResponseCacheControl="no-store")
        self.assertEqual(got["ContentType"], "application/gzip")
        self.assertEqual(got["ContentDisposition"], "inline")
        self.assertEqual(got["CacheControl"], "no-store")
        self.assertEqual(got["ContentEncoding"], "gzip")
        self.assertEqual(got["Body"].read(), body)
        # A copy keeps them (COPY) or takes the request's (REPLACE).
        s3.copy_object(Bucket=b, Key="web/copy.gz", CopySource=f"{b}/web/page.txt.gz")
        copied = s3.head_object(Bucket=b, Key="web/copy.gz")
        self.assertEqual((copied["ContentEncoding"], copied["CacheControl"],
                          copied["ContentType"], copied["Metadata"]["origin"]),
                         ("gzip", "max-age=60", "text/plain", "test"))
        s3.copy_object(Bucket=b, Key="web/copy.gz", CopySource=f"{b}/web/page.txt.gz",
                       MetadataDirective="REPLACE", ContentType="application/octet-stream",
                       Metadata={"origin": "replaced"})
        replaced = s3.head_object(Bucket=b, Key="web/copy.gz")
        self.assertEqual(replaced["ContentType"], "application/octet-stream")
        self.assertEqual(replaced["Metadata"]["origin"], "replaced")
        self.assertNotIn("ContentEncoding", replaced)
        # A copy onto itself that changes nothing is refused, as S3 refuses it.
        with self.assertRaises(ClientError) as e:
            s3.copy_object(Bucket=b, Key="web/copy.gz", CopySource=f"{b}/web/copy.gz")
        self.assertEqual(error_code(e.exception), ("InvalidRequest", 400))
        # Copy conditions on the source.
        etag = s3.head_object(Bucket=b, Key="web/page.txt.gz")["ETag"]
        with self.assertRaises(ClientError) as e:
            s3.copy_object(Bucket=b, Key="web/c2.gz", CopySource=f"{b}/web/page.txt.gz",
                           CopySourceIfNoneMatch=etag)
        self.assertEqual(error_code(e.exception), ("PreconditionFailed", 412))
        s3.copy_object(Bucket=b, Key="web/c2.gz", CopySource=f"{b}/web/page.txt.gz",
                       CopySourceIfMatch=etag)
        self.assertEqual(s3.head_object(Bucket=b, Key="web/c2.gz")["ETag"], etag)
        # The source's checksum goes with the copy.
        s3.put_object(Bucket=b, Key="web/sum.bin", Body=b"summed", ChecksumAlgorithm="SHA256")
        want = s3.head_object(Bucket=b, Key="web/sum.bin", ChecksumMode="ENABLED")
        s3.copy_object(Bucket=b, Key="web/sum-copy.bin", CopySource=f"{b}/web/sum.bin")
        got = s3.head_object(Bucket=b, Key="web/sum-copy.bin", ChecksumMode="ENABLED")
        self.assertEqual(got["ChecksumSHA256"], want["ChecksumSHA256"])

    def test_copy_refusals(self):
        conn = self.create_connection("copyrefuse")
        other = self.create_connection("copyother")
        self.sluice("connection", "set-unconfigured", conn["bucket"], "store")
        s3 = self.boto3(conn)
        b = conn["bucket"]
        with self.assertRaises(ClientError) as e:
            s3.copy_object(Bucket=b, Key="x/y", CopySource=f"{b}/x/missing")
        self.assertEqual(error_code(e.exception), ("NoSuchKey", 404))
        # Another connection's bucket is not readable with this key.
        with self.assertRaises(ClientError) as e:
            s3.copy_object(Bucket=b, Key="x/y", CopySource=f"{other['bucket']}/x/z")
        self.assertEqual(error_code(e.exception), ("AccessDenied", 403))
        s3.put_object(Bucket=b, Key="x/src", Body=b"0123456789")
        up = s3.create_multipart_upload(Bucket=b, Key="x/dst")
        with self.assertRaises(ClientError) as e:
            s3.upload_part_copy(Bucket=b, Key="x/dst", UploadId=up["UploadId"], PartNumber=1,
                                CopySource=f"{b}/x/src", CopySourceRange="bytes=5-10")
        self.assertEqual(error_code(e.exception), ("InvalidArgument", 400))
        part = s3.upload_part_copy(Bucket=b, Key="x/dst", UploadId=up["UploadId"], PartNumber=1,
                                   CopySource=f"{b}/x/src", CopySourceRange="bytes=2-5")
        s3.complete_multipart_upload(
            Bucket=b, Key="x/dst", UploadId=up["UploadId"],
            MultipartUpload={"Parts": [{"PartNumber": 1,
                                        "ETag": part["CopyPartResult"]["ETag"]}]})
        self.assertEqual(s3.get_object(Bucket=b, Key="x/dst")["Body"].read(), b"2345")


if __name__ == "__main__":
    unittest.main()
