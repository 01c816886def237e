#!/usr/bin/python3
"""browser_install.py STINTCTL EXTENSION_DIR — `stintctl browser install`, its manifests and errors.

Per user: the Firefox and Chromium manifests under $HOME / $XDG_CONFIG_HOME, valid JSON naming
the host; Chromium's id computed from the extension folder (symlinks resolved, as Chromium
does; checked here against an independent computation, and in browser_real against what a
running Chromium reports); --chromium-id as the override. System-wide: --system --destdir
writes both under the staging folder, --system without root is refused with exit 1 and a
message, and usage errors exit 2 naming the argument.
"""
import hashlib
import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile

NAME = "org.stint.browser_host.json"


def fail(msg):
    print("browser_install: FAIL: " + msg, flush=True)
    sys.exit(1)


def chromium_id(path):
    h = hashlib.sha256(path.encode()).hexdigest()[:32]
    return "".join(chr(ord("a") + int(c, 16)) for c in h)


def main():
    stintctl, ext_src = sys.argv[1:3]
    tmp = tempfile.mkdtemp(prefix="stint-browser-install-")
    try:
        env = dict(os.environ, HOME=os.path.join(tmp, "home"),
                   XDG_CONFIG_HOME=os.path.join(tmp, "cfg"))
        os.makedirs(env["HOME"])

        def run(*args, user=None):
            cmd = [stintctl, "browser", "install"] + list(args)
            if user:
                cmd = ["runuser", "-u", user, "--"] + cmd
            return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)

        def manifest(path, host, key, value):
            try:
                m = json.load(open(path))
            except (OSError, ValueError) as e:
                fail("%s: %s" % (path, e))
            want = {"name": "org.stint.browser_host", "type": "stdio", "path": host, key: value}
            if any(m.get(k) != v for k, v in want.items()):
                fail("%s: %r, want %r" % (path, m, want))
            if os.stat(path).st_mode & 0o777 != 0o644:
                fail("%s: mode %o" % (path, os.stat(path).st_mode & 0o777))

        # a folder reached through a symlink: Chromium hashes the resolved path
        ext = os.path.join(tmp, "real ext")
        shutil.copytree(ext_src, ext)
        link = os.path.join(tmp, "link")
        os.symlink(ext, link)
        host = "/opt/stint/bin/stint-browser-host"
        p = run("--host", host, "--chromium-extension-dir", link)
        if p.returncode != 0:
            fail("per user: %d %s" % (p.returncode, p.stderr))
        cid = chromium_id(os.path.realpath(ext))
        manifest(os.path.join(env["HOME"], ".mozilla", "native-messaging-hosts", NAME), host,
                 "allowed_extensions", ["stint@stint.invalid"])
        cr = os.path.join(env["XDG_CONFIG_HOME"], "chromium", "NativeMessagingHosts", NAME)
        manifest(cr, host, "allowed_origins", ["chrome-extension://%s/" % cid])
        if cid not in p.stdout:
            fail("the id is not printed: %r" % p.stdout)

        # the override
        p = run("--chromium", "--host", host, "--chromium-id", "a" * 32)
        if p.returncode != 0:
            fail("--chromium-id: %d %s" % (p.returncode, p.stderr))
        manifest(cr, host, "allowed_origins", ["chrome-extension://%s/" % ("a" * 32)])

        # usage and failures
        for args, code, says in [
                (["--chromium-id", "q" * 32], 2, "not a Chromium extension id"),
                (["--chromium-id", "a" * 32, "--chromium-extension-dir", ext], 2, "not both"),
                (["--destdir", tmp], 2, "--destdir goes with --system"),
                (["--host", "relative/host"], 2, "absolute"),
                (["--bogus"], 2, "unknown argument \"--bogus\""),
                (["--chromium", "--chromium-extension-dir", os.path.join(tmp, "none")], 1,
                 "no extension folder")]:
            p = run(*args)
            if p.returncode != code or says not in p.stderr:
                fail("%r: exit %d %r, want %d and %r" % (args, p.returncode, p.stderr, code, says))

        # system-wide, staged as a package build does
        stage = os.path.join(tmp, "stage")
        os.makedirs(stage + "/usr/share/stint/browser-extension")
        p = run("--system", "--destdir", stage, "--host", "/usr/bin/stint-browser-host",
                "--chromium-extension-dir", "/usr/share/stint/browser-extension")
        if p.returncode != 0:
            fail("--system --destdir: %d %s" % (p.returncode, p.stderr))
        manifest(stage + "/usr/lib/mozilla/native-messaging-hosts/" + NAME,
                 "/usr/bin/stint-browser-host", "allowed_extensions", ["stint@stint.invalid"])
        manifest(stage + "/etc/chromium/native-messaging-hosts/" + NAME,
                 "/usr/bin/stint-browser-host", "allowed_origins",
                 ["chrome-extension://%s/" % chromium_id("/usr/share/stint/browser-extension")])

        # --system needs root (as root, checked as nobody when runuser can switch)
        user = None
        if os.geteuid() == 0 and shutil.which("runuser"):
            try:
                user = pwd.getpwnam("nobody").pw_name
            except KeyError:
                user = None
            # the build folder may be out of that user's reach (a 0700 home)
            if user and subprocess.run(["runuser", "-u", user, "--", "test", "-x", stintctl],
                                       timeout=30).returncode != 0:
                user = None
        if os.geteuid() != 0 or user:
            os.chmod(tmp, 0o755)
            p = run("--system", "--host", host, user=user)
            if p.returncode != 1 or "run it as root" not in p.stderr:
                fail("--system as a user: exit %d %r" % (p.returncode, p.stderr))
        else:
            print("browser_install: --system as a user not checked (no runuser, no nobody, "
                  "or the build folder is out of its reach)")
        print("browser_install: passed (Chromium id %s for %s)" % (cid, os.path.realpath(ext)))
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
