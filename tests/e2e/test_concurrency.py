"""Concurrency: 32 clients push 2,000 small files into 8 tables; every acknowledged file is
loaded exactly once, and per table the load order is the acknowledgement order. And uploads
never wait for loads: while a large file loads into one table, PUTs to another are answered.

Order, precisely: for two PUTs to one table where the 200 of A arrived before the request of B
started, A must have the lower sequence and be applied first. Concurrent PUTs (overlapping in
time) may land either way. The rows prove the applied order: every file of a table upserts
the table's shared key 0 and its client's key 1+client with its own file number, and inserts
a key of its own; the ledger's per-file counts, _sluice_applied's order and the final values
must all agree with applying the files in sequence order.

SLUICE_CONCURRENCY_FILES overrides the 2,000 files (e.g. for a longer local run).
"""

import concurrent.futures
import os
import random
import tempfile
import threading
import time
import unittest

import botocore.exceptions

from harness import SluiceTestCase, duckdb, pool_db, wait_for

CLIENTS = 32
TABLES = [f"t{i}" for i in range(8)]
FILES = int(os.environ.get("SLUICE_CONCURRENCY_FILES", "2000"))
OWN_KEY_BASE = 1000


class ConcurrentClientsTest(SluiceTestCase):
    def test_32_clients_2000_files_loaded_once_in_acknowledgement_order(self):
        conn = self.create_connection("many")
        bucket = conn["bucket"]
        for t in TABLES:
            self.add_table(conn, t, "id")
        rng = random.Random(7)
        # File u belongs to client u % 32 and goes to a random table.
        plan = [(u, u % CLIENTS, rng.choice(TABLES)) for u in range(FILES)]
        with tempfile.TemporaryDirectory() as tmp:
            paths = {u: os.path.join(tmp, f"{u}.parquet") for u, _, _ in plan}
            statements = [
                f"COPY (SELECT * FROM (VALUES (0::BIGINT, {u}::BIGINT, {c}::BIGINT), "
                f"({1 + c}::BIGINT, {u}::BIGINT, {c}::BIGINT), "
                f"({OWN_KEY_BASE + u}::BIGINT, {u}::BIGINT, {c}::BIGINT)) t(id, v, client)) "
                f"TO '{paths[u]}' (FORMAT parquet)" for u, c, _ in plan]
            for start in range(0, len(statements), 250):
                duckdb(*statements[start:start + 250])
            bodies = {}
            for u, p in paths.items():
                with open(p, "rb") as f:
                    bodies[u] = f.read()

        acks = {}  # u -> (table, client, request start, response end), monotonic seconds
        lock = threading.Lock()
        slowdowns = [0]

        def client_run(c):
            s3 = self.boto3(conn)
            for u, client, table in plan:
                if client != c:
                    continue
                while True:
                    start = time.monotonic()
                    try:
                        s3.put_object(Bucket=bucket, Key=f"{table}/f{u:05d}.parquet", Body=bodies[u])
                    except botocore.exceptions.ClientError as e:
                        # Backpressure is allowed (nothing accepted is dropped); retry as clients do.
                        if e.response["Error"]["Code"] != "SlowDown":
                            raise
                        with lock:
                            slowdowns[0] += 1
                        time.sleep(0.05)
                        continue
                    end = time.monotonic()
                    break
                with lock:
                    acks[u] = (table, client, start, end)

        began = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(max_workers=CLIENTS) as pool:
            list(pool.map(client_run, range(CLIENTS)))
        pushed_in = time.monotonic() - began
        self.assertEqual(len(acks), FILES)

        def all_loaded():
            files = self.files(conn)
            done = [f for f in files if f["status"] in ("loaded", "failed", "skipped")]
            return files if len(done) >= FILES else None

        files = wait_for(all_loaded, timeout=300, what=f"{FILES} files to finish loading")
        loaded_in = time.monotonic() - began
        print(f"\n{FILES} files from {CLIENTS} clients acknowledged in {pushed_in:.1f} s "
              f"({FILES / pushed_in:.0f} PUT/s, {slowdowns[0]} SlowDown retries), "
              f"all loaded after {loaded_in:.1f} s")

        # Exactly once in the ledger, every one loaded, and once in the pool.
        self.assertEqual(len(files), FILES)
        by_u = {}
        for f in files:
            self.assertEqual(f["status"], "loaded", f)
            u = int(f["key"].split("/f")[1].split(".")[0])
            self.assertNotIn(u, by_u, f"file {u} is in the ledger twice")
            self.assertEqual(f["table"], acks[u][0])
            by_u[u] = f
        db = pool_db(self.data_dir, bucket)
        applied = db.execute(
            "SELECT seq, table_name, inserted, updated, applied_at FROM _sluice_applied").fetchall()
        self.assertEqual(sorted(a[0] for a in applied), sorted(f["seq"] for f in files))
        applied_at = {a[0]: a[4] for a in applied}

        for table in TABLES:
            mine = sorted((by_u[u]["seq"], u) for u in by_u if acks[u][0] == table)
            # Acknowledgement order: no file may hold a higher sequence than one whose request
            # started after its 200 arrived.
            latest_start = float("-inf")
            for seq, u in mine:
                _, _, start, end = acks[u]
                self.assertLessEqual(
                    latest_start, end,
                    f"{table}: file {u} (seq {seq}) was acknowledged before a file with a lower "
                    "sequence was even sent")
                latest_start = max(latest_start, start)
            # Applied in sequence order.
            times = [applied_at[seq] for seq, _ in mine]
            self.assertEqual(times, sorted(times), f"{table}: _sluice_applied out of order")
            # The counts of applying in sequence order, file by file.
            seen_clients = set()
            for i, (seq, u) in enumerate(mine):
                client = acks[u][1]
                inserted = 1 + (i == 0) + (client not in seen_clients)
                seen_clients.add(client)
                self.assertEqual((by_u[u]["inserted"], by_u[u]["updated"]), (inserted, 3 - inserted),
                                 f"{table}: counts of file {u} (seq {seq})")
            # Final values: the shared key holds the last file applied, each client's key the
            # client's last acknowledged file in this table, and every own key its file.
            rows = dict(db.execute(f'SELECT id, v FROM "{table}"').fetchall())
            self.assertEqual(rows.get(0), mine[-1][1], f"{table}: shared key")
            last_of_client = {}
            for u in sorted((u for u in acks if acks[u][0] == table), key=lambda u: acks[u][3]):
                last_of_client[acks[u][1]] = u
            for client, u in last_of_client.items():
                self.assertEqual(rows.get(1 + client), u, f"{table}: key of client {client}")
            own = {k: v for k, v in rows.items() if k >= OWN_KEY_BASE}
            self.assertEqual(own, {OWN_KEY_BASE + u: u for _, u in mine}, f"{table}: own keys")
            self.assertEqual(len(rows), 1 + len(last_of_client) + len(mine))
        db.close()


