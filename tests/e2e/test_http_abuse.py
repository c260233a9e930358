"""HTTP abuse on a real `sluice serve` (issue 10): a connection flood above the per-client cap,
200 idle sockets, a body trickled below the minimum rate, a megabyte chunk extension on the
unauthenticated admin port, and a flood past the total cap. In each case a signed PUT from
boto3 on another connection succeeds within a second (except past the total cap, where every
client is refused 503 SlowDown until the flood lets go, which is the point of that cap), and
the server's RSS stays bounded (printed).

The attackers connect from other loopback addresses (127.0.0.2 and up: Linux routes all of
127/8 to lo), so the per-client cap tells them from the boto3 client on 127.0.0.1. Limits are
small (flags below) so the test runs in well under a minute."""

import os
import resource
import socket
import threading
import time
import unittest
import urllib.parse

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from harness import SluiceTestCase, landing_tmp, wait_for

MAX_CONNECTIONS = 256
PER_CLIENT = 32
IDLE_TIMEOUT = 4
BODY_TIMEOUT = 2
MIN_BODY_RATE = 1024
RSS_LIMIT_BYTES = 200 * 1024 * 1024


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS in /proc/{pid}/status")


def connect(host, port, source, timeout=5):
    return socket.create_connection((host, port), timeout=timeout, source_address=(source, 0))


def closed_by_server(sock, timeout):
    """Reads until the server closes; returns (closed, what it sent)."""
    sock.settimeout(timeout)
    got = b""
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return True, got
            got += chunk
    except ConnectionResetError:
        return True, got
    except socket.timeout:
        return False, got


class _UnsignedPayloadAuth(S3SigV4Auth):
    def __init__(self, credentials):
        super().__init__(credentials, "s3", "us-east-1")

    def payload(self, request):
        return "UNSIGNED-PAYLOAD"


