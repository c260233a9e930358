"""Streaming bound of the Parquet reader (issue 4): a ~1 GB file with a single row group,
written by DuckDB, is read by `sluice cat` with a peak RSS under 512 MiB.

Slow (about half a minute: DuckDB writes the file, sluice reads it), hence the label
`parquet_slow`. Environment: SLUICE_BIN (the sluice binary), SLUICE_TOOLS (tests/tools, with
its node_modules installed). The file goes to a temporary directory that is removed after.
"""

import json
import os
import subprocess
import sys
import tempfile
import unittest

ROWS = 18_000_000
LIMIT_BYTES = 512 * 1024 * 1024


class ParquetMemoryTest(unittest.TestCase):
    def test_single_row_group_gigabyte_file_streams_under_512_mib(self):
        tools = os.environ["SLUICE_TOOLS"]
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "big.parquet")
            subprocess.run(
                ["node", os.path.join(tools, "duckdb_sql.mjs"),
                 "SET preserve_insertion_order=false",
                 "COPY (SELECT i AS id, i * 1.5::DOUBLE AS d, md5(i::VARCHAR) AS s, "
                 f"(i % 1000)::INTEGER AS k FROM range(0, {ROWS}) t(i)) TO '{path}' "
                 "(FORMAT parquet, ROW_GROUP_SIZE 100000000, ROW_GROUP_SIZE_BYTES '100GB', "
                 "COMPRESSION uncompressed)"],
                check=True, capture_output=True, cwd=tools)
            size = os.path.getsize(path)
            self.assertGreater(size, 900 * 1024 * 1024, "the generated file should be ~1 GB")
            schema = json.loads(subprocess.run([os.environ["SLUICE_BIN"], "schema", path],
                                               check=True, capture_output=True).stdout)
            self.assertEqual(schema["num_row_groups"], 1)
            # A fresh Python runs sluice cat, counts the rows as they stream by and reports its
            # child's peak RSS (ru_maxrss, KiB on Linux): node's peak must not be counted.
            measure = (
                "import resource, subprocess, sys\n"
                "p = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE)\n"
                "n = sum(c.count(b'\\n') for c in iter(lambda: p.stdout.read(1 << 20), b''))\n"
                "rc = p.wait()\n"
                "print(rc, n, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024)\n")
            out = subprocess.run([sys.executable, "-c", measure, os.environ["SLUICE_BIN"], "cat",
                                  path], check=True, capture_output=True, text=True).stdout
            rc, lines, peak = (int(x) for x in out.split())
            self.assertEqual(rc, 0)
            self.assertEqual(lines, ROWS)
            print(f"peak RSS {peak / 2**20:.0f} MiB for a {size / 2**20:.0f} MiB file")
            self.assertLess(peak, LIMIT_BYTES)


if __name__ == "__main__":
    unittest.main()
