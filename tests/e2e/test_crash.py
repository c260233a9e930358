"""Exactly once under crashes: a stream of upserts (overlapping keys, age columns, deletes) is
pushed into several tables while the server is killed again and again, at every injected crash
point (SLUICE_CRASH_AT, core/crash_point.h) and at random moments (SIGKILL), and restarted on
the same data directory. At the end every table must equal a model that applies exactly the
files the ledger holds, in push order, and every file the ledger holds must be loaded once.

Soundness of the model. Each table has one pusher thread that PUTs its files one after
another, each under a key of its own (never re-pushed), so a table's push order is known.
A PUT ends in one of three ways:
  - acknowledged (200): the ledger must hold it;
  - refused (an S3 error response, e.g. 503 SlowDown): the ledger must not hold it;
  - lost (the connection broke because the server died): unknown to the client. It counts as
    applied iff the ledger holds its key after the restart (crash after the ledger entry,
    before the response), and then it sits in its push position: the next PUT to its table
    starts only after it ended, so after the server that took it died, and every later file
    gets a higher sequence from a later process.
So per table the files the ledger holds, in push order, are what must have been applied, and
their sequences must increase in that order. A file applied twice would show in the counts
the ledger records (the model computes them row by row) or in _sluice_applied.

Bounded for CI: SLUICE_CRASH_FILES files (default 800) over SLUICE_CRASH_SECONDS (default
60) of kills; SLUICE_CRASH_DELETES=0 leaves out the delete-column tables' deletes.
"""

import csv
import json
import os
import random
import shutil
import subprocess
import tempfile
import threading
import time
import unittest

import boto3
import botocore.exceptions
from botocore.config import Config

from harness import Server, SluiceTestCase, duckdb, pool_db, wait_for

DELETES = os.environ.get("SLUICE_CRASH_DELETES", "1") == "1"
FILES = int(os.environ.get("SLUICE_CRASH_FILES", "800"))
SECONDS = float(os.environ.get("SLUICE_CRASH_SECONDS", "60"))
SEED = int(os.environ.get("SLUICE_CRASH_SEED", str(random.randrange(1 << 30))))
CRASH_EXIT_CODE = 86  # kCrashExitCode, core/crash_point.h

# Every injected point, with the range of N to pick from: the fs.* points also pass during
# start-up (landing's directory syncs, serve.json's rename), so their N starts higher.
POINTS = {
    "landing.durable": (1, 4),
    "ledger.after_append": (1, 4),
    "put.before_response": (1, 4),
    "load.mid_load": (1, 4),
    "load.after_pool_commit": (1, 4),
    "load.after_mark_loaded": (1, 4),
    "fs.sync": (6, 30),
    "fs.rename": (3, 12),
}

# name -> (primary key, age column, delete column, key range, share of the files)
TABLES = {
    "plain": (["id"], None, None, 150, 3),
    "aged": (["id"], "ver", None, 120, 2),
    "pairs": (["a", "b"], None, None, 12, 2),
    "gone": (["id"], None, "_deleted", 80, 2),
    "aged_gone": (["id"], "ver", "_deleted", 80, 2),
}
BIG_EVERY = 40  # every 40th file of `plain` has BIG_ROWS rows: a load of several batches
BIG_ROWS = 140_000


def columns_of(table):
    pk, age, delete, _, _ = TABLES[table]
    cols = [(c, "BIGINT") for c in pk] + [("v", "BIGINT"), ("s", "VARCHAR")]
    if age:
        cols.append((age, "BIGINT"))
    if delete and DELETES:
        cols.append((delete, "BOOLEAN"))
    return cols


def make_rows(rng, table, index, file_no):
    """The rows of one file: dicts with every column of the table (None for NULL)."""
    pk, age, delete, keys, _ = TABLES[table]
    big = table == "plain" and file_no % BIG_EVERY == BIG_EVERY - 1
    n = BIG_ROWS if big else rng.randint(1, 20)
    rows = []
    for j in range(n):
        if big:
            key = (j * 7 + index) % (BIG_ROWS + 10_000)
        else:
            key = rng.randrange(keys)
        row = {"v": index * 1_000_000 + j, "s": f"f{index}r{j}"}
        if len(pk) == 2:
            row["a"], row["b"] = key % 4, key // 4
        else:
            row["id"] = key
        if age:
            row[age] = None if rng.random() < 0.1 else rng.randrange(40)
        if delete and DELETES:
            row[delete] = rng.random() < 0.25
        rows.append(row)
    return rows


