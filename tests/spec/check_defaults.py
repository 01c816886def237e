#!/usr/bin/python3
"""check_defaults.py — every default and limit the spec states is the one the code uses.

    check_defaults.py ROOT [SPEC]

One table: for each value, where the spec states it (a regular expression over
spec/PROTOCOL.md, or SPEC when given) and where the code defines it (a regular expression over
a source file, usually a #define). Both are read as numbers with their unit (KiB, MiB, s, ms)
and must be equal. A value the spec states twice is checked at each place. Exit 1 with one
line per disagreement, else a summary.

Not in the table: the sender's default batch record count and whole-request timeout (§7.1,
§7.3), which tests/integration/defaults_agree.py checks against stintd's key table.
"""
import os
import re
import sys

UNITS = {"": 1, "B": 1, "bytes": 1, "KiB": 1 << 10, "MiB": 1 << 20, "s": 1000, "ms": 1,
         "<< 20": 1 << 20, "<< 10": 1 << 10}

# (what, spec regex with one number group and an optional unit group, code file, code regex
#  [, the code's unit when the code does not write one])
TABLE = [
    ("largest body as sent (collector)", r"\| body as sent \| (\d+) (MiB)", "collector/handler.h",
     r"STINT_COLLECTOR_MAX_BODY \(\(size_t\)(\d+) (<< 20)\)"),
    ("largest body after gzip (collector)", r"\| body after gzip \| (\d+) (MiB)",
     "collector/handler.h", r"STINT_COLLECTOR_MAX_DECODED \(\(size_t\)(\d+) (<< 20)\)"),
    ("records per batch (collector)", r"\| records per batch \| ([\d,]+) \(`--max-records`\)",
     "collector/handler.h", r"STINT_COLLECTOR_MAX_RECORDS (\d+)"),
    ("idle connection (collector)", r"\| idle connection \| (\d+) (s)",
     "collector/server.h", r"#define STINT_SERVER_TIMEOUT_S (\d+)(s?)", "s"),
    ("head deadline (collector)", r"\| whole request head, TLS handshake included \| (\d+) (s)",
     "collector/server.h", r"#define STINT_SERVER_HEAD_TIMEOUT_S (\d+)(s?)", "s"),
    ("minimum body rate (collector)", r"\| body rate, after a grace of the head timeout \| (\d+) (bytes)",
     "collector/server.h", r"#define STINT_SERVER_MIN_RATE (\d+)"),
    ("connections at once (collector)", r"\| connections at once \| ([\d,]+) \(`--max-connections`\)",
     "collector/server.h", r"#define STINT_SERVER_MAX_CONNECTIONS (\d+)"),
    ("connections per address (collector)", r"\| connections from one address \| (\d+) \(`--per-ip-limit`\)",
     "collector/server.h", r"#define STINT_SERVER_PER_IP_LIMIT (\d+)"),
    ("any decoder's input", r"any decoder's input \| (\d+) (MiB)", "codec/include/stint/pb.h",
     r"STINT_DECODE_MAX_INPUT \(\(size_t\)(\d+) (<< 20)\)"),
    ("Inputs over N are refused", r"Inputs over (\d+) (MiB) are refused",
     "codec/include/stint/pb.h", r"STINT_DECODE_MAX_INPUT \(\(size_t\)(\d+) (<< 20)\)"),
    ("largest Record encoding", r"largest encoding of one Record is ([\d,]+) bytes",
     "codec/include/stint/pb.h", r"STINT_PB_RECORD_MAX (\d+)"),
    ("app limit", r"\| `app` \| string \| UTF-8 \| (\d+) bytes", "codec/include/stint/record.h",
     r"STINT_APP_MAX (\d+)"),
    ("path limit", r"\| `path` \| string \| UTF-8 \| (\d+) bytes",
     "codec/include/stint/record.h", r"STINT_PATH_MAX (\d+)"),
    ("title limit", r"\| `title` \| string \| UTF-8 \| (\d+) bytes",
     "codec/include/stint/record.h", r"STINT_TITLE_MAX (\d+)"),
    ("url limit", r"\| `url` \| string \| UTF-8 \| (\d+) bytes", "codec/include/stint/record.h",
     r"STINT_URL_MAX (\d+)"),
    ("client_version limit", r"\| `client_version` \| string \| (\d+) bytes",
     "codec/include/stint/record.h", r"STINT_VERSION_MAX (\d+)"),
    ("rejection reason limit", r"`reason` \(string, at most (\d+) bytes",
     "codec/include/stint/record.h", r"STINT_REASON_MAX (\d+)"),
    ("rejections per Ack", r"An Ack carries at most ([\d,]+) rejections",
     "codec/include/stint/record.h", r"STINT_ACK_REJECTED_MAX (\d+)"),
    ("legacy nesting", r"`STINT_LEGACY_MAX_DEPTH` = (\d+)", "codec/include/stint/legacy.h",
     r"STINT_LEGACY_MAX_DEPTH (\d+)"),
    ("legacy values", r"`STINT_LEGACY_MAX_VALUES` = (\d+)", "codec/include/stint/legacy.h",
     r"STINT_LEGACY_MAX_VALUES (\d+)u"),
    ("Stint-Seqs length", r"\| `Stint-Seqs` \| ([\d,]+) bytes", "codec/include/stint/legacy.h",
     r"STINT_LEGACY_SEQS_MAX (\d+)u"),
    ("Stint-Seqs length (grammar)", r"at most ([\d,]+) bytes\n", "codec/include/stint/legacy.h",
     r"STINT_LEGACY_SEQS_MAX (\d+)u"),
    ("form payload records", r"a form payload should carry at\s+most (\d+) records",
     "agent/sender.h", r"STINT_SENDER_LEGACY_FORM_MAX_RECORDS (\d+)u"),
    ("form payload records (sending)", r"the form payload at most (\d+)\s+records",
     "agent/sender.h", r"STINT_SENDER_LEGACY_FORM_MAX_RECORDS (\d+)u"),
    ("batch byte bound", r"by the bytes of the records' stored\s+encodings \(default (\d+) (MiB)\)",
     "agent/sender.h", r"STINT_SENDER_DEFAULT_MAX_BYTES \(\(size_t\)(1) (<< 20)\)"),
    ("gzip threshold", r"when it is at least ([\d,]+) bytes", "agent/sender.h",
     r"STINT_SENDER_DEFAULT_GZIP_MIN (\d+)u"),
    ("linger", r"at most the linger, default (\d+) (ms)", "agent/sender.h",
     r"STINT_SENDER_DEFAULT_LINGER_MS (\d+)u(m?)", "ms"),
    ("backoff cap", r"cap (\d+) (s) by default", "agent/sender.h",
     r"backoff_cap_ms;\s+/\* 0: (\d+) (\*)/", "ms"),
    ("kit: body limit", r"the spec's defaults \((\d+) (MiB), \d+ MiB, [\d,]+\)",
     "conformance/server_cases.h", r"STINT_CONF_DEFAULT_MAX_BODY \(\(size_t\)(\d+) (<< 20)\)"),
    ("kit: decoded limit", r"the spec's defaults \(\d+ MiB, (\d+) (MiB), [\d,]+\)",
     "conformance/server_cases.h", r"STINT_CONF_DEFAULT_MAX_DECODED \(\(size_t\)(\d+) (<< 20)\)"),
    ("kit: record limit", r"the spec's defaults \(\d+ MiB, \d+ MiB, ([\d,]+)\)",
     "conformance/server_cases.h", r"STINT_CONF_DEFAULT_MAX_RECORDS \(\(size_t\)(\d+)\)"),
]


