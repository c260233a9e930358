"""Several nodes: three `sluice serve` processes share one PostgreSQL database (catalog, ledger and
pool) and one landing directory. Clients push to the same tables through different nodes while
nodes are killed (SIGKILL at random, and one that dies mid-load holding a table's claim) and
restarted; every acknowledged file must load exactly once, each table in sequence order, and
none may be lost. PostgreSQL only (CTest runs it as e2e_pg_test_nodes)."""

import concurrent.futures
import os
import random
import shutil
import subprocess
import tempfile
import threading
import time
import unittest

import botocore.exceptions

from harness import (CRASH_EXIT_CODE, TEST_PG, Server, SluiceTestCase, duckdb, free_port,
                     pg_conninfo, wait_for)

NODES = 3
TABLES = ["alpha", "beta", "gamma"]
FILES_PER_TABLE = 24
ROWS_PER_FILE = 4000  # a load takes long enough for a kill to land inside one


class Cluster:
    """Three nodes on fixed ports (clients keep their endpoints across restarts)."""

    def __init__(self, tmp):
        self.landing = os.path.join(tmp, "landing")
        self.pool = pg_conninfo(os.path.join(tmp, "cluster"))
        self.nodes = []
        for i in range(NODES):
            data_dir = os.path.join(tmp, f"node{i}")
            self.nodes.append(Server(data_dir, ["--landing", self.landing, "--load-workers", "2"],
                                     s3_port=free_port(), admin_port=free_port(), pool=self.pool))
        self.lock = threading.Lock()
        self.up = [False] * NODES

    def start(self, i, env=None):
        node = self.nodes[i]
        node.env = env
        try:
            node.start()
        except AssertionError:
            # A node told to crash may die at its crash point before it is ready.
            if not env or node.proc is None or node.proc.poll() != CRASH_EXIT_CODE:
                raise
        with self.lock:
            self.up[i] = node.proc.poll() is None
        return node

    def kill(self, i):
        with self.lock:
            self.up[i] = False
        node = self.nodes[i]
        if node.proc and node.proc.poll() is None:
            node.kill()

    def endpoint(self, i):
        return self.nodes[i].endpoint or f"http://127.0.0.1:{self.nodes[i].s3_port}"

    def psql(self, sql):
        out = subprocess.run(["psql", self.pool, "-X", "-A", "-t", "-F", "|", "-v",
                              "ON_ERROR_STOP=1", "-c", sql], check=True, capture_output=True,
                             text=True).stdout
        return [line.split("|") for line in out.splitlines() if line]


