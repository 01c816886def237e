#!/usr/bin/python3
"""report_day.py — `stintctl report` adds up a known day exactly.

    report_day.py STINTCTL DAY.jsonl

DAY.jsonl (tests/data/report-day.jsonl) holds a day in Europe/Paris with a record that crosses
the previous midnight, one that crosses the next, a suspend (an hour with no record), idle,
private and gap records, a title with a comma and quotes. The totals the report prints (--json,
--csv, the table; --by app, site, title, hour; --day, --from/--to, --week) must equal the ones
computed here from the records with Python's zoneinfo, to the millisecond.
"""
import csv
import datetime as dt
import io
import json
import os
import subprocess
import sys
from zoneinfo import ZoneInfo

TZ = "Europe/Paris"
checks = 0


def check(cond, msg):
    global checks
    checks += 1
    if not cond:
        print("FAIL: " + msg, flush=True)
        sys.exit(1)


def run(ctl, *args, ok=True):
    r = subprocess.run([ctl, "report"] + list(args), capture_output=True, timeout=60,
                       env=dict(os.environ, TZ=TZ))
    if ok:
        check(r.returncode == 0, "stintctl report %s: %d %s" % (args, r.returncode, r.stderr))
    return r


def bounds(first, last):
    z = ZoneInfo(TZ)
    a = dt.datetime.combine(first, dt.time(0), z)
    b = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(0), z)
    return int(a.timestamp() * 1000), int(b.timestamp() * 1000)


def expected(records, lo, hi, by):
    tot = {"active_ms": 0, "idle_ms": 0, "private_ms": 0, "records": 0, "gaps": 0}
    rows = {}
    z = ZoneInfo(TZ)
    for r in records:
        a, b = int(r["startMs"]), int(r["endMs"])
        if r["kind"] == "KIND_GAP":
            if b > lo and a < hi:
                tot["gaps"] += int(r["gapCount"])
            continue
        a, b = max(a, lo), min(b, hi)
        if b <= a:
            continue
        tot["records"] += 1
        kind = r["kind"][5:].lower()
        tot[kind + "_ms"] += b - a
        if kind != "active":
            continue
        if by == "hour":
            t = a
            while t < b:
                d = dt.datetime.fromtimestamp(t / 1000, z)
                nxt = int((d.replace(minute=0, second=0, microsecond=0) +
                           dt.timedelta(hours=1)).timestamp() * 1000)
                e = min(nxt, b)
                key = "%02d:00" % d.hour
                rows[key] = rows.get(key, 0) + e - t
                t = e
        else:
            key = r.get({"app": "app", "site": "url", "title": "title"}[by]) or \
                {"app": "(no app)", "site": "(no site)", "title": "(no title)"}[by]
            rows[key] = rows.get(key, 0) + b - a
    return tot, rows


def validate(doc):
    """The --json shape, spec/AGENT.md "Reports"."""
    for k, t in (("label", str), ("from", str), ("to", str), ("from_ms", int), ("to_ms", int),
                 ("by", str), ("totals", dict), ("rows", list)):
        check(isinstance(doc.get(k), t), "--json: %s is not a %s: %s" % (k, t.__name__, doc))
    for k in ("active_ms", "idle_ms", "private_ms", "records", "gaps"):
        check(isinstance(doc["totals"].get(k), int) and doc["totals"][k] >= 0,
              "--json: totals.%s: %s" % (k, doc["totals"]))
    for row in doc["rows"]:
        check(set(row) == {"key", "active_ms"} and isinstance(row["key"], str) and
              isinstance(row["active_ms"], int) and row["active_ms"] > 0, "--json row: %s" % row)
    check(sum(r["active_ms"] for r in doc["rows"]) == doc["totals"]["active_ms"],
          "--json: rows do not add up to the active total")
    check(dt.datetime.strptime(doc["from"], "%Y-%m-%dT%H:%M:%S%z").timestamp() * 1000 ==
          doc["from_ms"], "--json: from and from_ms differ: %s" % doc)


