"""End to end: checksums of multipart uploads and the stored checksum on HEAD and GET (issue 14).
boto3 drives CRC32 and SHA256 uploads, COMPOSITE and FULL_OBJECT (this python's botocore has no
awscrt, so no CRC32C or CRC64NVME of its own); CRC32C and CRC64NVME FULL_OBJECT uploads go as
raw SigV4-signed requests with values computed here. Every expected value is computed here from
the bytes (zlib, hashlib, a table CRC-32C and CRC-64/NVME), never read back from the server.
Each completed upload loads into its table as any other file, and head_object(ChecksumMode=
'ENABLED') returns its checksum and type."""

import base64
import hashlib
import http.client
import json
import re
import unittest
import urllib.parse
import zlib

import botocore.exceptions
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from harness import SluiceTestCase, wait_for

MIB = 1024 * 1024


def _table(poly):
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
        table.append(c)
    return table


_CRC32C = _table(0x82F63B78)
_CRC64NVME = _table(0x9A6C9329AC4BC9B5)


def _reflected_crc(table, ones, data, crc=0):
    crc ^= ones
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ ones


def crc32c(data, crc=0):
    return _reflected_crc(_CRC32C, 0xFFFFFFFF, data, crc)


def crc64nvme(data, crc=0):
    return _reflected_crc(_CRC64NVME, 0xFFFFFFFFFFFFFFFF, data, crc)


assert crc32c(b"123456789") == 0xE3069283 and crc64nvme(b"123456789") == 0xAE8B14860A799888


def b64(raw):
    return base64.b64encode(raw).decode()


def b64_int(value, size):
    return b64(value.to_bytes(size, "big"))


def crc32_b64(data):
    return b64_int(zlib.crc32(data), 4)


def sha256_b64(data):
    return b64(hashlib.sha256(data).digest())


def composite(digest, part_values):
    """S3's COMPOSITE checksum: the digest of the concatenated raw part checksums, "-N"."""
    raw = b"".join(base64.b64decode(v) for v in part_values)
    return f"{b64(digest(raw))}-{len(part_values)}"


def ndjson(first_id, rows):
    """JSON Lines of `rows` records, ~120 bytes each."""
    return "".join(json.dumps({"id": first_id + i, "pad": "p" * 100}) + "\n"
                   for i in range(rows)).encode()


def split_parts(body):
    """A 5 MiB first part (S3's smallest) and the rest, cut at a line end so each part is whole
    lines: the loader needs none of that, but it keeps the parts readable."""
    cut = body.index(b"\n", 5 * MIB) + 1
    return [body[:cut], body[cut:]]


class _FixedPayloadAuth(S3SigV4Auth):
    def __init__(self, credentials, payload_hash):
        super().__init__(credentials, "s3", "us-east-1")
        self._payload_hash = payload_hash

    def payload(self, request):
        return self._payload_hash


