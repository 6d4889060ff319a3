#!/usr/bin/env python3
"""Header hygiene of the source tree (issue 10 item 8), run as a meson test.

Fails, naming file and line, when a header
  - does not open with a comment saying what it is for,
  - has no include guard, or has anything but blank lines after its #endif,
  - declares a function that its own .c does not define (a header without
    a .c of the same name declares none: types, macros, static inline),
  - is not in tests/meson.build's checked_headers (the list every build
    compiles alone, so a new header gets that check too).

Usage: check_headers.py SOURCE_ROOT
"""
import os
import re
import sys

DIRS = ["conf", "protocol", "router", "proxy", "tests/fuzz", "tests/unit"]

# A function declaration at file level: a return type, a name, "(".  Lines
# starting with static, typedef, #, a comment or whitespace are skipped;
# continuation lines of a declaration start with whitespace.
DECL = re.compile(r"^(?!static\b|typedef\b|extern\b|#|/\*| \*|\s)[A-Za-z_][\w \t\*]*?\b(\w+)\s*\(", re.M)
# A non-static function definition: the same at column 0, and its body's
# "{" on a line of its own later (manx's style).
DEF = re.compile(r"^(?!static\b|typedef\b|extern\b|#|/\*| \*|\s)[A-Za-z_][\w \t\*]*?\b(\w+)\s*\(", re.M)


def strip_comments(text):
    # Keep line numbers: replace comments by as many newlines.
    return re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)


def definitions(c_text):
    """Names of the non-static functions a .c file defines."""
    text = strip_comments(c_text)
    names = set()
    for m in DEF.finditer(text):
        # A definition, not a prototype: the next ";" or "{" after the
        # parameter list decides.
        rest = text[m.end():]
        depth, i = 1, 0
        while i < len(rest) and depth:
            depth += {"(": 1, ")": -1}.get(rest[i], 0)
            i += 1
        after = rest[i:].lstrip()
        if after.startswith("{") or after.startswith("__attribute__"):
            names.add(m.group(1))
    return names


def check_header(root, rel, listed, problems):
    path = os.path.join(root, rel)
    text = open(path, encoding="utf-8").read()
    if not text.startswith("/*"):
        problems.append(f"{rel}:1: does not open with a comment saying what it is for")
    if rel not in listed:
        problems.append(f"{rel}: not in checked_headers of tests/meson.build (every header must compile alone)")
    guard = re.search(r"^#ifndef (\w+)\n#define \1\b", text, re.M)
    if not guard:
        problems.append(f"{rel}: no include guard (#ifndef X / #define X)")
    end = text.rfind("#endif")
    if end < 0 or text[end + len("#endif"):].strip():
        line = text.count("\n", 0, end) + 1 if end >= 0 else 1
        problems.append(f"{rel}:{line}: something follows the include guard's #endif")
    body = strip_comments(text)
    decls = [(m.group(1), body.count("\n", 0, m.start()) + 1) for m in DECL.finditer(body)]
    c_path = path[:-2] + ".c"
    if os.path.exists(c_path):
        defined = definitions(open(c_path, encoding="utf-8").read())
        for name, line in decls:
            if name not in defined:
                problems.append(f"{rel}:{line}: declares {name}(), which {rel[:-2]}.c does not define")
    else:
        for name, line in decls:
            problems.append(f"{rel}:{line}: declares {name}() but there is no {rel[:-2]}.c")


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "."
    meson = open(os.path.join(root, "tests", "meson.build"), encoding="utf-8").read()
    block = re.search(r"checked_headers = \[(.*?)\]", meson, re.S)
    listed = set(re.findall(r"'([^']+)'", block.group(1))) if block else set()
    problems = []
    headers = []
    for d in DIRS:
        for dirpath, _, files in os.walk(os.path.join(root, d)):
            for f in files:
                if f.endswith(".h"):
                    headers.append(os.path.relpath(os.path.join(dirpath, f), root))
    for rel in sorted(headers):
        check_header(root, rel, listed, problems)
    for rel in sorted(listed - set(headers)):
        problems.append(f"tests/meson.build: checked_headers names {rel}, which does not exist")
    for p in problems:
        print(p)
    print(f"check_headers: {len(headers)} headers, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
