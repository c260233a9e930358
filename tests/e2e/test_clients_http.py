"""Every real S3 client, end to end over plain http: the aws CLI, boto3, s3cmd (SigV4 and SigV2),
rclone, curl and the AWS SDK for JavaScript push parquet files to a `sluice serve` started by
the test, each the way its users run it, and a raw HTTP client streams a chunked body without a
length. Every pushed file must end up loaded in the pool and read back byte-identical with
GetObject. test_clients_https.py runs the same tests over https."""

import atexit
import base64
import email.utils
import hashlib
import hmac
import http.client
import json
import os
import re
import shutil
import ssl
import subprocess
import tempfile
import unittest
import urllib.parse

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from harness import GENERATED, TOOLS, SluiceTestCase, duckdb, wait_for

MIB = 1024 * 1024
# Single files come from the corpus's flat files the pool loads (hyparquet_orders,
# orders_flat_multi_rowgroup, orders_v1); each has a unique order_id per row.
# Files that may share a table (one schema): orders v1, its update v2, and v1 again under
# another name (a byte-identical re-push: skipped as a duplicate of the first).
SET = {"a.parquet": "orders_v1.parquet", "b.parquet": "orders_v2.parquet", "c.parquet": "orders_v1.parquet"}


def corpus(name):
    return os.path.join(GENERATED, name)


_BIG = {}


def big_parquet():
    """A parquet file of about 20 MiB written by DuckDB once per run (so clients split it into
    parts). Returns (path, rows)."""
    if "path" not in _BIG:
        directory = tempfile.mkdtemp(prefix="sluice-e2e-big-")
        atexit.register(shutil.rmtree, directory, ignore_errors=True)
        path = os.path.join(directory, "big_20mib.parquet")
        rows = 140_000
        # Hashes do not compress: ~128 bytes of incompressible text per row, uncompressed.
        duckdb(f"COPY (SELECT 'ORD-' || i AS order_id, i AS n, md5(i::VARCHAR) || md5((i * 7)::VARCHAR) "
               f"|| md5((i * 13)::VARCHAR) || md5((i * 31)::VARCHAR) AS payload FROM range({rows}) t(i)) "
               f"TO '{path}' (FORMAT parquet, COMPRESSION uncompressed)")
        _BIG["path"], _BIG["rows"] = path, rows
    size = os.path.getsize(_BIG["path"])
    assert size > 16 * MIB, f"the DuckDB file is only {size} bytes"
    return _BIG["path"], _BIG["rows"]


def error_code(xml):
    m = re.search(r"<Code>([^<]*)</Code>", xml)
    return m.group(1) if m else None


def sign_v2(secret, string_to_sign):
    """SigV2: base64(HMAC-SHA1(secret, string to sign)), written here from S3's rules."""
    mac = hmac.new(secret.encode(), string_to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(mac).decode()


class _UnsignedPayloadAuth(S3SigV4Auth):
    def __init__(self, credentials):
        super().__init__(credentials, "s3", "us-east-1")

    def payload(self, request):
        return "UNSIGNED-PAYLOAD"


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(MIB), b""):
            h.update(block)
    return h.hexdigest()


