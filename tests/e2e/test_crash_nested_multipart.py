"""Crashes in nested loads and in multipart uploads (issue 10: "the crash test also drives
nested loads (replace children) and multipart uploads, not only flat single-PUT files").

Nested: JSON files of orders, each with line items and shipments holding packages, go into a
nested table whose children are keyed by position, so a newer record of an order replaces all
its children. The files are queued with no load workers, then the server is killed again and
again while it loads them: at crash points inside the nested load (core/crash_point.h:
load.mid_load after a batch, load.after_pool_commit, load.after_mark_loaded) and by
random SIGKILLs, until every file is loaded. Then every file must be loaded exactly once
(_sluice_applied holds exactly the loaded sequences), and the parent and every child table
must equal a model that applies the files in push order: no orphan, no duplicate child, no
child of an older record left behind.

Multipart: the server dies during or after a Complete, and during an upload, and what S3
would expect holds after the restart:
  - killed after the assembled object is durable but before the ledger knows it
    (landing.durable): the upload is still there with its parts, the object was removed at
    start, and the retried Complete loads the file once;
  - killed after the ledger committed the Complete, in the load it started (load.mid_load):
    the file loads once, the upload is gone with its parts, and the retried Complete answers
    200 with the same ETag without a second ledger entry;
  - killed by SIGKILL at random moments around a Complete: the retried Complete answers 200
    with the same ETag, and the key is in the ledger once;
  - killed between parts: the upload and its parts are listed after the restart; it can be
    finished, or aborted (then its parts are gone and it is NoSuchUpload).

SLUICE_CRASH_SEED fixes the random choices.
"""

import json
import os
import random
import threading
import time
import unittest

import botocore.exceptions

from harness import CRASH_EXIT_CODE, TEST_PG, RestartedServerTestCase, pool_db, wait_for

SEED = int(os.environ.get("SLUICE_CRASH_SEED", str(random.randrange(1 << 30))))

EXAMPLE = {"order_id": 1, "file": "f", "line_items": [{"sku": "s", "qty": 1}],
           "shipments": [{"shipment_id": 1, "packages": [{"package_id": 1, "weight": 1}]}]}
NESTED_FILES = 8
ORDERS_PER_FILE = 3000
ORDER_IDS = 4000
# At --load-memory 64M a JSON batch is cut at 512 KiB of raw JSON: each file (~0.7 MB) loads
# in two batches, so load.mid_load can land between the batches of one file.
LOAD_MEMORY = "64M"
# point -> passes per pending file (load.mid_load passes after each batch).
POINTS = {"load.mid_load": 2, "load.after_pool_commit": 1, "load.after_mark_loaded": 1}
FIRES = 2  # each point fires at least this often

PART = 5 * 1024 * 1024


def order(rng, order_id, key):
    return {
        "order_id": order_id, "file": key,
        "line_items": [{"sku": f"{key}-{order_id}-{i}", "qty": rng.randrange(100)}
                       for i in range(rng.randrange(5))],
        "shipments": [{"shipment_id": rng.randrange(1000),
                       "packages": [{"package_id": p, "weight": rng.randrange(50)}
                                    for p in range(rng.randrange(3))]}
                      for _ in range(rng.randrange(3))],
    }


class NestedModel:
    """The tables a nested table with positional children holds after the records, in order:
    the last record of an order wins, and its children replace the earlier ones'."""

    def __init__(self):
        self.orders = {}

    def apply(self, records):
        for r in records:
            self.orders[r["order_id"]] = r

    def tables(self, t):
        parents, items, shipments, packages = set(), set(), set(), set()
        for oid, r in self.orders.items():
            parents.add((oid, r["file"]))
            for i, li in enumerate(r["line_items"]):
                items.add((oid, i, li["sku"], li["qty"]))
            for s, sh in enumerate(r["shipments"]):
                shipments.add((oid, s, sh["shipment_id"]))
                for p, pk in enumerate(sh["packages"]):
                    packages.add((oid, s, p, pk["package_id"], pk["weight"]))
        return {
            f"SELECT order_id, file FROM {t}": parents,
            f"SELECT {t}_order_id, _index, sku, qty FROM {t}_line_items": items,
            f"SELECT {t}_order_id, _index, shipment_id FROM {t}_shipments": shipments,
            f"SELECT {t}_order_id, {t}_shipments__index, _index, package_id, weight "
            f"FROM {t}_shipments_packages": packages,
        }


