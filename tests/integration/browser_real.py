#!/usr/bin/python3
"""browser_real.py STINTD STINTCTL HOST COLLECTOR EXTENSION_DIR XPI chromium|firefox-esr host|full

A real browser, end to end, under Xvfb + openbox: stintd on `source = x11, browser` in the given
URL mode, sending to a stint-collector on loopback; a local HTTP server with three pages.

- Chromium loads the unpacked extension (--load-extension) from a copy of EXTENSION_DIR; the
  host manifest is written by `stintctl browser install --chromium --chromium-extension-dir`,
  which computes the extension's id from the folder: the test reads back the id Chromium itself
  gave the extension (its profile's Preferences) and compares. The extension is NOT allowed in
  incognito windows (Chromium's default), the case where only stintd can keep the incognito
  window out of the records.
- Firefox ESR gets the unsigned XPI through an enterprise policy file (ExtensionSettings,
  force_installed, allowed in private windows) in /etc/firefox/policies/policies.json, the
  system policy file Firefox reads on Linux (Debian's firefox-esr too; its other place,
  /usr/lib/firefox-esr/distribution/, belongs to the package); signatures are off through the
  profile's prefs, as ESR allows. The file is removed afterwards and any file that was there restored
  (runs as root; skipped otherwise). The host manifest: `stintctl browser install --firefox`.

The test opens two pages in two tabs, switches tabs, goes to an xterm and back (xdotool), then
opens a private/incognito window on a third page. It checks the open record at each step (title
and URL as the mode cuts it), then the records the collector stored: each spell's app, title
and URL, the xterm's spell without a URL, and a private record while no record, no byte of the
journal's files and nothing in the collector's dump holds the private page's title or URL.
Exit 77 (skip) without Xvfb, openbox, xdotool, xterm or the browser.
"""
import fcntl
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

SECRET = "Zanzibarsecret"  # the private page's title and path: must never be stored
PAGES = {"/plan.html": "Plan", "/notes.html": "Notes", "/%s.html" % SECRET.lower(): SECRET}
TOKEN, ACCOUNT = "browser-real-token-0123456789", "alice"
POLICY_DIR = "/etc/firefox/policies"
POLICY_LOCK = "/tmp/stint-browser-real-policies.lock"
MARK = "stint-browser-real-"  # in every temporary path of this test, hence in its policy file


def fail(msg):
    print("browser_real: FAIL: " + msg, flush=True)
    sys.exit(1)


def wait_for(pred, what, timeout=90):
    end = time.time() + timeout
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.2)
    fail("timed out waiting for " + what)


