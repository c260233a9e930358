"""Load with random SIGKILLs: CLIENTS concurrent boto3 clients push FILES small JSON Lines files
into TABLES tables while the test SIGKILLs `sluice serve` at random moments and restarts it on
the same data directory and the same S3 port (a real client's endpoint does not move).

Each client retries a PUT the way an S3 SDK does: on a broken or refused connection and on a
5xx (503 SlowDown included) it sends the same PUT again, with a short jittered backoff, until
it gets a 200. A file counts as acknowledged only then; every file ends acknowledged. An
attempt cut short by a kill may or may not have reached the ledger, so a key may be in the
ledger twice: its bytes are identical, so the second entry must be skipped as a duplicate of
the first (docs/design/failures-and-duplicates.md), never loaded again.

Every file of table t carries a per-table version v (1, 2, ...; a table's files are pushed by
CLIENTS/TABLES clients at once, roughly in version order) and:
  - a head row, id 0, version v, file = its key: the table's age column is `version`, so the
    head row ends at the file with the highest version (the last acknowledged write wins,
    whatever order the concurrent PUTs and the restarts put the loads in);
  - 1..20 rows of its own, ids no other file uses, each naming the file.
At the end the test checks, from the ledger (`sluice files --json`) and the pool (pool/<connection>.db):
  - every key is in the ledger, loaded exactly once; any other entry of that key is skipped
    as a duplicate of the loaded one (a retried PUT whose first try reached the ledger);
  - _sluice_applied holds exactly the loaded sequences (no file applied twice, none lost);
  - each loaded file's counts: its own rows all inserted, the head row inserted, updated or
    refused (a second load would have shown its own rows as updated);
  - each table holds 1 + the own rows of all its files, each row naming its file, and its
    head row is the table's last file (the highest version).
It prints files/s: acknowledged files over the push phase (kills and restarts included), and
all files loaded over the whole run.

Sizes (CI runs a bounded one): SLUICE_LOAD_FILES (default 300), SLUICE_LOAD_CLIENTS (32),
SLUICE_LOAD_TABLES (8), SLUICE_LOAD_KILL_GAP seconds between kills (default "0.4,1.5": uniform
in that range), SLUICE_LOAD_SEED. The full size of issue 10, run by hand:
  (cd tests/e2e && SLUICE_LOAD_FILES=2000 python3 -m unittest -v test_load_kill)
"""

import json
import os
import random
import shutil
import subprocess
import threading
import time
import unittest

import boto3
import botocore.exceptions
from botocore.config import Config

from harness import RestartedServerTestCase, free_port, pool_db, wait_for

FILES = int(os.environ.get("SLUICE_LOAD_FILES", "300"))
CLIENTS = int(os.environ.get("SLUICE_LOAD_CLIENTS", "32"))
TABLES = int(os.environ.get("SLUICE_LOAD_TABLES", "8"))
KILL_GAP = tuple(float(x) for x in os.environ.get("SLUICE_LOAD_KILL_GAP", "0.4,1.5").split(","))
SEED = int(os.environ.get("SLUICE_LOAD_SEED", str(random.randrange(1 << 30))))
OWN_ROWS = (1, 20)
# One client gives up on a file after this long without a 200: far longer than any restart.
GIVE_UP_SECONDS = 120


class File:
    def __init__(self, index, table, version, rng):
        self.index = index
        self.table = table
        self.version = version
        self.key = f"{table}/f{index:05d}.json"
        self.own_ids = [(index + 1) * 1000 + j for j in range(rng.randint(*OWN_ROWS))]
        rows = [{"id": 0, "version": version, "file": self.key}]
        rows += [{"id": i, "version": version, "file": self.key} for i in self.own_ids]
        self.body = "".join(json.dumps(r) + "\n" for r in rows).encode()


class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.acked = 0
        self.broken = 0  # attempts that ended in a connection error (the server died)
        self.server_errors = 0  # attempts answered 5xx (SlowDown while starting, ...)
        self.last_ack = 0.0

    def add(self, **counts):
        with self.lock:
            for name, n in counts.items():
                setattr(self, name, getattr(self, name) + n)
            if counts.get("acked"):
                self.last_ack = time.monotonic()


