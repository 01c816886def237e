#!/usr/bin/env python3
"""banned: no call of a banned C library function in product, test, fuzz or bench code.

The list, after curl's checksrc and the house style's rule 8 (README.md, "House style"):

  gets                     no bound at all (gone from C11)
  strcpy, strcat           no bound: use snprintf, or memcpy after a length check
  strncpy, strncat         a bound that does not NUL-terminate (strncpy) or that counts what is
                           left, not the buffer (strncat): the same mistakes, harder to see
  sprintf, vsprintf        no bound: snprintf, vsnprintf
  strtok                   hidden static state, not reentrant: strtok_r or a parser of its own
  atoi, atol, atoll, atof  no error report (garbage reads as 0): strtol/strtoull/strtod with
                           an end pointer and errno, as the flag parsers do

A finding is the name outside comments and string literals (scripts/lint/clex.py) used as a
function: called or declared (`atoi (s)`, the name then a parenthesis) or taken as a value
(`fn = atoi`, `&atoi`, `apply(atoi, s)`, `return atoi;`). A struct member or a variable of that
name (`x.gets`, `p->atoi`, `int atoi;`) is not one. Every tracked .c and .h is checked.
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clex  # noqa: E402
import common  # noqa: E402

BANNED = ["gets", "strcpy", "strcat", "strncpy", "strncat", "sprintf", "vsprintf", "strtok",
          "atoi", "atol", "atoll", "atof"]
USAGE = """
usage: scripts/lint/banned.py [--report] [--known FILE]
Lists every use of a banned C function (gets strcpy strcat strncpy strncat sprintf vsprintf
strtok atoi atol atoll atof) in the tracked .c and .h files, outside comments and strings, and
exits 1 if there is one.
"""


def find(text):
    """(line, column, name) of every banned identifier in C source text."""
    code = clex.strip(text)
    hits = []
    for m in re.finditer(r"\b(%s)\b" % "|".join(BANNED), code):
        before = code[:m.start()].rstrip()
        after = code[m.end():].lstrip()
        if before.endswith(".") or before.endswith("->"):
            continue  # a struct member of that name
        called = after.startswith("(")
        value = before.endswith(("=", "&", ",", "(", "?", ":")) or re.search(r"\breturn$", before)
        if not (called or value):
            continue  # a variable or member declared with that name
        line = code.count("\n", 0, m.start()) + 1
        col = m.start() - (code.rfind("\n", 0, m.start()) + 1) + 1
        hits.append((line, col, m.group(1)))
    return hits


def main():
    opts = common.parse_args("banned", USAGE)
    files = common.tracked("*.c", "*.h")
    findings = []
    for rel in files:
        text = common.read(rel)
        lines = text.split("\n")
        for line, col, name in find(text):
            findings.append((rel, "%s:%d:%d: banned function %s: %s"
                             % (rel, line, col, name, lines[line - 1].strip())))
    return common.verdict("banned", findings, opts, "%d C files checked" % len(files))


if __name__ == "__main__":
    sys.exit(main())
