#!/usr/bin/python3
"""agent_history.py — the local history: acked records stay on the laptop for the report.

    agent_history.py STINTD STINTCTL STINT_COLLECTOR AGENT_REPLAY

A stintd with a collector on loopback sends a day of JSONL events; once the server has them all
(backlog 0), `stintctl report` (no --records: it asks stintd) must still show every second of
them, read from the history, with a span a [filters] rule drops as private. Then:
- restart: the history is still there (same report), and nothing is sent again (the sender's
  records_sent stays 0 and the collector's dump keeps its count);
- `stintctl purge`: no history record is readable (report and status say 0) and none of the
  events' strings is in any journal file, before and after another restart;
- `history = 0`: a second agent keeps none;
- `history_max = 64KiB`: a third agent sends 3,000 records with long titles and keeps at most
  64 KiB of them, the newest.
Times are now - 2 h .. now, so they are within the 14 days kept. Uses agent_promises.py's Env.
"""
import datetime as dt
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import agent_promises as ap  # noqa: E402

check = ap.check
UTC = dict(os.environ, TZ="UTC")


def day_of(ms):
    return dt.datetime.fromtimestamp(ms / 1000, dt.timezone.utc).strftime("%Y-%m-%d")


def write_events(path, n, t0, marker, step=1000, private_at=None, title_pad=""):
    """n events `step` ms apart (titles marker-i), then idle; returns (active ms, private ms)."""
    lines = []
    for i in range(n):
        ev = {"time": t0 + i * step, "app": ["firefox", "code", "xterm"][i % 3],
              "path": "/usr/bin/x", "title": "%s-%d%s" % (marker, i, title_pad)}
        if i == private_at:  # a [filters] drop rule makes it a private span, times only
            ev["title"] = "%s-private-window" % marker
        lines.append(json.dumps(ev))
    lines.append(json.dumps({"time": t0 + n * step, "idle": True}))
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    priv = step if private_at is not None else 0
    return n * step - priv, priv


def report(a, t0, *extra):
    args = [a.env.stintctl, "--socket", a.sock, "report", "--json", "--from", day_of(t0), "--to",
            day_of(time.time() * 1000)] + list(extra)
    r = subprocess.run(args, capture_output=True, timeout=120, env=UTC)
    check(r.returncode == 0, "stintctl report: %d %s" % (r.returncode, r.stderr))
    return json.loads(r.stdout)


def all_sent(a, n):
    s = a.status()
    return s["source"]["items"] >= n + 1 and s["journal"]["next_seq"] > n and s["backlog"] == 0


def main():
    if len(sys.argv) != 5:
        print(__doc__)
        return 2
    env = ap.Env(*sys.argv[1:5])
    ok = False
    try:
        run(env)
        ok = True
    finally:
        env.cleanup(ok)
    print("%d checks passed" % ap.checks)
    return 0