class Model:
    """Applies files row by row with the ingestion semantics (DESIGN.md): upsert on the key,
    the last row wins; with an age column a row applies when the stored age is null or its
    age is not null and >= the stored one; a true delete column deletes (subject to the age
    rule) and, with an age column, leaves a tombstone holding the age."""

    def __init__(self, table):
        self.pk, self.age, self.delete, _, _ = TABLES[table]
        self.rows = {}
        self.tombs = {}  # key -> age of the delete

    def apply(self, rows):
        counts = {"inserted": 0, "updated": 0, "refused": 0, "deleted": 0}
        for row in rows:
            key = tuple(row[c] for c in self.pk)
            stored = self.rows.get(key)
            if self.age:
                known = stored is not None or key in self.tombs
                stored_age = stored[self.age] if stored is not None else self.tombs.get(key)
                incoming = row[self.age]
                if known and stored_age is not None and (incoming is None or incoming < stored_age):
                    counts["refused"] += 1
                    continue
            if self.delete and DELETES and row[self.delete]:
                if stored is not None:
                    del self.rows[key]
                    counts["deleted"] += 1
                if self.age:
                    self.tombs[key] = row[self.age]
                continue
            value = {c: v for c, v in row.items() if c != self.delete}
            counts["updated" if stored is not None else "inserted"] += 1
            self.rows[key] = value
            self.tombs.pop(key, None)
        return counts

    def expected(self, cols):
        return {k: tuple(r[c] for c in cols) for k, r in self.rows.items()}


class Stream:
    """The files to push, grouped by table, with their rows (for the model) and parquet
    bytes (written by DuckDB in a few node runs)."""

    def __init__(self, directory, total, rng):
        weights = [(t, TABLES[t][4]) for t in TABLES]
        names = [t for t, w in weights for _ in range(w)]
        self.files = {t: [] for t in TABLES}  # table -> [(key, rows, path)]
        statements = []
        csv_dir = os.path.join(directory, "csv")
        os.makedirs(csv_dir)
        for index in range(total):
            table = names[index % len(names)] if index < len(names) else rng.choice(names)
            rows = make_rows(rng, table, index, len(self.files[table]))
            key = f"{table}/f{index:05d}.parquet"
            cols = columns_of(table)
            csv_path = os.path.join(csv_dir, f"{index}.csv")
            with open(csv_path, "w", newline="") as f:
                w = csv.writer(f)
                w.writerow([c for c, _ in cols])
                for r in rows:
                    w.writerow(["" if r[c] is None else str(r[c]).lower() if isinstance(r[c], bool)
                                else r[c] for c, _ in cols])
            path = os.path.join(directory, f"{index}.parquet")
            spec = ", ".join(f"'{c}': '{t}'" for c, t in cols)
            statements.append(f"COPY (SELECT * FROM read_csv('{csv_path}', header=true, "
                              f"columns={{{spec}}})) TO '{path}' (FORMAT parquet)")
            self.files[table].append((key, rows, path))
        for start in range(0, len(statements), 200):
            duckdb(*statements[start:start + 200])
        shutil.rmtree(csv_dir)


class Outcomes:
    def __init__(self):
        self.lock = threading.Lock()
        self.by_key = {}  # key -> "acked" | "refused" | "lost"

    def record(self, key, outcome):
        with self.lock:
            self.by_key[key] = outcome


class Life:
    """The server's current incarnation, for the pushers: an endpoint, or none while down."""

    def __init__(self):
        self.cond = threading.Condition()
        self.generation = 0
        self.endpoint = None

    def up(self, endpoint):
        with self.cond:
            self.generation += 1
            self.endpoint = endpoint
            self.cond.notify_all()

    def down(self):
        with self.cond:
            self.endpoint = None

    def wait_up(self, newer_than):
        """The first incarnation after `newer_than` that is up: (generation, endpoint)."""
        with self.cond:
            if not self.cond.wait_for(
                    lambda: self.endpoint is not None and self.generation > newer_than, timeout=180):
                raise AssertionError("no server came up for 180 s")
            return self.generation, self.endpoint


class CrashTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="sluice-crash-")
        self.data_dir = os.path.join(self.tmp, "data")
        self.env_lock = threading.Lock()

    def tearDown(self):
        if os.environ.get("SLUICE_KEEP_TMP") is None:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def start_server(self, crash_at=None):
        """Starts `sluice serve` with SLUICE_CRASH_AT set for it alone; None when the crash
        rule fired during start-up (then the caller starts again without one). The poison-file
        guard is off: a large file may well be killed mid-load three times in a row here, and
        this test wants every acknowledged file loaded (tests/e2e/test_poison.py tests the
        guard)."""
        server = Server(self.data_dir, ["--max-load-attempts", "0"])
        with self.env_lock:
            if crash_at:
                os.environ["SLUICE_CRASH_AT"] = crash_at
            try:
                server.start()
            except AssertionError:
                if crash_at and server.proc.poll() == CRASH_EXIT_CODE:
                    return None
                raise
            finally:
                os.environ.pop("SLUICE_CRASH_AT", None)
        return server

    def test_acknowledged_files_are_applied_exactly_once_across_kills(self):
        rng = random.Random(SEED)
        print(f"\ncrash test: seed {SEED}, {FILES} files, deletes {'on' if DELETES else 'off'}")
        stream = Stream(os.path.join(self.tmp, "files"), FILES, rng)

        server = self.start_server()
        helper = SluiceTestCase("run")
        helper.data_dir = self.data_dir
        helper.server = server
        conn = helper.create_connection("crash")
        bucket = conn["bucket"]
        for table, (pk, age, delete, _, _) in TABLES.items():
            args = ["table", "add", bucket, table, "--pk", ",".join(pk)]
            if age:
                args += ["--age-column", age]
            if delete and DELETES:
                args += ["--delete-column", delete]
            helper.sluice(*args)

        life = Life()
        outcomes = Outcomes()
        errors = []

        def client_for(endpoint):
            return boto3.client(
                "s3", endpoint_url=endpoint, region_name="us-east-1",
                aws_access_key_id=conn["access_key_id"],
                aws_secret_access_key=conn["secret_access_key"],
                config=Config(retries={"max_attempts": 1, "mode": "standard"},
                              connect_timeout=2, read_timeout=20))

        def pusher(table):
            generation, client = 0, None
            newer_than = 0  # the next PUT goes to an incarnation later than this one
            try:
                for key, _, path in stream.files[table]:
                    gen, endpoint = life.wait_up(newer_than)
                    if gen != generation:
                        generation, client = gen, client_for(endpoint)
                    with open(path, "rb") as f:
                        body = f.read()
                    newer_than = generation - 1
                    try:
                        client.put_object(Bucket=bucket, Key=key, Body=body)
                        outcomes.record(key, "acked")
                    except botocore.exceptions.ClientError as e:
                        outcomes.record(key, "refused")
                        code = e.response["Error"]["Code"]
                        if code not in ("SlowDown", "ServiceUnavailable", "InternalError"):
                            raise
                    except botocore.exceptions.BotoCoreError:
                        # Connection refused, reset or cut short: the server died under it.
                        # Whether the ledger took it is read after the end.
                        outcomes.record(key, "lost")
                        newer_than = generation
            except BaseException as e:  # reported by the main thread
                errors.append((table, repr(e)))

        threads = [threading.Thread(target=pusher, args=(t,), daemon=True) for t in TABLES]
        # The set-up server goes; every incarnation from here is started by the loop below.
        self.assertEqual(server.stop(), 0)
        for t in threads:
            t.start()

        kills = {"sigkill": 0, **{p: 0 for p in POINTS}}
        startup_crashes = 0
        deadline = time.monotonic() + SECONDS
        order = list(POINTS) + ["sigkill"]
        rng.shuffle(order)
        life_no = 0
        while any(t.is_alive() for t in threads) and time.monotonic() < deadline:
            # Each point once in a shuffled order, then a point that has not fired yet (its
            # first life ended in the timeout), then a random mix, a third of them SIGKILL.
            unfired = [p for p in POINTS if kills[p] == 0]
            if life_no < len(order):
                mode = order[life_no]
            elif unfired:
                mode = unfired[0]
            else:
                mode = "sigkill" if rng.random() < 0.34 else rng.choice(list(POINTS))
            life_no += 1
            if mode != "sigkill":
                lo, hi = POINTS[mode]
                server = self.start_server(f"{mode}:{rng.randint(lo, hi)}")
                if server is None:
                    startup_crashes += 1
                    continue
                life.up(server.endpoint)
                try:
                    server.proc.wait(timeout=4)
                except subprocess.TimeoutExpired:
                    life.down()
                    server.kill()  # the point was not reached in time: a random kill instead
                    kills["sigkill"] += 1
                else:
                    life.down()
                    self.assertEqual(server.proc.returncode, CRASH_EXIT_CODE,
                                     f"serve died with {server.proc.returncode}:\n{server.log()}")
                    kills[mode] += 1
            else:
                server = self.start_server()
                life.up(server.endpoint)
                time.sleep(rng.uniform(0.05, 1.2))
                life.down()
                server.kill()
                kills["sigkill"] += 1

        # The last life runs clean: everything pushed so far is loaded.
        server = self.start_server()
        life.up(server.endpoint)
        helper.server = server
        try:
            for t in threads:
                t.join(timeout=120)
            self.assertFalse(errors, errors)
            self.assertFalse(any(t.is_alive() for t in threads), "a pusher did not finish")
            survived = sum(kills.values())
            print(f"crash test: survived {survived} kills "
                  f"({', '.join(f'{k} {v}' for k, v in kills.items() if v)}), "
                  f"{startup_crashes} crash rules fired during start-up; outcomes: "
                  + ", ".join(f"{o} {list(outcomes.by_key.values()).count(o)}"
                              for o in ("acked", "refused", "lost")))
            self.check(helper, conn, stream, outcomes)
            for point in POINTS:
                self.assertGreater(kills[point], 0, f"crash point {point} never fired")
            self.assertGreater(kills["sigkill"], 0)
        except BaseException:
            print(server.log())
            raise
        finally:
            self.assertEqual(server.stop(), 0)

    def check(self, helper, conn, stream, outcomes):
        def settled():
            files = helper.files(conn)
            pending = [f for f in files if f["status"] in ("queued", "loading")]
            return None if pending else files

        files = wait_for(settled, timeout=120, what="every ledger entry to finish")
        by_key = {}
        for f in files:
            by_key.setdefault(f["key"], []).append(f)
        pushed = {key for t in stream.files for key, _, _ in stream.files[t]}
        self.assertEqual(set(by_key) - pushed, set(), "ledger entries nobody pushed")
        for key, entries in by_key.items():
            self.assertEqual(len(entries), 1, f"{key} is in the ledger {len(entries)} times")
            self.assertEqual(entries[0]["status"], "loaded", entries[0])
        for key in pushed:
            outcome = outcomes.by_key.get(key)
            if outcome == "acked":
                self.assertIn(key, by_key, f"{key} was acknowledged but is not in the ledger")
            elif outcome == "refused":
                self.assertNotIn(key, by_key, f"{key} was refused but is in the ledger")
            self.assertIsNotNone(outcome, f"{key} was never pushed")

        db = pool_db(self.data_dir, conn["bucket"])
        applied = db.execute("SELECT seq, table_name FROM _sluice_applied").fetchall()
        ledger_seqs = {f["seq"]: f["table"] for f in files}
        self.assertEqual(dict(applied), ledger_seqs, "_sluice_applied differs from the ledger")
        self.assertEqual(len(applied), len(ledger_seqs))

        for table, pushed_files in stream.files.items():
            model = Model(table)
            last_seq = 0
            for key, rows, _ in pushed_files:
                if key not in by_key:
                    continue
                entry = by_key[key][0]
                self.assertGreater(entry["seq"], last_seq, f"{key} applied out of push order")
                last_seq = entry["seq"]
                counts = model.apply(rows)
                if not (TABLES[table][2] and DELETES):
                    got = {k: entry[k] for k in ("inserted", "updated", "refused")}
                    want = {k: counts[k] for k in ("inserted", "updated", "refused")}
                    self.assertEqual(got, want, f"row counts of {key} (seq {entry['seq']})")
            cols = [c for c, _ in columns_of(table) if c != TABLES[table][2]]
            pk = TABLES[table][0]
            quoted = ", ".join(f'"{c}"' for c in cols)
            stored = {tuple(r[:len(pk)]): tuple(r[len(pk):])
                      for r in db.execute(f'SELECT {quoted} FROM "{table}"')}
            expected = {k: v[len(pk):] for k, v in model.expected(cols).items()}
            missing = {k: expected[k] for k in list(set(expected) - set(stored))[:5]}
            extra = {k: stored[k] for k in list(set(stored) - set(expected))[:5]}
            wrong = {k: (stored[k], expected[k]) for k in set(stored) & set(expected)
                     if stored[k] != expected[k]}
            self.assertEqual((missing, extra, dict(list(wrong.items())[:5])), ({}, {}, {}),
                             f"table {table}: (missing, unexpected, wrong (stored, expected)) rows")
            self.assertEqual(len(stored), len(expected), table)
        db.close()


if __name__ == "__main__":
    unittest.main()
