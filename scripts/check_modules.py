#!/usr/bin/env python3
"""The module rules of src/sluice, checked (part of the lint step, scripts/lint.sh).

1. Dependency order. A file of module M may include `sluice/X/...` only when X is M or a module
   M depends on, directly or through others. The dependencies are the DEPS of each
   `sluice_module(NAME ... DEPS ...)` in src/sluice/*/CMakeLists.txt: the build and this check
   read the same list, so an upward include fails here before it can link by accident.
2. Private headers. A header named `*_internal.h` belongs to its module: only files of that
   module include it. A header whose opening comment calls itself private must carry that name
   (one convention, visible at every include site).
3. Test support. `*_testing.h` headers and everything under `sluice/core/testing/` are for
   tests only: they are included from tests, fuzz targets, benchmarks and other test support,
   never from code that ships in the binary.

Usage: scripts/check_modules.py [REPO_ROOT]   (exit 1 and one line per violation)
"""

import pathlib
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s*"sluice/([^"]+)"', re.M)
MODULE_CALL = re.compile(r"sluice_module(_test)?\(\s*(\w+)(.*?)\)", re.S)
KEYWORDS = {"SOURCES", "DEPS", "PRIVATE_LIBS", "PUBLIC_LIBS", "LIBS", "THREADED"}
PRIVATE_WORDS = re.compile(r"^//.*\b(private to|not part of (the|its) module)", re.I)


def module_deps(src: pathlib.Path):
    """DEPS of each sluice_module, and the sluice_* LIBS each sluice_module_test adds."""
    deps, test_deps = {}, {}
    for cmake in sorted(src.glob("*/CMakeLists.txt")):
        text = re.sub(r"#[^\n]*", "", cmake.read_text())
        for test, name, args in MODULE_CALL.findall(text):
            listed, on = [], False
            for w in args.split():
                if w in KEYWORDS:
                    on = w == ("LIBS" if test else "DEPS")
                elif on and not test:
                    listed.append(w)
                elif on and w.startswith("sluice_"):
                    listed.append(w[len("sluice_"):].removesuffix("_testing"))
            (test_deps if test else deps)[name] = set(listed)
    return deps, test_deps


def closure(deps: dict) -> dict:
    out = {}

    def visit(m, stack):
        if m in out:
            return out[m]
        if m in stack:
            raise SystemExit(f"module cycle: {' -> '.join(stack + [m])}")
        below = set()
        for d in deps.get(m, ()):
            below |= {d} | visit(d, stack + [m])
        out[m] = below
        return below

    for m in deps:
        visit(m, [])
    return out


def is_test_code(rel: str) -> bool:
    name = rel.rsplit("/", 1)[-1]
    return (rel.startswith(("tests/", "bench/", "src/sluice/core/testing/"))
            or re.search(r"_(test|bench|fuzz)\.cc$", name) is not None
            or name.endswith("_testing.h"))


def opening_comment(text: str) -> str:
    lines = []
    for line in text.splitlines():
        if line.startswith("#pragma"):
            continue
        if not line.startswith("//"):
            break
        lines.append(line)
    return "\n".join(lines)


def main() -> int:
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
    src = root / "src" / "sluice"
    deps, test_deps = module_deps(src)
    below = closure(deps)
    problems = []
    files = [p for p in root.glob("src/**/*") if p.suffix in (".h", ".cc")]
    files += [p for d in ("tests", "bench") for p in (root / d).glob("**/*")
              if p.suffix in (".h", ".cc") and "node_modules" not in p.parts]
    for path in sorted(files):
        rel = path.relative_to(root).as_posix()
        text = path.read_text(errors="replace")
        parts = rel.split("/")
        own = parts[2] if rel.startswith("src/sluice/") and len(parts) > 3 else None
        if own is not None and own not in deps:
            problems.append(f"{rel}: src/sluice/{own}/ is not a module (no sluice_module({own} ...))")
            continue
        if path.suffix == ".h" and PRIVATE_WORDS.search(opening_comment(text)) \
                and not path.name.endswith(("_internal.h", "_testing.h")):
            problems.append(f"{rel}: calls itself private; name it *_internal.h")
        for m in INCLUDE.finditer(text):
            target = m.group(1)
            line = text.count("\n", 0, m.start()) + 1
            where = f"{rel}:{line}: includes sluice/{target}"
            module = target.split("/", 1)[0]
            if module not in deps:
                problems.append(f"{where}: no module {module}")
                continue
            if not (root / "src" / "sluice" / target).exists():
                problems.append(f"{where}: no such file")
                continue
            allowed = set(below[own]) if own is not None else set()
            if own is not None and is_test_code(rel):
                for extra in test_deps.get(own, ()):
                    allowed |= {extra} | below.get(extra, set())
            if own is not None and module != own and module not in allowed:
                order = ", ".join(sorted(below[own])) or "nothing"
                problems.append(f"{where}: module {own} does not depend on {module} "
                                f"(it may include: {order}; DEPS in src/sluice/{own}/CMakeLists.txt)")
                continue
            if target.endswith("_internal.h") and module != own:
                problems.append(f"{where}: a private header of module {module}")
            testing = target.endswith("_testing.h") or target.startswith("core/testing/")
            if testing and not is_test_code(rel):
                problems.append(f"{where}: test support, included from code that ships")
    for p in problems:
        print(p)
    if problems:
        print(f"module rules: {len(problems)} violation(s)")
        return 1
    print(f"module rules: {len(files)} files, {len(deps)} modules clean")
    return 0


if __name__ == "__main__":
    sys.exit(main())