class ChecksumTest(SluiceTestCase):
    rows = 0  # rows loaded into table mp so far, over the tests of the class

    def setUp(self):
        if not hasattr(type(self), "conn"):
            type(self).conn = self.create_connection("checksums")
            self.add_table(self.conn, "mp", "id")
        self.bucket = self.conn["bucket"]
        self.s3 = self.boto3(self.conn)

    # --- helpers -----------------------------------------------------------------------------

    def body(self, rows=46000):
        """Fresh rows for the table (ids never used by an earlier upload)."""
        data = ndjson(type(self).rows, rows)
        type(self).rows += rows
        return data

    def assert_loaded(self, key, body):
        """The object loads into table mp like any other file: every row pushed so far is
        there (the table's files load in order, so the earlier tests' rows are too). Returns
        its ledger entry (`sluice files show`)."""
        def loaded():
            return [f for f in self.files(self.conn, "mp")
                    if f["key"] == key and f["status"] == "loaded"]
        try:
            mine = wait_for(loaded, timeout=60, what=f"{key} to load")
        except AssertionError:
            print(json.dumps(self.files(self.conn, "mp"), indent=1))
            print(self.server.log())
            raise
        self.assertEqual(mine[-1]["size"], len(body))
        self.assertEqual(self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read(), body)
        count = self.query(self.conn, "SELECT count(*) AS n FROM mp")[0]["n"]
        self.assertEqual(int(count), type(self).rows)
        return json.loads(self.sluice("files", "show", str(mine[-1]["seq"]), "--json").stdout)

    def head_checksum(self, key):
        h = self.s3.head_object(Bucket=self.bucket, Key=key, ChecksumMode="ENABLED")
        values = {k: v for k, v in h.items() if k.startswith("Checksum") and k != "ChecksumType"}
        return values, h.get("ChecksumType")

    def assert_client_error(self, call, code):
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            call()
        self.assertEqual(cm.exception.response["Error"]["Code"], code, cm.exception.response)
        return cm.exception.response

    def raw(self, method, key, query="", headers=None, body=b""):
        """One SigV4-signed request (payload hash signed); returns (status, headers, body)."""
        url = f"{self.server.endpoint}/{self.bucket}/{key}" + (f"?{query}" if query else "")
        request = AWSRequest(method=method, url=url, headers=dict(headers or {}), data=body)
        creds = Credentials(self.conn["access_key_id"], self.conn["secret_access_key"])
        _FixedPayloadAuth(creds, hashlib.sha256(body).hexdigest()).add_auth(request)
        parts = urllib.parse.urlsplit(self.server.endpoint)
        c = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        try:
            c.request(method, urllib.parse.urlsplit(url).path + (f"?{query}" if query else ""),
                      body=body, headers=dict(request.headers.items()))
            r = c.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read().decode()
        finally:
            c.close()

    # --- boto3: CRC32 and SHA256 ---------------------------------------------------------------

    def test_composite_crc32_upload_with_boto3(self):
        key = "mp/composite-crc32.json"
        body = self.body()
        parts = split_parts(body)
        created = self.s3.create_multipart_upload(Bucket=self.bucket, Key=key,
                                                  ChecksumAlgorithm="CRC32")
        self.assertEqual(created["ChecksumAlgorithm"], "CRC32")
        self.assertEqual(created["ChecksumType"], "COMPOSITE")
        upload = created["UploadId"]
        listed = []
        for n, data in enumerate(parts, 1):
            r = self.s3.upload_part(Bucket=self.bucket, Key=key, UploadId=upload, PartNumber=n,
                                    Body=data, ChecksumAlgorithm="CRC32")
            self.assertEqual(r["ChecksumCRC32"], crc32_b64(data))  # boto3's value, verified
            listed.append({"PartNumber": n, "ETag": r["ETag"], "ChecksumCRC32": r["ChecksumCRC32"]})
        got = self.s3.list_parts(Bucket=self.bucket, Key=key, UploadId=upload)["Parts"]
        self.assertEqual([p["ChecksumCRC32"] for p in got], [crc32_b64(p) for p in parts])
        expected = composite(lambda raw: zlib.crc32(raw).to_bytes(4, "big"),
                             [crc32_b64(p) for p in parts])
        done = self.s3.complete_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload,
                                                 MultipartUpload={"Parts": listed})
        self.assertEqual(done["ChecksumCRC32"], expected)
        self.assertEqual(done["ChecksumType"], "COMPOSITE")
        self.assertEqual(self.head_checksum(key), ({"ChecksumCRC32": expected}, "COMPOSITE"))
        # GET with checksum mode: the whole object carries it (botocore does not check a
        # composite value, which is not the CRC of the bytes); a range carries none.
        whole = self.s3.get_object(Bucket=self.bucket, Key=key, ChecksumMode="ENABLED")
        self.assertEqual(whole["ChecksumCRC32"], expected)
        self.assertEqual(whole["Body"].read(), body)
        ranged = self.s3.get_object(Bucket=self.bucket, Key=key, ChecksumMode="ENABLED",
                                    Range="bytes=0-99")
        self.assertNotIn("ChecksumCRC32", ranged)
        self.assertNotIn("ChecksumType", ranged)
        self.assertEqual(ranged["Body"].read(), body[:100])
        # Without checksum mode, no checksum.
        self.assertNotIn("ChecksumCRC32", self.s3.head_object(Bucket=self.bucket, Key=key))
        # The ledger keeps the checksum and its type (`sluice files`).
        self.assertEqual(self.assert_loaded(key, body)["checksums"],
                         {"crc32": expected, "type": "COMPOSITE"})

    def test_full_object_crc32_upload_with_boto3(self):
        key = "mp/full-crc32.json"
        body = self.body()
        parts = split_parts(body)
        created = self.s3.create_multipart_upload(Bucket=self.bucket, Key=key,
                                                  ChecksumAlgorithm="CRC32",
                                                  ChecksumType="FULL_OBJECT")
        self.assertEqual(created["ChecksumType"], "FULL_OBJECT")
        upload = created["UploadId"]
        listed = []
        for n, data in enumerate(parts, 1):
            r = self.s3.upload_part(Bucket=self.bucket, Key=key, UploadId=upload, PartNumber=n,
                                    Body=data, ChecksumAlgorithm="CRC32")
            listed.append({"PartNumber": n, "ETag": r["ETag"], "ChecksumCRC32": r["ChecksumCRC32"]})
        whole = crc32_b64(body)
        complete = dict(Bucket=self.bucket, Key=key, UploadId=upload,
                        MultipartUpload={"Parts": listed}, ChecksumType="FULL_OBJECT")
        # The SDK's whole-object value is checked: a wrong one is BadDigest, nothing stored;
        # so is a type other than the upload's.
        self.assert_client_error(
            lambda: self.s3.complete_multipart_upload(**complete, ChecksumCRC32=crc32_b64(b"x")),
            "BadDigest")
        self.assert_client_error(
            lambda: self.s3.complete_multipart_upload(**dict(complete, ChecksumType="COMPOSITE")),
            "BadDigest")
        self.assert_client_error(lambda: self.s3.head_object(Bucket=self.bucket, Key=key),
                                 "404")
        done = self.s3.complete_multipart_upload(**complete, ChecksumCRC32=whole)
        self.assertEqual(done["ChecksumCRC32"], whole)  # the CRC32 of the object, no "-N"
        self.assertEqual(done["ChecksumType"], "FULL_OBJECT")
        self.assertEqual(self.head_checksum(key), ({"ChecksumCRC32": whole}, "FULL_OBJECT"))
        # botocore checks a FULL_OBJECT CRC32 against the bytes it reads.
        got = self.s3.get_object(Bucket=self.bucket, Key=key, ChecksumMode="ENABLED")
        self.assertEqual(got["ChecksumCRC32"], whole)
        self.assertEqual(got["Body"].read(), body)
        self.assert_loaded(key, body)

    def test_sha256_composite_upload_and_its_refusals(self):
        key = "mp/composite-sha256.json"
        body = self.body()
        parts = split_parts(body)
        upload = self.s3.create_multipart_upload(Bucket=self.bucket, Key=key,
                                                 ChecksumAlgorithm="SHA256")["UploadId"]
        # A part without its SHA256 (a client that sends checksums only when required), or with
        # the SDK's default CRC32: refused, as S3 refuses them.
        bare = self.boto3(self.conn, request_checksum_calculation="when_required")
        for client in (bare, self.s3):
            err = self.assert_client_error(
                lambda: client.upload_part(Bucket=self.bucket, Key=key, UploadId=upload,
                                           PartNumber=1, Body=parts[0]), "InvalidRequest")
            self.assertIn("expected checksum Type: sha256", err["Error"]["Message"])
        listed = []
        for n, data in enumerate(parts, 1):
            r = self.s3.upload_part(Bucket=self.bucket, Key=key, UploadId=upload, PartNumber=n,
                                    Body=data, ChecksumAlgorithm="SHA256")
            self.assertEqual(r["ChecksumSHA256"], sha256_b64(data))
            listed.append({"PartNumber": n, "ETag": r["ETag"], "ChecksumSHA256": r["ChecksumSHA256"]})
        # Complete must list each part's checksum, and the right one.
        no_checksums = [{"PartNumber": p["PartNumber"], "ETag": p["ETag"]} for p in listed]
        self.assert_client_error(
            lambda: self.s3.complete_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload,
                                                      MultipartUpload={"Parts": no_checksums}),
            "InvalidRequest")
        wrong = [dict(listed[0]), dict(listed[1], ChecksumSHA256=sha256_b64(b"other"))]
        self.assert_client_error(
            lambda: self.s3.complete_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload,
                                                      MultipartUpload={"Parts": wrong}),
            "InvalidPart")
        done = self.s3.complete_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload,
                                                 MultipartUpload={"Parts": listed})
        expected = composite(lambda raw: hashlib.sha256(raw).digest(),
                             [sha256_b64(p) for p in parts])
        self.assertEqual(done["ChecksumSHA256"], expected)
        self.assertEqual(self.head_checksum(key), ({"ChecksumSHA256": expected}, "COMPOSITE"))
        # S3's refusals at creation.
        for algorithm, checksum_type in (("SHA256", "FULL_OBJECT"), ("SHA1", "FULL_OBJECT"),
                                         ("CRC64NVME", "COMPOSITE")):
            self.assert_client_error(
                lambda: self.s3.create_multipart_upload(
                    Bucket=self.bucket, Key=key, ChecksumAlgorithm=algorithm,
                    ChecksumType=checksum_type), "InvalidRequest")
        self.assert_loaded(key, body)

    def test_single_put_checksum_is_full_object(self):
        key = "mp/single.json"
        body = self.body(100)
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=body, ChecksumAlgorithm="SHA256")
        self.assertEqual(self.head_checksum(key), ({"ChecksumSHA256": sha256_b64(body)},
                                                   "FULL_OBJECT"))
        self.assert_loaded(key, body)

    # --- raw requests: CRC32C and CRC64NVME FULL_OBJECT ----------------------------------------

    def raw_full_object_upload(self, algorithm, crc, size, send_part_checksums):
        key = f"mp/full-{algorithm}.json"
        header = f"x-amz-checksum-{algorithm}"
        body = self.body()
        parts = split_parts(body)
        status, headers, text = self.raw(
            "POST", key, "uploads",
            {"x-amz-checksum-algorithm": algorithm.upper(), "x-amz-checksum-type": "FULL_OBJECT"})
        self.assertEqual(status, 200, text)
        self.assertEqual(headers["x-amz-checksum-algorithm"], algorithm.upper())
        self.assertEqual(headers["x-amz-checksum-type"], "FULL_OBJECT")
        upload = re.search(r"<UploadId>([^<]+)</UploadId>", text).group(1)
        # The part CRCs and the object's, computed here, the object's by running on (not
        # combining) over the second part.
        first = crc(parts[0])
        values = [b64_int(first, size), b64_int(crc(parts[1]), size)]
        whole = b64_int(crc(parts[1], first), size)
        xml = "<CompleteMultipartUpload>"
        for n, data in enumerate(parts, 1):
            sent = {header: values[n - 1]} if send_part_checksums else {}
            status, headers, text = self.raw("PUT", key, f"partNumber={n}&uploadId={upload}",
                                             sent, data)
            self.assertEqual(status, 200, text)
            # Sent or computed here (a FULL_OBJECT part may come without one, as in S3).
            self.assertEqual(headers[header], values[n - 1])
            xml += f"<Part><PartNumber>{n}</PartNumber><ETag>{headers['etag']}</ETag></Part>"
        xml += "</CompleteMultipartUpload>"
        query = f"uploadId={upload}"
        status, _, text = self.raw("POST", key, query, {header: values[0]}, xml.encode())
        self.assertEqual(status, 400, text)
        self.assertIn("<Code>BadDigest</Code>", text)
        status, headers, text = self.raw("POST", key, query, {header: whole}, xml.encode())
        self.assertEqual(status, 200, text)
        element = f"Checksum{algorithm.upper()}"
        self.assertIn(f"<{element}>{whole}</{element}><ChecksumType>FULL_OBJECT</ChecksumType>",
                      text)
        self.assertEqual(headers["x-amz-checksum-type"], "FULL_OBJECT")
        # HEAD with checksum mode, raw and through boto3.
        status, headers, _ = self.raw("HEAD", key, "", {"x-amz-checksum-mode": "ENABLED"})
        self.assertEqual((status, headers[header], headers["x-amz-checksum-type"]),
                         (200, whole, "FULL_OBJECT"))
        self.assertEqual(self.head_checksum(key), ({element: whole}, "FULL_OBJECT"))
        self.assertEqual(self.assert_loaded(key, body)["checksums"],
                         {algorithm: whole, "type": "FULL_OBJECT"})

    def test_crc32c_full_object_upload(self):
        self.raw_full_object_upload("crc32c", crc32c, 4, send_part_checksums=True)

    def test_crc64nvme_full_object_upload_with_parts_sent_bare(self):
        self.raw_full_object_upload("crc64nvme", crc64nvme, 8, send_part_checksums=False)


if __name__ == "__main__":
    unittest.main()