class UploadsNeverWaitTest(SluiceTestCase):
    def test_puts_to_another_table_are_answered_while_a_large_file_loads(self):
        conn = self.create_connection("busy")
        bucket = conn["bucket"]
        self.add_table(conn, "big", "id")
        self.add_table(conn, "small", "id")
        rows = int(os.environ.get("SLUICE_BIG_ROWS", "2000000"))
        with tempfile.TemporaryDirectory() as tmp:
            big = os.path.join(tmp, "big.parquet")
            smalls = [os.path.join(tmp, f"s{i}.parquet") for i in range(10)]
            duckdb(f"COPY (SELECT i AS id, hash(i) % 1000000 AS a, md5(i::VARCHAR) AS note, "
                   f"i * 0.5 AS x FROM range({rows}) r(i)) TO '{big}' (FORMAT parquet)",
                   *[f"COPY (SELECT {i}::BIGINT AS id, 'small {i}' AS note) TO '{p}' "
                     "(FORMAT parquet)" for i, p in enumerate(smalls)])
            s3 = self.boto3(conn)
            s3.upload_file(big, bucket, "big/big.parquet")

            def big_status():
                head = s3.head_object(Bucket=bucket, Key="big/big.parquet")
                return head["Metadata"].get("sluice-status")

            wait_for(lambda: big_status() == "loading", timeout=30, interval=0.01,
                     what="the large file to start loading")
            for i, p in enumerate(smalls):
                s3.upload_file(p, bucket, f"small/s{i}.parquet")
            # Every small PUT began after the large load started; the large file still loading
            # after the last one was answered means none of them waited for it.
            still = big_status()
            self.assertEqual(still, "loading",
                             "the large load finished before the small PUTs were answered: make "
                             "SLUICE_BIG_ROWS larger, this run proves nothing")
            small_during = [f["status"] for f in self.files(conn, "small")]
            self.wait_files(conn, "small", len(smalls), timeout=120)
            self.wait_files(conn, "big", 1, timeout=300)
        print(f"\nsmall files while the large one was loading: {small_during}")
        self.assertEqual(self.query(conn, "SELECT count(*) AS n FROM small"), [{"n": len(smalls)}])
        self.assertEqual(self.query(conn, "SELECT count(*) AS n FROM big"), [{"n": rows}])


if __name__ == "__main__":
    unittest.main()