class HttpAbuseTest(SluiceTestCase):
    server_args = ("--max-connections", str(MAX_CONNECTIONS),
                   "--max-connections-per-client", str(PER_CLIENT),
                   "--idle-timeout", str(IDLE_TIMEOUT), "--body-timeout", str(BODY_TIMEOUT),
                   "--min-body-rate", str(MIN_BODY_RATE), "--http-threads", "2")

    @classmethod
    def setUpClass(cls):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < 4096 <= hard:
            resource.setrlimit(resource.RLIMIT_NOFILE, (4096, hard))
        super().setUpClass()

    def setUp(self):
        if not hasattr(type(self), "conn"):
            type(self).conn = self.create_connection("abuse")
            type(self).client = self.boto3(self.conn)
            self.client.put_object(Bucket=self.conn["bucket"], Key="warm/up.bin", Body=b"x")
        parts = urllib.parse.urlsplit(self.server.endpoint)
        self.s3_host, self.s3_port = parts.hostname, parts.port
        admin = urllib.parse.urlsplit(self.server.admin_url)
        self.admin_host, self.admin_port = admin.hostname, admin.port
        self.sockets = []

    def tearDown(self):
        for s in self.sockets:
            s.close()
        self.check_rss("after")

    def check_rss(self, when):
        rss = rss_bytes(self.server.proc.pid)
        print(f"\n{self._testMethodName} {when}: server RSS {rss / 1048576:.1f} MiB", flush=True)
        self.assertLess(rss, RSS_LIMIT_BYTES, f"server RSS {rss} bytes {when} {self._testMethodName}")

    def signed_put_is_prompt(self, what):
        key = f"ok/{what}-{time.monotonic_ns()}.bin"
        started = time.monotonic()
        r = self.client.put_object(Bucket=self.conn["bucket"], Key=key, Body=os.urandom(64 * 1024))
        took = time.monotonic() - started
        self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], 200)
        self.assertLess(took, 1.0, f"a signed PUT took {took:.2f} s during {what}")
        return took

    # --- the cases -------------------------------------------------------------------------

    def test_connection_flood_above_the_per_client_cap(self):
        flood = 4 * PER_CLIENT
        for _ in range(flood):
            s = connect(self.s3_host, self.s3_port, "127.0.0.2")
            s.sendall(b"GET / HTTP/1.1\r\n")  # a head that never ends
            self.sockets.append(s)
        self.signed_put_is_prompt("a connection flood")
        # Everything past the cap was closed at once, with a 503 SlowDown when it got there.
        refused = 0
        for s in self.sockets[PER_CLIENT + 8:]:
            closed, got = closed_by_server(s, 2)
            self.assertTrue(closed, "a connection over the per-client cap was kept")
            self.assertTrue(got == b"" or got.startswith(b"HTTP/1.1 503"), got[:200])
            if b"<Code>SlowDown</Code>" in got:
                refused += 1
        print(f"\n{refused} of {flood - PER_CLIENT - 8} refused connections read the 503 SlowDown")
        self.assertIn("over the per-client limit", self.server.log())
        self.check_rss("during the flood")

    def test_idle_sockets_are_held_then_closed(self):
        sources = [f"127.0.0.{i}" for i in range(3, 3 + 200 // 25)]
        for source in sources:  # 25 per address: under the per-client cap
            for _ in range(25):
                self.sockets.append(connect(self.s3_host, self.s3_port, source))
        self.assertEqual(len(self.sockets), 200)
        self.signed_put_is_prompt("200 idle sockets")
        self.check_rss("with 200 idle sockets")
        started = time.monotonic()
        for s in self.sockets:
            closed, got = closed_by_server(s, IDLE_TIMEOUT + 5 - (time.monotonic() - started))
            self.assertTrue(closed, "an idle socket outlived --idle-timeout")
            self.assertEqual(got, b"")
        waited = time.monotonic() - started
        self.assertLess(waited, IDLE_TIMEOUT + 3)
        self.signed_put_is_prompt("after the idle sockets")

    def test_trickled_body_ends_request_timeout_and_leaves_no_file(self):
        key = "trickle/slow.bin"
        length = 100_000
        request = AWSRequest(method="PUT", url=f"{self.server.endpoint}/{self.conn['bucket']}/{key}",
                             headers={"Content-Length": str(length)})
        creds = Credentials(self.conn["access_key_id"], self.conn["secret_access_key"])
        _UnsignedPayloadAuth(creds).add_auth(request)
        head = f"PUT /{self.conn['bucket']}/{key} HTTP/1.1\r\nHost: {self.s3_host}:{self.s3_port}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in request.headers.items() if k.lower() != "host")
        s = connect(self.s3_host, self.s3_port, "127.0.0.20")
        self.sockets.append(s)
        s.sendall(head.encode() + b"\r\n")
        stop = threading.Event()

        def trickle():  # 20 bytes every 100 ms: 200 B/s, never a stall, far below 1 KiB/s
            try:
                while not stop.is_set():
                    s.sendall(b"z" * 20)
                    time.sleep(0.1)
            except OSError:
                pass

        started = time.monotonic()
        sender = threading.Thread(target=trickle)
        sender.start()
        tmp = landing_tmp(self.data_dir)
        try:
            time.sleep(0.5)
            # The body is landing: its partial file exists while it trickles.
            self.assertNotEqual(os.listdir(tmp), [], "no incoming file while the body trickles")
            self.signed_put_is_prompt("a trickled body")
            closed, got = closed_by_server(s, BODY_TIMEOUT + 5)
        finally:
            stop.set()
            sender.join()
        waited = time.monotonic() - started
        text = got.decode(errors="replace")
        self.assertTrue(text.startswith("HTTP/1.1 400"), text[:300])
        self.assertIn("<Code>RequestTimeout</Code>", text)
        self.assertIn("too slow", text)
        self.assertTrue(closed, "the connection stayed open after RequestTimeout")
        self.assertLess(waited, 2 * BODY_TIMEOUT + 2)
        # The partial landed file is gone, and nothing was stored or queued.
        wait_for(lambda: not os.listdir(tmp), timeout=5, what="landing/tmp to be empty")
        self.assertEqual([f for f in self.files(self.conn) if f["key"] == key], [])

    def test_megabyte_chunk_extension_on_the_admin_port(self):
        extension = b";x=" + b"a" * (1024 * 1024)
        answers = []
        for method in (b"GET", b"POST"):
            s = connect(self.admin_host, self.admin_port, "127.0.0.30")
            self.sockets.append(s)
            s.sendall(method + b" /healthz HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n")
            sent = threading.Thread(target=lambda sock=s: _send_quietly(sock, b"5" + extension))
            sent.start()
            closed, got = closed_by_server(s, 5)
            sent.join()
            self.assertTrue(closed)
            answers.append(got.split(b"\r\n", 1)[0])
            self.assertTrue(got.startswith(b"HTTP/1.1 413"), got[:200])
        # The same line on the S3 port, unauthenticated: refused before any body is read.
        s = connect(self.s3_host, self.s3_port, "127.0.0.31")
        self.sockets.append(s)
        s.sendall(b"PUT /b/k HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n")
        sent = threading.Thread(target=lambda: _send_quietly(s, b"5" + extension))
        sent.start()
        closed, got = closed_by_server(s, 5)
        sent.join()
        self.assertTrue(closed)
        self.assertTrue(got.startswith(b"HTTP/1.1 403"), got[:200])
        self.signed_put_is_prompt("a megabyte chunk extension")
        self.assertEqual(self.server.http_get("/healthz"), "ok\n")

    def test_flood_past_the_total_cap_gets_slowdown_until_it_lets_go(self):
        sources = [f"127.0.1.{i}" for i in range(1, MAX_CONNECTIONS // PER_CLIENT + 1)]
        for source in sources:
            for _ in range(PER_CLIENT):
                self.sockets.append(connect(self.s3_host, self.s3_port, source))
        # Every slot is taken (the server may still be accepting the last ones).
        def refused():
            s = connect(self.s3_host, self.s3_port, "127.0.2.1")
            closed, got = closed_by_server(s, 2)
            s.close()
            return got if closed and b"<Code>SlowDown</Code>" in got else None
        got = wait_for(refused, timeout=10, what="a connection past the total cap to be refused")
        self.assertTrue(got.startswith(b"HTTP/1.1 503"), got[:200])
        self.assertIn("over the total limit", self.server.log())
        # The admin port counts its own connections: it still answers.
        self.assertEqual(self.server.http_get("/healthz"), "ok\n")
        self.check_rss("with every slot taken")
        for s in self.sockets:
            s.close()
        self.sockets = []
        wait_for(lambda: _put_ok(self.client, self.conn["bucket"]), timeout=5,
                 what="a PUT to succeed once the flood let go")
        self.signed_put_is_prompt("after the flood let go")

    def test_multipart_complete_off_the_io_threads_still_answers(self):
        # Complete and the PUT commits run on the blocking pool now: the object must still
        # arrive whole, and the admin side answer meanwhile.
        from boto3.s3.transfer import TransferConfig
        data = os.urandom(11 * 1024 * 1024)
        path = os.path.join(self.tmp, "multi.bin")
        with open(path, "wb") as f:
            f.write(data)
        healthy = []
        stop = threading.Event()

        def probe():
            while not stop.is_set():
                healthy.append(self.server.http_get("/healthz") == "ok\n")
                time.sleep(0.02)

        prober = threading.Thread(target=probe)
        prober.start()
        try:
            self.client.upload_file(path, self.conn["bucket"], "multi/part.bin",
                                    Config=TransferConfig(multipart_threshold=5 * 1024 * 1024,
                                                          multipart_chunksize=5 * 1024 * 1024))
        finally:
            stop.set()
            prober.join()
        got = self.client.get_object(Bucket=self.conn["bucket"], Key="multi/part.bin")
        self.assertEqual(got["Body"].read(), data)
        self.assertTrue(got["ETag"].strip('"').endswith("-3"), got["ETag"])
        self.assertTrue(healthy and all(healthy), f"/healthz failed during the upload: {healthy}")


def _send_quietly(sock, data):
    try:
        sock.sendall(data)
    except OSError:
        pass  # the server closed the connection: expected


def _put_ok(client, bucket):
    try:
        client.put_object(Bucket=bucket, Key="ok/after-flood.bin", Body=b"x")
        return True
    except Exception:  # noqa: BLE001 - any refusal: try again
        return False


if __name__ == "__main__":
    unittest.main()
