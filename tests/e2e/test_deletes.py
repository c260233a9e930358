"""End to end: the delete column through S3. A true value deletes the stored row; with an age
column the delete leaves a tombstone, so an older version pushed later is refused while a newer
one brings the row back. Each file's outcome is read back through HeadObject."""

import os
import tempfile
import unittest

from harness import SluiceTestCase, duckdb


class DeleteColumnTest(SluiceTestCase):
    def push_all(self, conn, table, files):
        """Writes each (name, SELECT) with DuckDB, pushes them in order with the PUT waiting
        for its load, and returns the x-amz-meta-sluice-* headers of each."""
        s3 = self.boto3(conn)
        with tempfile.TemporaryDirectory() as tmp:
            paths = [os.path.join(tmp, name + ".parquet") for name, _ in files]
            duckdb(*[f"COPY ({sql}) TO '{p}' (FORMAT parquet)"
                     for (_, sql), p in zip(files, paths)])
            heads = []
            for (name, _), path in zip(files, paths):
                with open(path, "rb") as f:
                    r = s3.put_object(Bucket=conn["bucket"], Key=f"{table}/{name}.parquet",
                                      Body=f.read(), Metadata={"sluice-wait": "30"})
                meta = r["ResponseMetadata"]["HTTPHeaders"]
                heads.append({k[len("x-amz-meta-sluice-"):]: v for k, v in meta.items()
                              if k.startswith("x-amz-meta-sluice-")})
        return heads

    def test_deletes_with_tombstones_refuse_older_versions(self):
        conn = self.create_connection("deletes-age")
        self.sluice("table", "add", conn["bucket"], "items", "--pk", "id", "--age-column", "v",
                    "--delete-column", "_deleted")
        heads = self.push_all(conn, "items", [
            ("1-insert", "SELECT * FROM (VALUES (1, 2, 'a', false), (2, 2, 'b', false)) "
                         "t(id, v, note, _deleted)"),
            # Deletes key 1 (age 3 >= 2); an older delete of key 2 (age 1 < 2) is refused.
            ("2-delete", "SELECT * FROM (VALUES (1, 3, NULL::VARCHAR, true), (2, 1, NULL::VARCHAR, true)) "
                         "t(id, v, note, _deleted)"),
            # An older version of key 1 arrives late: the tombstone (age 3) refuses it.
            ("3-late", "SELECT 1 AS id, 2 AS v, 'late' AS note, false AS _deleted"),
            # A newer version brings it back.
            ("4-newer", "SELECT 1 AS id, 4 AS v, 'back' AS note, false AS _deleted"),
        ])
        self.assertTrue(all(h["status"] == "loaded" for h in heads), heads)
        counts = [(h["rows-inserted"], h["rows-updated"], h["rows-deleted"], h["rows-refused"])
                  for h in heads]
        self.assertEqual(counts, [("2", "0", "0", "0"), ("0", "0", "1", "1"),
                                  ("0", "0", "0", "1"), ("1", "0", "0", "0")])
        self.assertEqual(self.query(conn, "SELECT id, v, note FROM items ORDER BY id"),
                         [{"id": 1, "v": 4, "note": "back"}, {"id": 2, "v": 2, "note": "b"}])
        # The delete column is a control column: not stored.
        columns = self.column_names(conn, "items")
        self.assertNotIn("_deleted", columns)

    def test_deletes_without_an_age_column_simply_remove(self):
        conn = self.create_connection("deletes-plain")
        self.sluice("table", "add", conn["bucket"], "plain_items", "--pk", "id",
                    "--delete-column", "_deleted")
        heads = self.push_all(conn, "plain_items", [
            ("1", "SELECT * FROM (VALUES (1, 'a', false), (2, 'b', false)) t(id, note, _deleted)"),
            ("2", "SELECT 1 AS id, NULL::VARCHAR AS note, true AS _deleted"),
            # No tombstone without an age column: the key can come back with any version.
            ("3", "SELECT 1 AS id, 'again' AS note, false AS _deleted"),
        ])
        self.assertEqual([h["rows-deleted"] for h in heads], ["0", "1", "0"])
        self.assertEqual([h["rows-inserted"] for h in heads], ["2", "0", "1"])
        self.assertEqual(self.query(conn, "SELECT id, note FROM plain_items ORDER BY id"),
                         [{"id": 1, "note": "again"}, {"id": 2, "note": "b"}])


if __name__ == "__main__":
    unittest.main()