class LoadKillTest(RestartedServerTestCase):
    def serve(self):
        # No per-client connection cap: every client comes from 127.0.0.1. The poison-file
        # guard is off: a random kill may land in the same file's load three times in a row
        # (test_poison tests the guard), and this test wants every acknowledged file loaded.
        return self.start("--max-connections-per-client", "0", "--max-load-attempts", "0",
                          s3_port=self.s3_port)

    def test_acknowledged_files_load_exactly_once_across_random_kills(self):
        rng = random.Random(SEED)
        tables = [f"t{i}" for i in range(TABLES)]
        versions = {t: 0 for t in tables}
        files = []
        for index in range(FILES):
            table = tables[index % TABLES]
            versions[table] += 1
            files.append(File(index, table, versions[table], rng))
        print(f"\nload test: seed {SEED}, {CLIENTS} clients, {FILES} files, {TABLES} tables")

        self.s3_port = free_port()
        server = self.serve()
        conn = self.helper.create_connection("load")
        bucket = conn["bucket"]
        for t in tables:
            self.helper.sluice("table", "add", bucket, t, "--pk", "id", "--age-column", "version")

        tally = Tally()
        errors = []
        # Client c pushes files c, c + CLIENTS, ...: CLIENTS / TABLES clients per table.
        queues = [files[c::CLIENTS] for c in range(CLIENTS)]

        def client(mine, client_rng):
            s3 = boto3.client(
                "s3", endpoint_url=server.endpoint, region_name="us-east-1",
                aws_access_key_id=conn["access_key_id"],
                aws_secret_access_key=conn["secret_access_key"],
                config=Config(retries={"max_attempts": 1, "mode": "standard"},
                              connect_timeout=2, read_timeout=30))
            try:
                for f in mine:
                    give_up = time.monotonic() + GIVE_UP_SECONDS
                    attempt = 0
                    while True:
                        attempt += 1
                        try:
                            s3.put_object(Bucket=bucket, Key=f.key, Body=f.body)
                            tally.add(acked=1)
                            break
                        except botocore.exceptions.ClientError as e:
                            status = e.response["ResponseMetadata"].get("HTTPStatusCode", 0)
                            if status < 500:
                                raise
                            tally.add(server_errors=1)
                        except botocore.exceptions.BotoCoreError:
                            tally.add(broken=1)
                        if time.monotonic() > give_up:
                            raise AssertionError(f"{f.key}: no 200 in {GIVE_UP_SECONDS} s")
                        time.sleep(client_rng.uniform(0, min(0.5, 0.025 * 2 ** attempt)))
            except BaseException as e:  # reported by the main thread
                errors.append(repr(e))

        threads = [threading.Thread(target=client, args=(q, random.Random(rng.random())),
                                    daemon=True) for q in queues]
        started = time.monotonic()
        for t in threads:
            t.start()
        kills = 0
        while True:
            gap = rng.uniform(*KILL_GAP)
            end = time.monotonic() + gap
            while time.monotonic() < end and any(t.is_alive() for t in threads):
                time.sleep(0.02)
            if not any(t.is_alive() for t in threads):
                break
            server.kill()
            kills += 1
            server = self.serve()  # same data directory, same port
        pushed = tally.last_ack - started
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        self.assertEqual(tally.acked, FILES)

        def settled():
            if server.proc.poll() is not None:  # its log ends with what killed it
                raise AssertionError(f"sluice serve died with {server.proc.returncode} while "
                                     f"loading:\n{server.log()}")
            entries = self.helper.files(conn)
            return None if any(e["status"] in ("queued", "loading") for e in entries) else entries

        try:
            ledger = wait_for(settled, timeout=120, what="every ledger entry to finish")
        except AssertionError:
            # What a stall leaves to look at: the files still open and where the server's
            # threads are.
            unfinished = [e for e in self.helper.files(conn)
                          if e["status"] in ("queued", "loading", "failed")]
            print(server.log())
            with open(server.log_path, errors="replace") as f:
                problems = [line for line in f if " warn " in line or " error " in line]
            print("warnings and errors of every start:", "".join(problems[-100:]))
            print("unfinished:", json.dumps(unfinished, indent=1)[:6000])
            if shutil.which("gdb"):
                print(subprocess.run(["gdb", "-p", str(server.proc.pid), "-batch", "-ex",
                                      "thread apply all bt"], capture_output=True, text=True,
                                     check=False).stdout[-20000:])
            raise
        loaded_all = time.monotonic() - started
        self.assertEqual(server.stop(), 0)
        duplicates = sum(1 for e in ledger if e["duplicate_of"] is not None)
        print(f"load test: {kills} SIGKILLs; {FILES} files acknowledged in {pushed:.1f} s = "
              f"{FILES / pushed:.1f} files/s; all loaded after {loaded_all:.1f} s = "
              f"{FILES / loaded_all:.1f} files/s; {tally.broken} attempts cut by a kill, "
              f"{tally.server_errors} answered 5xx, {duplicates} retried PUTs skipped as "
              f"duplicates")
        self.check(bucket, ledger, files, tables)
        self.assertGreater(kills, 0)

    def check(self, bucket, ledger, files, tables):
        by_key = {}
        for e in ledger:
            by_key.setdefault(e["key"], []).append(e)
        self.assertEqual(set(by_key), {f.key for f in files}, "keys in the ledger vs pushed")
        loaded_seq = {}
        for f in files:
            entries = by_key[f.key]
            loaded = [e for e in entries if e["status"] == "loaded"]
            self.assertEqual(len(loaded), 1, f"{f.key} loaded {len(loaded)} times: {entries}")
            first = loaded[0]
            loaded_seq[first["seq"]] = f
            for e in entries:
                if e is not first:
                    self.assertEqual((e["status"], e["duplicate_of"]), ("skipped", first["seq"]),
                                     f"a retried PUT of {f.key}: {e}")
            own = len(f.own_ids)
            head = (first["inserted"] - own, first["updated"], first["refused"])
            self.assertIn(head, [(1, 0, 0), (0, 1, 0), (0, 0, 1)],
                          f"{f.key} (seq {first['seq']}): {own} own rows and the head row, "
                          f"counted {first}")

        db = pool_db(self.data_dir, bucket)
        applied = [s for (s,) in db.execute("SELECT seq FROM _sluice_applied")]
        self.assertEqual(len(applied), len(set(applied)))
        self.assertEqual(set(applied), set(loaded_seq), "_sluice_applied vs the loaded files")
        for t in tables:
            mine = [f for f in files if f.table == t]
            rows = {i: (v, k) for i, v, k in db.execute(f'SELECT id, version, file FROM "{t}"')}
            last = max(mine, key=lambda f: f.version)
            self.assertEqual(rows.pop(0), (last.version, last.key), f"{t}: the head row")
            want = {i: (f.version, f.key) for f in mine for i in f.own_ids}
            self.assertEqual(len(rows), len(want), t)
            self.assertEqual(rows, want, t)
        db.close()


if __name__ == "__main__":
    unittest.main()
