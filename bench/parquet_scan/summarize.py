#!/usr/bin/env python3
"""Summarizes run.sh's measurements: one input line per file,
   KIND FILE_NAME DUCKDB_JSON SLUICE_JSON
and prints rows/s (median of the repetitions) for sluice and for DuckDB's two scans (hash:
sum(hash(COLUMNS(*))), the reference; max: max(COLUMNS(*)), a stricter bound), each with the
ratio sluice/DuckDB.
Exit 1 when the two engines read different row counts."""
import json
import statistics
import sys


def main():
    print(f"{'file':<30} {'rows':>9} {'sluice rows/s':>14} {'duckdb hash':>12} {'ratio':>6} "
          f"{'duckdb max':>12} {'ratio':>6}")
    bad = 0
    for line in sys.stdin:
        if not line.strip():
            continue
        kind, name, rest = line.split(" ", 2)
        decoder = json.JSONDecoder()
        duck, end = decoder.raw_decode(rest)
        sluice, _ = decoder.raw_decode(rest[end:].lstrip())
        d_rate = duck["rows"] / statistics.median(duck["seconds"]["hash"])
        m_rate = duck["rows"] / statistics.median(duck["seconds"]["max"])
        if "refused" in sluice:
            print(f"{name:<30} {duck['rows']:>9} {'refused':>14} {d_rate:>12,.0f} {'-':>6} "
                  f"{m_rate:>12,.0f} {'-':>6}")
            print(f"  sluice refuses the {kind} file (not supported yet): "
                  f"{sluice['refused'].strip()}")
            continue
        s_rate = sluice["rows"] / statistics.median(sluice["seconds"])
        print(f"{name:<30} {sluice['rows']:>9} {s_rate:>14,.0f} {d_rate:>12,.0f} "
              f"{s_rate / d_rate:>6.2f} {m_rate:>12,.0f} {s_rate / m_rate:>6.2f}")
        decode = statistics.median(sluice["decode_seconds"]) / statistics.median(sluice["seconds"])
        print(f"  sluice: {decode:.0%} of its time in the reader (open + Next), the rest touching "
              f"every value")
        if sluice["rows"] != duck["rows"]:
            print(f"  ROW COUNT MISMATCH: sluice {sluice['rows']}, duckdb {duck['rows']}")
            bad = 1
    sys.exit(bad)


if __name__ == "__main__":
    main()
