#!/usr/bin/python3
"""defaults_agree.py — one source of truth for stintd's defaults.

    defaults_agree.py STINTD SOURCE_DIR

config.c's key table drives `stintd --help`; packaging/agent.ini.example and spec/AGENT.md §8.1
show the same defaults by hand. This test parses all three and fails on any difference: a key in
one and not another, or another default. It also checks spec/PROTOCOL.md §7.1 (batch size) and
§7.3 (request timeout) against the table, and sender.h's built-in defaults, which are used when
no config is given at all.
"""
import re
import subprocess
import sys


def fail(msg):
    print("FAIL: " + msg, flush=True)
    raise SystemExit(1)


def from_help(stintd):
    out = subprocess.run([stintd, "--help"], capture_output=True, text=True, check=True).stdout
    keys = {}
    for m in re.finditer(r"^        \[(\w+)\] (\w+): .* \(default: (.*)\)$", out, re.M):
        d = m.group(3)
        keys[(m.group(1), m.group(2))] = "" if d == "empty" else d
    if len(keys) < 20:
        fail("stintd --help lists only %d keys with a default" % len(keys))
    return keys


def from_example(path):
    keys = {}
    section = None
    comment = []
    for line in open(path):
        line = line.rstrip("\n")
        m = re.match(r"^\[(\w+)\]$", line)
        if m:
            section = m.group(1)
            comment = []
            continue
        m = re.match(r"^(;?)(\w+) =\s*(.*)$", line)
        if m and section:
            if m.group(1):
                # a commented key: its default comes from the environment, named in the comment
                doc = re.search(r"Default (\$\w+/[\w/]+)", " ".join(comment))
                keys[(section, m.group(2))] = doc.group(1) if doc else "?"
            else:
                keys[(section, m.group(2))] = m.group(3).strip()
            comment = []
            continue
        if line.startswith(";"):
            comment.append(line.lstrip("; "))
    return keys


def from_spec(path):
    text = open(path).read()
    a = text.find("<!-- defaults table")
    b = text.find("<!-- end of the defaults table")
    if a < 0 or b < 0:
        fail("spec/AGENT.md has no defaults table")
    keys = {}
    for m in re.finditer(r"^\| `\[(\w+)\] (\w+)` \| (.*?) \| .* \|$", text[a:b], re.M):
        d = m.group(3)
        keys[(m.group(1), m.group(2))] = "" if d == "(empty)" else d.strip("`")
    return keys


def compare(name_a, a, name_b, b):
    for k in sorted(set(a) | set(b)):
        if k not in a:
            fail("[%s] %s is in %s but not in %s" % (k[0], k[1], name_b, name_a))
        if k not in b:
            fail("[%s] %s is in %s but not in %s" % (k[0], k[1], name_a, name_b))
        if a[k] != b[k]:
            fail("[%s] %s: %s says %r, %s says %r" % (k[0], k[1], name_a, a[k], name_b, b[k]))


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    stintd, src = sys.argv[1], sys.argv[2]
    helpk = from_help(stintd)
    compare("stintd --help", helpk, "agent.ini.example",
            from_example(src + "/packaging/agent.ini.example"))
    compare("stintd --help", helpk, "spec/AGENT.md", from_spec(src + "/spec/AGENT.md"))

    proto = open(src + "/spec/PROTOCOL.md").read()
    m = re.search(r"bounded by a record count \(default ([\d,]+)\)", proto)
    if not m or m.group(1).replace(",", "") != helpk[("sender", "batch_records")]:
        fail("spec/PROTOCOL.md 7.1 batch size %s, the key table %s" %
             (m.group(1) if m else "?", helpk[("sender", "batch_records")]))
    m = re.search(r"whole request (\d+) s", proto)
    if not m or m.group(1) + "s" != helpk[("sender", "timeout")]:
        fail("spec/PROTOCOL.md 7.3 request timeout %s s, the key table %s" %
             (m.group(1) if m else "?", helpk[("sender", "timeout")]))
    sender_h = open(src + "/agent/sender.h").read()
    m = re.search(r"#define STINT_SENDER_DEFAULT_MAX_RECORDS (\d+)u", sender_h)
    if not m or m.group(1) != helpk[("sender", "batch_records")]:
        fail("sender.h's STINT_SENDER_DEFAULT_MAX_RECORDS differs from the key table")
    m = re.search(r"#define STINT_SENDER_DEFAULT_TIMEOUT_MS (\d+)u", sender_h)
    if not m or int(m.group(1)) != int(helpk[("sender", "timeout")].rstrip("s")) * 1000:
        fail("sender.h's STINT_SENDER_DEFAULT_TIMEOUT_MS differs from the key table")
    print("PASS: %d keys agree in stintd --help, agent.ini.example and spec/AGENT.md; "
          "PROTOCOL.md and sender.h agree on batch size and timeout" % len(helpk))
    return 0


if __name__ == "__main__":
    sys.exit(main())
