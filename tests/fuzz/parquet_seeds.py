#!/usr/bin/env python3
"""Writes the seed corpora of the parquet fuzz targets from the shared corpus.

Usage: parquet_seeds.py SHARED_PARQUET_DIR OUT_DIR MAX_FILE_BYTES

  OUT_DIR/parquet_file_fuzz/    every .parquet file of the corpus up to MAX_FILE_BYTES
                                (whole files: valid, damaged and rejected ones alike)
  OUT_DIR/parquet_footer_fuzz/  the footer (thrift FileMetaData bytes) of every file whose
                                frame is intact, whatever its size

Seeds are derived at build time and never committed (the corpus is the source of truth).
"""
import hashlib
import os
import shutil
import struct
import sys


def main():
    shared, out, max_bytes = sys.argv[1], sys.argv[2], int(sys.argv[3])
    file_dir = os.path.join(out, "parquet_file_fuzz")
    footer_dir = os.path.join(out, "parquet_footer_fuzz")
    for d in (file_dir, footer_dir):
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
    files = footers = 0
    for root, _, names in sorted(os.walk(shared)):
        for name in sorted(names):
            if not (name.endswith(".parquet") or name.endswith(".parquet.encrypted")):
                continue
            with open(os.path.join(root, name), "rb") as f:
                data = f.read()
            digest = hashlib.sha1(data).hexdigest()[:16]
            if len(data) <= max_bytes:
                with open(os.path.join(file_dir, digest), "wb") as f:
                    f.write(data)
                files += 1
            if len(data) >= 12 and data[-4:] == b"PAR1":
                (length,) = struct.unpack("<I", data[-8:-4])
                if 0 < length <= len(data) - 12:
                    footer = data[len(data) - 8 - length:len(data) - 8]
                    with open(os.path.join(footer_dir, digest), "wb") as f:
                        f.write(footer)
                    footers += 1
    if files == 0 or footers == 0:
        sys.exit(f"parquet_seeds: no seeds found under {shared}")
    print(f"parquet_seeds: {files} file seeds, {footers} footer seeds in {out}")


if __name__ == "__main__":
    main()
