#!/usr/bin/env python3
"""Summarizes run.sh's measurements: one input line per file and repetition,
   KIND FILE_NAME DUCKDB_JSON SLUICE_JSON
and prints rows/s (median of the repetitions) for sluice and for DuckDB's two scans (hash:
sum(hash(COLUMNS(*))), the reference; max: max(COLUMNS(*)), a stricter bound), each with the
ratio sluice/DuckDB.
Exit 1 when the two engines read different row counts."""
import json
import statistics
import sys


def main():
    print(f"{'file':<30} {'rows':>9} {'sluice':>12} {'duckdb hash':>12} {'ratio':>6} "
          f"{'duckdb max':>12} {'ratio':>6}")
    print("(rows/s, median over the repetitions; ratio = sluice / DuckDB, >= 1 means sluice is "
          "faster)")
    bad = 0
    runs = {}  # (kind, name) -> merged duckdb and sluice measurements, in input order
    for line in sys.stdin:
        if not line.strip():
            continue
        kind, name, rest = line.split(" ", 2)
        decoder = json.JSONDecoder()
        duck, end = decoder.raw_decode(rest)
        sluice, _ = decoder.raw_decode(rest[end:].lstrip())
        run = runs.setdefault((kind, name), {"rows": set(), "hash": [], "max": [],
                                             "hash_cpu": [], "max_cpu": [], "cpu": [],
                                             "sluice_rows": set(), "seconds": [],
                                             "decode": [], "checksums": set(), "refused": None})
        run["rows"].add(duck["rows"])
        run["hash"] += duck["seconds"]["hash"]
        run["max"] += duck["seconds"]["max"]
        run["hash_cpu"] += duck["cpu_seconds"]["hash"]
        run["max_cpu"] += duck["cpu_seconds"]["max"]
        if "refused" in sluice:
            run["refused"] = sluice["refused"].strip()
        else:
            run["sluice_rows"].add(sluice["rows"])
            run["seconds"] += sluice["seconds"]
            run["decode"] += sluice["decode_seconds"]
            run["cpu"] += sluice["cpu_seconds"]
            run["checksums"].add(sluice["checksum"])
    for (kind, name), run in runs.items():
        rows = max(run["rows"])
        d_rate = rows / statistics.median(run["hash"])
        m_rate = rows / statistics.median(run["max"])
        if run["refused"] is not None:
            print(f"{name:<30} {rows:>9} {'refused':>12} {d_rate:>12,.0f} {'-':>6} "
                  f"{m_rate:>12,.0f} {'-':>6}")
            print(f"  sluice refuses the {kind} file (not supported yet): {run['refused']}")
            continue
        s_rows = max(run["sluice_rows"])
        s_rate = s_rows / statistics.median(run["seconds"])
        print(f"{name:<30} {s_rows:>9} {s_rate:>12,.0f} {d_rate:>12,.0f} "
              f"{s_rate / d_rate:>6.2f} {m_rate:>12,.0f} {s_rate / m_rate:>6.2f}")
        c_rate = s_rows / statistics.median(run["cpu"])
        ch_rate = rows / statistics.median(run["hash_cpu"])
        cm_rate = rows / statistics.median(run["max_cpu"])
        print(f"{'  per CPU second':<30} {'':>9} {c_rate:>12,.0f} {ch_rate:>12,.0f} "
              f"{c_rate / ch_rate:>6.2f} {cm_rate:>12,.0f} {c_rate / cm_rate:>6.2f}")
        decode = statistics.median(run["decode"]) / statistics.median(run["seconds"])
        print(f"  sluice: {decode:.0%} of its time in the reader (open + Next), the rest touching "
              f"every value; {len(run['seconds'])} repetitions")
        if len(run["rows"] | run["sluice_rows"]) != 1:
            print(f"  ROW COUNT MISMATCH: sluice {sorted(run['sluice_rows'])}, "
                  f"duckdb {sorted(run['rows'])}")
            bad = 1
        if len(run["checksums"]) != 1:
            print(f"  sluice read different values on different repetitions")
            bad = 1
    sys.exit(bad)


if __name__ == "__main__":
    main()
