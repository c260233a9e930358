"""End to end: hostile files against a real `sluice serve` running under `ulimit -v` (about
4 GB of address space, issue 10). Each file is pushed with boto3 to a table of its own; for
each, the server stays up, /healthz answers, the file ends `failed` with a code and a message
naming the limit or the damage, and a good file pushed behind it to another table loads.

The files come from hostile_files.py (hand-built, so each is exactly its attack): the
dictionary bomb (1.2 KB that decodes to 64 GiB), a gzip JSON file inflating to 4 GiB, a
Parquet file whose 40 columns each hold a 100 MiB page, a JSON list of 400,000 `{}` whose
element struct has 1,500 fields, JSON and Parquet nested far too deep, and a real file truncated and with a damaged page header."""

import os
import unittest

import hostile_files as hf
from harness import GENERATED, TEST_PG, SluiceTestCase, wait_for

ADDRESS_SPACE = 4_000_000 * 1024  # ulimit -v 4000000


def rss_kib(pid, field="VmRSS"):
    """The server's resident set (VmRSS) or its peak so far (VmHWM), KiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


class HostileFilesTest(SluiceTestCase):
    address_space = ADDRESS_SPACE
    server_args = ("--load-workers", "2")

    def setUp(self):
        if not hasattr(type(self), "conn"):
            type(self).conn = self.create_connection("hostile")
            self.add_table(self.conn, "good", "order_id")
        self.s3 = self.boto3(self.conn)

    def push(self, key, body):
        self.s3.put_object(Bucket=self.conn["bucket"], Key=key, Body=body)

    def status_of(self, table, key):
        for f in self.files(self.conn, table):
            if f["key"] == key:
                return f
        return None

    def refused(self, name, body, pk, code, mentions, timeout=120):
        """Pushes `body` to table `name`, then a good file to `good`; both end as expected."""
        self.add_table(self.conn, name, pk)
        key = f"{name}/file"
        self.push(key, body)
        # Unique content: a copy of an earlier good file would be skipped as a duplicate.
        good_key = f"good/after_{name}.jsonl"
        self.push(good_key, f'{{"order_id": {len(name)}, "note": "after {name}"}}\n'.encode())

        def finished():
            f = self.status_of(name, key)
            return f if f and f["status"] in ("failed", "loaded") else None
        try:
            record = wait_for(finished, timeout=timeout, what=f"{key} to finish")
        except AssertionError:
            print(self.server.log())
            raise
        self.assertIsNone(self.server.proc.poll(), "the server died:\n" + self.server.log())
        self.assertEqual(self.server.http_get("/healthz"), "ok\n")
        shown = self.sluice("files", "show", str(record["seq"]), "--json").stdout
        self.assertEqual(record["status"], "failed", shown)
        self.assertEqual(record["error_code"], code, shown)
        for m in mentions:
            self.assertIn(m, record["error_message"], shown)
        wait_for(lambda: (self.status_of("good", good_key) or {}).get("status") == "loaded",
                 timeout=60, what=f"{good_key} to load behind {key}")
        print(f"{name}: {code}: {record['error_message'][:160]} "
              f"(server RSS {rss_kib(self.server.proc.pid) // 1024} MiB)")

    def test_dictionary_bomb(self):
        body = hf.dictionary_bomb()
        self.assertLess(len(body), 2048)
        if TEST_PG:
            # PostgreSQL refuses the first batch's 12 KB key values (a b-tree entry holds at
            # most a third of a page) before the reader meets the bomb: refused all the same.
            self.refused("dict_bomb", body, "x", "LIMIT_EXCEEDED", ["index row requires"])
        else:
            self.refused("dict_bomb", body, "x", "CORRUPT_FILE", ["decompression bomb"])

    def test_gzip_json_bomb(self):
        body = hf.gzip_json_bomb()
        self.assertLess(len(body), 8 << 20)
        self.refused("gzip_bomb", body, "id", "CORRUPT_FILE", ["gzip", "decompression bomb"])

    def test_columns_claiming_huge_pages(self):
        self.refused("huge_pages", hf.huge_pages(), "c0", "LIMIT_EXCEEDED",
                     ["buffer budget", "--load-memory"])

    def test_deep_json(self):
        self.refused("deep_json", hf.deep_json(), "id", "LIMIT_EXCEEDED",
                     ["nested deeper than 64 levels"])

    def test_json_slot_bomb(self):
        body = hf.json_slot_bomb()
        self.assertLess(len(body), 2 << 20)
        self.refused("slot_bomb", body, "id", "LIMIT_EXCEEDED",
                     ["its list and map entries", "--load-memory"])

    def test_deep_parquet(self):
        self.refused("deep_parquet", hf.deep_parquet_schema(), "id", "CORRUPT_FILE",
                     ["nested deeper than 64 levels"])

    def test_truncated_and_bit_flipped(self):
        with open(os.path.join(GENERATED, "orders_v1.parquet"), "rb") as f:
            good = f.read()
        self.refused("truncated", good[: len(good) // 2], "order_id", "CORRUPT_FILE", [])
        flipped = bytearray(good)
        for i in range(4, 12):  # the first page header
            flipped[i] ^= 0xFF
        self.refused("flipped", bytes(flipped), "order_id", "CORRUPT_FILE", [])

    @classmethod
    def tearDownClass(cls):
        pid = cls.server.proc.pid
        print(f"server RSS at the end: {rss_kib(pid) // 1024} MiB, "
              f"peak {rss_kib(pid, 'VmHWM') // 1024} MiB")
        super().tearDownClass()


if __name__ == "__main__":
    unittest.main()
