#!/usr/bin/python3
"""agent_control.py — stintd's control socket and stintctl, from the outside.

    agent_control.py STINTD STINTCTL [STINT_COLLECTOR]     every command, errors, signals
    agent_control.py STINTD STINTCTL --other-uid           peers of another uid (root only)
    agent_control.py STINTD STINTCTL --x11                 the X11 source under Xvfb

The first form runs stintd on a JSONL file (journal only, then against stint-collector when its
path is given) and checks every stintctl command and its exit status, the socket's modes, raw
malformed requests (each answered with an error line, the connection staying usable), an
over-long line (answered, then closed), private mode surviving a restart, one stintd per
journal, SIGHUP, and SIGTERM (exit 0 within 2 s, socket removed). With the collector: flush
--wait through injected 503s, and purge --server (DELETE /v1/data).

The second form needs root (exit 77, a ctest skip, otherwise): it runs stintd as `nobody` and
stintctl as root, which refuses the socket of another uid before sending anything (exit 4), and
a raw client as root, whom SO_PEERCRED shows the daemon as uid 0, which it must refuse; the
same stintctl as nobody is served; and stintctl as nobody against a root daemon's socket is
stopped by the 0700 folder (exit 4 as well).
"""
import json
import os
import pwd
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time

TOKEN = "control-token-0123456789"
checks = 0
# stintd must exit within 2 s of SIGTERM. Sanitizer builds spend about a second more in their
# own teardown (LeakSanitizer's scan at exit): the test suite raises the bound for them.
STOP_LIMIT = float(os.environ.get("STINT_STOP_LIMIT_S", "2"))


def fail(msg):
    print("FAIL: " + msg, flush=True)
    raise SystemExit(1)


def check(cond, msg):
    global checks
    checks += 1
    if not cond:
        fail(msg)


def write_events(path, n, start_ms):
    with open(path, "w") as f:
        t = start_ms
        for i in range(n):
            t += 60000
            f.write(json.dumps({"time": t, "app": ["firefox", "code", "xterm"][i % 3],
                                "path": "/usr/bin/app%d" % (i % 3), "title": "Window %d" % i,
                                "url": "https://example.com/page/%d?q=secret" % i}) + "\n")
        f.write(json.dumps({"time": t + 60000, "idle": True}) + "\n")


class Agent:
    def __init__(self, stintd, tmp, source, extra=(), prefix=()):
        self.tmp = tmp
        self.sock = os.path.join(tmp, "run", "control")
        self.log = os.path.join(tmp, "stintd.log")
        self.args = list(prefix) + [stintd, "--source", "jsonl:" + source,
                                    "--journal", os.path.join(tmp, "journal"),
                                    "--socket", self.sock, "--max-age", "0", "-v"] + list(extra)
        self.p = None

    def start(self, wait=True):
        lf = open(self.log, "a")
        env = dict(os.environ, XDG_CONFIG_HOME=os.path.join(self.tmp, "cfg"))
        self.p = subprocess.Popen(self.args, stdout=lf, stderr=subprocess.STDOUT, env=env)
        lf.close()
        if wait:
            end = time.time() + 20
            while not os.path.exists(self.sock):
                if self.p.poll() is not None or time.time() > end:
                    fail("stintd did not come up: " + open(self.log).read()[-2000:])
                time.sleep(0.02)
        return self.p

    def stop(self):
        t = time.time()
        self.p.send_signal(signal.SIGTERM)
        try:
            rc = self.p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            fail("stintd did not stop within 5 s")
        return rc, time.time() - t

    def kill(self):
        if self.p and self.p.poll() is None:
            self.p.kill()
            self.p.wait()


def ctl(stintctl, sock, *args, stdin=subprocess.DEVNULL, prefix=(), timeout=60):
    p = subprocess.run(list(prefix) + [stintctl, "--socket", sock] + list(args),
                       capture_output=True, stdin=stdin, timeout=timeout)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def status(stintctl, sock):
    rc, out, err = ctl(stintctl, sock, "status", "--json")
    check(rc == 0, "status --json: %d %s" % (rc, err))
    return json.loads(out)


def wait_for(pred, what, timeout=20):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return
        time.sleep(0.05)
    fail("timed out waiting for " + what)


