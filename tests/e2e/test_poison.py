"""No file can wedge a table: a file whose load kills the server again and again (a crash point
in the middle of its load, core/crash_point.h) is failed by the poison-file guard after
--max-load-attempts crashes, instead of crash-looping the server for ever; and a file left
`loading` by a crash can be retried or skipped with the CLI while no server holds the data
directory, never while one does."""

import json
import os
import unittest

from harness import CRASH_EXIT_CODE, GENERATED, RestartedServerTestCase, Server, wait_for


class PoisonFileTest(RestartedServerTestCase):

    def crash_in_load(self, *args):
        """Starts the server with a crash point at the first batch any load applies and waits
        for it to die there (during start-up or after it answered /healthz)."""
        server = Server(self.data_dir, list(args))
        self.helper.server = server
        os.environ["SLUICE_CRASH_AT"] = "load.mid_load:1"
        try:
            server.start()
        except AssertionError:
            pass  # died before it was ready: checked below
        finally:
            os.environ.pop("SLUICE_CRASH_AT", None)
        try:
            code = server.proc.wait(timeout=60)
        except Exception:
            server.kill()
            raise
        self.assertEqual(code, CRASH_EXIT_CODE, server.log())
        self.assertIn("load.mid_load", server.log())

    def push(self, conn, local, key):
        self.helper.boto3(conn).upload_file(os.path.join(GENERATED, local), conn["bucket"], key)

    def file_by_key(self, conn, key):
        return next(f for f in self.helper.files(conn) if f["key"] == key)

    def test_a_file_that_crashes_the_loader_three_times_fails_and_the_table_goes_on(self):
        # Files are pushed with no load workers: all wait in the ledger.
        self.start("--load-workers", "0")
        conn = self.helper.create_connection("poison")
        self.helper.add_table(conn, "orders", "order_id")
        self.helper.add_table(conn, "other", "order_id")
        self.push(conn, "orders_v1.parquet", "orders/poison.parquet")
        self.push(conn, "orders_v2.parquet", "orders/next.parquet")
        self.push(conn, "orders_v1.parquet", "other/fine.parquet")
        self.assertEqual(self.server.stop(), 0)

        # One worker takes `orders` first (tables are claimed in name order): its head file
        # is the one every life dies in.
        for life in range(3):
            self.crash_in_load("--load-workers", "1")
            poison = self.file_by_key(conn, "orders/poison.parquet")
            self.assertEqual(poison["status"], "loading")
            shown = json.loads(
                self.helper.sluice("files", "show", str(poison["seq"]), "--json").stdout)
            self.assertEqual(shown["load_attempts"], life + 1)

        server = self.start()
        poison = self.file_by_key(conn, "orders/poison.parquet")
        self.assertEqual(poison["status"], "failed")
        self.assertEqual(poison["error_code"], "INTERNAL")
        self.assertIn("the loader crashed 3 times on this file", poison["error_message"])
        self.assertIn("sluice files retry " + str(poison["seq"]), poison["error_message"])
        self.assertIn("the loader crashed 3 times on this file", server.log())
        # Other tables load; the server stays up.
        self.helper.wait_files(conn, "other", 1)
        self.assertEqual(server.http_get("/healthz"), "ok\n")
        # INTERNAL blocks its table under either policy (it is not the file's fault as far as
        # sluice can tell); once the operator skips it, the next file of the table loads.
        nxt = self.file_by_key(conn, "orders/next.parquet")
        self.assertEqual(nxt["status"], "queued")
        self.helper.sluice("files", "skip", str(poison["seq"]))
        self.helper.wait_files(conn, "orders", 1)
        self.assertEqual(self.file_by_key(conn, "orders/next.parquet")["status"], "loaded")
        self.assertEqual(self.server.stop(), 0)

    def test_the_guard_is_off_with_max_load_attempts_0(self):
        self.start("--load-workers", "0")
        conn = self.helper.create_connection("unguarded")
        self.helper.add_table(conn, "orders", "order_id")
        self.push(conn, "orders_v1.parquet", "orders/a.parquet")
        self.assertEqual(self.server.stop(), 0)
        for _ in range(3):
            self.crash_in_load("--max-load-attempts", "0")
        self.start("--max-load-attempts", "0")
        files = self.helper.wait_files(conn, "orders", 1)
        self.assertEqual(files[0]["status"], "loaded")
        self.assertEqual(self.server.stop(), 0)

    def test_a_file_left_loading_is_retried_or_skipped_only_while_no_server_runs(self):
        self.start("--load-workers", "0")
        conn = self.helper.create_connection("stuck")
        self.helper.add_table(conn, "orders", "order_id")
        self.push(conn, "orders_v1.parquet", "orders/a.parquet")
        self.push(conn, "orders_v2.parquet", "orders/b.parquet")
        self.assertEqual(self.server.stop(), 0)
        self.crash_in_load()
        a = self.file_by_key(conn, "orders/a.parquet")
        self.assertEqual(a["status"], "loading")

        # A server (one that loads nothing) holds the directory: refused, with the reason.
        server = self.start("--load-workers", "0")
        p = self.helper.sluice("files", "skip", str(a["seq"]), check=False)
        self.assertNotEqual(p.returncode, 0)
        lock = os.path.join(self.data_dir, "serve.lock")
        self.assertIn(f"is loading, and another sluice serve holds {lock} (pid {server.proc.pid})",
                      p.stderr)
        p = self.helper.sluice("files", "retry", str(a["seq"]), check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("another sluice serve holds", p.stderr)
        self.assertEqual(server.stop(), 0)

        # No server: the operator skips it, and the table moves on at the next start.
        out = self.helper.sluice("files", "skip", str(a["seq"])).stdout
        self.assertIn("skipped", out)
        a = self.file_by_key(conn, "orders/a.parquet")
        self.assertEqual(a["status"], "skipped")
        self.start()
        self.helper.wait_files(conn, "orders", 1)
        self.assertEqual(self.file_by_key(conn, "orders/b.parquet")["status"], "loaded")
        self.assertEqual(self.server.stop(), 0)

        # A retry of a file left loading queues it again; it loads at the next start.
        self.start("--load-workers", "0")
        self.push(conn, "orders_v1.parquet", "orders/c.parquet")
        self.assertEqual(self.server.stop(), 0)
        self.crash_in_load()
        c = self.file_by_key(conn, "orders/c.parquet")
        self.assertEqual(c["status"], "loading")
        self.helper.sluice("files", "retry", str(c["seq"]))
        self.assertEqual(self.file_by_key(conn, "orders/c.parquet")["status"], "queued")
        self.start()
        wait_for(lambda: self.file_by_key(conn, "orders/c.parquet")["status"] == "loaded",
                 what="the retried file to load")
        self.assertEqual(self.server.stop(), 0)


if __name__ == "__main__":
    unittest.main()
