"""End to end: alerts from a real `sluice serve` to a local webhook receiver and a local SMTP
sink (Debian's python3-aiosmtpd). The receiver checks every Standard Webhooks signature and the
CloudEvents envelope; it answers 500 first (the delivery is retried), 410 on another path (the
endpoint is disabled); a failure's events survive a SIGKILL of the server before any delivery;
a lagging backlog, a digest and an e-mail arrive."""

import base64
import hashlib
import hmac
import http.server
import json
import mailbox
import os
import subprocess
import threading
import time
import unittest

from harness import AdminRequests, RestartedServerTestCase, free_port, wait_for


class Receiver:
    """A webhook receiver on 127.0.0.1: records every request; answers with the next status of
    `answers` for its path (200 once they run out)."""

    def __init__(self, port=None):
        self.requests = []
        self.answers = {}
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with outer.lock:
                    outer.requests.append((self.path, dict(self.headers), body))
                    queue = outer.answers.get(self.path, [])
                    status = queue.pop(0) if queue else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.port = port or free_port()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def got(self, path=None):
        with self.lock:
            return [r for r in self.requests if path is None or r[0] == path]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def verify(secret, headers, body):
    """The Standard Webhooks check a receiver makes: v1 HMAC-SHA256 over id.timestamp.body."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(s.split(",", 1)[1] == expected for s in headers["webhook-signature"].split())


class AlertsTest(AdminRequests, RestartedServerTestCase):
    def setUp(self):
        super().setUp()
        self.receiver = Receiver()

    def tearDown(self):
        self.receiver.close()
        super().tearDown()

    def setup_table(self):
        conn = self.helper.create_connection("alerts")
        self.helper.add_table(conn, "orders", "id")
        return conn

    def push_bad(self, conn, key):
        self.helper.boto3(conn).put_object(Bucket=conn["bucket"], Key=key,
                                           Body=b'{"id": 1, "v": 1}\n{"id": "not json')

    def events(self, path):
        return [json.loads(body) for _, _, body in self.receiver.got(path)]

    def test_webhooks_are_signed_retried_redelivered_and_410_disables(self):
        self.start("--alert-allow-private")
        conn = self.setup_table()
        made = self.api("POST", "/api/v1/alerts/endpoints", {
            "name": "ops", "target": self.receiver.url("/hook"), "connection": conn["bucket"],
            "events": ["file.failed", "table.blocked", "backlog.lagging"],
            "lag_age_seconds": 2}, expect=201)
        secret = made["secret"]
        self.assertTrue(secret.startswith("whsec_"))
        endpoint = made["endpoint"]
        self.assertNotIn("secret", self.api("GET", f"/api/v1/alerts/endpoints/{endpoint['id']}"))
        # The first delivery gets a 500 and is retried (after 5 s).
        self.receiver.answers["/hook"] = [500]

        self.push_bad(conn, "orders/bad.json")
        # A good file behind the blocking one: the backlog's oldest file ages past 2 s.
        self.helper.boto3(conn).put_object(Bucket=conn["bucket"], Key="orders/good.json",
                                           Body=b'{"id": 2, "v": 2}\n')

        def delivered():
            types = sorted({e["type"] for e in self.events("/hook")})
            return types if len(types) >= 3 else None
        types = wait_for(delivered, timeout=60, what="file.failed, table.blocked, lagging")
        self.assertEqual(types, ["io.sluice.backlog.lagging", "io.sluice.file.failed",
                                 "io.sluice.table.blocked"])
        for path, headers, body in self.receiver.got("/hook"):
            self.assertTrue(verify(secret, headers, body), headers)
            self.assertEqual(headers["Content-Type"], "application/cloudevents+json")
            self.assertLess(abs(int(headers["webhook-timestamp"]) - time.time()), 60)
            event = json.loads(body)
            self.assertEqual(event["specversion"], "1.0")
            self.assertEqual(event["id"], headers["webhook-id"])
            self.assertEqual(event["source"], "/sluice/connections/" + conn["bucket"])
        failed = next(e for e in self.events("/hook") if e["type"] == "io.sluice.file.failed")
        self.assertEqual(failed["subject"], "orders/bad.json")
        self.assertEqual(failed["data"]["error_code"], "CORRUPT_FILE")
        self.assertIn("line 2", failed["data"]["error_message"])

        # The log: the one that met the 500 was delivered on its second attempt, once only.
        log = self.api("GET", f"/api/v1/alerts/deliveries?endpoint={endpoint['id']}")
        self.assertEqual({d["status"] for d in log}, {"delivered"})
        self.assertEqual(sorted(d["attempts"] for d in log), [1, 1, 2])
        ids = [h["webhook-id"] for _, h, _ in self.receiver.got("/hook")]
        self.assertEqual(len(ids), 4)  # three events, one of them twice
        retried = next(d for d in log if d["attempts"] == 2)
        self.assertEqual(ids.count(retried["event_id"]), 2)

        # Redeliver: the same event (same webhook-id) again.
        self.api("POST", f"/api/v1/alerts/deliveries/{retried['id']}/redeliver")
        wait_for(lambda: len(self.receiver.got("/hook")) == 5, what="the redelivery")
        self.assertEqual(self.receiver.got("/hook")[-1][1]["webhook-id"], retried["event_id"])

        # A target that answers 410 Gone: its endpoint is disabled, the delivery not retried.
        gone = self.api("POST", "/api/v1/alerts/endpoints", {
            "name": "old", "target": self.receiver.url("/gone"), "events": ["file.failed"],
            "format": "slack"}, expect=201)["endpoint"]
        self.receiver.answers["/gone"] = [410]
        test = self.api("POST", f"/api/v1/alerts/endpoints/{gone['id']}/test", expect=202)
        self.assertEqual(test["type"], "ping")

        def disabled():
            e = self.api("GET", f"/api/v1/alerts/endpoints/{gone['id']}")
            return e if not e["enabled"] else None
        e = wait_for(disabled, timeout=30, what="the 410 to disable the endpoint")
        self.assertIn("410", e["disabled_reason"])
        slack = json.loads(self.receiver.got("/gone")[0][2])
        self.assertIn("text", slack)
        [d] = self.api("GET", f"/api/v1/alerts/deliveries?endpoint={gone['id']}")
        self.assertEqual((d["status"], d["last_status"]), ("failed", 410))
        # Turned back on, it takes events again.
        self.api("PATCH", f"/api/v1/alerts/endpoints/{gone['id']}", {"enabled": True})
        self.api("POST", f"/api/v1/alerts/endpoints/{gone['id']}/test", expect=202)
        wait_for(lambda: len(self.receiver.got("/gone")) == 2, what="the test after re-enabling")

        # A private target is refused unless the server allows it: the default server refuses.
        self.server.stop()
        self.start()
        refused = self.api("POST", "/api/v1/alerts/endpoints", {
            "name": "lan", "target": self.receiver.url("/lan"), "events": ["file.failed"]},
            expect=201)["endpoint"]
        self.api("POST", f"/api/v1/alerts/endpoints/{refused['id']}/test", expect=202)

        def refused_attempt():
            [d] = self.api("GET", f"/api/v1/alerts/deliveries?endpoint={refused['id']}")
            return d if d["attempts"] >= 1 else None
        d = wait_for(refused_attempt, timeout=30, what="the refused attempt")
        self.assertIn("--alert-allow-private", d["last_error"])
        self.assertEqual(self.receiver.got("/lan"), [])

    def test_no_event_is_lost_across_a_sigkill(self):
        self.start("--alert-allow-private")
        conn = self.setup_table()
        secret = self.api("POST", "/api/v1/alerts/endpoints", {
            "name": "ops", "target": self.receiver.url("/hook"),
            "events": ["file.failed", "table.blocked"]}, expect=201)["secret"]
        # The receiver is down: the events wait in the outbox (attempts meet a refused
        # connection and are retried later).
        port = self.receiver.port
        self.receiver.close()
        self.push_bad(conn, "orders/bad.json")
        wait_for(lambda: any(f["status"] == "failed" for f in self.helper.files(conn)),
                 what="the file to fail")
        self.server.kill()
        # Back up on the same port, then the server: the events written with the failure go out.
        self.receiver = Receiver(port)
        self.start("--alert-allow-private")
        wait_for(lambda: len(self.receiver.got()) >= 2, timeout=60, what="the events after restart")
        types = sorted(json.loads(b)["type"] for _, _, b in self.receiver.got())
        self.assertEqual(types, ["io.sluice.file.failed", "io.sluice.table.blocked"])
        for _, headers, body in self.receiver.got():
            self.assertTrue(verify(secret, headers, body))

    def test_a_digest_and_a_blocked_table_by_email(self):
        port = free_port()
        maildir = os.path.join(self.tmp, "mail")
        sink = subprocess.Popen(["/usr/bin/python3", "-m", "aiosmtpd", "-n", "-l",
                                 f"127.0.0.1:{port}", "-c", "aiosmtpd.handlers.Mailbox", maildir],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            self.start("--smtp-url", f"smtp://127.0.0.1:{port}", "--smtp-from",
                       "sluice@example.com")
            conn = self.setup_table()
            mail = self.api("POST", "/api/v1/alerts/endpoints", {
                "name": "ops mail", "kind": "email", "target": "ops@example.com, dev@example.com",
                "events": ["table.blocked"], "digest": "* * * * *"}, expect=201)
            self.assertNotIn("secret", mail)
            self.assertIn("digest", mail["endpoint"]["events"])
            self.push_bad(conn, "orders/bad.json")

            def messages():
                if not os.path.isdir(maildir):
                    return None
                box = mailbox.Maildir(maildir, create=False)
                found = [box[k] for k in box.keys()]
                subjects = [m["Subject"] for m in found]
                if any("blocked" in s for s in subjects) and any("digest" in s for s in subjects):
                    return found
                return None
            # The digest fires at the next minute boundary after the first evaluation.
            found = wait_for(messages, timeout=150, interval=1, what="the blocked and digest mails")
            blocked = next(m for m in found if "blocked" in m["Subject"])
            self.assertIn("ops@example.com", blocked["To"])
            self.assertEqual(blocked["From"], "sluice@example.com")
            self.assertIn("orders", blocked.get_payload())
            digest = next(m for m in found if "digest" in m["Subject"])
            self.assertIn("orders", digest.get_payload())
            log = self.api("GET", f"/api/v1/alerts/deliveries?endpoint={mail['endpoint']['id']}")
            self.assertTrue(all(d["status"] == "delivered" and d["last_status"] == 250
                                for d in log), log)
        finally:
            sink.terminate()
            sink.wait()


if __name__ == "__main__":
    unittest.main()
