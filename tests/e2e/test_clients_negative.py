"""What sluice refuses, as the clients see it: unknown key, wrong secret, another connection's
bucket, anonymous requests, a stalled body, wrong MD5 / CRC / SHA-256, a request without
x-amz-content-sha256 (test_clients_oversize.py: an object over the configured size limit).
Each gets the right S3 error, and nothing is stored or queued."""

import base64
import hashlib
import http.client
import os
import re
import socket
import time
import unittest
import urllib.parse

import botocore.exceptions
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from harness import GENERATED, SluiceTestCase, landing_tmp

PARQUET = os.path.join(GENERATED, "orders_v1.parquet")
BODY_TIMEOUT_SECONDS = 30  # `sluice serve`'s default: seconds without body progress


class _FixedPayloadAuth(S3SigV4Auth):
    """SigV4 header auth that signs whatever payload hash it is told (the way a client that
    precomputes the hash does)."""

    def __init__(self, credentials, payload_hash):
        super().__init__(credentials, "s3", "us-east-1")
        self._payload_hash = payload_hash

    def payload(self, request):
        return self._payload_hash


def read(path):
    with open(path, "rb") as f:
        return f.read()


def error_code(xml):
    m = re.search(r"<Code>([^<]*)</Code>", xml)
    return m.group(1) if m else None