class ClientFixture(SluiceTestCase):
    """One connection per class; each test pushes into its own table (`t_<test name>`), so a
    failure in one cannot block another's queue. Helpers run each client and check the
    outcome."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.work = os.path.join(cls.tmp, "work")
        os.makedirs(cls.work)
        cls.conn = None

    def setUp(self):
        if type(self).conn is None:
            type(self).conn = self.create_connection(f"clients-{type(self).__name__.lower()}")
        self.table = "t_" + self._testMethodName.removeprefix("test_")
        self.add_table(self.conn, self.table, "order_id")

    @property
    def bucket(self):
        return self.conn["bucket"]

    # --- checks ----------------------------------------------------------------------------

    def assert_pushed(self, pushed, rows=None):
        """`pushed`: {key: local path}, all under this test's table. Each key is loaded as a
        file of the table, the table holds the expected rows, and GetObject returns the file's
        exact bytes."""
        def settled():  # every file finished, or one failed (it blocks the files behind it)
            files = self.files(self.conn, self.table)
            done = [f for f in files if f["status"] in ("loaded", "skipped")]
            failed = [f for f in files if f["status"] == "failed"]
            return files if failed or len(done) >= len(pushed) else None
        try:
            files = wait_for(settled, timeout=120, what=f"{len(pushed)} files of {self.table} to load")
        except AssertionError:
            print(json.dumps(self.files(self.conn, self.table), indent=1), self.server.log())
            raise
        by_key = {f["key"]: f for f in files}
        for key in pushed:
            self.assertIn(key, by_key, f"no ledger entry for {key}: {files}")
            f = by_key[key]
            if f["status"] == "skipped":  # only as a byte-identical re-push of a loaded file
                original = [g for g in files if g["seq"] == f["duplicate_of"]]
                self.assertEqual(len(original), 1, f)
                self.assertEqual(sha256_file(pushed[original[0]["key"]]), sha256_file(pushed[key]))
            else:
                self.assertEqual(f["status"], "loaded", f)
        self.assertEqual(len(files), len(pushed), f"unexpected ledger entries: {files}")
        if rows is None:
            rows = len({k for p in pushed.values() for k in self._keys_of(p)})
        count = self.query(self.conn, f"SELECT count(*) AS n FROM {self.table}")[0]["n"]
        self.assertEqual(int(count), rows)
        s3 = self.boto3(self.conn)
        for key, path in pushed.items():
            body = s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
            self.assertEqual(len(body), os.path.getsize(path), key)
            self.assertEqual(hashlib.sha256(body).hexdigest(), sha256_file(path), key)

    @staticmethod
    def _keys_of(path):
        if path == _BIG.get("path"):
            return {f"ORD-{i}" for i in range(_BIG["rows"])}
        with open(path[: -len(".parquet")] + ".jsonl") as f:
            return {json.loads(line)["order_id"] for line in f}

    def key(self, name):
        return f"{self.table}/{name}"

    def folder_of_set(self, name):
        folder = os.path.join(self.work, name)
        os.makedirs(folder)
        for local, source in SET.items():
            shutil.copy(corpus(source), os.path.join(folder, local))
        return folder

    # --- the clients beyond the aws CLI and boto3 ------------------------------------------

    def host_port(self):
        return urllib.parse.urlsplit(self.s3_endpoint()).netloc

    def s3cmd(self, *args, check=True, signature_v2=False):
        cfg = os.path.join(self.work, "s3cmd.cfg")
        with open(cfg, "w") as f:
            f.write("[default]\n"
                    f"access_key = {self.conn['access_key_id']}\n"
                    f"secret_key = {self.conn['secret_access_key']}\n"
                    f"host_base = {self.host_port()}\n"
                    f"host_bucket = {self.host_port()}\n"
                    "bucket_location = us-east-1\n"
                    f"signature_v2 = {signature_v2}\n"
                    f"use_https = {'True' if self.scheme == 'https' else 'False'}\n"
                    f"ca_certs_file = {self.ca_bundle or ''}\n"
                    "check_ssl_certificate = True\n"
                    "progress_meter = False\n")
        p = subprocess.run(["s3cmd", "-c", cfg, *args], capture_output=True, text=True, timeout=300)
        if check and p.returncode != 0:
            self.fail(f"s3cmd {' '.join(args)} failed ({p.returncode}):\n{p.stdout}\n{p.stderr}\n"
                      f"server log:\n{self.server.log()}")
        return p

    def rclone(self, *args, check=True):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "RCLONE_"))}
        env.update(RCLONE_CONFIG_SLUICE_TYPE="s3", RCLONE_CONFIG_SLUICE_PROVIDER="Other",
                   RCLONE_CONFIG_SLUICE_ACCESS_KEY_ID=self.conn["access_key_id"],
                   RCLONE_CONFIG_SLUICE_SECRET_ACCESS_KEY=self.conn["secret_access_key"],
                   RCLONE_CONFIG_SLUICE_ENDPOINT=self.s3_endpoint(),
                   RCLONE_CONFIG_SLUICE_REGION="us-east-1",
                   RCLONE_CONFIG_SLUICE_FORCE_PATH_STYLE="true")
        cfg = os.path.join(self.work, "rclone.conf")
        open(cfg, "a").close()
        tls = ["--ca-cert", self.ca_bundle] if self.ca_bundle else []
        p = subprocess.run(["rclone", "--config", cfg, "--retries", "1", "--low-level-retries", "1",
                            *tls, *args], capture_output=True, text=True, env=env, timeout=300)
        if check and p.returncode != 0:
            self.fail(f"rclone {' '.join(args)} failed ({p.returncode}):\n{p.stdout}\n{p.stderr}\n"
                      f"server log:\n{self.server.log()}")
        return p

    def curl(self, *args, url, stdin=None):
        """Runs curl; returns (HTTP status, response body)."""
        out = os.path.join(self.work, "curl.out")
        tls = ["--cacert", self.ca_bundle] if self.ca_bundle else []
        p = subprocess.run(["curl", "-sS", "-o", out, "-w", "%{http_code}", *tls, *args, url],
                           capture_output=True, text=True, timeout=300, stdin=stdin)
        self.assertEqual(p.returncode, 0, f"curl failed: {p.stderr}")
        with open(out, errors="replace") as f:
            return int(p.stdout), f.read()

    def curl_sigv4(self, *args, url, stdin=None):
        return self.curl("--aws-sigv4", "aws:amz:us-east-1:s3",
                         "--user", f"{self.conn['access_key_id']}:{self.conn['secret_access_key']}",
                         *args, url=url, stdin=stdin)

    def raw(self, method, path, headers, body=None, chunked=False):
        """One request over http.client (over TLS trusting the suite's certificate); returns
        (HTTP status, response body). `chunked`: the body (an iterable) goes in HTTP chunked
        transfer coding, without Content-Length."""
        parts = urllib.parse.urlsplit(self.s3_endpoint())
        if self.scheme == "https":
            context = ssl.create_default_context(cafile=self.ca_bundle)
            c = http.client.HTTPSConnection(parts.hostname, parts.port, timeout=60, context=context)
        else:
            c = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        try:
            c.request(method, path, body=body, headers=headers, encode_chunked=chunked)
            r = c.getresponse()
            return r.status, r.read().decode(errors="replace")
        finally:
            c.close()

    def node(self, mode, path, key):
        env = dict(os.environ, S3_ENDPOINT=self.s3_endpoint(),
                   AWS_ACCESS_KEY_ID=self.conn["access_key_id"],
                   AWS_SECRET_ACCESS_KEY=self.conn["secret_access_key"])
        if self.ca_bundle:
            env["NODE_EXTRA_CA_CERTS"] = self.ca_bundle
        p = subprocess.run(["node", os.path.join(TOOLS, "s3_js_client.mjs"), mode, path, self.bucket, key],
                           capture_output=True, text=True, env=env, cwd=TOOLS, timeout=300)
        if p.returncode != 0:
            self.fail(f"node s3_js_client.mjs {mode} failed ({p.returncode}):\n{p.stdout}\n{p.stderr}\n"
                      f"server log:\n{self.server.log()}")
        return json.loads(p.stdout)


# --- the tests, shared by http and https --------------------------------------------------------


class AwsCliTests:
    def test_cp_small(self):
        path = corpus("hyparquet_orders.parquet")
        self.aws(self.conn, "s3", "cp", path, f"s3://{self.bucket}/{self.key('small.parquet')}")
        self.assert_pushed({self.key("small.parquet"): path})

    def test_cp_20mib_multipart(self):
        path, rows = big_parquet()
        self.aws(self.conn, "s3", "cp", path, f"s3://{self.bucket}/{self.key('big.parquet')}")
        self.assert_pushed({self.key("big.parquet"): path}, rows=rows)
        head = self.boto3(self.conn).head_object(Bucket=self.bucket, Key=self.key("big.parquet"))
        parts = -(-os.path.getsize(path) // (8 * MIB))  # the aws CLI's 8 MiB parts
        self.assertRegex(head["ETag"], rf'^"[0-9a-f]{{32}}-{parts}"$')

    def test_cp_from_stdin(self):
        path, rows = big_parquet()
        with open(path, "rb") as f:
            self.aws(self.conn, "s3", "cp", "-", f"s3://{self.bucket}/{self.key('stdin.parquet')}", stdin=f)
        self.assert_pushed({self.key("stdin.parquet"): path}, rows=rows)

    def test_s3api_put_object(self):
        path = corpus("orders_flat_multi_rowgroup.parquet")
        out = self.aws(self.conn, "s3api", "put-object", "--bucket", self.bucket,
                       "--key", self.key("api.parquet"), "--body", path).stdout
        with open(path, "rb") as f:
            self.assertEqual(json.loads(out)["ETag"], f'"{hashlib.md5(f.read()).hexdigest()}"')
        self.assert_pushed({self.key("api.parquet"): path})

    def test_ls(self):
        path = corpus("orders_v1.parquet")
        self.aws(self.conn, "s3", "cp", path, f"s3://{self.bucket}/{self.key('dir/ls me.parquet')}")
        self.assert_pushed({self.key("dir/ls me.parquet"): path})
        self.assertIn(self.bucket, self.aws(self.conn, "s3", "ls").stdout)
        top = self.aws(self.conn, "s3", "ls", f"s3://{self.bucket}/{self.table}/").stdout
        self.assertIn("PRE dir/", top)
        inner = self.aws(self.conn, "s3", "ls", f"s3://{self.bucket}/{self.table}/dir/").stdout
        self.assertRegex(inner, rf"\s{os.path.getsize(path)} ls me\.parquet")
        recursive = self.aws(self.conn, "s3", "ls", "--recursive", f"s3://{self.bucket}/").stdout
        self.assertIn(self.key("dir/ls me.parquet"), recursive)

    def test_sync(self):
        folder = self.folder_of_set("sync")
        self.aws(self.conn, "s3", "sync", folder, f"s3://{self.bucket}/{self.table}/")
        self.assert_pushed({self.key(n): corpus(c) for n, c in SET.items()})
        # A second sync finds everything up to date (the listing reports sizes and times).
        again = self.aws(self.conn, "s3", "sync", folder, f"s3://{self.bucket}/{self.table}/").stdout
        self.assertNotIn("upload:", again)
        self.assertEqual(len(self.files(self.conn, self.table)), len(SET))


class Boto3Tests:
    def test_put_object(self):
        path = corpus("orders_flat_multi_rowgroup.parquet")
        with open(path, "rb") as f:
            body = f.read()
        r = self.boto3(self.conn).put_object(Bucket=self.bucket, Key=self.key("p.parquet"), Body=body)
        self.assertEqual(r["ETag"], f'"{hashlib.md5(body).hexdigest()}"')
        self.assert_pushed({self.key("p.parquet"): path})

    def test_upload_file_small(self):
        path = corpus("orders_v1.parquet")
        self.boto3(self.conn).upload_file(path, self.bucket, self.key("small.parquet"))
        self.assert_pushed({self.key("small.parquet"): path})

    def test_upload_file_large(self):
        path, rows = big_parquet()
        self.boto3(self.conn).upload_file(path, self.bucket, self.key("large.parquet"))
        self.assert_pushed({self.key("large.parquet"): path}, rows=rows)

    def test_upload_fileobj(self):
        path = corpus("hyparquet_orders.parquet")
        with open(path, "rb") as f:
            self.boto3(self.conn).upload_fileobj(f, self.bucket, self.key("obj.parquet"))
        self.assert_pushed({self.key("obj.parquet"): path})

    def test_checksum_algorithms(self):
        # CRC32C and CRC64NVME need awscrt in boto3; the others are pure Python.
        algorithms = ["CRC32", "SHA1", "SHA256"]
        try:
            import awscrt  # noqa: F401
            algorithms += ["CRC32C", "CRC64NVME"]
        except ImportError:
            pass
        s3 = self.boto3(self.conn)
        pushed = {}
        for i, alg in enumerate(algorithms):
            path = corpus(list(SET.values())[i % len(SET)])
            key = self.key(f"{alg.lower()}.parquet")
            with open(path, "rb") as f:
                r = s3.put_object(Bucket=self.bucket, Key=key, Body=f.read(), ChecksumAlgorithm=alg)
            self.assertIn(f"Checksum{alg}", r, f"{alg} not echoed: {r}")
            pushed[key] = path
        self.assert_pushed(pushed)

    def presigned_put(self, signature_version, name):
        config = {} if signature_version is None else {"signature_version": signature_version}
        s3 = self.boto3(self.conn, **config)
        key = self.key(name)
        url = s3.generate_presigned_url("put_object", Params={"Bucket": self.bucket, "Key": key},
                                        ExpiresIn=300)
        path = corpus("hyparquet_orders.parquet")
        status, body = self.curl("-T", path, url=url)
        self.assertEqual(status, 200, f"{url}\n{body}")
        self.assert_pushed({key: path})
        return url

    def test_presigned_put_sigv2_with_curl(self):
        url = self.presigned_put(None, "v2.parquet")  # boto3's default: SigV2 query auth
        self.assertIn("AWSAccessKeyId=", url)

    def test_presigned_put_sigv4_with_curl(self):
        url = self.presigned_put("s3v4", "v4.parquet")
        self.assertIn("X-Amz-Signature=", url)


class S3cmdTests:
    def test_put_small_and_ls(self):
        path = corpus("hyparquet_orders.parquet")
        self.s3cmd("put", path, f"s3://{self.bucket}/{self.key('small.parquet')}")
        self.assert_pushed({self.key("small.parquet"): path})
        listing = self.s3cmd("ls", f"s3://{self.bucket}/{self.table}/").stdout
        self.assertIn(f"s3://{self.bucket}/{self.key('small.parquet')}", listing)
        self.assertIn(str(os.path.getsize(path)), listing)
        self.assertIn(f"s3://{self.bucket}", self.s3cmd("ls").stdout)

    def test_put_20mib_multipart(self):
        path, rows = big_parquet()
        out = self.s3cmd("put", path, f"s3://{self.bucket}/{self.key('big.parquet')}")
        self.assertNotIn("MD5 Sums don't match", out.stdout + out.stderr)
        self.assert_pushed({self.key("big.parquet"): path}, rows=rows)

    # s3cmd with `signature_v2 = True` signs `Authorization: AWS <key>:<HMAC-SHA1>` and dates the
    # request with x-amz-date ("... +0000"); no x-amz-content-sha256, so the body is unsigned.

    def test_signature_v2_put_ls_get_del(self):
        path = corpus("orders_flat_multi_rowgroup.parquet")
        url = f"s3://{self.bucket}/{self.key('v2.parquet')}"
        self.s3cmd("put", path, url, signature_v2=True)
        self.assert_pushed({self.key("v2.parquet"): path})
        listing = self.s3cmd("ls", f"s3://{self.bucket}/{self.table}/", signature_v2=True).stdout
        self.assertIn(url, listing)
        self.assertIn(str(os.path.getsize(path)), listing)
        self.assertIn(f"s3://{self.bucket}", self.s3cmd("ls", signature_v2=True).stdout)
        got = os.path.join(self.work, "v2-get.parquet")
        self.s3cmd("get", "--force", url, got, signature_v2=True)
        self.assertEqual(sha256_file(got), sha256_file(path))
        self.s3cmd("del", url, signature_v2=True)
        listing = self.s3cmd("ls", f"s3://{self.bucket}/{self.table}/", signature_v2=True).stdout
        self.assertNotIn(url, listing)
        p = self.s3cmd("get", "--force", url, got, check=False, signature_v2=True)
        self.assertNotEqual(p.returncode, 0, "a deleted key could still be read")

    def test_signature_v2_multipart(self):
        # The sub-resources (?uploads, ?partNumber=N&uploadId=..., ?uploadId=...) are signed.
        path, rows = big_parquet()
        out = self.s3cmd("put", path, f"s3://{self.bucket}/{self.key('big-v2.parquet')}",
                         signature_v2=True)
        self.assertNotIn("MD5 Sums don't match", out.stdout + out.stderr)
        self.assert_pushed({self.key("big-v2.parquet"): path}, rows=rows)

    def test_signature_v2_wrong_secret_is_signature_does_not_match(self):
        key = self.key("v2-raw.parquet")
        path = corpus("orders_v1.parquet")
        with open(path, "rb") as f:
            body = f.read()

        def put(secret):
            date = email.utils.formatdate(usegmt=True)
            to_sign = f"PUT\n\napplication/octet-stream\n{date}\n/{self.bucket}/{key}"
            return self.raw("PUT", f"/{self.bucket}/{key}", {
                "Date": date, "Content-Type": "application/octet-stream",
                "Content-Length": str(len(body)),
                "Authorization": f"AWS {self.conn['access_key_id']}:{sign_v2(secret, to_sign)}"},
                body)

        status, text = put("W" * 40)
        self.assertEqual((status, error_code(text)), (403, "SignatureDoesNotMatch"), text)
        self.assertEqual(self.files(self.conn, self.table), [])
        # The same request signed with the right secret is stored and loaded.
        status, text = put(self.conn["secret_access_key"])
        self.assertEqual(status, 200, text)
        self.assert_pushed({key: path})


class RcloneTests:
    def test_copy_file(self):
        path = corpus("orders_flat_multi_rowgroup.parquet")
        self.rclone("copyto", path, f"sluice:{self.bucket}/{self.key('one.parquet')}")
        self.assert_pushed({self.key("one.parquet"): path})

    def test_copy_folder(self):
        folder = self.folder_of_set("rclone")
        self.rclone("copy", folder, f"sluice:{self.bucket}/{self.table}")
        self.assert_pushed({self.key(n): corpus(c) for n, c in SET.items()})
        listed = self.rclone("lsf", f"sluice:{self.bucket}/{self.table}").stdout.split()
        self.assertEqual(sorted(listed), sorted(SET))


class CurlTests:
    # Virtual-hosted-style requests name the bucket in the host: <bucket>.s3.test.
    server_args = ("--base-domain", "s3.test")

    def url(self, key):
        return f"{self.s3_endpoint()}/{self.bucket}/{key}"

    def test_sigv4_unsigned_payload(self):
        path = corpus("orders_v1.parquet")
        status, body = self.curl_sigv4("-T", path, "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD",
                                       url=self.url(self.key("unsigned.parquet")))
        self.assertEqual(status, 200, body)
        self.assert_pushed({self.key("unsigned.parquet"): path})

    def test_sigv4_hex_payload(self):
        path = corpus("orders_flat_multi_rowgroup.parquet")
        status, body = self.curl_sigv4("-T", path, "-H", f"x-amz-content-sha256: {sha256_file(path)}",
                                       url=self.url(self.key("hex.parquet")))
        self.assertEqual(status, 200, body)
        self.assert_pushed({self.key("hex.parquet"): path})


    def test_sigv4_chunked_from_stdin(self):
        # `curl -T -` streams stdin in HTTP chunked transfer coding: the body has no length.
        path = corpus("orders_v1.parquet")
        with open(path, "rb") as f:
            status, body = self.curl_sigv4("-T", "-", "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD",
                                           url=self.url(self.key("stdin.parquet")), stdin=f)
        self.assertEqual(status, 200, body)
        self.assert_pushed({self.key("stdin.parquet"): path})

    def test_sigv4_virtual_hosted(self):
        path = corpus("orders_v2.parquet")
        port = urllib.parse.urlsplit(self.s3_endpoint()).port
        url = f"{self.scheme}://{self.bucket}.s3.test:{port}/{self.key('vhost.parquet')}"
        status, body = self.curl_sigv4("--connect-to", f"::127.0.0.1:{port}", "-T", path,
                                       "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD", url=url)
        self.assertEqual(status, 200, body)
        self.assert_pushed({self.key("vhost.parquet"): path})
        status, body = self.curl_sigv4("--connect-to", f"::127.0.0.1:{port}",
                                       "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD",
                                       url=f"{self.scheme}://{self.bucket}.s3.test:{port}/?list-type=2")
        self.assertEqual(status, 200, body)
        self.assertIn(f"<Key>{self.key('vhost.parquet')}</Key>", body)


class RawHttpTests:
    """A PUT body in plain HTTP chunked transfer coding with neither Content-Length nor
    x-amz-decoded-content-length (some HTTP clients stream bodies so), signed SigV4 with
    UNSIGNED-PAYLOAD, sent with http.client."""

    def chunked_put(self, conn, key, pieces):
        request = AWSRequest(method="PUT", url=f"{self.s3_endpoint()}/{conn['bucket']}/{key}",
                             headers={"Content-Type": "application/octet-stream"})
        creds = Credentials(conn["access_key_id"], conn["secret_access_key"])
        _UnsignedPayloadAuth(creds).add_auth(request)
        headers = dict(request.headers.items())
        headers["Transfer-Encoding"] = "chunked"
        return self.raw("PUT", f"/{conn['bucket']}/{key}", headers, pieces, chunked=True)

    def disk_bytes(self, bucket):
        listed = json.loads(self.sluice("connection", "list", "--json").stdout)
        return int(next(c for c in listed if c["bucket"] == bucket)["disk_bytes"])

    def test_chunked_put_without_length(self):
        # Read to its end, stored and loaded like a sized body.
        path = corpus("orders_v2.parquet")
        key = self.key("chunked.parquet")

        def pieces():
            with open(path, "rb") as f:
                yield from iter(lambda: f.read(1000), b"")

        status, text = self.chunked_put(self.conn, key, pieces())
        self.assertEqual(status, 200, text)
        self.assert_pushed({key: path})

    def test_chunked_put_is_charged_to_the_quota_as_it_arrives(self):
        # Without a declared length nothing is reserved up front: the bytes count against the
        # connection's disk quota as they arrive, and a body that passes it is refused with
        # nothing kept.
        conn = self.create_connection("rawhttp-quota")
        bucket = conn["bucket"]
        self.sluice("connection", "set-unconfigured", bucket, "store")
        self.sluice("connection", "set-quota", bucket, "64K")
        status, text = self.chunked_put(conn, "plain/big.bin", (b"b" * 1000 for _ in range(70)))
        self.assertEqual((status, error_code(text)), (403, "QuotaExceeded"), text)
        self.assertIn("quota of 64.0 KiB", text)
        self.assertEqual(self.disk_bytes(bucket), 0)
        status, text = self.chunked_put(conn, "plain/small.bin", (b"s" * 1000 for _ in range(40)))
        self.assertEqual(status, 200, text)
        self.assertEqual(self.disk_bytes(bucket), 40_000)


class JsSdkTests:
    def test_put_object_stream_body(self):
        path = corpus("orders_v1.parquet")
        out = self.node("put-stream", path, self.key("stream.parquet"))
        self.assertEqual(out["status"], 200)
        self.assert_pushed({self.key("stream.parquet"): path})

    def test_lib_storage_upload_20mib(self):
        path, rows = big_parquet()
        out = self.node("upload", path, self.key("upload.parquet"))
        self.assertRegex(out["ETag"], r'^"[0-9a-f]{32}-\d+"$')
        self.assert_pushed({self.key("upload.parquet"): path}, rows=rows)


class AwsCliHttp(AwsCliTests, ClientFixture):
    pass


class Boto3Http(Boto3Tests, ClientFixture):
    pass


class S3cmdHttp(S3cmdTests, ClientFixture):
    pass


class RcloneHttp(RcloneTests, ClientFixture):
    pass


class CurlHttp(CurlTests, ClientFixture):
    pass


class JsSdkHttp(JsSdkTests, ClientFixture):
    pass


class RawHttp(RawHttpTests, ClientFixture):
    pass


if __name__ == "__main__":
    unittest.main()
