"""Keys and the data directory (issue 10): rotation with two active keys, revocation and expiry
seen by boto3 as InvalidAccessKeyId, presigned URLs that cannot carry unsigned x-amz-* headers
or outlive their expiry, private files, and a readable admin.token refused at start."""

import json
import os
import stat
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request

from botocore.config import Config
from botocore.exceptions import ClientError

from harness import SLUICE, TEST_PG, Server, SluiceTestCase


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


class CredentialsTest(SluiceTestCase):
    def error_code(self, call):
        with self.assertRaises(ClientError) as cm:
            call()
        return cm.exception.response["Error"]["Code"]

    def keys(self, bucket):
        return json.loads(self.sluice("credentials", "list", bucket, "--json").stdout)

    def put(self, client, bucket, key):
        return client.put_object(Bucket=bucket, Key=key, Body=b"x")

    def test_rotate_keeps_two_active_keys_and_revoke_refuses_the_next_request(self):
        conn = self.create_connection("rotating")
        bucket = conn["bucket"]
        old = self.boto3(conn)
        self.put(old, bucket, "held/1")

        rotated = json.loads(self.sluice("credentials", "rotate", bucket, "--json").stdout)
        new = self.boto3(conn, access_key=rotated["access_key_id"],
                         secret=rotated["secret_access_key"])
        # Both keys work during the rotation.
        self.put(old, bucket, "held/2")
        self.put(new, bucket, "held/3")

        third = self.sluice("credentials", "rotate", bucket, check=False)
        self.assertNotEqual(third.returncode, 0)
        self.assertIn("LIMIT_EXCEEDED", third.stderr)
        self.assertIn("sluice credentials revoke " + conn["access_key_id"], third.stderr)

        listed = self.sluice("credentials", "list", bucket).stdout
        self.assertNotIn(conn["secret_access_key"], listed)
        self.assertNotIn(rotated["secret_access_key"], listed)
        self.assertEqual([k["state"] for k in self.keys(bucket)], ["active", "active"])

        self.sluice("credentials", "revoke", conn["access_key_id"])
        # The very next request with the old key is refused, as S3 refuses an unknown key.
        self.assertEqual(self.error_code(lambda: self.put(old, bucket, "held/4")),
                         "InvalidAccessKeyId")
        self.assertEqual(self.error_code(lambda: old.list_objects_v2(Bucket=bucket)),
                         "InvalidAccessKeyId")
        self.put(new, bucket, "held/5")
        states = {k["access_key_id"]: k["state"] for k in self.keys(bucket)}
        self.assertEqual(states, {conn["access_key_id"]: "revoked",
                                  rotated["access_key_id"]: "active"})
        # Room for the next rotation again.
        self.sluice("credentials", "rotate", bucket, "--json")

    def test_an_expired_key_is_refused_like_a_revoked_one(self):
        conn = self.create_connection("expiring")
        bucket = conn["bucket"]
        temp = json.loads(self.sluice("credentials", "rotate", bucket, "--expires", "3s",
                                      "--json").stdout)
        self.assertIsNotNone(temp["expires_at"])
        client = self.boto3(conn, access_key=temp["access_key_id"],
                            secret=temp["secret_access_key"])
        self.put(client, bucket, "held/1")
        time.sleep(3.5)
        self.assertEqual(self.error_code(lambda: self.put(client, bucket, "held/2")),
                         "InvalidAccessKeyId")
        states = {k["access_key_id"]: k["state"] for k in self.keys(bucket)}
        self.assertEqual(states[temp["access_key_id"]], "expired")
        self.put(self.boto3(conn), bucket, "held/3")  # the connection's other key is untouched

    def http_put(self, url, headers=None):
        req = urllib.request.Request(url, data=b"presigned", method="PUT", headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def test_presigned_urls_refuse_unsigned_amz_headers_and_expire(self):
        conn = self.create_connection("presigning")
        bucket = conn["bucket"]
        v4 = self.boto3(conn, signature_version="s3v4")
        url = v4.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "held/a"},
                                        ExpiresIn=600)
        # The URL's holder cannot add x-amz-meta-sluice-force (or any x-amz-* header).
        status, body = self.http_put(url, {"x-amz-meta-sluice-force": "true"})
        self.assertEqual(status, 403, body)
        self.assertIn("<Code>AccessDenied</Code>", body)
        self.assertIn("x-amz-meta-sluice-force", body)
        status, body = self.http_put(url)
        self.assertEqual(status, 200, body)
        # An expired URL answers 403 AccessDenied, as S3 does.
        short = v4.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "held/c"},
                                          ExpiresIn=1)
        time.sleep(2.2)
        status, body = self.http_put(short)
        self.assertEqual(status, 403, body)
        self.assertIn("<Code>AccessDenied</Code>", body)
        self.assertIn("expired", body)

    def test_the_data_directory_is_private(self):
        conn = self.create_connection("private")
        self.put(self.boto3(conn), conn["bucket"], "held/private")
        data = self.data_dir
        self.assertEqual(mode(data), 0o700)
        private = ["admin.token"]
        if TEST_PG:
            # The PostgreSQL connection string may hold a password; the catalog is in the
            # database, its sealing key in the landing directory every node shares.
            private += ["pool.uri", os.path.join("landing", "secret.key")]
            self.assertFalse(os.path.exists(os.path.join(data, "catalog.db")))
        else:
            private += ["catalog.db", "secret.key"]
        for name in private:
            self.assertEqual(mode(os.path.join(data, name)), 0o600, name)
        if not TEST_PG:
            self.assertEqual(mode(os.path.join(data, "pool")) & 0o077, 0)
        landed = []
        for root, dirs, files in os.walk(os.path.join(data, "landing")):
            for d in dirs:
                self.assertEqual(mode(os.path.join(root, d)) & 0o077, 0, os.path.join(root, d))
            landed += [os.path.join(root, f) for f in files]
        self.assertTrue(landed, "no landed object found")
        for path in landed:
            self.assertEqual(mode(path), 0o600, path)


