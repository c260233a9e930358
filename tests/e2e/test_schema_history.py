"""End to end: schema evolution through S3 (a new column, int32 -> int64 and date ->
timestamp widening) and `sluice table history` reporting each change with its file."""

import datetime
import json
import os
import tempfile
import unittest

from harness import SluiceTestCase, duckdb


class SchemaHistoryTest(SluiceTestCase):
    def test_evolution_is_recorded_per_file(self):
        conn = self.create_connection("history")
        self.add_table(conn, "evolving", "id")
        with tempfile.TemporaryDirectory() as tmp:
            v1, v2 = os.path.join(tmp, "v1.parquet"), os.path.join(tmp, "v2.parquet")
            duckdb(f"COPY (SELECT 1::INTEGER AS id, DATE '2024-01-02' AS day) TO '{v1}' (FORMAT parquet)",
                   f"COPY (SELECT 5000000000::BIGINT AS id, TIMESTAMP '2024-01-02 12:00:00' AS day, "
                   f"'x' AS note) TO '{v2}' (FORMAT parquet)")
            s3 = self.boto3(conn)
            s3.upload_file(v1, conn["bucket"], "evolving/v1.parquet")
            self.wait_files(conn, "evolving", 1)
            s3.upload_file(v2, conn["bucket"], "evolving/v2.parquet")
            files = self.wait_files(conn, "evolving", 2)
        seqs = [f["seq"] for f in files]
        history = self.sluice_json("table", "history", conn["bucket"], "evolving", "--json")
        got = [(h["seq"], h["change"], h["column"], h["old_type"], h["new_type"]) for h in history]
        self.assertEqual(got, [
            (seqs[0], "create", "id", None, "INTEGER"),
            (seqs[0], "create", "day", None, "DATE"),
            (seqs[1], "widen", "id", "INTEGER", "BIGINT"),
            (seqs[1], "widen", "day", "DATE", "TIMESTAMP"),
            (seqs[1], "add", "note", None, "VARCHAR"),
        ])
        # The stored date was rewritten as a timestamp, so the rows compare in time order.
        rows = self.query(conn, "SELECT id, day FROM evolving ORDER BY day")
        # (Each pool prints timestamps its own way: SQLite's stored text, PostgreSQL's output.)
        self.assertEqual([datetime.datetime.fromisoformat(r["day"]) for r in rows],
                         [datetime.datetime(2024, 1, 2, 0, 0), datetime.datetime(2024, 1, 2, 12, 0)])
        text = self.sluice("table", "history", conn["bucket"], "evolving").stdout
        self.assertIn("widen", text)
        missing = self.sluice("table", "history", conn["bucket"], "nope", check=False)
        self.assertNotEqual(missing.returncode, 0)
        self.assertIn("no table 'nope'", missing.stderr)

    def sluice_json(self, *args):
        return json.loads(self.sluice(*args).stdout)


if __name__ == "__main__":
    unittest.main()