class RefusalFixture(SluiceTestCase):
    """Two connections, one table each; checks that a refused request left nothing behind."""
    def setUp(self):
        if not hasattr(type(self), "conn"):
            type(self).conn = self.create_connection("negative")
            type(self).other = self.create_connection("negative-other")
            self.add_table(self.conn, "flat", "order_id")
        self.objects_before = self.landed_objects()

    # --- what "nothing stored, nothing queued" means ---------------------------------------

    def landed_objects(self):
        return sorted(os.listdir(os.path.join(self.data_dir, "landing", "objects")))

    def assert_nothing_stored(self, key):
        for conn in (self.conn, self.other):
            entries = [f for f in self.files(conn) if f["key"] == key]
            self.assertEqual(entries, [], f"{key} was queued")
        self.assertEqual(self.landed_objects(), self.objects_before, "a file was landed")
        tmp = landing_tmp(self.data_dir)
        self.assertTrue(wait_empty(tmp), f"incoming files left behind: {os.listdir(tmp)}")
        with self.assertRaises(botocore.exceptions.ClientError):
            self.boto3(self.conn).head_object(Bucket=self.conn["bucket"], Key=key)

    def assert_client_error(self, call, code, status):
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            call()
        err = cm.exception.response
        self.assertEqual((err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"]), (code, status),
                         err)

    # --- raw requests ----------------------------------------------------------------------

    def url(self, key):
        return f"{self.server.endpoint}/{self.conn['bucket']}/{key}"

    def signed_headers(self, method, key, payload_hash, headers=None, conn=None):
        conn = conn or self.conn
        request = AWSRequest(method=method, url=self.url(key), headers=dict(headers or {}))
        creds = Credentials(conn["access_key_id"], conn["secret_access_key"])
        _FixedPayloadAuth(creds, payload_hash).add_auth(request)
        return dict(request.headers.items())

    def raw(self, method, key, headers, body):
        """Sends one request; returns (status, headers, body text)."""
        parts = urllib.parse.urlsplit(self.server.endpoint)
        c = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        try:
            c.request(method, f"/{self.conn['bucket']}/{key}", body=body, headers=headers)
            r = c.getresponse()
            return r.status, dict(r.getheaders()), r.read().decode(errors="replace")
        finally:
            c.close()

    def put(self, client, key, bucket=None, **kwargs):
        return client.put_object(Bucket=bucket or self.conn["bucket"], Key=key, Body=read(PARQUET), **kwargs)



class NegativeTest(RefusalFixture):
    def test_unknown_access_key(self):
        client = self.boto3(self.conn, access_key="SKNOSUCHKEY000000000")
        self.assert_client_error(lambda: self.put(client, "flat/unknown-key.parquet"), "InvalidAccessKeyId", 403)
        self.assert_nothing_stored("flat/unknown-key.parquet")

    def test_wrong_secret(self):
        client = self.boto3(self.conn, secret="W" * 40)
        self.assert_client_error(lambda: self.put(client, "flat/wrong-secret.parquet"),
                                 "SignatureDoesNotMatch", 403)
        self.assert_nothing_stored("flat/wrong-secret.parquet")

    def test_another_connections_bucket(self):
        client = self.boto3(self.conn)
        self.assert_client_error(lambda: self.put(client, "flat/theirs.parquet", bucket=self.other["bucket"]),
                                 "AccessDenied", 403)
        self.assert_nothing_stored("flat/theirs.parquet")

    def test_anonymous_request(self):
        body = read(PARQUET)
        status, _, text = self.raw("PUT", "flat/anonymous.parquet", {"Content-Length": str(len(body))}, body)
        self.assertEqual((status, error_code(text)), (403, "AccessDenied"), text)
        self.assert_nothing_stored("flat/anonymous.parquet")

    def test_missing_content_sha256_header(self):
        # What curl 7.88's --aws-sigv4 sends without the documented -H workaround.
        body = read(PARQUET)
        headers = self.signed_headers("PUT", "flat/no-sha.parquet", hashlib.sha256(b"").hexdigest())
        headers.pop("X-Amz-Content-SHA256")
        headers = {k: v.replace("x-amz-content-sha256;", "") if k == "Authorization" else v
                   for k, v in headers.items()}
        status, _, text = self.raw("PUT", "flat/no-sha.parquet", headers, body)
        self.assertEqual(status, 400, text)
        self.assertIn(error_code(text), ("InvalidRequest", "SignatureDoesNotMatch"), text)
        self.assert_nothing_stored("flat/no-sha.parquet")

    def test_wrong_content_md5(self):
        client = self.boto3(self.conn)
        wrong = base64.b64encode(hashlib.md5(b"not the body").digest()).decode()
        self.assert_client_error(lambda: self.put(client, "flat/bad-md5.parquet", ContentMD5=wrong),
                                 "BadDigest", 400)
        self.assert_nothing_stored("flat/bad-md5.parquet")

    def test_malformed_content_md5(self):
        client = self.boto3(self.conn)
        self.assert_client_error(lambda: self.put(client, "flat/bad-md5-form.parquet", ContentMD5="not-base64!"),
                                 "InvalidDigest", 400)
        self.assert_nothing_stored("flat/bad-md5-form.parquet")

    def test_wrong_crc32(self):
        client = self.boto3(self.conn)
        self.assert_client_error(lambda: self.put(client, "flat/bad-crc.parquet", ChecksumCRC32="AAAAAA=="),
                                 "BadDigest", 400)
        self.assert_nothing_stored("flat/bad-crc.parquet")

    def test_wrong_sha256_payload_hash(self):
        body = read(PARQUET)
        wrong = hashlib.sha256(b"not the body").hexdigest()
        status, _, text = self.raw("PUT", "flat/bad-sha.parquet",
                                   self.signed_headers("PUT", "flat/bad-sha.parquet", wrong), body)
        self.assertEqual((status, error_code(text)), (400, "XAmzContentSHA256Mismatch"), text)
        self.assert_nothing_stored("flat/bad-sha.parquet")

    def test_stalled_body(self):
        key = "flat/stalled.parquet"
        body = read(PARQUET)
        headers = self.signed_headers("PUT", key, "UNSIGNED-PAYLOAD", {"Content-Length": str(len(body))})
        parts = urllib.parse.urlsplit(self.server.endpoint)
        with socket.create_connection((parts.hostname, parts.port), timeout=60) as s:
            head = f"PUT /{self.conn['bucket']}/{key} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            head += "".join(f"{k}: {v}\r\n" for k, v in headers.items() if k.lower() != "host")
            s.sendall(head.encode() + b"\r\n" + body[:1000])
            started = time.monotonic()
            answer = b""
            while b"</Error>" not in answer:
                chunk = s.recv(65536)
                if not chunk:
                    break
                answer += chunk
            waited = time.monotonic() - started
        text = answer.decode(errors="replace")
        self.assertTrue(text.startswith("HTTP/1.1 400"), text)
        self.assertEqual(error_code(text), "RequestTimeout", text)
        self.assertLess(waited, BODY_TIMEOUT_SECONDS + 10)
        self.assert_nothing_stored(key)


def wait_empty(directory, timeout=5.0):
    deadline = time.monotonic() + timeout
    while os.listdir(directory):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


if __name__ == "__main__":
    unittest.main()
