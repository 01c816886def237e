#!/usr/bin/python3
"""browser_real.py STINTD STINTCTL HOST EXTENSION_DIR chromium|firefox-esr — a real browser, end to end.

Under Xvfb + openbox: stintd on `source = x11, browser` (full URL mode), a local HTTP server with
two pages, Chromium with the unpacked extension (--load-extension) and the host manifest in its
profile, or Firefox ESR with the unsigned XPI in its profile (signatures off) and the host
manifest written by `stintctl browser install --firefox`. The test opens the two pages in two tabs, switches tabs, goes to an xterm and back
(xdotool), and checks stintd's records: the browser's spells carry each page's URL and the
window's app, the xterm's spell has no URL. Exit 77 (skip) without Xvfb, openbox, xdotool,
xterm or the browser.
"""
import hashlib
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time


def fail(msg):
    print("browser_real: FAIL: " + msg)
    sys.exit(1)


def wait_for(pred, what, timeout=90):
    end = time.time() + timeout
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.2)
    fail("timed out waiting for " + what)


PAGES = {"/plan.html": "<html><head><title>Plan</title></head><body>plan</body></html>",
         "/notes.html": "<html><head><title>Notes</title></head><body>notes</body></html>"}


class Pages(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = PAGES.get(self.path.split("?")[0])
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *a):
        pass


def chromium_id(path):
    h = hashlib.sha256(os.path.abspath(path).encode()).hexdigest()[:32]
    return "".join(chr(ord("a") + int(c, 16)) for c in h)


