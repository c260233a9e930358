#!/usr/bin/env python3
"""Every header under src/sluice compiles on its own (part of the lint step, scripts/lint.sh).

For each header, a translation unit holding only `#include "sluice/<header>"` (twice, so that a
missing `#pragma once` shows too) is compiled with -fsyntax-only, using the compile command of
a source file of the same module from BUILD/compile_commands.json (a test's command for test
support: `*_testing.h` and core/testing/). A header that leans on what its includer happened to
include first fails here with the compiler's message.

Usage: scripts/check_headers.py BUILD_DIR [HEADER ...]   (exit 1 when any header fails)
"""

import concurrent.futures
import json
import os
import pathlib
import shlex
import subprocess
import sys
import tempfile


def is_test_support(rel: str) -> bool:
    return rel.endswith("_testing.h") or "/core/testing/" in rel


def pick_command(entries: list, header: pathlib.Path, module_dir: pathlib.Path, test: bool):
    """The command of a source of the header's module: test or not as asked, nearest first."""
    def rank(e):
        src = pathlib.Path(e["file"])
        is_test = src.name.endswith("_test.cc")  # unit tests get SLUICE_SHARED_DIR and gtest
        return (is_test != test, src.parent != header.parent, str(src))
    mine = [e for e in entries if module_dir in pathlib.Path(e["file"]).parents]
    return min(mine, key=rank) if mine else None


def syntax_command(entry: dict, tu: str) -> list:
    args = entry.get("arguments") or shlex.split(entry["command"])
    out, skip = [], False
    for a in args:
        if skip:
            skip = False
            continue
        if a in ("-o", "-c", "-MF", "-MT", "-MQ"):
            skip = True
            continue
        if a in ("-MD", "-MMD") or a == entry["file"] or a.endswith(entry["file"]):
            continue
        out.append(a)
    return out + ["-fsyntax-only", tu]


def main() -> int:
    build = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "build").resolve()
    root = pathlib.Path(__file__).resolve().parent.parent
    entries = json.loads((build / "compile_commands.json").read_text())
    src = root / "src"
    if len(sys.argv) > 2:
        headers = [pathlib.Path(h).resolve() for h in sys.argv[2:]]
    else:
        headers = sorted((src / "sluice").glob("**/*.h"))
    tmp = tempfile.mkdtemp(prefix="sluice-headers-")

    def check(header: pathlib.Path):
        rel = header.relative_to(src).as_posix()
        module_dir = src / "sluice" / rel.split("/")[1]
        entry = pick_command(entries, header, module_dir, is_test_support(rel))
        if entry is None:
            return rel, f"no compile command for a source beside {rel}"
        tu = os.path.join(tmp, rel.replace("/", "_") + ".cc")
        with open(tu, "w") as f:
            f.write(f'#include "{rel}"\n#include "{rel}"\n')
        r = subprocess.run(syntax_command(entry, tu), cwd=entry["directory"],
                           capture_output=True, text=True)
        return rel, (r.stdout + r.stderr).strip() if r.returncode else None

    failed = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        for rel, error in pool.map(check, headers):
            if error:
                failed += 1
                print(f"{rel}: does not compile on its own:\n{error}\n")
    if failed:
        print(f"headers: {failed} of {len(headers)} do not compile on their own")
        return 1
    print(f"headers: {len(headers)} compile on their own")
    return 0


if __name__ == "__main__":
    sys.exit(main())
