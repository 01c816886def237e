#!/usr/bin/python3
"""agent_filters.py — [filters] rules keep what they match out of the journal and the server.

    agent_filters.py STINTD STINTCTL STINT_COLLECTOR AGENT_REPLAY

A day of JSONL events, some matching `drop` rules (an app, a site's host, a title), some a
`redact-title` rule, some `host-only` and `no-url` rules, goes through stintd into a collector on
loopback. Then every file of the journal folder, every file of the collector's data folder and
the collector's `dump` are searched for the strings the rules filter: none may be found, while
the strings of the unfiltered events are (so the search can see). The dump must show the dropped
spans as private records with their times, and the redacted titles as the app's name.
`stintctl filters test` must name the same rules. Uses agent_promises.py's Env.
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import agent_promises as ap  # noqa: E402

T0 = 1767225600000  # 2026-01-01T00:00:00Z

RULES = """[tracker]
url_mode = full
[filters]
rule = drop app keepass*
rule = drop host *.bank.example
rule = drop title (?i)payslip
rule = redact-title title @example\\.com
rule = host-only host *.corp.example
rule = no-url path /opt/private/*
"""

# (app, path, title, url); the secret strings are marked SECRET-*
EVENTS = [
    ("code", "/usr/bin/code", "visible-code-title", ""),
    ("KeePassXC", "/usr/bin/keepassxc", "SECRET-VAULT-title", ""),
    ("firefox", "/usr/bin/firefox", "SECRET-BANK-title", "https://www.bank.example/SECRET-BANK-path"),
    ("evince", "/usr/bin/evince", "Payslip SECRET-PAY-title.pdf", ""),
    ("thunderbird", "/usr/bin/thunderbird", "Inbox - SECRET-MAIL@example.com", ""),
    ("firefox", "/usr/bin/firefox", "Wiki", "https://wiki.corp.example/SECRET-CORP-path?q=1"),
    ("tool", "/opt/private/tool", "visible-tool-title", "https://tool.example/SECRET-TOOL-path"),
    ("firefox", "/usr/bin/firefox", "visible-firefox-title", "https://news.example/visible-path"),
]
SECRETS = [b"SECRET-", b"keepass", b"KeePass", b"bank.example", b"Payslip"]
VISIBLE = [b"visible-code-title", b"visible-tool-title", b"visible-path", b"wiki.corp.example"]


def files_holding(folder, needle):
    hits = []
    for root, _, files in os.walk(folder):
        for fn in files:
            p = os.path.join(root, fn)
            try:
                with open(p, "rb") as f:
                    if needle in f.read():
                        hits.append(p)
            except OSError:
                pass
    return hits


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
    check = ap.check
    cfg = os.path.join(env.tmp, "agent.ini")
    with open(cfg, "w") as f:
        f.write(RULES)
    # stintctl filters test names the rule and what is recorded, from the same file
    r = subprocess.run([env.stintctl, "filters", "test", "--config", cfg, "--app", "firefox",
                        "--title", "x", "--url", "https://www.bank.example/a", "--json"],
                       capture_output=True, timeout=60)
    check(r.returncode == 0, "stintctl filters test: %d %s" % (r.returncode, r.stderr))
    ans = json.loads(r.stdout)
    check(ans["match"] == 2 and ans["where"] == cfg + ":5" and ans["recorded"]["kind"] == "private",
          "stintctl filters test: %s" % ans)
    bad = os.path.join(env.tmp, "bad.ini")
    with open(bad, "w") as f:
        f.write("[filters]\nrule = drop app ok\nrule = drop title (unclosed\n")
    r = subprocess.run([env.stintctl, "filters", "test", "--config", bad], capture_output=True,
                       timeout=60)
    check(r.returncode == 1 and (bad + ":3: [filters] rule: title regex").encode() in r.stderr,
          "a bad rule: %d %s" % (r.returncode, r.stderr))
    # stintd refuses the bad file at start, naming the line
    r = subprocess.run([env.stintd, "--config", bad, "--source", "stdin", "--server", "",
                        "--journal", os.path.join(env.tmp, "badj")], capture_output=True,
                       timeout=60, stdin=subprocess.DEVNULL)
    check(r.returncode != 0 and b":3: [filters] rule: title regex" in r.stderr,
          "stintd with a bad rule: %d %s" % (r.returncode, r.stderr))

    coll, port, _ = env.collector()
    src = os.path.join(env.tmp, "events.jsonl")
    lines, t = [], T0
    for i, (app, path, title, url) in enumerate(EVENTS):
        t = T0 + i * 60000
        ev = {"time": t, "app": app, "path": path, "title": title}
        if url:
            ev["url"] = url
        lines.append(json.dumps(ev))
    lines.append(json.dumps({"time": t + 60000, "idle": True}))
    with open(src, "w") as f:
        f.write("\n".join(lines) + "\n")
    a = env.agent("filters", "jsonl:" + src, "https://127.0.0.1:%d" % port, config=cfg)
    ap.wait_for("every record journaled and delivered",
                lambda: (lambda s: s["source"]["items"] >= len(lines) and
                         s["journal"]["next_seq"] - 1 >= len(EVENTS) and
                         s["backlog"] == 0)(a.status()), 120, 0.1)
    a.stop()
    env.stop(coll)
    got = sorted(env.dump("acct0"), key=lambda x: int(x["seq"]))
    text = json.dumps(got).encode()
    for s in SECRETS:
        check(s not in text, "the collector's dump holds %r: %s" % (s, text[:2000]))
        hits = files_holding(a.journal, s)
        check(not hits, "journal files hold %r: %s" % (s, hits))
        hits = files_holding(os.path.join(env.tmp, "data"), s)
        check(not hits, "collector data files hold %r: %s" % (s, hits))
    for s in VISIBLE:
        check(s in text, "the dump lacks the unfiltered %r (the search would not see)" % s)
    # what each rule left: by start time
    by_start = {int(x["startMs"]) if "startMs" in x else int(x.get("start_ms", 0)): x for x in got}
    check(len(by_start) >= len(EVENTS), "records by start: %s" % sorted(by_start))

    def at(i):
        x = by_start.get(T0 + i * 60000)
        check(x is not None, "no record starts at event %d: %s" % (i, got))
        return x
    for i in (1, 2, 3):
        x = at(i)
        check(x.get("kind") in ("KIND_PRIVATE", 3) and not x.get("app") and not x.get("title")
              and not x.get("url"), "event %d (drop) was stored as %s" % (i, x))
        check(int(x.get("endMs", x.get("end_ms", 0))) == T0 + (i + 1) * 60000,
              "event %d: the private record does not keep its times: %s" % (i, x))
    x = at(4)
    check(x.get("title") == "thunderbird" and x.get("kind") == "KIND_ACTIVE",
          "redact-title: %s" % x)
    x = at(5)
    check(x.get("url") == "https://wiki.corp.example" and x.get("title") == "Wiki",
          "host-only: %s" % x)
    x = at(6)
    check(not x.get("url") and x.get("title") == "visible-tool-title", "no-url: %s" % x)
    x = at(7)
    check(x.get("url") == "https://news.example/visible-path", "url_mode full: %s" % x)
    # stint-collector report gives what stintctl report gives on the dump: the same code
    env_utc = dict(os.environ, TZ="UTC")
    dump_file = os.path.join(env.tmp, "dump.jsonl")
    with open(dump_file, "wb") as f:
        f.write(subprocess.run([env.collector_bin, "dump", "--data", os.path.join(env.tmp, "data"),
                                "--account", "acct0"], capture_output=True, check=True,
                               timeout=120).stdout)
    for by in ("app", "site", "title", "hour"):
        srv = subprocess.run([env.collector_bin, "report", "--data", os.path.join(env.tmp, "data"),
                              "--account", "acct0", "--day", "2026-01-01", "--by", by, "--json"],
                             capture_output=True, timeout=120, env=env_utc)
        check(srv.returncode == 0, "stint-collector report: %d %s" % (srv.returncode, srv.stderr))
        loc = subprocess.run([env.stintctl, "report", "--records", dump_file, "--day",
                              "2026-01-01", "--by", by, "--json"], capture_output=True,
                             timeout=120, env=env_utc)
        check(loc.returncode == 0, "stintctl report: %d %s" % (loc.returncode, loc.stderr))
        check(json.loads(srv.stdout) == json.loads(loc.stdout),
              "by %s: the collector's report %s, stintctl's %s" % (by, srv.stdout, loc.stdout))
        doc = json.loads(srv.stdout)
        check(doc["totals"]["private_ms"] == 3 * 60000 and
              doc["totals"]["active_ms"] == (len(EVENTS) - 3) * 60000,
              "by %s: totals %s" % (by, doc["totals"]))
        for s in SECRETS:
            check(s not in srv.stdout, "the collector's report holds %r" % s)
    print("ok: %d records; the filtered strings are in no journal file, no collector file and "
          "not in the dump" % len(got))
    reload_case(env)


def reload_case(env):
    """SIGHUP re-applies [filters]: a rule added while its window is open covers the open span."""
    check = ap.check
    cfg = os.path.join(env.tmp, "reload.ini")
    with open(cfg, "w") as f:
        f.write("[filters]\nrule = drop app nothing-matches\n")
    src = os.path.join(env.tmp, "reload.jsonl")
    t1 = T0 + 86400000
    with open(src, "w") as f:
        f.write(json.dumps({"time": t1, "app": "code", "path": "/usr/bin/code",
                            "title": "RELOAD-before"}) + "\n")
        f.write(json.dumps({"time": t1 + 60000, "app": "mutt", "path": "/usr/bin/mutt",
                            "title": "RELOAD-SECRET-title"}) + "\n")
    for fn in os.listdir(env.tmp):  # the first collector's port file would be read as this one's
        if fn.startswith("port-"):
            os.remove(os.path.join(env.tmp, fn))
    coll, port, _ = env.collector()
    a = env.agent("reload", "jsonl:" + src, "https://127.0.0.1:%d" % port, token=3, config=cfg)
    ap.wait_for("the secret window open", lambda: (lambda s: s["source"]["items"] >= 2 and
                s["open"] and s["open"].get("title") == "RELOAD-SECRET-title")(a.status()), 60)
    with open(cfg, "w") as f:
        f.write("[filters]\nrule = drop title RELOAD-SECRET\n")
    a.p.send_signal(1)  # SIGHUP
    ap.wait_for("the reload logged", lambda: "[filters] reloaded: 1 rule" in a.log_text(), 60)
    s = a.status()
    check(s["open"] and s["open"]["kind"] == "private" and "title" not in s["open"],
          "the open record after the reload: %s" % s["open"])
    with open(src, "a") as f:
        f.write(json.dumps({"time": t1 + 120000, "app": "code", "path": "/usr/bin/code",
                            "title": "RELOAD-after"}) + "\n")
        f.write(json.dumps({"time": t1 + 180000, "idle": True}) + "\n")
    ap.wait_for("the reload case delivered", lambda: (lambda s: s["source"]["items"] >= 4 and
                s["journal"]["next_seq"] > 3 and s["backlog"] == 0)(a.status()), 120, 0.1)
    a.stop()
    env.stop(coll)
    got = [r for r in env.dump("acct3")]
    text = json.dumps(got)
    check("RELOAD-SECRET" not in text and "mutt" not in text,
          "the window a reloaded rule drops reached the server: %s" % text)
    check("RELOAD-before" in text and "RELOAD-after" in text, "the other windows: %s" % text)
    priv = [r for r in got if r.get("kind") == "KIND_PRIVATE"]
    check(len(priv) == 1 and int(priv[0]["startMs"]) == t1 + 60000 and
          int(priv[0]["endMs"]) == t1 + 120000, "the dropped span's times: %s" % priv)
    print("ok: SIGHUP re-applied [filters], the open span included")


if __name__ == "__main__":
    sys.exit(main())
