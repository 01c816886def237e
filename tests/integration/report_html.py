#!/usr/bin/python3
"""report_html.py — `stintctl report --html` renders in a real browser.

    report_html.py STINTCTL DAY.jsonl ARTEFACTS_DIR

Makes the page of the known day (tests/data/report-day.jsonl, Europe/Paris), then headless
Chromium (Debian's `chromium`) renders it at 1280x800 and 390x844: the screenshots are kept in
ARTEFACTS_DIR (report-1280x800.png, report-390x844.png), Chromium's console is read for
JavaScript errors (none allowed), and the DOM Chromium built is checked: one lane per
application of `--json`'s rows plus idle and private, each span's width is its share of the day,
the spans of a lane add up to the lane's total, and all active spans to the day's active total.
The page must not refer to anything outside itself.
"""
import html.parser
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

TZ = "Europe/Paris"
checks = 0


def check(cond, msg):
    global checks
    checks += 1
    if not cond:
        print("FAIL: " + msg, flush=True)
        sys.exit(1)


class Dom(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.lanes = []  # dicts: name, kind, ms, spans [(ms, left, width)]
        self.scripts = 0
        self.external = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script":
            self.scripts += 1
        for k in ("src", "href"):
            if a.get(k):
                self.external.append(a[k])
        cls = (a.get("class") or "").split()
        if "lane" in cls:
            self.lanes.append({"name": a["data-lane"], "kind": a["data-kind"],
                               "ms": int(a["data-ms"]), "spans": []})
        elif "span" in cls and self.lanes:
            st = a.get("style", "")
            left = float(re.search(r"left:([\d.]+)%", st).group(1))
            width = float(re.search(r"width:([\d.]+)%", st).group(1))
            self.lanes[-1]["spans"].append((int(a["data-ms"]), left, width))


def chromium(args, tmp):
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if not exe:
        print("SKIP: no chromium (make deps installs it)")
        sys.exit(77)
    r = subprocess.run([exe, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                        "--no-first-run", "--user-data-dir=" + os.path.join(tmp, "profile"),
                        "--enable-logging=stderr", "--v=0"] + args,
                       capture_output=True, timeout=300,
                       env=dict(os.environ, TZ=TZ, HOME=tmp))
    return r


def js_errors(stderr):
    """Console errors Chromium logs: uncaught exceptions and console.error lines."""
    text = stderr.decode("utf-8", "replace")
    return [l for l in text.splitlines() if "CONSOLE" in l and ("Uncaught" in l or "rror" in l)]


def main():
    ctl, day, out = sys.argv[1], sys.argv[2], sys.argv[3]
    os.makedirs(out, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="stint-report-html-")
    try:
        page = os.path.join(out, "report-2026-01-15.html")
        env = dict(os.environ, TZ=TZ)
        r = subprocess.run([ctl, "report", "--records", day, "--day", "2026-01-15", "--html",
                            page], capture_output=True, timeout=60, env=env)
        check(r.returncode == 0, "stintctl report --html: %d %s" % (r.returncode, r.stderr))
        doc = json.loads(subprocess.run([ctl, "report", "--records", day, "--day", "2026-01-15",
                                         "--json"], capture_output=True, timeout=60, env=env,
                                        check=True).stdout)
        # the JavaScript error counter must see an error: a page that throws is counted
        probe = os.path.join(tmp, "probe.html")
        with open(probe, "w") as f:
            f.write("<html><body><script>throw new Error('probe');</script></body></html>")
        r = chromium(["--dump-dom", "file://" + probe], tmp)
        check(len(js_errors(r.stderr)) >= 1, "the JavaScript error counter saw nothing on a page "
              "that throws: %s" % r.stderr.decode()[-2000:])
        for w, h in ((1280, 800), (390, 844)):
            shot = os.path.join(out, "report-%dx%d.png" % (w, h))
            if os.path.exists(shot):
                os.unlink(shot)
            r = chromium(["--window-size=%d,%d" % (w, h), "--screenshot=" + shot,
                          "file://" + page], tmp)
            check(os.path.exists(shot) and os.path.getsize(shot) > 1000,
                  "no screenshot at %dx%d: %s" % (w, h, r.stderr.decode()[-2000:]))
            errs = js_errors(r.stderr)
            check(not errs, "JavaScript errors at %dx%d: %s" % (w, h, errs))
            print("screenshot: %s" % shot)
        r = chromium(["--window-size=1280,800", "--dump-dom", "file://" + page], tmp)
        check(r.returncode == 0 and b"<html" in r.stdout, "--dump-dom: %s" % r.stderr[-2000:])
        check(not js_errors(r.stderr), "JavaScript errors: %s" % js_errors(r.stderr))
        dom = Dom()
        dom.feed(r.stdout.decode("utf-8"))
        check(dom.scripts == 0 and not dom.external,
              "the page is not self-contained: %d scripts, %s" % (dom.scripts, dom.external))
        rows = {x["key"]: x["active_ms"] for x in doc["rows"]}
        active = [l for l in dom.lanes if l["kind"] == "active"]
        check(sorted(l["name"] for l in active) == sorted(rows),
              "lanes %s, apps %s" % ([l["name"] for l in active], sorted(rows)))
        check([l["kind"] for l in dom.lanes if l["kind"] != "active"] == ["idle", "private"],
              "idle and private lanes: %s" % [l["kind"] for l in dom.lanes])
        rng = doc["to_ms"] - doc["from_ms"]
        width_ms = 0.0
        for l in dom.lanes:
            want = rows.get(l["name"]) if l["kind"] == "active" else \
                doc["totals"][l["kind"] + "_ms"]
            check(l["ms"] == want, "lane %s says %d ms, the report %s" % (l["name"], l["ms"], want))
            check(sum(s[0] for s in l["spans"]) == want,
                  "lane %s: spans add to %d, not %d" % (l["name"], sum(s[0] for s in l["spans"]),
                                                       want))
            for ms, left, width in l["spans"]:
                check(abs(width / 100 * rng - ms) < 1 and 0 <= left and left + width <= 100.0001,
                      "lane %s: span of %d ms drawn %.6f%% wide at %.6f%%" %
                      (l["name"], ms, width, left))
                if l["kind"] == "active":
                    width_ms += width / 100 * rng
        check(abs(width_ms - doc["totals"]["active_ms"]) < 1 + len(dom.lanes),
              "active spans are %.1f ms wide in all, the day's active total is %d" %
              (width_ms, doc["totals"]["active_ms"]))
        print("%d checks passed; screenshots in %s" % (checks, out))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
