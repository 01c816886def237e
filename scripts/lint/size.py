#!/usr/bin/env python3
"""size: no product .c file over 1,200 lines and no product function over 150 lines.

Product code is every tracked .c outside tests/, fuzz/ and bench/ (test code, harnesses and
benchmarks are exempt; generated code lives in the build folder and is never tracked). A
function's length runs from the line of its name to its closing brace, as universal-ctags
reports them (--fields=+ne). Every run prints the ten longest product files and functions, so
the numbers stay in view before they reach a limit.
"""
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

MAX_FILE_LINES = 1200
MAX_FUNCTION_LINES = 150
EXEMPT = ("tests/", "fuzz/", "bench/")
USAGE = """
usage: scripts/lint/size.py [--report] [--known FILE]
Prints the ten longest product .c files and functions and every file over %d lines or function
over %d lines (product code: tracked .c files outside tests/, fuzz/, bench/); exits 1 if there
is one. Needs universal-ctags (Debian: universal-ctags).
""" % (MAX_FILE_LINES, MAX_FUNCTION_LINES)


def functions(files):
    """[(lines, file, line, name)] of every function definition in files, from ctags."""
    ctags = shutil.which("ctags-universal") or shutil.which("ctags")
    if not ctags:
        print("size: universal-ctags not found (Debian: apt-get install universal-ctags, or "
              "make deps)", file=sys.stderr)
        sys.exit(2)
    res = subprocess.run([ctags, "--output-format=json", "--fields=+ne", "--kinds-C=f",
                          "--language-force=C", "-o", "-", *files],
                         cwd=common.ROOT, capture_output=True, text=True)
    if res.returncode != 0 or not res.stdout.startswith("{"):
        print("size: %s failed (is it universal-ctags?): %s" % (ctags, res.stderr.strip()),
              file=sys.stderr)
        sys.exit(2)
    out = []
    for raw in res.stdout.splitlines():
        tag = json.loads(raw)
        if tag.get("_type") != "tag" or "end" not in tag:
            continue
        out.append((tag["end"] - tag["line"] + 1, tag["path"], tag["line"], tag["name"]))
    return out


def main():
    opts = common.parse_args("size", USAGE)
    files = [f for f in common.tracked("*.c") if not f.startswith(EXEMPT)]
    sizes = sorted(((common.read(f).count("\n"), f) for f in files), reverse=True)
    funcs = sorted(functions(files), reverse=True)

    print("size: the ten longest product files (limit %d lines)" % MAX_FILE_LINES)
    for n, f in sizes[:10]:
        print("  %6d  %s" % (n, f))
    print("size: the ten longest product functions (limit %d lines)" % MAX_FUNCTION_LINES)
    for n, f, line, name in funcs[:10]:
        print("  %6d  %s:%d %s()" % (n, f, line, name))

    findings = []
    for n, f in sizes:
        if n > MAX_FILE_LINES:
            findings.append((f, "%s: %d lines, over the limit of %d" % (f, n, MAX_FILE_LINES)))
    for n, f, line, name in funcs:
        if n > MAX_FUNCTION_LINES:
            findings.append((f, "%s:%d: function %s() is %d lines, over the limit of %d"
                             % (f, line, name, n, MAX_FUNCTION_LINES)))
    return common.verdict("size", findings, opts,
                          "%d product files, %d functions" % (len(files), len(funcs)))


if __name__ == "__main__":
    sys.exit(main())
