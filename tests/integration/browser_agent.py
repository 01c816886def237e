#!/usr/bin/python3
"""browser_agent.py STINTD STINTCTL HOST — several sources at once, end to end.

stintd runs with `--source "jsonl:FILE, browser"` (the JSONL file stands in for the window
source), and stint-browser-host is fed the extension's framed messages on its stdin exactly as a
browser would, forwarding them to stintd's real control socket. Checked, in full and host URL
mode: the browser window's record gets the tab's URL, a tab change splits the record, a window
of another program has no URL; the host reports stintd as connected and counts nothing dropped;
a stintd without `browser` in `source` refuses the reports, and the host counts them dropped.
"""
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time

T0 = 1700000000000


def fail(msg):
    print("browser_agent: FAIL: " + msg)
    sys.exit(1)


def wait_for(pred, what, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    fail("timed out waiting for " + what)


class Host:
    def __init__(self, binary, sock):
        self.p = subprocess.Popen([binary, "--socket", sock, "chrome-extension://test/"],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def send(self, msg):
        data = json.dumps(msg).encode()
        self.p.stdin.write(struct.pack("=I", len(data)) + data)
        self.p.stdin.flush()
        n = struct.unpack("=I", self.p.stdout.read(4))[0]
        return json.loads(self.p.stdout.read(n))

    def close(self):
        self.p.stdin.close()
        rc = self.p.wait(timeout=20)
        if rc != 0:
            fail("the host exited %d at the end of its input" % rc)


def status(stintctl, sock):
    p = subprocess.run([stintctl, "--socket", sock, "status", "--json"], capture_output=True,
                       timeout=60)
    if p.returncode != 0:
        fail("status: %s" % p.stderr.decode())
    return json.loads(p.stdout)


def pending(stintctl, sock):
    p = subprocess.run([stintctl, "--socket", sock, "pending", "--json"], capture_output=True,
                       timeout=60)
    if p.returncode != 0:
        fail("pending: %s" % p.stderr.decode())
    out = p.stdout.decode().strip()
    if out.startswith("["):
        return json.loads(out)
    return [json.loads(l) for l in out.splitlines() if l.strip()]


def run(stintd, stintctl, host_bin, tmp, mode, browser=True):
    d = os.path.join(tmp, mode + ("" if browser else "-off"))
    os.makedirs(d)
    events = os.path.join(d, "events.jsonl")
    open(events, "w").close()
    sock = os.path.join(d, "run", "control")
    src = "jsonl:%s, browser" % events if browser else "jsonl:" + events
    log = open(os.path.join(d, "stintd.log"), "w")
    a = subprocess.Popen([stintd, "--source", src, "--journal", os.path.join(d, "journal"),
                          "--socket", sock, "--server", "", "--max-age", "0", "--url-mode", mode],
                         stdout=log, stderr=subprocess.STDOUT,
                         env=dict(os.environ, XDG_CONFIG_HOME=os.path.join(d, "cfg")))
    try:
        wait_for(lambda: os.path.exists(sock) or a.poll() is not None, "stintd's socket")
        if a.poll() is not None:
            fail("stintd exited: " + open(os.path.join(d, "stintd.log")).read()[-2000:])
        h = Host(host_bin, sock)
        r = h.send({"type": "hello", "browser": "firefox", "version": "1.0.0"})
        if not browser:
            if r["stintd"] != "connected" or r["dropped"] != 1 or "browser reports are off" not in r.get("error", ""):
                fail("a stintd without browser in source: %r" % r)
            h.close()
            return
        if r != {"type": "status", "stintd": "connected", "forwarded": 1, "dropped": 0, "bad": 0}:
            fail("hello: %r" % r)

        def window(t, app, title):
            with open(events, "a") as f:
                f.write(json.dumps({"time": t, "app": app, "title": title}) + "\n")

        def focus(t, url, title):
            r = h.send({"type": "focus", "time": t, "window": 1, "tab": 2, "url": url,
                        "title": title, "private": False})
            if r["stintd"] != "connected" or r["dropped"] != 0:
                fail("focus: %r" % r)

        def open_rec(pred, what):
            return wait_for(lambda: (lambda o: o if o and pred(o) else None)(
                status(stintctl, sock).get("open")), what)

        focus(T0, "http://127.0.0.1:8099/plan.html?q=1", "Plan")
        window(T0 + 10, "firefox-esr", "Plan — Mozilla Firefox")
        open_rec(lambda o: o.get("title") == "Plan — Mozilla Firefox", "the browser window")
        focus(T0 + 5000, "http://example.org:8080/notes.html", "Notes")
        open_rec(lambda o: o.get("start_ms") == T0 + 5000, "the split on the tab change")
        window(T0 + 9000, "xterm", "xterm")
        open_rec(lambda o: o.get("app") == "xterm", "the xterm")
        h.send({"type": "blur", "time": T0 + 9001})
        window(T0 + 12000, "xterm", "end")
        recs = wait_for(lambda: (lambda r: r if len(r) >= 3 else None)(pending(stintctl, sock)),
                        "three records")
        full = mode == "full"
        want = [("firefox-esr", "Plan — Mozilla Firefox",
                 "http://127.0.0.1:8099/plan.html?q=1" if full else "http://127.0.0.1:8099"),
                ("firefox-esr", "Plan — Mozilla Firefox",
                 "http://example.org:8080/notes.html" if full else "http://example.org:8080"),
                ("xterm", "xterm", None)]
        for i, (app, title, url) in enumerate(want):
            r = recs[i]
            if r.get("app") != app or r.get("title") != title or r.get("url") != url:
                fail("%s mode, record %d: %r, want %s %s %s" % (mode, i, r, app, title, url))
        st = status(stintctl, sock)
        if st.get("browser", {}).get("events") != 3 or len(st["browser"]["browsers"]) != 1:
            fail("status browser: %r" % st.get("browser"))
        p = subprocess.run([stintctl, "--socket", sock, "browser", "status"], capture_output=True,
                           timeout=60, env=dict(os.environ, HOME=d))
        if p.returncode != 0 or b"1 browser(s) heard from" not in p.stdout:
            fail("browser status: %r" % p.stdout)
        h.close()
        print("browser_agent: %s mode: %d records as expected" % (mode, len(want)))
    finally:
        a.terminate()
        a.wait(timeout=30)
        log.close()


def install(stintctl, host_bin, tmp):
    """browser install writes both manifests where each browser looks, naming the host."""
    home = os.path.join(tmp, "home")
    env = dict(os.environ, HOME=home)
    env.pop("XDG_CONFIG_HOME", None)
    cid = "abcdefghijklmnopabcdefghijklmnop"
    p = subprocess.run([stintctl, "browser", "install", "--firefox", "--chromium", "--chromium-id",
                        cid, "--host", os.path.abspath(host_bin)], capture_output=True, env=env,
                       timeout=60)
    if p.returncode != 0:
        fail("browser install: %s" % p.stderr.decode())
    ff = json.load(open(os.path.join(home, ".mozilla/native-messaging-hosts/org.stint.browser_host.json")))
    cr = json.load(open(os.path.join(home, ".config/chromium/NativeMessagingHosts/org.stint.browser_host.json")))
    if ff["allowed_extensions"] != ["stint@stint.invalid"] or ff["type"] != "stdio" or \
            ff["path"] != os.path.abspath(host_bin):
        fail("firefox manifest: %r" % ff)
    if cr["allowed_origins"] != ["chrome-extension://%s/" % cid] or cr["name"] != "org.stint.browser_host":
        fail("chromium manifest: %r" % cr)
    p = subprocess.run([stintctl, "browser", "install", "--chromium", "--chromium-id", "XYZ"],
                       capture_output=True, env=env, timeout=60)
    if p.returncode != 2 or b"not a Chromium extension id" not in p.stderr:
        fail("a bad chromium id: %d %r" % (p.returncode, p.stderr))


def main():
    stintd, stintctl, host_bin = sys.argv[1:4]
    tmp = tempfile.mkdtemp(prefix="stint-browser-agent-")
    try:
        install(stintctl, host_bin, tmp)
        run(stintd, stintctl, host_bin, tmp, "full")
        run(stintd, stintctl, host_bin, tmp, "host")
        run(stintd, stintctl, host_bin, tmp, "host", browser=False)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
