"""Order and durability: concurrent pushes land in upload order with nothing lost, and a file
acknowledged just before a SIGKILL loads exactly once after the restart."""

import concurrent.futures
import json
import os
import shutil
import tempfile
import unittest

from harness import GENERATED, Server, SluiceTestCase, duckdb, pool_db, wait_for


class ConcurrentPushTest(SluiceTestCase):
    def test_twenty_concurrent_files_land_in_upload_order(self):
        conn = self.create_connection("concurrent")
        bucket = conn["bucket"]
        self.add_table(conn, "events", "id")
        n = 20
        with tempfile.TemporaryDirectory() as tmp:
            # File i holds the shared key 0 with value i and 50 keys of its own.
            paths = [os.path.join(tmp, f"f{i:02d}.parquet") for i in range(n)]
            duckdb(*[f"COPY (SELECT 0::BIGINT AS id, {i} AS v UNION ALL "
                     f"SELECT ({i} * 1000 + r)::BIGINT, {i} FROM range(1, 51) t(r)) "
                     f"TO '{p}' (FORMAT parquet, COMPRESSION snappy)" for i, p in enumerate(paths)])
            s3 = self.boto3(conn, max_pool_connections=n)

            def push(i):
                s3.upload_file(paths[i], bucket, f"events/f{i:02d}.parquet")
                return i

            with concurrent.futures.ThreadPoolExecutor(max_workers=n) as pool:
                self.assertEqual(sorted(pool.map(push, range(n))), list(range(n)))

        files = self.wait_files(conn, "events", n)
        self.assertEqual(len(files), n)
        self.assertTrue(all(f["status"] == "loaded" for f in files))
        seqs = [f["seq"] for f in files]
        self.assertEqual(seqs, sorted(seqs))
        # Applied in sequence order: the shared key holds the value of the last file to land.
        last_file = int(files[-1]["key"].split("/f")[1][:2])
        self.assertEqual(self.query(conn, "SELECT v FROM events WHERE id = 0"), [{"v": last_file}])
        self.assertEqual(self.query(conn, "SELECT count(*) AS n FROM events"), [{"n": 1 + 50 * n}])
        self.assertEqual(sum(f["inserted"] for f in files), 1 + 50 * n)
        self.assertEqual(sum(f["updated"] for f in files), n - 1)


class CrashTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="sluice-crash-")
        self.data_dir = os.path.join(self.tmp, "data")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_sigkill_after_acknowledgement_loads_once_after_restart(self):
        # No load workers: every acknowledged file is still waiting when the process dies.
        server = Server(self.data_dir, ["--load-workers", "0"]).start()
        helper = SluiceTestCase("run")
        helper.data_dir = self.data_dir
        helper.server = server
        conn = helper.create_connection("crash")
        helper.add_table(conn, "orders", "order_id")
        helper.boto3(conn).upload_file(os.path.join(GENERATED, "orders_v1.parquet"), conn["bucket"],
                                       "orders/v1.parquet")
        self.assertEqual([f["status"] for f in helper.files(conn, "orders")], ["queued"])
        server.kill()

        server = Server(self.data_dir).start()
        helper.server = server
        try:
            files = helper.wait_files(conn, "orders", 1)
            self.assertEqual(files[0]["inserted"], 1000)
            self.assertEqual(helper.query(conn, "SELECT count(*) AS n FROM orders"), [{"n": 1000}])
            # Killed again after the load: the restart applies nothing twice.
            server.kill()
            server = Server(self.data_dir).start()
            helper.server = server
            wait_for(lambda: server.http_get("/healthz") == "ok\n")
            files = helper.files(conn, "orders")
            self.assertEqual([(f["status"], f["inserted"]) for f in files], [("loaded", 1000)])
            db = pool_db(self.data_dir, conn["bucket"])
            self.assertEqual(db.execute("SELECT count(*) FROM _sluice_applied").fetchall(), [(1,)])
            db.close()
        finally:
            self.assertEqual(server.stop(), 0)


if __name__ == "__main__":
    unittest.main()