class CrashNestedMultipartTest(RestartedServerTestCase):

    def pool(self, conn):
        return pool_db(self.data_dir, conn["bucket"])

    def ledger(self, conn):
        return self.helper.files(conn)

    def wait_for_crash(self, server, conn):
        """True when the server died at its crash point; False when it loaded every file
        without reaching it (then it is stopped)."""
        while True:
            try:
                code = server.proc.wait(timeout=0.5)
            except Exception:
                if all(f["status"] == "loaded" for f in self.ledger(conn)):
                    # With the ledger in PostgreSQL a file is `loaded` as its rows commit, so
                    # the points after the pool commit may fire just as the ledger says so.
                    code = server.stop()
                    if code == CRASH_EXIT_CODE:
                        return True
                    self.assertEqual(code, 0, server.log())
                    return False
                continue
            self.assertEqual(code, CRASH_EXIT_CODE, server.log())
            return True

    # --- nested ----------------------------------------------------------------------------

    def test_nested_replace_children_loads_exactly_once_across_crashes(self):
        rng = random.Random(SEED)
        print(f"\nnested crash test: seed {SEED}")
        self.start("--load-workers", "0")
        conn = self.helper.create_connection("nested")
        example = os.path.join(self.tmp, "example.json")
        with open(example, "w") as f:
            json.dump(EXAMPLE, f)
        self.helper.sluice("table", "add", conn["bucket"], "o", "--nested", "--example", example,
                           "--pk", "order_id")
        s3 = self.helper.boto3(conn)
        model = NestedModel()
        for n in range(NESTED_FILES):
            key = f"o/f{n}.json"
            records = [order(rng, oid, key) for oid in rng.sample(range(ORDER_IDS),
                                                                  ORDERS_PER_FILE)]
            model.apply(records)
            body = "".join(json.dumps(r) + "\n" for r in records).encode()
            s3.put_object(Bucket=conn["bucket"], Key=key, Body=body)
        self.assertEqual(self.server.stop(), 0)

        args = ("--max-load-attempts", "0", "--load-memory", LOAD_MEMORY)
        fired = {p: 0 for p in POINTS}
        sigkills = extra = 0
        lives = 0
        while True:
            pending = [f for f in self.ledger(conn) if f["status"] != "loaded"]
            if not pending and min(fired.values()) >= FIRES:
                break
            if lives > 80:
                self.fail(f"the files did not load in 80 lives: fired {fired}, {pending}")
            lives += 1
            if not pending:
                # Everything loaded before every point fired: queue one more file.
                self.start("--load-workers", "0")
                extra += 1
                key = f"o/extra{lives}.json"
                records = [order(rng, oid, key)
                           for oid in rng.sample(range(ORDER_IDS), ORDERS_PER_FILE)]
                model.apply(records)
                body = "".join(json.dumps(r) + "\n" for r in records).encode()
                s3 = self.helper.boto3(conn)
                s3.put_object(Bucket=conn["bucket"], Key=key, Body=body)
                self.assertEqual(self.server.stop(), 0)
                continue
            if rng.random() < 0.25:
                server = self.start(*args)
                time.sleep(rng.uniform(0.05, 1.0))
                server.kill()
                sigkills += 1
                continue
            point = rng.choice([p for p in POINTS if fired[p] < FIRES] or list(POINTS))
            # A pass this life reaches (unless a file fails to load, which the end would show).
            nth = rng.randint(1, min(4, POINTS[point] * len(pending)))
            server = self.start_crashing(f"{point}:{nth}", *args)
            if self.wait_for_crash(server, conn):
                fired[point] += 1

        print(f"nested crash test: {lives} lives, {sigkills} SIGKILLs, crash points {fired}, "
              f"{NESTED_FILES + extra} files")
        self.start(*args)
        ledger = self.ledger(conn)
        self.assertEqual(self.server.stop(), 0)
        keys = [f["key"] for f in ledger]
        self.assertEqual(len(keys), len(set(keys)), "a key is in the ledger twice")
        self.assertTrue(all(f["status"] == "loaded" for f in ledger), ledger)
        db = self.pool(conn)
        applied = [s for (s,) in db.execute("SELECT seq FROM _sluice_applied")]
        self.assertEqual(sorted(applied), sorted(f["seq"] for f in ledger),
                         "_sluice_applied vs the loaded files")
        for sql, want in model.tables("o").items():
            got = db.execute(sql).fetchall()
            self.assertEqual(len(got), len(set(got)), f"duplicate rows: {sql}")
            self.assertEqual(len(got), len(want), sql)
            self.assertEqual(set(got), want, sql)
        orphans = db.execute("""
            SELECT 'line_items', o_order_id FROM o_line_items
              WHERE o_order_id NOT IN (SELECT order_id FROM o)
            UNION ALL SELECT 'shipments', o_order_id FROM o_shipments
              WHERE o_order_id NOT IN (SELECT order_id FROM o)
            UNION ALL SELECT 'packages', p.o_order_id FROM o_shipments_packages p
              WHERE NOT EXISTS (SELECT 1 FROM o_shipments s WHERE s.o_order_id = p.o_order_id
                                AND s._index = p.o_shipments__index)""").fetchall()
        self.assertEqual(orphans, [])
        db.close()

    # --- multipart -------------------------------------------------------------------------

    def body(self, rng, rows):
        pad = "x" * 100
        return "".join(json.dumps({"id": rng.randrange(1 << 40), "pad": pad}) + "\n"
                       for _ in range(rows)).encode()

    def upload_parts(self, s3, bucket, key, body):
        upload = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
        parts = []
        for n, start in enumerate(range(0, len(body), PART), 1):
            etag = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload, PartNumber=n,
                                  Body=body[start:start + PART])["ETag"]
            parts.append({"PartNumber": n, "ETag": etag})
        return upload, parts

    def complete(self, s3, bucket, key, upload, parts):
        return s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload,
                                            MultipartUpload={"Parts": parts})

    def uploads_on_disk(self):
        return sorted(os.listdir(os.path.join(self.data_dir, "landing", "uploads")))

    def objects_on_disk(self):
        return len(os.listdir(os.path.join(self.data_dir, "landing", "objects")))

    def listed_uploads(self, s3, bucket):
        return [u["UploadId"] for u in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])]

    def test_multipart_uploads_survive_crashes_as_s3_clients_expect(self):
        rng = random.Random(SEED)
        print(f"\nmultipart crash test: seed {SEED}")
        self.start()
        conn = self.helper.create_connection("multipart")
        bucket = conn["bucket"]
        self.helper.add_table(conn, "mp", "id")
        self.assertEqual(self.server.stop(), 0)
        rows = 7 * 1024 * 1024 // 120  # two parts: 5 MiB and ~2 MiB
        loaded_keys = []

        # 1. Dies when the assembled object is durable, before the ledger entry.
        self.start_crashing("landing.durable:3")  # the two parts pass it first
        s3 = self.helper.boto3(conn)
        key = "mp/durable.json"
        upload, parts = self.upload_parts(s3, bucket, key, self.body(rng, rows))
        with self.assertRaises(botocore.exceptions.BotoCoreError):
            self.complete(s3, bucket, key, upload, parts)
        self.assertEqual(self.server.proc.wait(timeout=10), CRASH_EXIT_CODE)
        if TEST_PG:
            # A shared ledger keeps unrecorded objects for an hour (another node may be about to
            # record one: docs/design/nodes.md); this one is old enough.
            objects = os.path.join(self.data_dir, "landing", "objects")
            for name in os.listdir(objects):
                os.utime(os.path.join(objects, name), (time.time() - 7200,) * 2)
        self.start()
        s3 = self.helper.boto3(conn)
        self.assertEqual(self.listed_uploads(s3, bucket), [upload])
        listed = s3.list_parts(Bucket=bucket, Key=key, UploadId=upload)["Parts"]
        self.assertEqual([(p["PartNumber"], p["ETag"]) for p in listed],
                         [(p["PartNumber"], p["ETag"]) for p in parts])
        self.assertEqual(self.objects_on_disk(), 0, "the unacknowledged object was kept")
        self.assertNotIn(key, [f["key"] for f in self.ledger(conn)])
        etag = self.complete(s3, bucket, key, upload, parts)["ETag"]
        self.assertTrue(etag.endswith('-2"'), etag)
        loaded_keys.append(key)
        self.assertEqual(self.uploads_on_disk(), [])
        self.assertEqual(self.server.stop(), 0)

        # 2. Dies after the ledger took the Complete: in the first batch of the file's load,
        # which the Complete starts (whether its 200 got out first is a race).
        self.start_crashing("load.mid_load:1")
        s3 = self.helper.boto3(conn)
        key = "mp/recorded.json"
        upload, parts = self.upload_parts(s3, bucket, key, self.body(rng, rows))
        try:
            answered = self.complete(s3, bucket, key, upload, parts)["ETag"]
        except botocore.exceptions.BotoCoreError:
            answered = None
        self.assertEqual(self.server.proc.wait(timeout=30), CRASH_EXIT_CODE)
        self.start()
        s3 = self.helper.boto3(conn)
        self.assertEqual(self.listed_uploads(s3, bucket), [])
        wait_for(lambda: self.uploads_on_disk() == [], timeout=10,
                 what="the parts of the completed upload to be removed")
        first = self.complete(s3, bucket, key, upload, parts)["ETag"]
        again = self.complete(s3, bucket, key, upload, parts)["ETag"]
        self.assertEqual(first, again)
        if answered is not None:
            self.assertEqual(first, answered)
        self.assertEqual([f["key"] for f in self.ledger(conn)].count(key), 1)
        loaded_keys.append(key)
        self.assertEqual(self.server.stop(), 0)

        # 3. SIGKILLs at random moments around Completes; the client retries the Complete.
        for n in range(4):
            server = self.start()
            s3 = self.helper.boto3(conn)
            key = f"mp/killed{n}.json"
            upload, parts = self.upload_parts(s3, bucket, key, self.body(rng, rows * 2))
            outcome = {}

            def send():
                try:
                    outcome["etag"] = self.complete(s3, bucket, key, upload, parts)["ETag"]
                except botocore.exceptions.BotoCoreError as e:
                    outcome["lost"] = repr(e)

            sender = threading.Thread(target=send)
            sender.start()
            time.sleep(rng.uniform(0, 0.6))
            server.kill()
            sender.join()
            self.start()
            s3 = self.helper.boto3(conn)
            etag = self.complete(s3, bucket, key, upload, parts)["ETag"]
            if "etag" in outcome:
                self.assertEqual(etag, outcome["etag"])
            self.assertTrue(etag.endswith(f'-{len(parts)}"'), etag)
            self.assertEqual([f["key"] for f in self.ledger(conn)].count(key), 1)
            self.assertEqual(self.listed_uploads(s3, bucket), [])
            print(f"multipart crash test: kill {n}: the first Complete "
                  f"{'was answered' if 'etag' in outcome else 'was cut short'}")
            loaded_keys.append(key)
            self.assertEqual(self.server.stop(), 0)

        # 4. Killed between parts: the upload can be finished, or aborted, after the restart.
        server = self.start()
        s3 = self.helper.boto3(conn)
        body = self.body(rng, rows)
        finish = s3.create_multipart_upload(Bucket=bucket, Key="mp/finish.json")["UploadId"]
        e1 = s3.upload_part(Bucket=bucket, Key="mp/finish.json", UploadId=finish, PartNumber=1,
                            Body=body[:PART])["ETag"]
        drop = s3.create_multipart_upload(Bucket=bucket, Key="mp/drop.json")["UploadId"]
        s3.upload_part(Bucket=bucket, Key="mp/drop.json", UploadId=drop, PartNumber=1,
                       Body=body[:PART])
        server.kill()
        self.start()
        s3 = self.helper.boto3(conn)
        self.assertEqual(sorted(self.listed_uploads(s3, bucket)), sorted([finish, drop]))
        self.assertEqual(sorted(self.uploads_on_disk()), sorted([finish, drop]))
        listed = s3.list_parts(Bucket=bucket, Key="mp/finish.json", UploadId=finish)["Parts"]
        self.assertEqual([(p["PartNumber"], p["ETag"]) for p in listed], [(1, e1)])
        e2 = s3.upload_part(Bucket=bucket, Key="mp/finish.json", UploadId=finish, PartNumber=2,
                            Body=body[PART:])["ETag"]
        self.complete(s3, bucket, "mp/finish.json", finish,
                      [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}])
        loaded_keys.append("mp/finish.json")
        s3.abort_multipart_upload(Bucket=bucket, Key="mp/drop.json", UploadId=drop)
        self.assertEqual(self.listed_uploads(s3, bucket), [])
        self.assertEqual(self.uploads_on_disk(), [])
        with self.assertRaises(botocore.exceptions.ClientError) as gone:
            s3.list_parts(Bucket=bucket, Key="mp/drop.json", UploadId=drop)
        self.assertEqual(gone.exception.response["Error"]["Code"], "NoSuchUpload")

        # Every acknowledged multipart file is loaded exactly once.
        ledger = self.helper.wait_files(conn, "mp", len(loaded_keys))
        self.assertEqual(sorted(f["key"] for f in ledger), sorted(loaded_keys))
        self.assertTrue(all(f["status"] == "loaded" for f in ledger), ledger)
        self.assertEqual(self.objects_on_disk(), len(ledger), "landed objects vs the ledger")
        self.assertEqual(self.server.stop(), 0)
        db = self.pool(conn)
        applied = [s for (s,) in db.execute("SELECT seq FROM _sluice_applied")]
        self.assertEqual(sorted(applied), sorted(f["seq"] for f in ledger))
        db.close()


if __name__ == "__main__":
    unittest.main()