class KeyLastUsedTest(SluiceTestCase):
    def test_last_used_is_recorded_in_batches_and_at_shutdown(self):
        conn = self.create_connection("used")
        self.boto3(conn).put_object(Bucket=conn["bucket"], Key="held/1", Body=b"x")
        before = json.loads(self.sluice("credentials", "list", "used", "--json").stdout)
        # Not one write per request: the time is kept in memory for up to a minute...
        self.assertIsNone(before[0]["last_used_at"])
        # ...and written when the server stops.
        self.assertEqual(self.server.stop(), 0)
        after = json.loads(self.sluice("credentials", "list", "used", "--json").stdout)
        self.assertIsNotNone(after[0]["last_used_at"])
        self.server.start()


class ReadableSecretsTest(unittest.TestCase):
    def serve(self, data_dir):
        return subprocess.run([SLUICE, "--data-dir", data_dir, "serve", "--s3-port", "0",
                               "--admin-port", "0"], capture_output=True, text=True, timeout=30)

    def test_a_readable_admin_token_is_refused_at_start(self):
        with tempfile.TemporaryDirectory(prefix="sluice-e2e-") as tmp:
            data = os.path.join(tmp, "data")
            os.makedirs(data)
            token = os.path.join(data, "admin.token")
            with open(token, "w") as f:
                f.write("0123456789abcdef\n")
            os.chmod(token, 0o644)
            p = self.serve(data)
            self.assertNotEqual(p.returncode, 0)
            self.assertIn("chmod 600 " + token, p.stderr)

    def test_a_readable_secret_key_is_refused_at_start(self):
        with tempfile.TemporaryDirectory(prefix="sluice-e2e-") as tmp:
            data = os.path.join(tmp, "data")
            server = Server(data).start()
            self.assertEqual(server.stop(), 0)
            # With PostgreSQL the key sealing the shared catalog's secrets is in the landing
            # directory (every node shares it); the same rule holds there.
            key = os.path.join(data, "landing" if TEST_PG else "", "secret.key")
            os.chmod(key, 0o640)
            p = self.serve(data)
            self.assertNotEqual(p.returncode, 0)
            self.assertIn("chmod 600 " + key, p.stderr)


if __name__ == "__main__":
    unittest.main()