def hms(ms):
    s = ms // 1000
    return "%dh %02dm %02ds" % (s // 3600, s // 60 % 60, s % 60)


def main():
    ctl, day = sys.argv[1], sys.argv[2]
    records = [json.loads(l)["record"] for l in open(day, encoding="utf-8") if l.strip()]
    d15 = dt.date(2026, 1, 15)
    cases = [
        (["--day", "2026-01-15"], d15, d15),
        (["--from", "2026-01-15", "--to", "2026-01-16"], d15, dt.date(2026, 1, 16)),
        (["--week", "--day", "2026-01-15"], dt.date(2026, 1, 12), dt.date(2026, 1, 18)),
        (["--day", "2026-01-14"], dt.date(2026, 1, 14), dt.date(2026, 1, 14)),
    ]
    for rng, first, last in cases:
        lo, hi = bounds(first, last)
        for by in ("app", "site", "title", "hour"):
            doc = json.loads(run(ctl, "--records", day, "--by", by, "--json", *rng).stdout)
            validate(doc)
            tot, rows = expected(records, lo, hi, by)
            check(doc["from_ms"] == lo and doc["to_ms"] == hi,
                  "%s: range %s..%s, expected %s..%s" % (rng, doc["from_ms"], doc["to_ms"], lo, hi))
            check(doc["totals"] == tot, "%s by %s: totals %s, expected %s" %
                  (rng, by, doc["totals"], tot))
            got = {r["key"]: r["active_ms"] for r in doc["rows"]}
            check(got == rows, "%s by %s: rows %s, expected %s" % (rng, by, got, rows))
            # CSV: the same numbers, quoted where needed
            out = run(ctl, "--records", day, "--by", by, "--csv", *rng).stdout.decode()
            rd = list(csv.reader(io.StringIO(out)))
            check(rd[0] == [by, "seconds"], "csv header %s" % rd[0])
            got = {k: round(float(v) * 1000) for k, v in rd[1:] if not k.startswith("(") or
                   k.startswith("(no ")}
            check(got == rows, "%s by %s: csv rows %s, expected %s" % (rng, by, got, rows))
            check([r for r in rd if r[0] == "(active)"] == [["(active)", "%d.%03d" % (
                tot["active_ms"] // 1000, tot["active_ms"] % 1000)]], "csv active total")
    # the day itself, spelled out: what the records imply in seconds
    lo, hi = bounds(d15, d15)
    tot, rows = expected(records, lo, hi, "app")
    check(tot["active_ms"] == (45 * 60 + 90 * 60 + 12.5 + 85 * 60 + 15.5 * 60 + 34.5 * 60 +
                               150 * 60 + 10 * 60) * 1000, "the independent sum is off: %s" % tot)
    check(rows["code"] == (45 + 85 + 150) * 60000 and rows["slack"] == 10 * 60000,
          "the day boundary cuts: %s" % rows)
    check(tot["idle_ms"] == 70 * 60000 and tot["private_ms"] == 30 * 60000 and tot["gaps"] == 3,
          "idle/private/gaps: %s" % tot)
    # the table: every app, its time, and the totals
    out = run(ctl, "--records", day, "--day", "2026-01-15").stdout.decode()
    for app, ms in rows.items():
        check(any(l.startswith(app) and hms(ms) in l for l in out.splitlines()),
              "table lacks %s %s:\n%s" % (app, hms(ms), out))
    for k in ("active", "idle", "private"):
        check(any(l.startswith(k) and hms(tot[k + "_ms"]) in l for l in out.splitlines()),
              "table lacks the %s total:\n%s" % (k, out))
    # errors: a bad date, a bad line, a missing file
    r = run(ctl, "--records", day, "--day", "2026-02-30", ok=False)
    check(r.returncode == 2 and b"2026-02-30" in r.stderr, "bad date: %d %s" % (r.returncode, r.stderr))
    bad = os.path.join(os.environ.get("TMPDIR", "/tmp"), "report-bad-%d.jsonl" % os.getpid())
    with open(bad, "w") as f:
        f.write(open(day, encoding="utf-8").readline() + '{"record": {"kind": 1, "startMs": "x"}}\n')
    r = run(ctl, "--records", bad, "--day", "2026-01-15", ok=False)
    os.unlink(bad)
    check(r.returncode == 1 and (bad + ":2: not a record").encode() in r.stderr,
          "bad line: %d %s" % (r.returncode, r.stderr))
    r = run(ctl, "--records", day + ".missing", ok=False)
    check(r.returncode == 1 and b"cannot open" in r.stderr, "missing file: %s" % r.stderr)
    print("%d checks passed" % checks)


if __name__ == "__main__":
    main()
