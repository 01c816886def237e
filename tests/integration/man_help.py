#!/usr/bin/python3
"""man_help.py - each man page says exactly what its program's --help says.

Usage: man_help.py PAGE.scd=PROGRAM... [--ini PAGE.scd=STINTD]

For PAGE=PROGRAM: runs `PROGRAM --help` and compares its options with the page's. Every option
token in the help text (--name, -x) must be in the page, and every option the page writes in
bold (*--name*, *-x*) must be in the help. --help and -h are left out (some programs print the
usage without listing them). man/README.md has the conventions.

For --ini PAGE=STINTD: every "[section] key" line of `stintd --help` must be a key of the
page (a line "*key* = ..." under "## [section]"), and the other way round.

Exit 0 when everything agrees; 1 with one line per difference, naming the page and the option.
"""
import re
import subprocess
import sys

OPTION = re.compile(r"(?<![\w/-])(--[a-z0-9][a-z0-9-]*|-[A-Za-z0-9])(?![\w-])")
IGNORED = {"--help", "-h"}


def help_text(program):
    run = subprocess.run([program, "--help"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         timeout=60, check=False)
    text = run.stdout.decode("utf-8", "replace")
    if run.returncode != 0 or not text.strip():
        sys.exit(f"man_help: `{program} --help` exited {run.returncode} with {len(text)} bytes")
    return text


def help_options(text):
    # long options in lower case ("--idle-after"; "--SETTING" is a placeholder) and
    # single-letter short ones ("-v")
    return set(OPTION.findall(text)) - IGNORED


def page_options(page):
    text = open(page, encoding="utf-8").read()
    text = re.sub(r"(?ms)^```.*?^```", "", text)  # code blocks: examples, other programs
    found = set()
    for span in re.findall(r"\*([^*\n]+)\*", text):
        found.update(OPTION.findall(span))
    return found - IGNORED


def compare(page, program):
    helped = help_options(help_text(program))
    paged = page_options(page)
    problems = []
    for opt in sorted(helped - paged):
        problems.append(f"{page}: {opt} is in `{program} --help` but not in the page")
    for opt in sorted(paged - helped):
        problems.append(f"{page}: {opt} is in the page but not in `{program} --help`")
    if not helped:
        problems.append(f"{page}: no option found in `{program} --help`")
    print(f"{page}: {len(helped)} options in --help, {len(paged)} in the page")
    return problems


def compare_ini(page, stintd):
    text = help_text(stintd)
    # the SETTINGS lines: "    --idle-after DURATION" then "        [tracker] idle_after: ..."
    # (or both on one line)
    helped = set(re.findall(r"(?m)^\s+(?:--[a-z0-9-]+\s+(?:\S+\s+)?)?\[([a-z_]+)\] ([a-z_]+):?", text))
    paged = set()
    section = None
    for line in open(page, encoding="utf-8"):
        m = re.match(r"^## \[([a-z_]+)\]", line)
        if m:
            section = m.group(1)
            continue
        if line.startswith("# "):
            section = None
            continue
        m = re.match(r"^\*([a-z_]+)\* =", line)
        if m and section:
            paged.add((section, m.group(1)))
    problems = []
    for sec, key in sorted(helped - paged):
        problems.append(f"{page}: [{sec}] {key} is in `{stintd} --help` but not in the page")
    for sec, key in sorted(paged - helped):
        problems.append(f"{page}: [{sec}] {key} is in the page but not in `{stintd} --help`")
    if not helped:
        problems.append(f"{page}: no [section] key found in `{stintd} --help`")
    print(f"{page}: {len(helped)} keys in --help, {len(paged)} in the page")
    return problems


def main(argv):
    problems = []
    ini = False
    if not argv:
        sys.exit(__doc__)
    for arg in argv:
        if arg == "--ini":
            ini = True
            continue
        page, _, program = arg.partition("=")
        if not program:
            sys.exit(f"man_help: {arg}: expected PAGE.scd=PROGRAM")
        problems += compare_ini(page, program) if ini else compare(page, program)
        ini = False
    for p in problems:
        print(p)
    if problems:
        print(f"{len(problems)} difference(s): update the page (man/README.md) or the --help text")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