def value(m, unit=None):
    """The number of a match in base units (bytes, ms); `unit` overrides the matched one."""
    n = int(m.group(1).replace(",", ""))
    if unit is None:
        unit = m.group(2) if m.lastindex and m.lastindex >= 2 else ""
    return n * UNITS.get(unit or "", 1)


def main():
    root = sys.argv[1]
    spec_path = sys.argv[2] if len(sys.argv) > 2 else os.path.join(root, "spec", "PROTOCOL.md")
    with open(spec_path, encoding="utf-8") as f:
        spec = f.read()
    bad = 0
    for row in TABLE:
        what, sre, cfile, cre = row[:4]
        cunit = row[4] if len(row) > 4 else None
        with open(os.path.join(root, cfile), encoding="utf-8") as f:
            code = f.read()
        sm = list(re.finditer(sre, spec))
        cm = re.search(cre, code)
        if not sm:
            print("FAIL: %s: the spec does not state it (/%s/)" % (what, sre))
            bad += 1
            continue
        if not cm:
            print("FAIL: %s: %s does not define it (/%s/)" % (what, cfile, cre))
            bad += 1
            continue
        want = value(cm, cunit)
        for m in sm:
            if value(m) != want:
                print("FAIL: %s: the spec says %s, %s says %s" % (what, m.group(0).strip(), cfile,
                                                                 cm.group(0)))
                bad += 1
    print("%d defaults and limits checked against the code, %d disagree" % (len(TABLE), bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