def main():
    stintd, stintctl, host, ext_src, browser = sys.argv[1:6]
    for tool in ("Xvfb", "openbox", "xdotool", "xterm", browser):
        if not shutil.which(tool):
            print("browser_real: SKIPPED: no " + tool)
            return 77
    tmp = tempfile.mkdtemp(prefix="stint-browser-real-")
    procs = []
    try:
        env = dict(os.environ, HOME=tmp, XDG_RUNTIME_DIR=os.path.join(tmp, "run"),
                   XDG_CONFIG_HOME=os.path.join(tmp, "cfg"))
        os.makedirs(env["XDG_RUNTIME_DIR"], mode=0o700)
        r, w = os.pipe()
        x = subprocess.Popen(["Xvfb", "-displayfd", str(w), "-screen", "0", "1280x900x24",
                              "-nolisten", "tcp"], pass_fds=[w], stderr=subprocess.DEVNULL)
        procs.append(x)
        os.close(w)
        disp = b""
        while not disp.endswith(b"\n"):
            c = os.read(r, 16)
            if not c:
                fail("Xvfb did not start")
            disp += c
        env["DISPLAY"] = ":" + disp.decode().strip()
        procs.append(subprocess.Popen(["openbox", "--sm-disable"], env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Pages)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        base = "http://127.0.0.1:%d" % srv.server_address[1]

        sock = os.path.join(env["XDG_RUNTIME_DIR"], "stint", "control")
        log = open(os.path.join(tmp, "stintd.log"), "w")
        a = subprocess.Popen([stintd, "--source", "x11, browser", "--journal",
                              os.path.join(tmp, "journal"), "--socket", sock, "--server", "",
                              "--url-mode", "full", "--idle-after", "3600s", "-v"],
                             env=env, stdout=log, stderr=subprocess.STDOUT)
        procs.append(a)
        wait_for(lambda: os.path.exists(sock) or a.poll() is not None, "stintd")
        if a.poll() is not None:
            fail("stintd: " + open(os.path.join(tmp, "stintd.log")).read()[-2000:])

        def status():
            p = subprocess.run([stintctl, "--socket", sock, "status", "--json"], env=env,
                               capture_output=True, timeout=60)
            return json.loads(p.stdout) if p.returncode == 0 else {}

        def open_is(pred, what):
            last = {}

            def check():
                st = status()
                last["st"] = st
                o = st.get("open")
                return o if o and pred(o) else None
            end = time.time() + 90
            while time.time() < end:
                o = check()
                if o:
                    return o
                time.sleep(0.2)
            fail("timed out waiting for %s; open record %r, browser %r" % (
                what, last["st"].get("open"), last["st"].get("browser")))

        ext = os.path.join(tmp, "extension")
        shutil.copytree(ext_src, ext)
        prof = os.path.join(tmp, "profile")
        if browser == "chromium":
            os.makedirs(os.path.join(prof, "NativeMessagingHosts"))
            with open(os.path.join(prof, "NativeMessagingHosts", "org.stint.browser_host.json"),
                      "w") as f:
                json.dump({"name": "org.stint.browser_host", "description": "stint test",
                           "path": os.path.abspath(host), "type": "stdio",
                           "allowed_origins": ["chrome-extension://%s/" % chromium_id(ext)]}, f)
            args = [browser, "--no-sandbox", "--user-data-dir=" + prof, "--load-extension=" + ext,
                    "--no-first-run", "--no-default-browser-check", "--disable-gpu",
                    "--password-store=basic"]
        else:
            # Firefox ESR: the unsigned XPI in the profile, signatures off (ESR allows it), the
            # host manifest where Firefox looks for it per user; installed with stintctl
            os.makedirs(os.path.join(prof, "extensions"))
            shutil.make_archive(os.path.join(tmp, "xpi"), "zip", ext)
            shutil.move(os.path.join(tmp, "xpi.zip"),
                        os.path.join(prof, "extensions", "stint@stint.invalid.xpi"))
            with open(os.path.join(prof, "user.js"), "w") as f:
                for k, v in [("xpinstall.signatures.required", "false"),
                             ("extensions.autoDisableScopes", "0"),
                             ("extensions.enabledScopes", "15"),
                             ("browser.shell.checkDefaultBrowser", "false"),
                             ("browser.aboutwelcome.enabled", "false"),
                             ("datareporting.policy.dataSubmissionEnabled", "false"),
                             ("browser.startup.homepage_override.mstone", '"ignore"')]:
                    f.write('user_pref("%s", %s);\n' % (k, v))
            p = subprocess.run([stintctl, "browser", "install", "--firefox", "--host",
                                os.path.abspath(host)], env=env, capture_output=True, timeout=60)
            if p.returncode != 0:
                fail("stintctl browser install --firefox: %r" % p.stderr)
            args = [browser, "--profile", prof, "--no-remote"]
        if browser == "chromium":
            procs.append(subprocess.Popen(args + [base + "/plan.html"], env=env,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            open_is(lambda o: o.get("url") == base + "/plan.html", "the plan page's record")
            # a second start hands the URL to the running browser: a new tab
            subprocess.run(args + [base + "/notes.html"], env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=60)
        else:
            # Firefox without a session bus cannot hand a URL to a running instance: both tabs
            # at start (the first in front), then the next tab
            procs.append(subprocess.Popen(args + [base + "/plan.html", base + "/notes.html"],
                                          env=env, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL))
            open_is(lambda o: o.get("url") == base + "/plan.html", "the plan page's record")
            subprocess.run(["xdotool", "key", "ctrl+Page_Down"], env=env, timeout=30)
        o = open_is(lambda o: o.get("url") == base + "/notes.html", "the notes tab's record")
        bapp = o.get("app")
        subprocess.run(["xdotool", "key", "ctrl+Page_Up"], env=env, timeout=30)
        open_is(lambda o: o.get("url") == base + "/plan.html", "the switch back to plan")
        bwin = subprocess.run(["xdotool", "getactivewindow"], env=env, capture_output=True,
                              timeout=30).stdout.decode().strip()
        procs.append(subprocess.Popen(["xterm", "-title", "xterm-here"], env=env))
        open_is(lambda o: o.get("title") == "xterm-here" and "url" not in o, "the xterm")
        wait_for(lambda: subprocess.run(["xdotool", "windowactivate", "--sync", bwin], env=env,
                                        timeout=30).returncode == 0, "the browser window back")
        open_is(lambda o: o.get("url") == base + "/plan.html" and o.get("app") == bapp,
                "back in the browser")
        p = subprocess.run([stintctl, "--socket", sock, "pending", "--json"], env=env,
                           capture_output=True, timeout=60)
        recs = [json.loads(l) for l in p.stdout.decode().splitlines() if l.strip()]
        seen = [(r.get("app"), r.get("url")) for r in recs]
        if p.returncode != 0 or not recs:
            fail("pending: %d %r %r" % (p.returncode, p.stdout[-500:], p.stderr[-500:]))
        for want in [(bapp, base + "/plan.html"), (bapp, base + "/notes.html"),
                     ("XTerm", None)]:
            if want not in seen and not (want[0] == "XTerm" and any(
                    s[1] is None and s[0] and s[0].lower() == "xterm" for s in seen)):
                fail("no record %r in %r" % (want, seen))
        print("browser_real: %s: records %r" % (browser, seen))
        return 0
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in reversed(procs):
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
