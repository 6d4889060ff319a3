#!/usr/bin/env python3
"""Long files and long functions (issue 10 item 8), run as a meson test.

A file over MAX_FILE lines or a function over MAX_FUNC lines (from its
signature to its closing brace) must be listed in tests/sizes.allow with the
reason it is long; an unlisted one fails the test.  Listed entries that are
no longer over the limit are printed (remove them), without failing.

Functions are found the way manx writes them: the body's "{" and "}" alone
at column 0, the signature on the lines just above the "{".

Usage: check_sizes.py SOURCE_ROOT [--list]   (--list prints every size)
"""
import os
import re
import sys

MAX_FILE = 1200
MAX_FUNC = 100
DIRS = ["conf", "protocol", "router", "proxy", "tests", "bench"]


def functions(lines):
    """(name, first line, length) of each function body in a C file."""
    i = 0
    while i < len(lines):
        if lines[i] == "{":
            j = i - 1
            # Walk up over the signature's continuation lines.
            while (j > 0 and lines[j - 1].strip() and lines[j - 1][0] in " \t" and
                   not lines[j - 1].lstrip().startswith(("*", "/*"))):
                j -= 1
            k = i + 1
            while k < len(lines) and lines[k] != "}":
                k += 1
            m = re.search(r"(\w+)\s*\(", lines[j])
            if m:
                yield m.group(1), j + 1, k - j + 1
            i = k
        i += 1


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "."
    show = "--list" in sys.argv
    allow = {}
    for raw in open(os.path.join(root, "tests", "sizes.allow"), encoding="utf-8"):
        if not raw.strip() or raw.startswith("#"):
            continue
        parts = raw.rstrip("\n").split("\t")
        if len(parts) != 3 or not parts[2].strip():
            print(f"tests/sizes.allow: malformed line (path TAB function-or-* TAB reason): {raw.strip()}")
            return 1
        allow[(parts[0], parts[1])] = parts[2]
    over = {}
    for d in DIRS:
        for dirpath, _, files in os.walk(os.path.join(root, d)):
            for f in sorted(files):
                if not f.endswith((".c", ".h")):
                    continue
                path = os.path.join(dirpath, f)
                rel = os.path.relpath(path, root)
                lines = open(path, encoding="utf-8", errors="replace").read().split("\n")
                n = len(lines) - (1 if lines[-1] == "" else 0)
                if n > MAX_FILE:
                    over[(rel, "*")] = f"{rel}: {n} lines (limit {MAX_FILE})"
                for name, first, length in functions(lines):
                    if length > MAX_FUNC:
                        over[(rel, name)] = f"{rel}:{first}: {name}() is {length} lines (limit {MAX_FUNC})"
    bad = 0
    for key, text in sorted(over.items()):
        if key in allow:
            if show:
                print(f"{text}: {allow[key]}")
        else:
            print(f"{text}: not in tests/sizes.allow (shorten it, or list it with the reason it is long)")
            bad += 1
    for key in sorted(set(allow) - set(over)):
        print(f"tests/sizes.allow: {key[0]} {key[1]} is no longer over the limit: remove the entry")
    print(f"check_sizes: {len(over)} over the limits, {bad} not allowed")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