def run(env):
    coll, port, _ = env.collector()
    url = "https://127.0.0.1:%d" % port
    n = 40
    t0 = int(time.time() * 1000) - 2 * 3600 * 1000
    src = os.path.join(env.tmp, "events.jsonl")
    active, private = write_events(src, n, t0, "HISTMARK", step=60000, private_at=7)

    cfg = os.path.join(env.tmp, "agent.ini")
    with open(cfg, "w") as f:
        f.write("[filters]\nrule = drop title private-window\n")
    a = env.agent("hist", "jsonl:" + src, url, config=cfg)
    ap.wait_for("every record delivered", lambda: all_sent(a, n), 120, 0.1)
    st = a.status()["journal"]
    check(st["history"] >= n - 1, "history after the acks: %s" % st)
    doc = report(a, t0)
    check(doc["totals"]["active_ms"] == active and doc["totals"]["private_ms"] == private,
          "report from the history: %s, want active %d private %d" % (doc["totals"], active,
                                                                      private))
    check(b"HISTMARK-private" not in json.dumps(doc).encode(), "the private span's URL shows")
    sent = len(env.dump("acct0"))
    check(sent >= n - 1, "the collector has %d records" % sent)
    a.stop()

    # restart: the history is there, and nothing is sent again
    a = env.agent("hist", "jsonl:" + src, url, config=cfg)
    ap.wait_for("stintd back, idle", lambda: a.status()["sender"]["state"] == "idle", 60)
    rc, out, err = a.ctl("flush", "--wait", "--timeout", "60")
    check(rc == 0, "flush --wait after the restart: %d %s" % (rc, err))
    s = a.status()
    check(s["journal"]["history"] == st["history"], "history after restart: %s" % s["journal"])
    check(s["sender"]["records_sent"] <= 1,  # at most the idle record left open at the stop
          "records sent again after the restart: %s" % s["sender"])
    doc2 = report(a, t0)
    check(doc2["totals"]["active_ms"] == active and doc2["totals"]["private_ms"] == private,
          "report after restart: %s" % doc2["totals"])
    later = len(env.dump("acct0"))
    check(later <= sent + 1, "the collector got %d records, had %d: history was resent" %
          (later, sent))

    # purge: nothing of the history is readable, nor in any journal file
    rc, out, err = a.ctl("purge", "--yes")
    check(rc == 0, "purge: %d %s" % (rc, err))
    s = a.status()
    check(s["journal"]["history"] == 0, "history after purge: %s" % s["journal"])
    doc3 = report(a, t0)
    check(doc3["totals"]["active_ms"] == 0 and doc3["totals"]["records"] == 0,
          "report after purge: %s" % doc3["totals"])
    hits = ap.journal_holds(a.journal, b"HISTMARK")
    check(not hits, "journal files hold the history after purge: %s" % hits)
    a.stop()
    hits = ap.journal_holds(a.journal, b"HISTMARK")
    check(not hits, "journal files hold the history after purge and stop: %s" % hits)
    a = env.agent("hist", "jsonl:" + src, url, config=cfg)
    doc4 = report(a, t0)
    check(doc4["totals"]["active_ms"] == 0, "report after purge and restart: %s" % doc4["totals"])
    hits = ap.journal_holds(a.journal, b"HISTMARK")
    check(not hits, "journal files hold the history after purge and restart: %s" % hits)
    a.stop()
    # stintd stopped: the report says where the history is and what to do instead
    r = subprocess.run([env.stintctl, "--socket", a.sock, "report"], capture_output=True,
                       timeout=60)
    check(r.returncode == 3 and b"--records" in r.stderr and b"start stintd" in r.stderr,
          "report without stintd: %d %s" % (r.returncode, r.stderr))

    # history = 0 keeps none
    src0 = os.path.join(env.tmp, "events0.jsonl")
    write_events(src0, 10, t0, "ZEROMARK", step=60000)
    a = env.agent("zero", "jsonl:" + src0, url, token=1, extra=["--history", "0"])
    ap.wait_for("every record delivered (history 0)", lambda: all_sent(a, 10), 120, 0.1)
    s = a.status()
    check(s["journal"]["history"] == 0 and s["journal"]["history_bytes"] == 0,
          "history 0 kept: %s" % s["journal"])
    doc = report(a, t0)
    check(doc["totals"]["active_ms"] == 0, "history 0: the report shows %s" % doc["totals"])
    a.stop()

    # history_max bounds it: the newest stay
    srcc = os.path.join(env.tmp, "eventsc.jsonl")
    nc = 3000
    write_events(srcc, nc, t0, "CAPMARK", step=1000, title_pad="-" + "x" * 100)
    a = env.agent("cap", "jsonl:" + srcc, url, token=2, extra=["--history-max", "64KiB"])
    ap.wait_for("every record delivered (cap)", lambda: all_sent(a, nc), 300, 0.2)
    s = a.status()["journal"]
    check(0 < s["history"] < nc - 100 and s["history_bytes"] <= 64 * 1024,
          "history_max 64KiB: %s" % s)
    doc = report(a, t0, "--by", "title")
    titles = json.dumps(doc)
    check(("CAPMARK-%d-" % (nc - 2)) in titles and "CAPMARK-0-" not in titles,
          "the cap kept other than the newest: %s" % titles[:600])
    a.stop()
    env.stop(coll)
    print("ok: history reported, kept across a restart, never resent, purged to the bytes, "
          "0 keeps none, history_max bounds it")


if __name__ == "__main__":
    sys.exit(main())
