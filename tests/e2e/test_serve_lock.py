"""One server per data directory, and a clean landing area at start: a second `sluice serve` on
a data directory in use exits at once with a message naming the lock and its holder, having
touched nothing (the first server's in-flight files stay); an object made durable by a server
that died before its ledger entry was committed (never acknowledged) is removed at the next
start."""

import os
import subprocess
import time
import unittest

import botocore.exceptions

from harness import (CRASH_EXIT_CODE, GENERATED, SLUICE, TEST_PG, RestartedServerTestCase, Server,
                     landing_tmp)


class ServeLockTest(RestartedServerTestCase):

    def objects(self):
        return sorted(os.listdir(os.path.join(self.data_dir, "landing", "objects")))

    def test_a_second_server_on_the_same_directory_exits_and_touches_nothing(self):
        first = self.start()
        conn = self.helper.create_connection("locked")
        self.helper.add_table(conn, "orders", "order_id")
        # An upload in flight of the first server: a second one would delete it at its start.
        in_flight = os.path.join(landing_tmp(self.data_dir), "0123456789abcdef0123456789abcdef")
        with open(in_flight, "wb") as f:
            f.write(b"half an upload")
        with open(os.path.join(self.data_dir, "serve.json")) as f:
            serve_json = f.read()

        second = subprocess.run([SLUICE, "--data-dir", self.data_dir, "serve", "--s3-port", "0",
                                 "--admin-port", "0"], capture_output=True, text=True, timeout=30)
        self.assertNotEqual(second.returncode, 0)
        lock = os.path.join(self.data_dir, "serve.lock")
        self.assertIn(f"another sluice serve holds {lock} (pid {first.proc.pid})", second.stderr)
        self.assertTrue(os.path.exists(in_flight), "the second server removed an in-flight file")
        with open(os.path.join(self.data_dir, "serve.json")) as f:
            self.assertEqual(f.read(), serve_json)
        # The first one serves on.
        self.assertEqual(first.http_get("/healthz"), "ok\n")
        self.helper.boto3(conn).upload_file(os.path.join(GENERATED, "orders_v1.parquet"),
                                            conn["bucket"], "orders/v1.parquet")
        self.helper.wait_files(conn, "orders", 1)
        os.remove(in_flight)
        self.assertEqual(first.stop(), 0)

        # Once it is gone (however it ended: the kernel drops the lock), a server starts.
        self.start()
        self.server.kill()
        self.start()
        self.assertEqual(self.server.stop(), 0)

    def test_an_object_landed_but_never_recorded_is_removed_at_start(self):
        self.start()
        conn = self.helper.create_connection("orphans")
        self.helper.add_table(conn, "orders", "order_id")
        self.helper.boto3(conn).upload_file(os.path.join(GENERATED, "orders_v1.parquet"),
                                            conn["bucket"], "orders/v1.parquet")
        self.helper.wait_files(conn, "orders", 1)
        self.assertEqual(self.server.stop(), 0)
        kept = self.objects()
        self.assertEqual(len(kept), 1)

        # Dies after the object is durable under its final name, before the ledger entry.
        server = Server(self.data_dir)
        os.environ["SLUICE_CRASH_AT"] = "landing.durable:1"
        try:
            server.start()
        finally:
            os.environ.pop("SLUICE_CRASH_AT", None)
        self.helper.server = server
        with self.assertRaises((botocore.exceptions.BotoCoreError,
                                botocore.exceptions.ClientError)):
            self.helper.boto3(conn).upload_file(os.path.join(GENERATED, "orders_v2.parquet"),
                                                conn["bucket"], "orders/v2.parquet")
        self.assertEqual(server.proc.wait(timeout=30), CRASH_EXIT_CODE, server.log())
        self.assertEqual(len(self.objects()), 2, "the crash left no unrecorded object")
        self.assertEqual([f["key"] for f in self.helper.files(conn)], ["orders/v1.parquet"])

        if TEST_PG:
            # A shared ledger (docs/design/nodes.md): another node may be between its landing
            # rename and its ledger commit, so a young orphan stays until it is an hour old.
            self.start()
            orphan = [o for o in self.objects() if o not in kept]
            self.assertEqual(len(orphan), 1, "a young unrecorded object was removed")
            self.assertEqual(self.server.stop(), 0)
            path = os.path.join(self.data_dir, "landing", "objects", orphan[0])
            two_hours_ago = time.time() - 7200
            os.utime(path, (two_hours_ago, two_hours_ago))
        self.start()
        self.assertEqual(self.objects(), kept)
        self.assertIn("removed 1 landed object(s) that no ledger entry names", self.server.log())
        # The recorded file is untouched: still downloadable.
        seq = self.helper.files(conn)[0]["seq"]
        out = os.path.join(self.tmp, "v1.parquet")
        self.helper.sluice("files", "get", str(seq), "-o", out)
        with open(out, "rb") as a, open(os.path.join(GENERATED, "orders_v1.parquet"), "rb") as b:
            self.assertEqual(a.read(), b.read())
        self.assertEqual(self.server.stop(), 0)


if __name__ == "__main__":
    unittest.main()