def raw(sock, data, read_all=False):
    """Sends bytes on a fresh connection; returns the answer lines (until close if read_all)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(sock)
    s.sendall(data)
    buf = b""
    want = data.count(b"\n")
    while True:
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            break
        buf += chunk
        if not read_all and buf.count(b"\n") >= want:
            break
    s.close()
    return [json.loads(l) for l in buf.decode().splitlines()]


def test_config(stintd, stintctl, tmp):
    """Config errors name file and line (exit 2); flags override the file; SIGHUP re-reads it
    and keeps the old settings when the new file is bad."""
    events = os.path.join(tmp, "events.jsonl")
    write_events(events, 3, int(time.time() * 1000) - 3600 * 1000)
    ini = os.path.join(tmp, "agent.ini")
    with open(ini, "w") as f:
        f.write("[agent]\nsource = jsonl:/nonexistent/file\n[tracker]\nidle_after = soon\n")
    p = subprocess.run([stintd, "--config", ini], capture_output=True, timeout=20)
    err = p.stderr.decode()
    check(p.returncode == 2 and "agent.ini:4" in err and "idle_after" in err,
          "bad config: exit %d, %s" % (p.returncode, err))
    p = subprocess.run([stintd, "--no-such-flag", "x"], capture_output=True, timeout=20)
    check(p.returncode == 2 and "--no-such-flag" in p.stderr.decode(), "unknown flag")
    p = subprocess.run([stintd, "--help"], capture_output=True, timeout=20)
    check(p.returncode == 0 and "--idle-after" in p.stdout.decode(), "stintd --help")
    with open(ini, "w") as f:
        f.write("[agent]\nsource = jsonl:/nonexistent/file\n[sender]\nserver =\n")
    # the flag --source (given by Agent) wins over the file's source
    a = Agent(stintd, tmp, events, ["--config", ini])
    a.start()
    try:
        check(status(stintctl, a.sock)["source"]["spec"] == "jsonl:" + events,
              "the flag did not override the file")
        with open(ini, "w") as f:
            f.write("[agent]\nsource = jsonl:/nonexistent/file\nbogus = 1\n")
        a.p.send_signal(signal.SIGHUP)
        wait_for(lambda: "config not reloaded" in open(a.log).read(), "the reload refusal")
        check("agent.ini:3" in open(a.log).read(), "reload error without file and line")
        check(status(stintctl, a.sock)["backlog"] >= 0, "stintd did not survive a bad reload")
        rc, t = a.stop()
        check(rc == 0 and t < STOP_LIMIT, "SIGTERM: status %d after %.2f s" % (rc, t))
    finally:
        a.kill()


def test_stdin(stintd, stintctl, tmp):
    """--source stdin: stintd reads events from its standard input and, at its end, closes the
    open record, stops by itself and exits 0; the records are in the journal."""
    t0 = int(time.time() * 1000) - 3600 * 1000
    lines = "".join(json.dumps({"time": t0 + i * 30000, "app": "app%d" % (i % 2),
                                "title": "T%d" % i}) + "\n" for i in range(5))
    journal = os.path.join(tmp, "journal")
    p = subprocess.run([stintd, "--source", "stdin", "--journal", journal, "--socket",
                        os.path.join(tmp, "run", "control"), "--server", "", "--max-age", "0"],
                       input=lines.encode(), capture_output=True, timeout=20)
    err = p.stderr.decode()
    check(p.returncode == 0 and "ended" in err, "stdin: exit %d, %s" % (p.returncode, err))
    empty = os.path.join(tmp, "empty.jsonl")
    open(empty, "w").close()
    a = Agent(stintd, tmp, empty, ["--server", ""])
    a.start()
    try:
        rc, out, err = ctl(stintctl, a.sock, "pending", "--json")
        recs = [json.loads(l) for l in out.splitlines()]
        check(rc == 0 and len(recs) == 5, "stdin: %d records journaled, want 5" % len(recs))
        check([r["title"] for r in recs] == ["T%d" % i for i in range(5)], "stdin: %s" % recs)
        check(int(recs[0]["startMs"]) == t0 and int(recs[3]["endMs"]) == t0 + 4 * 30000,
              "stdin: times %s" % recs[:4])
        a.stop()
    finally:
        a.kill()


def test_journal_only(stintd, stintctl, tmp):
    events = os.path.join(tmp, "events.jsonl")
    write_events(events, 40, int(time.time() * 1000) - 3 * 3600 * 1000)
    a = Agent(stintd, tmp, events, ["--server", ""])
    a.start()
    try:
        run = os.path.dirname(a.sock)
        check(stat.S_IMODE(os.stat(run).st_mode) == 0o700, "socket folder not 0700")
        check(stat.S_IMODE(os.lstat(a.sock).st_mode) == 0o600, "socket not 0600")
        wait_for(lambda: status(stintctl, a.sock)["journal"]["next_seq"] == 41, "40 records")

        # Nothing happening: no wake-ups (a poll loop whose timeout went wrong would spin).
        def switches():
            n = 0
            for tid in os.listdir("/proc/%d/task" % a.p.pid):
                for line in open("/proc/%d/task/%s/status" % (a.p.pid, tid)):
                    if "ctxt_switches" in line:
                        n += int(line.split()[1])
            return n
        def cpu_ns():
            return sum(int(open("/proc/%d/task/%s/schedstat" % (a.p.pid, tid)).read().split()[0])
                       for tid in os.listdir("/proc/%d/task" % a.p.pid))
        time.sleep(1.5)
        w0, c0 = switches(), cpu_ns()
        time.sleep(3)
        w, c = switches() - w0, cpu_ns() - c0
        print("idle: %d wake-ups and %.3f ms of CPU in 3 s" % (w, c / 1e6), flush=True)
        check(w <= 6 and c < 30e6, "idle stintd: %d wake-ups, %.1f ms CPU in 3 s" % (w, c / 1e6))

        # status, human and JSON
        rc, out, err = ctl(stintctl, a.sock, "status")
        check(rc == 0 and "backlog" in out and "sender:" in out, "status: %d %s" % (rc, out))
        st = status(stintctl, a.sock)
        check(st["private"] is False and st["backlog"] == 40, "status: %s" % st)
        check(st["source"]["items"] == 41 and st["source"]["bad_lines"] == 0, "source: %s" % st)
        check(st["sender"]["state"].startswith("off"), "sender state: %s" % st["sender"])
        check(st["open"]["kind"] in ("idle", "KIND_IDLE"), "open record: %s" % st["open"])

        # pending: JSON lines, a limit, the human table; URLs cut to the host
        rc, out, err = ctl(stintctl, a.sock, "pending", "--json")
        recs = [json.loads(l) for l in out.splitlines()]
        check(rc == 0 and len(recs) == 40, "pending --json: %d records" % len(recs))
        check([int(r["seq"]) for r in recs] == list(range(1, 41)), "pending order")
        check(all(r["url"] == "https://example.com" for r in recs), "URL not cut: %s" % recs[0])
        rc, out, err = ctl(stintctl, a.sock, "pending", "--json", "--limit", "3")
        check(rc == 0 and len(out.splitlines()) == 3, "pending --limit 3: %s" % out)
        rc, out, err = ctl(stintctl, a.sock, "pending", "--limit", "5")
        check(rc == 0 and "Window 4" in out and "Window 5" not in out and "more are waiting" in out,
              "pending table: %s" % out)

        # private on/off, stored in the journal across a restart
        rc, out, err = ctl(stintctl, a.sock, "private", "on")
        check(rc == 0 and "private mode on" in out, "private on: %d %s" % (rc, err))
        check(status(stintctl, a.sock)["private"] is True, "private not on")
        rc, t = a.stop()
        check(rc == 0 and t < STOP_LIMIT, "SIGTERM: status %d after %.2f s" % (rc, t))
        check(not os.path.exists(a.sock), "socket left behind after SIGTERM")
        a.start()
        check(status(stintctl, a.sock)["private"] is True, "private mode lost in a restart")
        rc, out, err = ctl(stintctl, a.sock, "private", "off")
        check(rc == 0 and status(stintctl, a.sock)["private"] is False, "private off")

        # errors of the daemon and of usage, with their exit codes
        rc, out, err = ctl(stintctl, a.sock, "flush")
        check(rc == 1 and "no server configured" in err, "flush without server: %d %s" % (rc, err))
        rc, out, err = ctl(stintctl, a.sock, "purge", "--server", "--yes")
        check(rc == 1 and "no server" in err, "purge --server without server: %d %s" % (rc, err))
        for args, want in ((["private"], 2), (["private", "maybe"], 2), (["bogus"], 2),
                           (["status", "--wait"], 2), (["pending", "--limit", "x"], 2), ([], 2)):
            rc, out, err = ctl(stintctl, a.sock, *args)
            check(rc == want, "stintctl %s: exit %d, want %d" % (args, rc, want))
        rc, out, err = ctl(stintctl, os.path.join(tmp, "nothing", "here"), "status")
        check(rc == 3 and "is stintd running" in err, "unreachable: %d %s" % (rc, err))
        rc, out, err = ctl(stintctl, a.sock, "--help")
        check(rc == 0 and "EXIT STATUS" in out, "--help")

        # raw malformed requests: each answered with an error line, then the connection works
        bad = [b"hello\n", b"{\"cmd\":\"status\"\n", b"[1]\n", b"{}\n", b"{\"cmd\":\"reboot\"}\n",
               b"{\"cmd\":\"private\",\"on\":\"yes\"}\n", b"{\"cmd\":\"pending\",\"limit\":-1}\n",
               b"{\"cmd\":\"status\",\"x\":1}\n", b"\xff\xfe\n"]
        lines = raw(a.sock, b"".join(bad) + b"{\"cmd\":\"status\"}\n")
        check(len(lines) == len(bad) + 1, "raw: %d answers for %d lines" % (len(lines), len(bad) + 1))
        for req, ans in zip(bad, lines):
            check(ans["ok"] is False and ans["code"] in (2, 7, 8) and ans["message"],
                  "raw %r answered %s" % (req, ans))
        check(lines[-1]["ok"] is True and "backlog" in lines[-1], "status after errors")
        lines = raw(a.sock, b"x" * 10000 + b"\n", read_all=True)
        check(len(lines) == 1 and lines[0]["code"] == 5, "long line: %s" % lines)

        # one stintd per journal
        b = Agent(stintd, tmp, events, ["--server", ""])
        b.sock = os.path.join(tmp, "run2", "control")
        b.args[b.args.index("--socket") + 1] = b.sock
        b.log = os.path.join(tmp, "second.log")
        p = b.start(wait=False)
        rc = p.wait(timeout=20)
        msg = open(b.log).read()
        check(rc == 1 and str(a.p.pid) in msg, "second stintd: exit %d, %s" % (rc, msg))

        # SIGHUP reloads (no config file: the flags again) and the daemon goes on
        a.p.send_signal(signal.SIGHUP)
        wait_for(lambda: "SIGHUP" in open(a.log).read(), "SIGHUP in the log")
        check(status(stintctl, a.sock)["backlog"] == 40, "status after SIGHUP")

        # purge: refused without --yes off a terminal, then done with --yes
        rc, out, err = ctl(stintctl, a.sock, "purge")
        check(rc == 2 and "--yes" in err, "purge without --yes: %d %s" % (rc, err))
        check(status(stintctl, a.sock)["backlog"] == 40, "purge without --yes deleted")
        if shutil.which("script"):
            # on a terminal purge asks first: anything but "yes" deletes nothing (exit 6)
            cmd = "%s --socket %s purge" % (stintctl, a.sock)
            p = subprocess.run(["script", "-qec", cmd, "/dev/null"], input=b"no\n",
                               capture_output=True, timeout=30)
            out = p.stdout.decode(errors="replace")
            check(p.returncode == 6 and "40 not sent yet" in out and "Type 'yes'" in out,
                  "purge answered no: %d %r" % (p.returncode, out))
            check(status(stintctl, a.sock)["backlog"] == 40, "purge answered no deleted")
            p = subprocess.run(["script", "-qec", cmd, "/dev/null"], input=b"yes\n",
                               capture_output=True, timeout=30)
            out = p.stdout.decode(errors="replace")
            check(p.returncode == 0 and "purged" in out, "purge answered yes: %r" % out)
        rc, out, err = ctl(stintctl, a.sock, "purge", "--yes")
        check(rc == 0 and "purged" in out, "purge --yes: %d %s" % (rc, err))
        check(status(stintctl, a.sock)["backlog"] == 0, "backlog after purge")
        rc, out, err = ctl(stintctl, a.sock, "pending", "--json")
        check(rc == 0 and out == "", "pending after purge: %s" % out)

        rc, t = a.stop()
        check(rc == 0 and t < STOP_LIMIT, "SIGTERM: status %d after %.2f s" % (rc, t))
        log = open(a.log).read()
        check("Window" not in log and "secret" not in log, "window titles or URLs in the log")
    finally:
        a.kill()


def test_with_server(stintd, stintctl, collector, tmp):
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", key,
                    "-out", cert], check=True, capture_output=True)
    for name, text in (("tokens", "%s alice\n" % TOKEN), ("token", TOKEN + "\n")):
        fd = os.open(os.path.join(tmp, name), os.O_WRONLY | os.O_CREAT, 0o600)
        os.write(fd, text.encode())
        os.close(fd)
    data, port_file = os.path.join(tmp, "data"), os.path.join(tmp, "port")
    coll = subprocess.Popen([collector, "serve", "--listen", "127.0.0.1:0", "--port-file",
                             port_file, "--tls-cert", cert, "--tls-key", key, "--data", data,
                             "--tokens", os.path.join(tmp, "tokens"),
                             "--fault", "status=503,retry-after=1,count=3,path=/v1/batches"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    a = None
    try:
        wait_for(lambda: os.path.exists(port_file) and os.path.getsize(port_file) > 0, "port")
        port = int(open(port_file).read())
        events = os.path.join(tmp, "events.jsonl")
        write_events(events, 300, int(time.time() * 1000) - 24 * 3600 * 1000)
        a = Agent(stintd, tmp, events,
                  ["--server", "https://127.0.0.1:%d" % port, "--token-file",
                   os.path.join(tmp, "token"), "--ca-file", cert, "--batch-records", "50",
                   "--backoff-base", "100ms", "--backoff-cap", "2s"])
        a.start()
        wait_for(lambda: status(stintctl, a.sock)["journal"]["next_seq"] == 301, "300 records")
        # On a terminal (script(1) gives it one) flush --wait draws a progress bar on stderr.
        if shutil.which("script"):
            p = subprocess.run(["script", "-qec", "%s --socket %s flush --wait --timeout 60"
                                % (stintctl, a.sock), "/dev/null"],
                               capture_output=True, timeout=90, stdin=subprocess.DEVNULL)
            out = p.stdout.decode(errors="replace")
            check(p.returncode == 0 and "flushed" in out and "100%" in out and "[####" in out,
                  "flush --wait on a terminal: %d %r" % (p.returncode, out[-500:]))
        else:
            rc, out, err = ctl(stintctl, a.sock, "flush", "--wait", "--timeout", "60")
            check(rc == 0 and "flushed" in out, "flush --wait: %d %s %s" % (rc, out, err))
        st = status(stintctl, a.sock)
        check(st["backlog"] == 0 and st["sender"]["records_sent"] >= 300, "after flush: %s" % st)
        check(st["sender"]["attempts"] > st["sender"]["batches_acked"], "no 503 was met")
        dump = subprocess.run([collector, "dump", "--data", data, "--account", "alice"],
                              capture_output=True, check=True).stdout.decode().splitlines()
        check(len(dump) == 300, "collector holds %d records, want 300" % len(dump))
        rc, out, err = ctl(stintctl, a.sock, "flush", "--wait")
        check(rc == 0, "flush --wait with nothing to send: %d %s" % (rc, err))
        rc, out, err = ctl(stintctl, a.sock, "purge", "--server", "--yes")
        check(rc == 0 and "server deleted" in out, "purge --server: %d %s %s" % (rc, out, err))
        dump = subprocess.run([collector, "dump", "--data", data, "--account", "alice"],
                              capture_output=True, check=True).stdout.decode().splitlines()
        check(len(dump) == 0, "collector still holds %d records after purge --server" % len(dump))
        rc, t = a.stop()
        check(rc == 0 and t < STOP_LIMIT, "SIGTERM: status %d after %.2f s" % (rc, t))
        check(TOKEN not in open(a.log).read(), "the token is in the log")
    finally:
        if a:
            a.kill()
        coll.terminate()
        coll.wait()


def test_token_reload(stintd, stintctl, collector, tmp):
    """A token the server refuses pauses sending: flush --wait ends with the reason (exit 1);
    a good token in the file and SIGHUP resume it, and everything arrives."""
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", key,
                    "-out", cert], check=True, capture_output=True)
    token = os.path.join(tmp, "token")
    for name, text in (("tokens", "%s alice\n" % TOKEN), ("token", "wrong-token-0000\n")):
        fd = os.open(os.path.join(tmp, name), os.O_WRONLY | os.O_CREAT, 0o600)
        os.write(fd, text.encode())
        os.close(fd)
    data, port_file = os.path.join(tmp, "data"), os.path.join(tmp, "port")
    coll = subprocess.Popen([collector, "serve", "--listen", "127.0.0.1:0", "--port-file",
                             port_file, "--tls-cert", cert, "--tls-key", key, "--data", data,
                             "--tokens", os.path.join(tmp, "tokens")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    a = None
    try:
        wait_for(lambda: os.path.exists(port_file) and os.path.getsize(port_file) > 0, "port")
        port = int(open(port_file).read())
        events = os.path.join(tmp, "events.jsonl")
        write_events(events, 30, int(time.time() * 1000) - 3600 * 1000)
        a = Agent(stintd, tmp, events, ["--server", "https://127.0.0.1:%d" % port,
                                        "--token-file", token, "--ca-file", cert])
        a.start()
        wait_for(lambda: status(stintctl, a.sock)["journal"]["next_seq"] == 31, "30 records")
        rc, out, err = ctl(stintctl, a.sock, "flush", "--wait", "--timeout", "30")
        check(rc == 1 and "refused the token" in err, "flush with a bad token: %d %s" % (rc, err))
        st = status(stintctl, a.sock)
        check(st["backlog"] == 30 and st["sender"]["state"].startswith("paused"),
              "sender with a bad token: %s" % st["sender"])
        with open(token, "w") as f:
            f.write(TOKEN + "\n")
        a.p.send_signal(signal.SIGHUP)
        wait_for(lambda: "config reloaded" in open(a.log).read(), "the reload")
        rc, out, err = ctl(stintctl, a.sock, "flush", "--wait", "--timeout", "30")
        check(rc == 0 and status(stintctl, a.sock)["backlog"] == 0,
              "flush after the new token: %d %s" % (rc, err))
        dump = subprocess.run([collector, "dump", "--data", data, "--account", "alice"],
                              capture_output=True, check=True).stdout.decode().splitlines()
        check(len(dump) == 30, "collector holds %d records, want 30" % len(dump))
        log = open(a.log).read()
        check(TOKEN not in log and "wrong-token" not in log, "a token is in the log")
        # the sender logs through the daemon's logger, named, at info
        check("] info: sender: sending paused: the server refused the token" in log,
              "no sender line in the log: %s" % log[-2000:])
        rc, t = a.stop()
        check(rc == 0 and t < STOP_LIMIT, "SIGTERM: status %d after %.2f s" % (rc, t))
    finally:
        if a:
            a.kill()
        coll.terminate()
        coll.wait()


def test_stop_in_flight(stintd, stintctl, collector, tmp):
    """SIGTERM while a request is in flight: exit 0 within 2 s, the batch stays journaled."""
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", key,
                    "-out", cert], check=True, capture_output=True)
    for name, text in (("tokens", "%s alice\n" % TOKEN), ("token", TOKEN + "\n")):
        fd = os.open(os.path.join(tmp, name), os.O_WRONLY | os.O_CREAT, 0o600)
        os.write(fd, text.encode())
        os.close(fd)
    port_file = os.path.join(tmp, "port")
    coll = subprocess.Popen([collector, "serve", "--listen", "127.0.0.1:0", "--port-file",
                             port_file, "--tls-cert", cert, "--tls-key", key, "--data",
                             os.path.join(tmp, "data"), "--tokens", os.path.join(tmp, "tokens"),
                             "--fault", "slow=1,path=/v1/batches",
                             "--fault", "delay=8000,path=/v1/data"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    a = None
    try:
        wait_for(lambda: os.path.exists(port_file) and os.path.getsize(port_file) > 0, "port")
        port = int(open(port_file).read())
        events = os.path.join(tmp, "events.jsonl")
        write_events(events, 20, int(time.time() * 1000) - 3600 * 1000)
        a = Agent(stintd, tmp, events,
                  ["--server", "https://127.0.0.1:%d" % port, "--token-file",
                   os.path.join(tmp, "token"), "--ca-file", cert])
        a.start()
        wait_for(lambda: status(stintctl, a.sock)["journal"]["next_seq"] == 21, "20 records")
        time.sleep(1.5)  # the batch went out; the answer trickles at 1 byte a second
        st = status(stintctl, a.sock)
        check(st["backlog"] == 20 and st["sender"]["batches_acked"] == 0,
              "the batch was acked despite the slow answer: %s" % st["sender"])
        rc, t = a.stop()
        print("SIGTERM with a request in flight: exit %d after %.3f s" % (rc, t), flush=True)
        check(rc == 0 and t < STOP_LIMIT, "SIGTERM in flight: status %d after %.2f s" % (rc, t))
        b = Agent(stintd, tmp, events, ["--server", ""])
        b.start()
        try:
            check(status(stintctl, b.sock)["backlog"] == 20, "the abandoned batch left the journal")
        finally:
            b.stop()
            b.kill()
        # SIGTERM while purge --server waits for a slow DELETE: the stop does not wait for it,
        # and stintctl is told. (A journal of its own with nothing to send: only the DELETE is
        # in flight.)
        empty = os.path.join(tmp, "empty.jsonl")
        open(empty, "w").close()
        os.mkdir(os.path.join(tmp, "p"))
        a = Agent(stintd, os.path.join(tmp, "p"), empty,
                  ["--server", "https://127.0.0.1:%d" % port, "--token-file",
                   os.path.join(tmp, "token"), "--ca-file", cert])
        a.start()
        purge = subprocess.Popen([stintctl, "--socket", a.sock, "purge", "--server", "--yes"],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(1.0)
        rc, t = a.stop()
        print("SIGTERM during purge --server: exit %d after %.3f s" % (rc, t), flush=True)
        check(rc == 0 and t < STOP_LIMIT, "SIGTERM during purge --server: %d after %.2f s" % (rc, t))
        out, err = purge.communicate(timeout=10)
        check(purge.returncode == 1 and b"shutting down" in err,
              "stintctl purge during the stop: %d %s" % (purge.returncode, err))
    finally:
        if a:
            a.kill()
        coll.terminate()
        coll.wait()


def test_other_uid(stintd, stintctl, tmp):
    if os.geteuid() != 0:
        print("SKIP: needs root to run a daemon or a client as nobody")
        raise SystemExit(77)
    if shutil.which("setpriv") is None:
        print("SKIP: no setpriv")
        raise SystemExit(77)
    nobody = pwd.getpwnam("nobody")
    as_nobody = ["setpriv", "--reuid=%d" % nobody.pw_uid, "--regid=%d" % nobody.pw_gid,
                 "--clear-groups"]
    # Binaries and data where nobody can reach them.
    os.chmod(tmp, 0o755)
    bindir = os.path.join(tmp, "bin")
    os.mkdir(bindir)
    for b in (stintd, stintctl):
        shutil.copy(b, bindir)
    stintd, stintctl = (os.path.join(bindir, os.path.basename(b)) for b in (stintd, stintctl))
    home = os.path.join(tmp, "nobody")
    os.mkdir(home, 0o700)
    os.chown(home, nobody.pw_uid, nobody.pw_gid)
    events = os.path.join(tmp, "events.jsonl")
    write_events(events, 10, int(time.time() * 1000) - 3600 * 1000)
    os.chmod(events, 0o644)

    # 1. a daemon of nobody; root connects (root passes the file modes): SO_PEERCRED refuses.
    a = Agent(stintd, home, events, ["--server", ""], prefix=as_nobody)
    a.log = os.path.join(tmp, "nobody-stintd.log")
    try:
        a.start()
        # stintctl itself refuses a socket served by another uid (SO_PEERCRED) and sends nothing
        rc, out, err = ctl(stintctl, a.sock, "private", "on")
        check(rc == 4 and "served by uid %d" % nobody.pw_uid in err and out == "",
              "root's stintctl against nobody's daemon: exit %d, %s" % (rc, err))
        # a raw client that does send: the daemon refuses it (SO_PEERCRED on its side)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(20)
        s.connect(a.sock)
        try:
            s.sendall(b'{"cmd":"private","on":true}\n')
        except OSError:
            pass  # refused at accept: the error line may be there before the request is sent
        buf = b""
        while b"\n" not in buf:
            chunk = s.recv(4096)
            if not chunk:
                break
            buf += chunk
        s.close()
        ans = json.loads(buf.split(b"\n")[0] or b"{}")
        check(ans.get("ok") is False and ans.get("code") == 13 and
              ans.get("error") == "permission denied" and
              "permission denied" in ans.get("message", "") and "uid 0" in ans.get("message", ""),
              "root against nobody's daemon: %r" % buf)
        rc, out, err = ctl(stintctl, a.sock, "status", "--json", prefix=as_nobody)
        check(rc == 0 and json.loads(out)["private"] is False,
              "nobody against its own daemon: %d %s (root's private on must not have run)"
              % (rc, err))
        check("] warn: control: refused a peer of uid 0" in open(a.log).read(),
              "refusal not logged (as a warning)")
        rc, t = a.stop()
        check(rc == 0, "nobody's stintd: SIGTERM status %d" % rc)
    finally:
        a.kill()

    # 2. a daemon of root; nobody cannot even reach the socket (folder 0700, socket 0600).
    rootdir = os.path.join(tmp, "root")
    os.mkdir(rootdir, 0o755)  # traversable: the run/ folder inside is what must stop nobody
    b = Agent(stintd, rootdir, events, ["--server", ""])
    try:
        b.start()
        rc, out, err = ctl(stintctl, b.sock, "status", prefix=as_nobody)
        check(rc == 4 and "another user" in err, "nobody against root's daemon: %d %s" % (rc, err))
        rc, t = b.stop()
        check(rc == 0, "root's stintd: SIGTERM status %d" % rc)
    finally:
        b.kill()


def test_x11(stintd, stintctl, tmp):
    """stintd with the X11 source under Xvfb + openbox: focus moves between two xterms with
    known titles (one not ASCII); status shows the open record, pending the closed ones in
    order; private mode hides the window and leaves a private record."""
    for b in ("Xvfb", "openbox", "xterm", "xdotool"):
        if shutil.which(b) is None:
            print("SKIP: no " + b)
            raise SystemExit(77)
    procs = []
    a = None
    try:
        dfile = os.path.join(tmp, "display")
        with open(dfile, "w") as df:
            procs.append(subprocess.Popen(["Xvfb", "-displayfd", str(df.fileno()), "-screen", "0",
                                           "1024x768x24", "-nolisten", "tcp"],
                                          pass_fds=(df.fileno(),), stderr=subprocess.DEVNULL))
        wait_for(lambda: os.path.getsize(dfile) > 0, "Xvfb")
        env = dict(os.environ, DISPLAY=":" + open(dfile).read().strip())
        os.environ["DISPLAY"] = env["DISPLAY"]
        procs.append(subprocess.Popen(["openbox"], env=env, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL))
        titles = ["Stint A \u2713 caf\u00e9", "Stint B plain"]
        wins = []
        for t in titles:
            procs.append(subprocess.Popen(["xterm", "-u8", "-T", t, "-e", "sleep", "600"], env=env,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            w = subprocess.run(["xdotool", "search", "--sync", "--name", t.split()[1] + " "],
                               capture_output=True, env=env, timeout=30).stdout.split()
            wins.append(w[0].decode())
        a = Agent(stintd, tmp, "unused", ["--server", ""])
        a.args[a.args.index("--source") + 1] = "x11"
        p = a.start(wait=False)
        wait_for(lambda: os.path.exists(a.sock) or p.poll() is not None, "stintd")
        if p.poll() is not None:
            log = open(a.log).read()
            if "without xcb" in log:
                print("SKIP: stintd built without the X11 source")
                raise SystemExit(77)
            fail("stintd --source x11: " + log)

        def focus(i):
            subprocess.run(["xdotool", "windowactivate", "--sync", wins[i]], env=env, timeout=30,
                           capture_output=True)

        def open_title():
            o = status(stintctl, a.sock)["open"]
            return o.get("title") if o else None

        for i in (0, 1, 0):
            focus(i)
            wait_for(lambda: open_title() == titles[i], "focus on %r" % titles[i])
            time.sleep(0.3)
        st = status(stintctl, a.sock)
        check(st["open"]["app"].lower() == "xterm" and st["open"]["kind"] == "active", "open: %s" % st)
        rc, out, err = ctl(stintctl, a.sock, "pending", "--json")
        recs = [json.loads(l) for l in out.splitlines()]
        check([r.get("title") for r in recs][-2:] == titles, "pending titles: %s" % recs)
        check(all(r.get("path", "").endswith("xterm") for r in recs[-2:]), "paths: %s" % recs)

        check(ctl(stintctl, a.sock, "private", "on")[0] == 0, "private on")
        focus(1)
        time.sleep(0.5)
        st = status(stintctl, a.sock)
        check(st["private"] and "title" not in (st["open"] or {}), "private shows: %s" % st)
        check(ctl(stintctl, a.sock, "private", "off")[0] == 0, "private off")
        wait_for(lambda: open_title() == titles[1], "focus read again after private off")
        rc, out, err = ctl(stintctl, a.sock, "pending", "--json")
        recs = [json.loads(l) for l in out.splitlines()]
        check(recs[-1]["kind"] == "KIND_PRIVATE" and "title" not in recs[-1] and
              "app" not in recs[-1], "private record: %s" % recs[-1])
        rc, t = a.stop()
        check(rc == 0 and t < STOP_LIMIT, "x11 SIGTERM: %d after %.2f s" % (rc, t))
    finally:
        if a:
            a.kill()
        for p in reversed(procs):
            p.terminate()
            p.wait()


def main():
    stintd, stintctl = sys.argv[1:3]
    other_uid = "--other-uid" in sys.argv[3:]
    x11 = "--x11" in sys.argv[3:]
    rest = [x for x in sys.argv[3:] if x not in ("--other-uid", "--x11")]
    tmp = tempfile.mkdtemp(prefix="stint-agent-ctl-")
    ok = False
    try:
        if other_uid:
            test_other_uid(stintd, stintctl, tmp)
        elif x11:
            test_x11(stintd, stintctl, tmp)
        else:
            os.mkdir(os.path.join(tmp, "a"))
            test_journal_only(stintd, stintctl, os.path.join(tmp, "a"))
            os.mkdir(os.path.join(tmp, "cfg"))
            test_config(stintd, stintctl, os.path.join(tmp, "cfg"))
            os.mkdir(os.path.join(tmp, "stdin"))
            test_stdin(stintd, stintctl, os.path.join(tmp, "stdin"))
            if rest:
                os.mkdir(os.path.join(tmp, "b"))
                test_with_server(stintd, stintctl, rest[0], os.path.join(tmp, "b"))
                os.mkdir(os.path.join(tmp, "c"))
                test_stop_in_flight(stintd, stintctl, rest[0], os.path.join(tmp, "c"))
                os.mkdir(os.path.join(tmp, "d"))
                test_token_reload(stintd, stintctl, rest[0], os.path.join(tmp, "d"))
        ok = True
        print("ok: %d checks" % checks, flush=True)
    finally:
        if ok or not os.environ.get("STINT_TEST_KEEP"):
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print("files kept in " + tmp)


if __name__ == "__main__":
    main()
