#!/usr/bin/env python3
"""refs: comments and messages point only at files inside the repository.

A clone has nothing beside it, so code, CMake files and scripts name no document outside the
tree (FACTS.md, ARCHITECTURE.md, STYLE.md, anything under ../shared) and no issue-tracker entry
("issue 12", "issues 13 and 14"): they state the fact itself or name a file in the repo. The
Markdown documents (README.md, spec/, docs) may mention issues and notes; they too must not
point at ../shared. Data (fuzz corpora, vectors, test fixtures) is not checked.

A line that must name one of these anyway (a script checking that no ../shared exists beside a
copy of the tree) carries the marker `lint: refs-ok` with its reason on the same line. This file
and its test (tests/lint/test_lint.sh), which have to name what the check looks for, are not
checked.
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

OUTSIDE = re.compile(r"\.\./shared\b")
NOTES = re.compile(r"\b(FACTS\.md|ARCHITECTURE\.md|STYLE\.md)|\bissues? #?[0-9]+", re.I)
ALLOW = "lint: refs-ok"
SELF = ("scripts/lint/refs.py", "tests/lint/test_lint.sh")
# data, not prose: corpora, golden vectors, fixtures that exist to hold odd text
DATA = ("fuzz/corpus/", "fuzz/regressions/", "spec/vectors/", "spec/released/", "tests/data/",
        "testdata/", "tests/spec/ref-fixtures/")
USAGE = """
usage: scripts/lint/refs.py [--report] [--known FILE]
Lists every line of code, CMake or script that names FACTS.md, ARCHITECTURE.md, STYLE.md,
../shared or an issue number, and every Markdown line that points at ../shared; exits 1 if there
is one. A line marked `lint: refs-ok` (with a reason) is allowed.
"""


def is_text(rel):
    with open(os.path.join(common.ROOT, rel), "rb") as f:
        return b"\0" not in f.read(8192)


def main():
    opts = common.parse_args("refs", USAGE)
    files = [f for f in common.tracked(".")
             if not f.startswith(DATA) and f not in SELF and is_text(f)]
    findings = []
    for rel in files:
        markdown = rel.endswith(".md")
        for i, line in enumerate(common.read(rel).split("\n"), 1):
            if ALLOW in line:
                continue
            m = OUTSIDE.search(line) or (None if markdown else NOTES.search(line))
            if m:
                findings.append((rel, "%s:%d: points outside the repository (%s): %s"
                                 % (rel, i, m.group(0), line.strip()[:120])))
    return common.verdict("refs", findings, opts, "%d files checked" % len(files))


if __name__ == "__main__":
    sys.exit(main())
