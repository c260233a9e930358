"""End to end: versions through S3. Every pushed file of a key is a version of it, its ledger
sequence the versionId. boto3 lists them (paged one at a time too), reads each by id, deletes
the key (a delete marker, "<seq>.del") and one version by id, takes the delete back through the
marker's id; rclone lists the versions. A key of a table that is not configured is held (failed,
TABLE_NOT_CONFIGURED) and keeps its bytes, so its versions outlive a delete; a loaded key's
versions lose their bytes with the delete, and only its marker is left."""

import os
import re
import subprocess
import tempfile
import unittest

from botocore.exceptions import ClientError

from harness import SluiceTestCase, duckdb


def error_code(e):
    return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]


class VersionsTest(SluiceTestCase):
    def rclone(self, conn, *args):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "RCLONE_"))}
        env.update(RCLONE_CONFIG_SLUICE_TYPE="s3", RCLONE_CONFIG_SLUICE_PROVIDER="Other",
                   RCLONE_CONFIG_SLUICE_ACCESS_KEY_ID=conn["access_key_id"],
                   RCLONE_CONFIG_SLUICE_SECRET_ACCESS_KEY=conn["secret_access_key"],
                   RCLONE_CONFIG_SLUICE_ENDPOINT=self.s3_endpoint(),
                   RCLONE_CONFIG_SLUICE_REGION="us-east-1",
                   RCLONE_CONFIG_SLUICE_FORCE_PATH_STYLE="true")
        with tempfile.TemporaryDirectory() as tmp:
            cfg = os.path.join(tmp, "rclone.conf")
            open(cfg, "w").close()
            p = subprocess.run(["rclone", "--config", cfg, "--retries", "1",
                                "--low-level-retries", "1", *args],
                               capture_output=True, text=True, env=env, timeout=120)
        self.assertEqual(p.returncode, 0, f"rclone {' '.join(args)}:\n{p.stdout}\n{p.stderr}\n"
                                          f"server log:\n{self.server.log()}")
        return p.stdout

    def versions(self, s3, bucket, prefix):
        r = s3.list_object_versions(Bucket=bucket, Prefix=prefix)
        return ([(v["Key"], v["VersionId"], v["IsLatest"], v["Size"])
                 for v in r.get("Versions", [])],
                [(m["Key"], m["VersionId"], m["IsLatest"]) for m in r.get("DeleteMarkers", [])])

    def test_versions_of_a_held_key(self):
        conn = self.create_connection("versions-held")
        bucket = conn["bucket"]
        s3 = self.boto3(conn)
        self.assertEqual(s3.get_bucket_versioning(Bucket=bucket)["Status"], "Enabled")
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        with self.assertRaises(ClientError) as refused:
            s3.put_bucket_versioning(Bucket=bucket,
                                     VersioningConfiguration={"Status": "Suspended"})
        self.assertEqual(error_code(refused.exception), ("InvalidBucketState", 409))

        key = "held/data.bin"
        bodies = [b"one", b"two!", b"three"]
        ids = []
        for body in bodies:
            r = s3.put_object(Bucket=bucket, Key=key, Body=body)
            ids.append(r["VersionId"])
        self.assertEqual([int(i) for i in ids], sorted(int(i) for i in ids))  # sequence numbers
        s3.put_object(Bucket=bucket, Key="held/other.bin", Body=b"x")

        newest_first = [(key, ids[2], True, 5), (key, ids[1], False, 4), (key, ids[0], False, 3)]
        versions, markers = self.versions(s3, bucket, "held/data")
        self.assertEqual(versions, newest_first)
        self.assertEqual(markers, [])

        # Paged one entry at a time: the same versions, in order.
        paged = []
        pages = s3.get_paginator("list_object_versions").paginate(
            Bucket=bucket, Prefix="held/", PaginationConfig={"PageSize": 1})
        for page in pages:
            entries = page.get("Versions", []) + page.get("DeleteMarkers", [])
            self.assertLessEqual(len(entries), 1, page)
            paged += [(v["Key"], v["VersionId"]) for v in entries]
        self.assertEqual(paged, [(k, i) for k, i, _, _ in newest_first] +
                         [("held/other.bin", paged[-1][1])])

        # Each version by id: its bytes and its headers.
        for version_id, body in zip(ids, bodies):
            r = s3.get_object(Bucket=bucket, Key=key, VersionId=version_id)
            self.assertEqual(r["Body"].read(), body)
            self.assertEqual(r["VersionId"], version_id)
            head = s3.head_object(Bucket=bucket, Key=key, VersionId=version_id)
            self.assertEqual(head["ContentLength"], len(body))
            self.assertEqual(head["Metadata"]["sluice-seq"], version_id)
        r = s3.get_object(Bucket=bucket, Key=key)
        self.assertEqual((r["Body"].read(), r["VersionId"]), (bodies[2], ids[2]))
        with self.assertRaises(ClientError) as missing:
            s3.get_object(Bucket=bucket, Key=key, VersionId="987654321")
        self.assertEqual(error_code(missing.exception), ("NoSuchVersion", 404))
        with self.assertRaises(ClientError) as malformed:
            s3.get_object(Bucket=bucket, Key=key, VersionId="not-a-version")
        self.assertEqual(error_code(malformed.exception), ("InvalidArgument", 400))

        # rclone shows the current file and each older version.
        listed = self.rclone(conn, "lsl", "--s3-versions", f"sluice:{bucket}/held")
        lines = sorted((int(line.split()[0]), line.split()[-1]) for line in listed.splitlines())
        self.assertEqual([size for size, _ in lines], [1, 3, 4, 5], listed)
        names = {name for _, name in lines}
        self.assertIn("data.bin", names)
        self.assertEqual(len([n for n in names if re.fullmatch(
            r"data-v\d{4}-\d\d-\d\d-\d{6}-\d{3}\.bin", n)]), 2, listed)

        # A delete leaves a delete marker; the versions (held: their bytes kept) stay.
        r = s3.delete_object(Bucket=bucket, Key=key)
        self.assertTrue(r["DeleteMarker"])
        marker = r["VersionId"]
        self.assertEqual(marker, ids[2] + ".del")
        with self.assertRaises(ClientError) as gone:
            s3.head_object(Bucket=bucket, Key=key)
        self.assertEqual(error_code(gone.exception)[1], 404)
        versions, markers = self.versions(s3, bucket, "held/data")
        self.assertEqual(markers, [(key, marker, True)])
        self.assertEqual(versions, [(k, i, False, n) for k, i, _, n in newest_first])
        with self.assertRaises(ClientError) as is_marker:
            s3.get_object(Bucket=bucket, Key=key, VersionId=marker)
        self.assertEqual(error_code(is_marker.exception), ("MethodNotAllowed", 405))
        self.assertEqual(s3.get_object(Bucket=bucket, Key=key, VersionId=ids[0])["Body"].read(),
                         bodies[0])

        # One version by id: gone for good.
        r = s3.delete_object(Bucket=bucket, Key=key, VersionId=ids[1])
        self.assertEqual(r["VersionId"], ids[1])
        with self.assertRaises(ClientError) as deleted:
            s3.get_object(Bucket=bucket, Key=key, VersionId=ids[1])
        self.assertEqual(error_code(deleted.exception), ("NoSuchVersion", 404))
        versions, _ = self.versions(s3, bucket, "held/data")
        self.assertEqual([v[1] for v in versions], [ids[2], ids[0]])

        # Deleting the marker takes the delete back: the newest version is the object again.
        r = s3.delete_object(Bucket=bucket, Key=key, VersionId=marker)
        self.assertTrue(r["DeleteMarker"])
        self.assertEqual(s3.get_object(Bucket=bucket, Key=key)["Body"].read(), bodies[2])
        versions, markers = self.versions(s3, bucket, "held/data")
        self.assertEqual((versions, markers),
                         ([(key, ids[2], True, 5), (key, ids[0], False, 3)], []))

        # A multipart upload's Complete names its version too.
        upload = s3.create_multipart_upload(Bucket=bucket, Key="held/mp.bin")["UploadId"]
        part = s3.upload_part(Bucket=bucket, Key="held/mp.bin", UploadId=upload, PartNumber=1,
                              Body=b"parts")
        done = s3.complete_multipart_upload(
            Bucket=bucket, Key="held/mp.bin", UploadId=upload,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
        self.assertGreater(int(done["VersionId"]), int(ids[2]))
        self.assertEqual(s3.head_object(Bucket=bucket, Key="held/mp.bin")["VersionId"],
                         done["VersionId"])
        s3.delete_object(Bucket=bucket, Key="held/mp.bin", VersionId=done["VersionId"])

        # DeleteObjects with version ids.
        r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [
            {"Key": key, "VersionId": ids[0]}, {"Key": "held/other.bin"}]})
        self.assertEqual(sorted((d["Key"], d.get("VersionId"), d.get("DeleteMarker"))
                                for d in r["Deleted"]),
                         [("held/data.bin", ids[0], None), ("held/other.bin", None, True)])
        self.assertEqual(r.get("Errors", []), [])
        versions, markers = self.versions(s3, bucket, "held/")
        self.assertEqual([v[:2] for v in versions],
                         [(key, ids[2]), ("held/other.bin", versions[1][1])])
        self.assertEqual([m[0] for m in markers], ["held/other.bin"])

    def test_a_loaded_keys_versions_go_with_its_bytes(self):
        conn = self.create_connection("versions-loaded")
        bucket = conn["bucket"]
        self.add_table(conn, "items", "id")
        s3 = self.boto3(conn)
        key = "items/batch.parquet"
        ids = []
        with tempfile.TemporaryDirectory() as tmp:
            paths = [os.path.join(tmp, f"{n}.parquet") for n in (1, 2)]
            duckdb(*[f"COPY (SELECT {n} AS id, 'v{n}' AS note) TO '{p}' (FORMAT parquet)"
                     for n, p in zip((1, 2), paths)])
            for path in paths:
                with open(path, "rb") as f:
                    r = s3.put_object(Bucket=bucket, Key=key, Body=f.read(),
                                      Metadata={"sluice-wait": "30"})
                self.assertEqual(r["ResponseMetadata"]["HTTPHeaders"]["x-amz-meta-sluice-status"],
                                 "loaded")
                ids.append(r["VersionId"])
        versions, _ = self.versions(s3, bucket, "items/")
        self.assertEqual([(v[1], v[2]) for v in versions], [(ids[1], True), (ids[0], False)])

        # The delete removes the loaded files' bytes (their rows stay in the pool): no version
        # is left, only the marker.
        marker = s3.delete_object(Bucket=bucket, Key=key)["VersionId"]
        versions, markers = self.versions(s3, bucket, "items/")
        self.assertEqual((versions, markers), ([], [(key, marker, True)]))
        self.assertEqual(len(self.query(conn, "SELECT id FROM items")), 2)
        # Taking the delete back finds no bytes to show: the marker goes, the key stays absent.
        s3.delete_object(Bucket=bucket, Key=key, VersionId=marker)
        self.assertEqual(self.versions(s3, bucket, "items/"), ([], []))
        with self.assertRaises(ClientError) as gone:
            s3.head_object(Bucket=bucket, Key=key)
        self.assertEqual(error_code(gone.exception)[1], 404)


if __name__ == "__main__":
    unittest.main()