class NodesCrashTest(unittest.TestCase):
    def setUp(self):
        self.assertTrue(TEST_PG, "several nodes share a PostgreSQL database: run this as CTest's "
                        "e2e_pg_test_nodes, or set SLUICE_TEST_PG (tests/e2e/harness.py)")
        self.tmp = tempfile.mkdtemp(prefix="sluice-nodes-")
        self.cluster = Cluster(self.tmp)
        self.files_dir = os.path.join(self.tmp, "files")
        os.makedirs(self.files_dir)

    def tearDown(self):
        for i in range(NODES):
            self.cluster.kill(i)
        if os.environ.get("SLUICE_KEEP_TMP") is None:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def cli(self, node):
        helper = SluiceTestCase("run")
        helper.data_dir = self.cluster.nodes[node].data_dir
        helper.server = self.cluster.nodes[node]
        return helper

    def make_files(self):
        """File i of each table: the shared key 0 with v = i, and ROWS_PER_FILE keys of its own."""
        statements = []
        for i in range(FILES_PER_TABLE):
            path = os.path.join(self.files_dir, f"f{i:02d}.parquet")
            statements.append(
                f"COPY (SELECT 0::BIGINT AS id, {i} AS v UNION ALL SELECT ({i + 1} * 1000000 + r)"
                f"::BIGINT, {i} FROM range(1, {ROWS_PER_FILE + 1}) t(r)) TO '{path}' "
                "(FORMAT parquet, ROW_GROUP_SIZE 1000)")
        duckdb(*statements)

    def test_three_nodes_killed_while_loading_lose_nothing_and_load_each_file_once(self):
        c = self.cluster
        # Node 2 dies in the middle of its third batch, holding that table's claim.
        for i in range(NODES):
            c.start(i, env={"SLUICE_CRASH_AT": "load.mid_load:3"} if i == 2 else None)
        admin = self.cli(0)
        conn = admin.create_connection("shared")
        bucket = conn["bucket"]
        for t in TABLES:
            admin.add_table(conn, t, "id")
        # The catalog is shared: another node's data directory sees the same connection.
        self.assertIn(bucket, admin.sluice("connection", "list").stdout)
        self.assertIn(bucket, self.cli(1).sluice("connection", "list").stdout)
        self.make_files()

        acknowledged = []  # (table, i, node)
        ack_lock = threading.Lock()
        stop_chaos = threading.Event()

        def push(job):
            table, i = job
            key = f"{table}/f{i:02d}.parquet"
            path = os.path.join(self.files_dir, f"f{i:02d}.parquet")
            start = random.randrange(NODES)
            for attempt in range(60):
                node = (start + attempt) % NODES
                s3 = _client(conn, c.endpoint(node))
                try:
                    s3.upload_file(path, bucket, key)
                except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError,
                        OSError):
                    time.sleep(0.2)
                    continue
                with ack_lock:
                    acknowledged.append((table, i, node))
                return
            raise AssertionError(f"{key}: no node acknowledged it in 60 attempts")

        events = {"kills": 0, "mid_load_crash": False}

        def chaos():
            rng = random.Random(7)
            while not stop_chaos.wait(rng.uniform(1.0, 2.5)):
                crashed = c.nodes[2].proc.poll() == CRASH_EXIT_CODE
                events["mid_load_crash"] |= crashed
                # Node 2 is left to reach its crash point (mid-load, holding a claim) first.
                victim = rng.randrange(NODES if events["mid_load_crash"] else NODES - 1)
                c.kill(victim)
                events["kills"] += 1
                if crashed and victim != 2:  # a crashed victim 2 is restarted just below
                    c.start(2)
                time.sleep(rng.uniform(0.1, 0.6))
                c.start(victim)
            # Node 2 may have died at its crash point meanwhile: bring every node back.
            for i in range(NODES):
                if c.nodes[i].proc.poll() is not None:
                    c.start(i)

        # The same key of a table is pushed in file order by one client (its FIFO is the
        # order the pushes were acknowledged); the tables are pushed concurrently.
        def push_table(table):
            for i in range(FILES_PER_TABLE):
                push((table, i))
                time.sleep(0.4)  # spread the pushes over the kills

        chaos_thread = threading.Thread(target=chaos)
        chaos_thread.start()
        try:
            with concurrent.futures.ThreadPoolExecutor(max_workers=len(TABLES)) as pool:
                list(pool.map(push_table, TABLES))
        finally:
            stop_chaos.set()
            chaos_thread.join()
        events["mid_load_crash"] |= c.nodes[2].proc.poll() == CRASH_EXIT_CODE
        for i in range(NODES):
            if c.nodes[i].proc.poll() is not None:
                c.start(i)
        self.assertEqual(len(acknowledged), len(TABLES) * FILES_PER_TABLE)
        print(f"nodes: {events['kills']} kills, a mid-load crash: {events['mid_load_crash']}, "
              f"acknowledged by node: {[sum(1 for a in acknowledged if a[2] == i) for i in range(NODES)]}")
        self.assertGreaterEqual(events["kills"], 4, events)
        self.assertTrue(events["mid_load_crash"], "node 2 never died in the middle of a load")
        self.assertEqual({node for _, _, node in acknowledged}, set(range(NODES)))

        # Every table's queue drains: nothing is left queued, loading or failed.
        def drained():
            rows = c.psql("SELECT status, count(*) FROM _sluice_catalog.files GROUP BY status")
            pending = {s: int(n) for s, n in rows if s not in ("loaded", "skipped")}
            return not pending
        try:
            wait_for(drained, timeout=180, what="every file loaded")
        except AssertionError:
            print(c.psql("SELECT seq, table_name, key, status, error_message FROM "
                         "_sluice_catalog.files WHERE status NOT IN ('loaded', 'skipped')"))
            for node in c.nodes:
                print(node.log())
            raise

        for table in TABLES:
            files = admin.files(conn, table)
            loaded = [f for f in files if f["status"] == "loaded"]
            skipped = [f for f in files if f["status"] == "skipped"]
            # A push retried after a lost answer may be in the ledger twice: the second is
            # skipped as a duplicate of the first, never loaded twice.
            self.assertTrue(all(f.get("duplicate_of") for f in skipped), skipped)
            keys = [f["key"] for f in loaded]
            self.assertEqual(len(keys), len(set(keys)), f"{table}: a file loaded twice")
            self.assertEqual(sorted(keys), [f"{table}/f{i:02d}.parquet"
                                            for i in range(FILES_PER_TABLE)])
            # In sequence order: sequence order is the push order of this table's client, and
            # the rows show the last file won.
            by_seq = sorted(loaded, key=lambda f: f["seq"])
            self.assertEqual([f["key"] for f in by_seq], sorted(keys))
            rows = c.psql(f'SELECT v, (SELECT count(*) FROM "{bucket}"."{table}") FROM '
                          f'"{bucket}"."{table}" WHERE id = 0')
            self.assertEqual(rows, [[str(FILES_PER_TABLE - 1),
                                     str(1 + ROWS_PER_FILE * FILES_PER_TABLE)]])
            self.assertEqual(sum(f["inserted"] for f in loaded),
                             1 + ROWS_PER_FILE * FILES_PER_TABLE)
            self.assertEqual(sum(f["updated"] for f in loaded), FILES_PER_TABLE - 1)
            # The pool applied each file once, and in sequence order.
            applied = c.psql("SELECT seq FROM _sluice.applied WHERE schema_name = "
                             f"'{bucket}' AND table_name = '{table}' ORDER BY applied_at, seq")
            self.assertEqual([int(r[0]) for r in applied], [f["seq"] for f in by_seq])

        # Every node answers the same about every object, whichever node took it.
        for table in TABLES:
            key = f"{table}/f00.parquet"
            etags = {_client(conn, c.endpoint(i)).head_object(Bucket=bucket,
                                                                    Key=key)["ETag"]
                     for i in range(NODES)}
            self.assertEqual(len(etags), 1, etags)
        listing = [sorted(o["Key"] for o in _client(conn, c.endpoint(i)).list_objects_v2(
            Bucket=bucket)["Contents"]) for i in range(NODES)]
        self.assertEqual(listing[0], listing[1])
        self.assertEqual(listing[0], listing[2])
        self.assertEqual(len(listing[0]), len(TABLES) * FILES_PER_TABLE)
        print("nodes: ledger " + ", ".join(f"{n} {s}" for s, n in c.psql(
            "SELECT status, count(*) FROM _sluice_catalog.files GROUP BY status")))
        for i in range(NODES):
            self.assertEqual(c.nodes[i].stop(), 0)


def _client(conn, endpoint):
    import boto3
    from botocore.config import Config
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id=conn["access_key_id"],
                        aws_secret_access_key=conn["secret_access_key"],
                        config=Config(retries={"max_attempts": 1, "mode": "standard"},
                                      connect_timeout=2, read_timeout=20))


if __name__ == "__main__":
    unittest.main()