class Pages(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        title = PAGES.get(self.path.split("?")[0])
        if title is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(("<html><head><title>%s</title></head><body>%s</body></html>" %
                          (title, title)).encode())

    def log_message(self, *a):
        pass


class Policy:
    """Writes Firefox's system policy file, keeping what was there; restore() puts it back."""

    def __init__(self, xpi):
        self.path = os.path.join(POLICY_DIR, "policies.json")
        self.lock = open(POLICY_LOCK, "a")
        fcntl.flock(self.lock, fcntl.LOCK_EX)  # another run of this test waits here
        # the folders this run creates, deepest last, removed afterwards
        self.made = []
        d = POLICY_DIR
        while not os.path.isdir(d):
            self.made.insert(0, d)
            d = os.path.dirname(d)
        self.before = None
        if os.path.exists(self.path):
            data = open(self.path, "rb").read()
            # a file a killed run of this test left is not the machine's: not restored
            if MARK.encode() not in data:
                self.before = data
        os.makedirs(POLICY_DIR, exist_ok=True)
        policy = {"policies": {"ExtensionSettings": {"stint@stint.invalid": {
            "installation_mode": "force_installed", "install_url": "file://" + xpi,
            "private_browsing": True}}}}
        with open(self.path + ".tmp", "w") as f:
            json.dump(policy, f, indent=2)
        os.rename(self.path + ".tmp", self.path)

    def restore(self):
        try:
            if self.before is not None:
                with open(self.path + ".tmp", "wb") as f:
                    f.write(self.before)
                os.rename(self.path + ".tmp", self.path)
            else:
                os.unlink(self.path)
                for d in reversed(self.made):
                    os.rmdir(d)
        finally:
            self.lock.close()


def url_as(mode, base, page):
    return base + page if mode == "full" else base


def main():
    stintd, stintctl, host, collector, ext_src, xpi_src, browser, mode = sys.argv[1:9]
    for tool in ("Xvfb", "openbox", "xdotool", "xterm", browser):
        if not shutil.which(tool):
            print("browser_real: SKIPPED: no " + tool)
            return 77
    if browser != "chromium" and os.geteuid() != 0:
        print("browser_real: SKIPPED: the Firefox policy file is system-wide: needs root")
        return 77
    tmp = tempfile.mkdtemp(prefix=MARK)
    os.chmod(tmp, 0o755)
    procs = []
    policy = None
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

        # the collector, plain HTTP on loopback
        for name, line in (("tokens", "%s %s\n" % (TOKEN, ACCOUNT)), ("token", TOKEN + "\n")):
            fd = os.open(os.path.join(tmp, name), os.O_WRONLY | os.O_CREAT, 0o600)
            os.write(fd, line.encode())
            os.close(fd)
        data, port_file = os.path.join(tmp, "data"), os.path.join(tmp, "port")
        coll = subprocess.Popen([collector, "serve", "--listen", "127.0.0.1:0", "--insecure-http",
                                 "--port-file", port_file, "--data", data, "--tokens",
                                 os.path.join(tmp, "tokens")],
                                stdout=open(os.path.join(tmp, "collector.log"), "w"),
                                stderr=subprocess.STDOUT)
        procs.append(coll)
        wait_for(lambda: os.path.exists(port_file) and open(port_file).read().strip(),
                 "the collector's port")
        server = "http://127.0.0.1:%s" % open(port_file).read().strip()

        sock = os.path.join(env["XDG_RUNTIME_DIR"], "stint", "control")
        journal = os.path.join(tmp, "journal")
        a = subprocess.Popen([stintd, "--source", "x11, browser", "--journal", journal,
                              "--socket", sock, "--server", server, "--token-file",
                              os.path.join(tmp, "token"), "--url-mode", mode,
                              "--idle-after", "3600s", "-v"],
                             env=env, stdout=open(os.path.join(tmp, "stintd.log"), "w"),
                             stderr=subprocess.STDOUT)
        procs.append(a)
        wait_for(lambda: os.path.exists(sock) or a.poll() is not None, "stintd")
        if a.poll() is not None:
            fail("stintd: " + open(os.path.join(tmp, "stintd.log")).read()[-2000:])

        def ctl(*args, timeout=60):
            return subprocess.run([stintctl, "--socket", sock] + list(args), env=env,
                                  capture_output=True, timeout=timeout)

        def status():
            p = ctl("status", "--json")
            return json.loads(p.stdout) if p.returncode == 0 else {}

        def open_is(pred, what):
            last = {}
            end = time.time() + 90
            while time.time() < end:
                st = status()
                last["st"] = st
                o = st.get("open")
                if o and pred(o):
                    return o
                time.sleep(0.2)
            fail("timed out waiting for %s; open record %r, browser %r" % (
                what, last["st"].get("open"), last["st"].get("browser")))

        def on_page(page):
            title, url = PAGES[page], url_as(mode, base, page)
            return lambda o: o.get("url") == url and title in o.get("title", "")

        ext = os.path.join(tmp, "extension")
        shutil.copytree(ext_src, ext)
        if browser == "chromium":
            # the profile is $XDG_CONFIG_HOME/chromium, where stintctl writes the manifest
            prof = os.path.join(env["XDG_CONFIG_HOME"], "chromium")
            p = subprocess.run([stintctl, "browser", "install", "--chromium",
                                "--chromium-extension-dir", ext, "--host",
                                os.path.abspath(host)], env=env, capture_output=True, timeout=60)
            if p.returncode != 0:
                fail("stintctl browser install --chromium: %r" % p.stderr)
            args = [browser, "--no-sandbox", "--user-data-dir=" + prof, "--load-extension=" + ext,
                    "--no-first-run", "--no-default-browser-check", "--disable-gpu",
                    "--password-store=basic"]
            procs.append(subprocess.Popen(args + [base + "/plan.html"], env=env,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            open_is(on_page("/plan.html"), "the plan page's record")
            # a second start hands the URL to the running browser: a new tab
            subprocess.run(args + [base + "/notes.html"], env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=60)
        else:
            prof = os.path.join(tmp, "profile")
            os.makedirs(prof)
            xpi = os.path.join(tmp, "stint-extension.xpi")
            shutil.copy(xpi_src, xpi)
            policy = Policy(xpi)
            with open(os.path.join(prof, "user.js"), "w") as f:
                for k, v in [("xpinstall.signatures.required", "false"),
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
            # Firefox without a session bus cannot hand a URL to a running instance: both tabs
            # at start (the first in front), then the next tab
            procs.append(subprocess.Popen(args + [base + "/plan.html", base + "/notes.html"],
                                          env=env, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL))
            open_is(on_page("/plan.html"), "the plan page's record (extension from the policy)")
            subprocess.run(["xdotool", "key", "ctrl+Page_Down"], env=env, timeout=30)
        o = open_is(on_page("/notes.html"), "the notes tab's record")
        bapp = o.get("app")
        subprocess.run(["xdotool", "key", "ctrl+Page_Up"], env=env, timeout=30)
        open_is(on_page("/plan.html"), "the switch back to plan")
        bwin = subprocess.run(["xdotool", "getactivewindow"], env=env, capture_output=True,
                              timeout=30).stdout.decode().strip()
        term = subprocess.Popen(["xterm", "-title", "xterm-here"], env=env)
        procs.append(term)
        open_is(lambda o: o.get("title") == "xterm-here" and "url" not in o, "the xterm")
        xwin = subprocess.run(["xdotool", "getactivewindow"], env=env, capture_output=True,
                              timeout=30).stdout.decode().strip()
        wait_for(lambda: subprocess.run(["xdotool", "windowactivate", "--sync", bwin], env=env,
                                        timeout=30).returncode == 0, "the browser window back")
        open_is(lambda o: on_page("/plan.html")(o) and o.get("app") == bapp,
                "back in the browser")

        # a private/incognito window on the secret page
        secret = base + "/%s.html" % SECRET.lower()
        if browser == "chromium":
            subprocess.run(args + ["--incognito", secret], env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=60)
        else:
            subprocess.run(["xdotool", "key", "ctrl+shift+p"], env=env, timeout=30)
            wait_for(lambda: subprocess.run(["xdotool", "getactivewindow"], env=env,
                                            capture_output=True, timeout=30
                                            ).stdout.decode().strip() not in ("", bwin),
                     "Firefox's private window")
            # the new window's address bar takes keys only once it is drawn: type the address
            # again until the page's title shows (a loaded machine may lose the first keys)
            pw = subprocess.run(["xdotool", "getactivewindow"], env=env, capture_output=True,
                                timeout=30).stdout.decode().strip()
            end = time.time() + 120
            while True:
                subprocess.run(["xdotool", "key", "ctrl+l"], env=env, timeout=30)
                subprocess.run(["xdotool", "type", "--delay", "20", secret], env=env, timeout=60)
                subprocess.run(["xdotool", "key", "Return"], env=env, timeout=30)
                t = time.time() + 15
                while time.time() < t and SECRET not in subprocess.run(
                        ["xdotool", "getwindowname", pw], env=env, capture_output=True,
                        timeout=30).stdout.decode():
                    time.sleep(0.2)
                if t > time.time() or time.time() > end:
                    break
        pwin = wait_for(lambda: (lambda w: w if w not in ("", bwin, xwin) else None)(
            subprocess.run(["xdotool", "getactivewindow"], env=env, capture_output=True,
                           timeout=30).stdout.decode().strip()), "the private window")
        # the page is loaded and titled in there (X11 sees the title, stintd must not keep it)
        wait_for(lambda: SECRET in subprocess.run(
            ["xdotool", "getwindowname", pwin], env=env, capture_output=True,
            timeout=30).stdout.decode(), "the secret page in the private window")
        print("browser_real: the private window's title: %r" % subprocess.run(
            ["xdotool", "getwindowname", pwin], env=env, capture_output=True,
            timeout=30).stdout.decode().strip(), flush=True)
        open_is(lambda o: o.get("kind") == "private" and len(o) == 2, "a private record")
        time.sleep(1)  # a spell long enough to see it is not split by the page's load
        wait_for(lambda: subprocess.run(["xdotool", "windowactivate", "--sync", xwin], env=env,
                                        timeout=30).returncode == 0, "the xterm again")
        open_is(lambda o: o.get("title") == "xterm-here", "the xterm after the private window")

        # everything to the collector, then stintd and the collector stopped
        p = ctl("flush", "--wait", "--timeout", "120", timeout=180)
        if p.returncode != 0:
            fail("flush --wait: %r %r" % (p.stdout[-500:], p.stderr[-500:]))
        st = status()
        for proc in (a, coll):
            proc.terminate()
            proc.wait(timeout=60)
        dump = subprocess.run([collector, "dump", "--data", data, "--account", ACCOUNT],
                              capture_output=True, timeout=60)
        if dump.returncode != 0:
            fail("stint-collector dump: %r" % dump.stderr[-500:])
        recs = [json.loads(l)["record"] for l in dump.stdout.decode().splitlines() if l.strip()]
        seen = [(str(r.get("kind", "active")).lower().replace("kind_", ""), r.get("app"),
                 r.get("title"), r.get("url")) for r in recs]
        print("browser_real: %s, %s mode: stored %r; status browser %r" % (
            browser, mode, seen, st.get("browser")), flush=True)

        def stored(app, page):
            return any(k == "active" and s_app == app and PAGES[page] in (s_title or "") and
                       s_url == url_as(mode, base, page) for k, s_app, s_title, s_url in seen)
        for page in ("/plan.html", "/notes.html"):
            if not stored(bapp, page):
                fail("no record of %s (%s, %s mode) in %r" % (page, bapp, mode, seen))
        if not any(k == "active" and (s_app or "").lower() == "xterm" and s_url is None
                   for k, s_app, _, s_url in seen):
            fail("no xterm record without a URL in %r" % seen)
        privs = [r for r in recs if "private" in str(r.get("kind", "")).lower()]
        if not privs:
            fail("no private record in %r" % seen)
        for r in privs:
            extra = set(r) & {"app", "path", "title", "url", "win"}
            if extra:
                fail("a private record with %r: %r" % (sorted(extra), r))
        # nothing of the private page anywhere: the dump, the journal's files
        for needle in (SECRET, SECRET.lower()):
            if needle.encode() in dump.stdout:
                fail("the collector's dump holds %r" % needle)
            for root, _, files in os.walk(journal):
                for name in files:
                    if needle.encode() in open(os.path.join(root, name), "rb").read():
                        fail("the journal file %s holds %r" % (name, needle))
        if browser == "chromium":
            check_chromium_id(procs, prof, ext, env)
        return 0
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.terminate()
        for p in reversed(procs):
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
        if policy:
            policy.restore()
        shutil.rmtree(tmp, ignore_errors=True)


def check_chromium_id(procs, prof, ext, env):
    """The id Chromium gave the unpacked extension (its Preferences, written on exit) is the
    one stintctl computed for the host manifest."""
    for p in procs:
        if p.args and p.args[0] == "chromium" and p.poll() is None:
            p.terminate()
            p.wait(timeout=60)
    prefs = json.load(open(os.path.join(prof, "Default", "Preferences")))
    ids = [k for k, v in prefs.get("extensions", {}).get("settings", {}).items()
           if v.get("path") == ext]
    manifest = json.load(open(os.path.join(prof, "NativeMessagingHosts",
                                           "org.stint.browser_host.json")))
    want = ["chrome-extension://%s/" % i for i in ids]
    if len(ids) != 1 or manifest.get("allowed_origins") != want:
        fail("Chromium gave the extension the id(s) %r; stintctl wrote %r" % (
            ids, manifest.get("allowed_origins")))
    print("browser_real: Chromium's id for %s is %s, as stintctl computed" % (ext, ids[0]))


if __name__ == "__main__":
    sys.exit(main())
