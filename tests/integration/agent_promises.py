#!/usr/bin/python3
"""agent_promises.py — stintd loses nothing and leaks nothing, tried as an attacker would.

    agent_promises.py MODE STINTD STINTCTL STINT_COLLECTOR AGENT_REPLAY

MODE is one of:
  diskfull-jsonl  (root) journal on a 1 MiB tmpfs that fills up while 5,000 JSONL events arrive;
                  after space returns the collector holds every record the file implies, once
  diskfull-stdin  (root) the same with the stdin source: held records past the bound become gap
                  records; the server's records plus the gaps' counts are the events' records,
                  and status showed the drops while they happened
  diskfull-purge  (root) a purge while the JSONL source is paused by a full journal: events read
                  before it and never journaled leave no record after it
  purge           (a) collector down, a batch in backoff, purge, collector up: nothing from before
                  the purge arrives; (b) purge --server while a delayed batch is in flight;
                  (c) the open record restarts at the purge time; then twenty random
                  interleavings; every file of the journal folder is searched for the purged
                  records' strings after each purge and after a restart
  misconfig       404 (a wrong URL), 405, 415, 501: nothing dead-lettered, status names the fix,
                  reload (or flush) delivers every record; dead letters from 400s listed, retried
                  and dropped through stintctl
  setup           every setup error: exit status 2, nothing made on disk, the fix in the message
  hardening       (root) a 0755 journal folder refused; another local user (made with useradd)
                  can neither read the journal nor reach the socket; stintctl refuses a socket
                  served by another uid; a JSONL path replaced by a link to /dev/zero costs no CPU
                  and the real file is read again when it returns

Root-only modes exit 77 (a ctest skip) as another user. Everything lives in a temporary folder,
removed unless the test fails (then its path is printed) or STINT_KEEP is set.
"""
import json
import os
import random
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

TOKEN = "promises-token-0123456789abcdef"
ADMIN_TOKEN = "promises-admin-token-0123456789abcdef"
# the collector's admin endpoint (faults) takes its own token
ADMIN_AUTH = {"Authorization": "Bearer " + ADMIN_TOKEN}
SKIP = 77
checks = 0


def fail(msg):
    print("FAIL: " + msg, flush=True)
    raise SystemExit(1)


def check(cond, msg):
    global checks
    checks += 1
    if not cond:
        fail(msg)


def wait_for(what, cond, timeout=60, step=0.05):
    """Polls cond() until it is true (returns its value) or the generous deadline passes."""
    end = time.time() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.time() > end:
            fail("timed out after %d s waiting for %s" % (timeout, what))
        time.sleep(step)


def secret_file(path, text):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.write(fd, text.encode())
    os.close(fd)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Env:
    """The tools and a temporary folder with a certificate and tokens."""

    def __init__(self, stintd, stintctl, collector, replay):
        self.stintd, self.stintctl, self.collector_bin, self.replay = (stintd, stintctl,
                                                                       collector, replay)
        self.tmp = tempfile.mkdtemp(prefix="stint-promises-")
        os.chmod(self.tmp, 0o755)  # other users of the hardening test pass through it
        self.procs = []
        self.mounts = []
        self.cert = os.path.join(self.tmp, "cert.pem")
        self.key = os.path.join(self.tmp, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                        "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout",
                        self.key, "-out", self.cert], check=True, capture_output=True)
        self.tokens = os.path.join(self.tmp, "tokens")
        secret_file(self.tokens, "".join("%s-%d acct%d\n" % (TOKEN, i, i) for i in range(40)))

    def token_file(self, i):
        p = os.path.join(self.tmp, "token-%d" % i)
        secret_file(p, "%s-%d\n" % (TOKEN, i))
        return p

    def collector(self, port=0, faults=(), admin=False):
        data = os.path.join(self.tmp, "data")
        port_file = os.path.join(self.tmp, "port-%d" % len(self.procs))
        args = [self.collector_bin, "serve", "--listen", "127.0.0.1:%d" % port, "--port-file",
                port_file, "--tls-cert", self.cert, "--tls-key", self.key, "--data", data,
                "--tokens", self.tokens]
        for f in faults:
            args += ["--fault", f]
        if admin:
            admin_tokens = os.path.join(self.tmp, "admin-tokens")
            secret_file(admin_tokens, "%s operator\n" % ADMIN_TOKEN)
            args += ["--admin", "127.0.0.1:0", "--admin-tokens", admin_tokens]
        log = open(os.path.join(self.tmp, "collector.log"), "a")
        p = subprocess.Popen(args, stdout=subprocess.PIPE if admin else log,
                             stderr=log, text=True)
        self.procs.append(p)
        admin_port = None
        if admin:
            line = wait_for("the admin endpoint line", lambda: p.stdout.readline(), 20)
            while "admin endpoint" not in line:
                line = p.stdout.readline()
                if not line:
                    fail("the collector printed no admin endpoint")
            admin_port = int(line.split()[-1])
        wait_for("the collector's port file",
                 lambda: os.path.exists(port_file) and os.path.getsize(port_file) > 0, 30)
        with open(port_file) as f:
            return p, int(f.read().strip()), admin_port

    def stop(self, p, sig=signal.SIGTERM):
        if p.poll() is None:
            p.send_signal(sig)
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        if p in self.procs:
            self.procs.remove(p)

    def dump(self, account):
        out = subprocess.run([self.collector_bin, "dump", "--data", os.path.join(self.tmp, "data"),
                              "--account", account], capture_output=True, check=True,
                             timeout=120).stdout.decode()
        return [json.loads(l)["record"] for l in out.splitlines()]

    def agent(self, name, source, server=None, token=0, extra=(), stdin=None, config=None):
        d = os.path.join(self.tmp, name)
        os.makedirs(d, mode=0o700, exist_ok=True)
        sock = os.path.join(d, "run", "control")
        args = [self.stintd]
        if config:
            args += ["--config", config]
        args += ["--source", source, "--journal", os.path.join(d, "journal"), "--socket", sock,
                 "--max-age", "0", "--backoff-base", "50ms", "--backoff-cap", "1s",
                 "--log-level", "info"]
        if server is not None:
            args += ["--server", server]
        if server:
            args += ["--token-file", self.token_file(token), "--ca-file", self.cert]
        args += list(extra)
        log = open(os.path.join(d, "stintd.log"), "a")
        env = dict(os.environ, XDG_CONFIG_HOME=os.path.join(d, "cfg"))
        p = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env,
                             stdin=subprocess.PIPE if stdin else None)
        self.procs.append(p)
        a = Agent(self, p, d, sock)
        wait_for("stintd's socket %s" % sock, lambda: os.path.exists(sock) or p.poll() is not None,
                 30)
        if p.poll() is not None:
            fail("stintd exited at start (%s); log: %s" % (p.returncode, a.log_text()))
        return a

    def cleanup(self, ok):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        for m in reversed(self.mounts):
            if not ok:
                try:
                    shutil.copytree(m, m + "-copy", ignore_dangling_symlinks=True,
                                    dirs_exist_ok=True,
                                    ignore=shutil.ignore_patterns("filler", "control"))
                except (OSError, shutil.Error):
                    pass
            subprocess.run(["umount", "-l", m], capture_output=True)
        if ok and not os.environ.get("STINT_KEEP"):
            shutil.rmtree(self.tmp, ignore_errors=True)
        else:
            print("files kept in " + self.tmp, flush=True)


class Agent:
    def __init__(self, env, p, d, sock):
        self.env, self.p, self.dir, self.sock = env, p, d, sock
        self.journal = os.path.join(d, "journal")

    def ctl(self, *args, timeout=90):
        r = subprocess.run([self.env.stintctl, "--socket", self.sock] + list(args),
                           capture_output=True, timeout=timeout)
        return r.returncode, r.stdout.decode(), r.stderr.decode()

    def status(self):
        rc, out, err = self.ctl("status", "--json")
        if rc != 0:
            fail("stintctl status: %d %s" % (rc, err))
        return json.loads(out)

    def log_text(self):
        with open(os.path.join(self.dir, "stintd.log"), errors="replace") as f:
            return f.read()

    def stop(self):
        self.env.stop(self.p)
        check(self.p.returncode == 0, "stintd did not stop cleanly: %s\n%s" %
              (self.p.returncode, self.log_text()[-3000:]))


def events(n, t0, marker, rng=None, last_idle=True):
    """n events, every title unique (marker-index), a minute apart at most."""
    rng = rng or random.Random(1)
    lines, t = [], t0
    for i in range(n):
        t += rng.randint(1000, 60000)
        app = ["firefox", "code", "xterm", "slack"][i % 4]
        # the last event opens the record open at the end: named apart ("open-"), as a purge
        # then keeps it going from the purge time (the stream says it is still in focus)
        name = marker.replace("pre", "open") if i == n - 1 and not last_idle else marker
        lines.append(json.dumps({"time": t, "app": app, "path": "/usr/bin/" + app,
                                 "title": "%s-%d" % (name, i),
                                 "url": "https://%s.example/%d" % (name, i)}))
    if last_idle:
        t += 1000
        lines.append(json.dumps({"time": t, "idle": True}))
    return ("\n".join(lines) + "\n").encode(), t


def replay(env, path):
    out = subprocess.run([env.replay, path, os.path.join(env.tmp, "ref-%d" % random.randrange(1 << 30))],
                         capture_output=True, check=True, timeout=300).stdout.decode()
    return [json.loads(l) for l in out.splitlines()]


def need_root():
    if os.geteuid() != 0:
        print("SKIP: needs root (tmpfs, useradd, another uid)")
        raise SystemExit(SKIP)


def tmpfs(env, path, size):
    os.makedirs(path, exist_ok=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s,mode=0700" % size, "tmpfs", path],
                       capture_output=True)
    if r.returncode != 0:
        print("SKIP: cannot mount a tmpfs: %s" % r.stderr.decode().strip())
        raise SystemExit(SKIP)
    env.mounts.append(path)


def fill(path):
    """Fills the file system of path; returns the filler's path."""
    filler = os.path.join(path, "filler")
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError:
        pass
    try:
        while True:
            os.write(fd, b"\0" * 64)  # the last few bytes
    except OSError:
        pass
    os.close(fd)
    return filler


def space_returns(mnt, filler):
    """The filler goes and the file system grows (a backlog this large needs more than 1 MiB
    to be acknowledged: LevelDB writes its deletes before it gives space back)."""
    os.unlink(filler)
    subprocess.run(["mount", "-o", "remount,size=16m", mnt], check=True)


# ---- disk full ---------------------------------------------------------------------------------

def mode_diskfull_jsonl(env):
    need_root()
    coll, port, _ = env.collector()
    src = os.path.join(env.tmp, "events.jsonl")
    body, _ = events(5000, 1767225600000, "df")
    full = os.path.join(env.tmp, "full.jsonl")
    with open(full, "wb") as f:
        f.write(body)
    expected = replay(env, full)
    open(src, "wb").close()
    mnt = os.path.join(env.tmp, "small")
    tmpfs(env, mnt, "1m")
    name = "small/agent"
    a = env.agent(name, "jsonl:" + src, "https://127.0.0.1:%d" % port,
                  extra=["--batch-records", "200", "--sync", "always"])
    filler = fill(mnt)
    saw_failing = [False]
    # the events arrive in chunks while the disk is full
    for i in range(0, len(body), len(body) // 20 + 1):
        with open(src, "ab") as f:
            f.write(body[i:i + len(body) // 20 + 1])
        time.sleep(0.05)
        st = a.status()
        saw_failing[0] = saw_failing[0] or "journal" in st["tracker"]
    wait_for("the journal failing", lambda: "journal" in a.status()["tracker"], 60)
    st = a.status()
    check(st["tracker"]["dropped"] == 0, "a re-readable source dropped records: %s" % st)
    time.sleep(2)
    space_returns(mnt, filler)
    wait_for("every record journaled and delivered",
             lambda: (lambda s: s["journal"]["next_seq"] - 1 >= len(expected) and
                      s["backlog"] == 0)(a.status()), 240, 0.2)
    st = a.status()
    check(st["journal"]["next_seq"] - 1 == len(expected),
          "journaled %d records, the file implies %d" % (st["journal"]["next_seq"] - 1,
                                                         len(expected)))
    check("cannot take records" in a.log_text(), "the journal failure was not logged")
    check(a.log_text().count("cannot take records") <= 3,
          "the journal failure was logged %d times (once per spell)" %
          a.log_text().count("cannot take records"))
    a.stop()
    got = sorted(env.dump("acct0"), key=lambda r: int(r["seq"]))
    check(len(got) == len(expected), "the server holds %d records, the file implies %d" %
          (len(got), len(expected)))
    for x, y in zip(got, expected):
        check(x == y, "record differs:\n  stored   %s\n  expected %s" % (x, y))
    print("ok: disk full with a JSONL source: %d records, each once, none lost" % len(got))


def mode_diskfull_purge(env):
    """Purge while the journal is full and the JSONL source is paused: what was read before
    the purge and never journaled does not come back after it."""
    need_root()
    coll, port, _ = env.collector()
    src = os.path.join(env.tmp, "events.jsonl")
    mnt = os.path.join(env.tmp, "small")
    tmpfs(env, mnt, "1m")
    a = env.agent("small/agent", "jsonl:" + src, "https://127.0.0.1:%d" % port,
                  extra=["--batch-records", "50", "--sync", "always"])
    first, t1 = events(100, 1767225600000, "early", last_idle=True)
    write_read(a, src, first, 101)
    wait_for("the first records delivered", lambda: a.status()["backlog"] == 0, 60)
    filler = fill(mnt)
    body, t2 = events(400, t1 + 10**6, "pre", last_idle=True)
    with open(src, "ab") as f:
        f.write(body)
    wait_for("the journal failing", lambda: "journal" in a.status()["tracker"], 60)
    read_before = a.status()["source"]["items"]
    # space returns and the purge comes before the source's next retry (every 5 s): it is still
    # paused, with events read and not journaled (a purge on a disk still full fails: LevelDB
    # cannot be opened again to be remade)
    space_returns(mnt, filler)
    paused = "journal" in a.status()["tracker"]
    rc, out, err = a.ctl("purge", "--yes")
    check(rc == 0, "purge after the disk was full: %d %s" % (rc, err))
    st = a.status()
    check("journal" not in st["tracker"], "the source still paused after the purge: %s" %
          st["tracker"])
    post, _ = events(10, t2 + 10**6, "post")
    with open(src, "ab") as f:
        f.write(post)
    wait_for("every event read", lambda: a.status()["source"]["items"] >= 101 + 401 + 11, 120)
    rc, out, err = a.ctl("flush", "--wait", "--timeout", "120")
    check(rc == 0, "flush --wait: %d %s" % (rc, err))
    stored = env.dump("acct0")
    early = [r for r in stored if r.get("title", "").startswith("early-")]
    pre = [r for r in stored if r.get("title", "").startswith("pre-")]
    posts = [r for r in stored if r.get("title", "").startswith("post-")]
    check(len(early) == 100, "%d of the 100 early records delivered" % len(early))
    check(len(posts) == 10, "%d of 10 records after the purge delivered" % len(posts))
    # events the source had read before the purge left nothing from before it; events it had
    # not read yet (it was paused) are read after the purge, like any new event
    last_read_ms = int(json.loads(body.splitlines()[max(0, read_before - 101 - 1)])["time"]) \
        if read_before > 101 else 0
    for r in pre:
        check(int(r["startMs"]) >= last_read_ms,
              "a record from events read before the purge arrived: %s" % r)
    a.stop()
    print("ok: purge after a full disk (source %s): %d events had been read, %d records of later "
          "events came after the purge, none from before" % ("still paused" if paused else
                                                             "resumed", read_before - 101,
                                                             len(pre)))


def mode_diskfull_stdin(env):
    need_root()
    coll, port, _ = env.collector()
    body, _ = events(3000, 1767225600000, "ds")
    full = os.path.join(env.tmp, "full.jsonl")
    with open(full, "wb") as f:
        f.write(body)
    expected = replay(env, full)
    mnt = os.path.join(env.tmp, "small")
    tmpfs(env, mnt, "1m")
    a = env.agent("small/agent", "stdin", "https://127.0.0.1:%d" % port, stdin=True,
                  extra=["--batch-records", "200"])
    lines = body.splitlines(keepends=True)
    # a first part while the disk has room
    a.p.stdin.write(b"".join(lines[:200]))
    a.p.stdin.flush()
    filler = fill(mnt)
    max_dropped = 0
    for i in range(200, 2800, 100):
        a.p.stdin.write(b"".join(lines[i:i + 100]))
        a.p.stdin.flush()
        time.sleep(0.05)
        max_dropped = max(max_dropped, a.status()["tracker"]["dropped"])
    max_dropped = max(max_dropped, wait_for(
        "status showing drops", lambda: a.status()["tracker"]["dropped"], 60))
    check(max_dropped > 0, "status never showed the drops")
    space_returns(mnt, filler)
    a.p.stdin.write(b"".join(lines[2800:]))
    a.p.stdin.flush()
    n_items = sum(1 for l in lines if l.strip())
    wait_for("every event read", lambda: a.status()["source"]["items"] == n_items, 120)
    wait_for("the held records journaled and sent",
             lambda: (lambda s: s["tracker"]["held"] == 0 and s["backlog"] == 0)(a.status()),
             240, 0.2)
    st = a.status()
    got = env.dump("acct0")
    gaps = [r for r in got if r.get("kind") == "KIND_GAP"]
    recs = [r for r in got if r.get("kind") != "KIND_GAP"]
    gap_sum = sum(int(g.get("gapCount", 0)) for g in gaps)
    check(len(gaps) >= 1, "no gap record on the server")
    check(gap_sum == st["tracker"]["dropped"],
          "gap counts %d, status dropped %d" % (gap_sum, st["tracker"]["dropped"]))
    check(len(recs) + gap_sum == len(expected),
          "server records %d + gap counts %d != %d records the events imply" %
          (len(recs), gap_sum, len(expected)))
    titles = {r.get("title") for r in recs}
    check(len(titles) == len(recs), "a record stored twice")
    check(a.log_text().count("cannot take records") <= 3, "the failure was logged per record")
    a.p.stdin.close()
    env.stop(a.p)
    print("ok: disk full with stdin: %d records + %d in %d gap(s) = %d implied; status showed %d "
          "drops" % (len(recs), gap_sum, len(gaps), len(expected), max_dropped))


# ---- purge -------------------------------------------------------------------------------------

def journal_holds(journal, needle):
    """Files of the journal folder whose bytes hold needle."""
    hits = []
    for root, _, files in os.walk(journal):
        for fn in files:
            p = os.path.join(root, fn)
            try:
                with open(p, "rb") as f:
                    if needle in f.read():
                        hits.append(p)
            except OSError:
                pass
    return hits


def write_read(a, path, data, total_items):
    with open(path, "ab") as f:
        f.write(data)
    wait_for("the source to read %d events" % total_items,
             lambda: a.status()["source"]["items"] >= total_items, 60)


def purge_case(env, i, rng, coll_port, admin, kind):
    """One interleaving. kind: 'down' (a), 'delay' (b), or random."""
    marker = "pre%d" % i
    src = os.path.join(env.tmp, "ev-%d.jsonl" % i)
    open(src, "wb").close()
    acct = "acct%d" % (i + 1)
    faults = {"down": "stop-accepting=30,path=/v1/batches",
              "delay": "delay=1500,path=/v1/batches",
              "503": "status=503,retry-after=1,path=/v1/batches",
              "none": None}
    fault = faults[kind]
    urllib.request.urlopen(urllib.request.Request("http://127.0.0.1:%d/admin/faults" % admin, headers=ADMIN_AUTH,
                                                  method="DELETE")).read()
    if fault:
        urllib.request.urlopen(urllib.request.Request(
            "http://127.0.0.1:%d/admin/faults" % admin, headers=ADMIN_AUTH, data=fault.encode(),
            method="POST")).read()
    a = env.agent("p%d" % i, "jsonl:" + src, "https://127.0.0.1:%d" % coll_port, token=i + 1,
                  extra=["--batch-records", str(rng.choice([3, 20, 200]))])
    n_pre = rng.randint(5, 120)
    last_idle = rng.random() < 0.5
    data, t_last = events(n_pre, 1767225600000 + i * 10**9, marker, rng, last_idle=last_idle)
    if not last_idle:
        t_last = json.loads(data.splitlines()[-1])["time"]
    n_items = n_pre + (1 if last_idle else 0)
    write_read(a, src, data, n_items)
    if kind == "down":
        wait_for("a batch in backoff", lambda: a.status()["sender"].get("next_retry_ms"), 30)
    elif kind == "delay":
        wait_for("a batch in flight", lambda: a.status()["sender"]["in_flight"], 30)
    else:
        time.sleep(rng.uniform(0, 1.5))
    server = kind != "down"
    if server and rng.random() < 0.5:
        rc, out, err = a.ctl("purge", "--yes")  # a local purge first, then the server's
        check(rc == 0, "purge: %d %s" % (rc, err))
    rc, out, err = a.ctl("purge", "--yes", *(["--server"] if server else []))
    check(rc == 0, "purge%s: %d %s" % (" --server" if server else "", rc, err))
    check("local records deleted" in out, "purge printed: %r" % out)
    if server:
        check("the server deleted" in out and "records of this account" in out,
              "purge --server did not report the server's count: %r" % out)
    check(not journal_holds(a.journal, marker.encode() + b"-"),
          "purged strings left in %s" % journal_holds(a.journal, marker.encode() + b"-"))
    check("deletedRecords" not in a.log_text(), "the server's answer to DELETE reached stintd's "
          "output")
    st = a.status()
    check(st["backlog"] == 0, "backlog after purge: %s" % st["backlog"])
    if st["open"] is not None:
        check(int(st["open"]["start_ms"]) >= t_last - (0 if last_idle else 60000) and
              int(st["open"]["start_ms"]) == t_last,
              "(c) the open record starts at %s, not at the purge time %d" %
              (st["open"]["start_ms"], t_last))
    # the collector comes back; new records after the purge
    urllib.request.urlopen(urllib.request.Request("http://127.0.0.1:%d/admin/faults" % admin, headers=ADMIN_AUTH,
                                                  method="DELETE")).read()
    post, _ = events(10, t_last + 10**6, "post%d" % i, rng)
    write_read(a, src, post, n_items + 11)
    rc, out, err = a.ctl("flush", "--wait", "--timeout", "120")
    check(rc == 0, "flush --wait after purge: %d %s %s" % (rc, out, err))
    if rng.random() < 0.3:
        a.stop()  # a restart on the purged journal
        check(not journal_holds(a.journal, marker.encode() + b"-"),
              "purged strings in the journal after a restart")
        a = env.agent("p%d" % i, "jsonl:" + src, "https://127.0.0.1:%d" % coll_port,
                      token=i + 1)
        rc, out, err = a.ctl("flush", "--wait", "--timeout", "120")
        check(rc == 0, "flush --wait after restart: %d %s" % (rc, err))
    stored = env.dump(acct)
    for r in stored:
        title = r.get("title", "")
        check(not title.startswith(marker + "-"),
              "a record from before the purge reached the server: %s (%s)" % (r, kind))
        if title.startswith(marker.replace("pre", "open") + "-"):
            # (c) the record open at the purge goes on, but only from the purge time
            check(not last_idle and int(r["startMs"]) >= t_last,
                  "(c) the open record kept its time from before the purge: %s" % r)
    posts = [r for r in stored if r.get("title", "").startswith("post%d-" % i)]
    check(len(posts) == 10, "%d of 10 records made after the purge arrived" % len(posts))
    check(not journal_holds(a.journal, marker.encode() + b"-"), "purged strings in the journal")
    a.stop()
    return kind


def mode_purge(env):
    seed = int(os.environ.get("STINT_SEED", random.randrange(1 << 30)))
    rng = random.Random(seed)
    print("seed %d" % seed, flush=True)
    coll, port, admin = env.collector(admin=True)
    t0 = time.time()
    purge_case(env, 0, rng, port, admin, "down")
    print("ok: (a) purge with a batch in backoff: nothing from before it arrived", flush=True)
    purge_case(env, 1, rng, port, admin, "delay")
    print("ok: (b) purge --server with a delayed batch in flight: nothing left", flush=True)
    kinds = []
    for i in range(2, 22):
        kinds.append(purge_case(env, i, rng, port, admin,
                                rng.choice(["down", "delay", "503", "none"])))
    print("ok: 20 random interleavings (%s) in %.0f s; (c) open records restarted at the "
          "purge time" % (", ".join("%s %d" % (k, kinds.count(k)) for k in sorted(set(kinds))),
                          time.time() - t0))


# ---- misconfiguration --------------------------------------------------------------------------

def admin_faults(admin, spec):
    urllib.request.urlopen(urllib.request.Request("http://127.0.0.1:%d/admin/faults" % admin, headers=ADMIN_AUTH,
                                                  method="DELETE")).read()
    if spec:
        urllib.request.urlopen(urllib.request.Request(
            "http://127.0.0.1:%d/admin/faults" % admin, headers=ADMIN_AUTH, data=spec.encode(), method="POST")).read()


def mode_misconfig(env):
    coll, port, admin = env.collector(admin=True)
    # 404: a wrong path in the URL, fixed in the config file and reloaded
    src = os.path.join(env.tmp, "ev404.jsonl")
    data, _ = events(49, 1767225600000, "m404")
    with open(src, "wb") as f:
        f.write(data)
    cfg = os.path.join(env.tmp, "agent404.ini")

    def write_cfg(url):
        with open(cfg, "w") as f:
            f.write("[sender]\nserver = %s\ntoken_file = %s\nca_file = %s\nbatch_records = 10\n"
                    "backoff_base = 50ms\nbackoff_cap = 1s\n" % (url, env.token_file(1), env.cert))
    write_cfg("https://127.0.0.1:%d/stint" % port)
    a = env.agent("m404", "jsonl:" + src, config=cfg)
    st = wait_for("the 404 pause", lambda: (lambda s: s if "paused" in s["sender"]["state"]
                                            else None)(a.status()), 30)
    check("URL" in st["sender"]["state"] and "server" in st["sender"].get("fix", ""),
          "status does not name the fix: %s" % st["sender"])
    check("/stint/v1/batches" in st["sender"]["fix"], "the fix does not name the URL")
    time.sleep(1.5)  # a paused sender sends nothing more and dead-letters nothing
    st2 = a.status()
    check(st2["journal"]["dead_letters"] == 0, "404 dead-lettered records")
    check(st2["sender"]["attempts"] == st["sender"]["attempts"],
          "the paused sender kept sending (%d -> %d attempts)" % (st["sender"]["attempts"],
                                                                 st2["sender"]["attempts"]))
    rc, _, err = a.ctl("flush", "--wait", "--timeout", "10")
    check(rc == 1 and "[sender] server" in err, "flush --wait while paused: %d %s" % (rc, err))
    write_cfg("https://127.0.0.1:%d" % port)
    a.p.send_signal(signal.SIGHUP)
    wait_for("delivery after the reload", lambda: a.status()["backlog"] == 0, 60)
    check(a.status()["journal"]["dead_letters"] == 0, "dead letters after the fix")
    check(len(env.dump("acct1")) == 49, "the server holds %d of 49 records" %
          len(env.dump("acct1")))
    a.stop()
    print("ok: 404 paused with the URL named, 0 dead letters, reload delivered 49 records")

    # 405, 415, 501: the same pause; flush lifts it once the server is right
    for n, (code, word) in enumerate([(405, "Stint server"), (415, "encoding"),
                                      (501, "implement")]):
        admin_faults(admin, "status=%d,path=/v1/batches" % code)
        src = os.path.join(env.tmp, "ev%d.jsonl" % code)
        data, _ = events(20, 1767225600000, "m%d" % code)
        with open(src, "wb") as f:
            f.write(data)
        a = env.agent("m%d" % code, "jsonl:" + src, "https://127.0.0.1:%d" % port,
                      token=2 + n, extra=["--batch-records", "5"])
        st = wait_for("the %d pause" % code, lambda: (lambda s: s if "paused" in
                                                      s["sender"]["state"] else None)(a.status()),
                      30)
        check(word in st["sender"].get("fix", ""), "%d: fix %r" % (code, st["sender"]))
        check(st["journal"]["dead_letters"] == 0, "%d dead-lettered" % code)
        admin_faults(admin, None)
        rc, out, err = a.ctl("flush", "--wait", "--timeout", "60")
        check(rc == 0, "flush after fixing %d: %d %s" % (code, rc, err))
        check(len(env.dump("acct%d" % (2 + n))) == 20, "%d: not every record delivered" % code)
        a.stop()
        print("ok: %d paused (%s), nothing dead-lettered, flush delivered 20 records" %
              (code, word))

    # a certificate that does not verify: status names ca_file / pinned_key
    other_key, other_cert = os.path.join(env.tmp, "other.key"), os.path.join(env.tmp, "other.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj", "/CN=other",
                    "-keyout", other_key, "-out", other_cert], check=True, capture_output=True)
    src = os.path.join(env.tmp, "evtls.jsonl")
    data, _ = events(5, 1767225600000, "mtls")
    with open(src, "wb") as f:
        f.write(data)
    a = env.agent("mtls", "jsonl:" + src, "https://127.0.0.1:%d" % port, token=5,
                  extra=["--ca-file", other_cert])
    st = wait_for("blocked", lambda: (lambda s: s if s["sender"]["state"].startswith("blocked")
                                      else None)(a.status()), 30)
    check("ca_file" in st["sender"].get("fix", ""), "blocked without the ca_file hint: %s" %
          st["sender"])
    a.stop()
    print("ok: a certificate that does not verify: blocked, fix: %s" % st["sender"]["fix"])

    # flush --wait --timeout with the server down: stintd answered; say how sending stands
    src = os.path.join(env.tmp, "evdown.jsonl")
    with open(src, "wb") as f:
        f.write(events(5, 1767225600000, "mdown")[0])
    a = env.agent("mdown", "jsonl:" + src, "https://127.0.0.1:%d" % free_port(), token=6)
    wait_for("a retry", lambda: a.status()["sender"].get("next_retry_ms"), 30)
    rc, out, err = a.ctl("flush", "--wait", "--timeout", "3")
    check(rc == 5 and "no answer from stintd" not in err and "records still to send" in err and
          "retry in" in err, "flush --wait timeout: %d %r" % (rc, err))
    # the progress line on a terminal (script gives a pty): a long state is cut at a word
    if shutil.which("script"):
        r = subprocess.run(["script", "-qec", "%s --socket %s flush --wait --timeout 3" %
                            (env.stintctl, a.sock), "/dev/null"], capture_output=True, timeout=60,
                           env=dict(os.environ, COLUMNS="80", LINES="24"))
        text = r.stdout.decode(errors="replace")
        full = text.split("sender: ", 1)[1].splitlines()[0].strip() if "sender: " in text else ""
        cuts = [c.split("(", 1)[1] for c in text.split("\r") if "..." in c and "(" in c]
        check(full and cuts, "no progress line or final state on the terminal: %r" % text)
        shown = cuts[-1].rsplit("...)", 1)[0]
        check(full.startswith(shown) and len(shown) < len(full) and full[len(shown)] in " :,",
              "the progress line cut the state mid-word: %r of %r" % (shown, full))
    a.stop()
    print("ok: flush --wait --timeout 3 with the server down: %s" % err.strip().splitlines()[0])

    # 400 on one record: split down to it, only it is dead-lettered; list, retry, drop
    admin_faults(admin, "status=400,path=/v1/batches,count=4")
    src = os.path.join(env.tmp, "ev400.jsonl")
    data, _ = events(6, 1767225600000, "m400")
    with open(src, "wb") as f:
        f.write(data)
    a = env.agent("m400", "jsonl:" + src, "https://127.0.0.1:%d" % port, token=9,
                  extra=["--batch-records", "10"])
    wait_for("the batch answered for", lambda: a.status()["backlog"] == 0, 60)
    rc, out, err = a.ctl("dead-letters", "--json")
    check(rc == 0, "dead-letters: %d %s" % (rc, err))
    dl = [json.loads(l) for l in out.splitlines()]
    check(len(dl) == 2 and all("HTTP 400" in d["reason"] for d in dl),
          "dead letters after 400s: %s" % dl)
    check(len(env.dump("acct9")) == 4, "the 4 records not at fault were not delivered")
    rc, out, err = a.ctl("dead-letters")
    check(rc == 0 and "2 dead letters" in out and "HTTP 400" in out, "listing: %s" % out)
    rc, out, err = a.ctl("dead-letters", "retry", str(dl[0]["seq"]))
    check(rc == 0 and "1 dead letters put back" in out, "retry: %d %s %s" % (rc, out, err))
    rc, out, err = a.ctl("flush", "--wait", "--timeout", "60")
    check(rc == 0, "flush after retry: %s" % err)
    check(len(env.dump("acct9")) == 5, "the retried record did not arrive")
    # all or nothing: an unknown seq beside a real one retries (or drops) neither
    rc, out, err = a.ctl("dead-letters", "retry", str(dl[1]["seq"]), "999999")
    check(rc == 1 and "seq 999999 is not a dead letter (nothing retried)" in err,
          "retry of an unknown seq: %d %s" % (rc, err))
    check(a.status()["journal"]["dead_letters"] == 1, "a refused retry moved a dead letter")
    rc, out, err = a.ctl("dead-letters", "drop", "999999", str(dl[1]["seq"]))
    check(rc == 1 and "seq 999999 is not a dead letter (nothing dropped)" in err,
          "drop of an unknown seq: %d %s" % (rc, err))
    check(a.status()["journal"]["dead_letters"] == 1, "a refused drop dropped a dead letter")
    rc, out, err = a.ctl("dead-letters", "drop")
    check(rc == 0 and "1 dead letters dropped" in out, "drop: %s %s" % (out, err))
    rc, out, err = a.ctl("dead-letters", "--json")
    check(rc == 0 and out.strip() == "", "dead letters left after drop: %r" % out)
    check(a.status()["journal"]["dead_letters"] == 0, "status still counts dead letters")
    a.stop()
    print("ok: 400 split down to the 2 records at fault; dead letters listed, retried, dropped")


# ---- setup errors ------------------------------------------------------------------------------

def mode_setup(env):
    def run(name, args, want, extra_env=None, pre=None):
        d = os.path.join(env.tmp, name)
        os.makedirs(d)
        journal = os.path.join(d, "state", "journal")
        if pre:
            pre(d)
        before = sorted(os.listdir(d))
        e = dict(os.environ, XDG_CONFIG_HOME=os.path.join(d, "cfg"),
                 XDG_STATE_HOME=os.path.join(d, "state"), XDG_RUNTIME_DIR=os.path.join(d, "run"))
        e.update(extra_env or {})
        for k, v in list(e.items()):
            if v is None:
                del e[k]
        r = subprocess.run([env.stintd, "--journal", journal, "--socket",
                            os.path.join(d, "run", "control")] + args, capture_output=True,
                           timeout=30, env=e)
        err = r.stderr.decode()
        check(r.returncode == 2, "%s: exit %d (want 2): %s" % (name, r.returncode, err))
        for w in want:
            check(w in err, "%s: the message lacks %r: %s" % (name, w, err))
        check(sorted(os.listdir(d)) == before, "%s: made %s on disk" %
              (name, set(os.listdir(d)) - set(before)))
        print("ok: %s: exit 2, nothing made, %s" % (name, err.strip()[:160]))

    srv = ["--server", "https://127.0.0.1:9", "--source", "stdin"]
    run("no-token", srv, ["token", "umask 077", "YOUR-TOKEN"])

    d0 = os.path.join(env.tmp, "loose-token")
    os.makedirs(d0)
    secret_file(os.path.join(d0, "tok"), "x\n")
    os.chmod(os.path.join(d0, "tok"), 0o644)
    r = subprocess.run([env.stintd, "--journal", os.path.join(d0, "journal"), "--source", "stdin",
                        "--socket", os.path.join(d0, "run", "c"), "--server",
                        "https://127.0.0.1:9", "--token-file", os.path.join(d0, "tok")],
                       capture_output=True, timeout=30)
    check(r.returncode == 2 and b"chmod 600" in r.stderr and
          not os.path.exists(os.path.join(d0, "journal")),
          "loose token: %d %s" % (r.returncode, r.stderr))

    d1 = os.path.join(env.tmp, "bad-ca")
    os.makedirs(d1)
    secret_file(os.path.join(d1, "tok"), "x\n")
    r = subprocess.run([env.stintd, "--journal", os.path.join(d1, "journal"), "--source", "stdin",
                        "--socket", os.path.join(d1, "run", "c"), "--server",
                        "https://127.0.0.1:9", "--token-file", os.path.join(d1, "tok"),
                        "--ca-file", os.path.join(d1, "missing.pem")],
                       capture_output=True, timeout=30)
    check(r.returncode == 2 and b"ca_file" in r.stderr and
          not os.path.exists(os.path.join(d1, "journal")),
          "bad ca_file: %d %s" % (r.returncode, r.stderr))
    print("ok: loose token (chmod 600) and missing ca_file: exit 2, nothing made")
    run("no-display", ["--source", "x11"], ["DISPLAY", "import-environment"],
        extra_env={"DISPLAY": None})

    def loose_journal(d):
        os.makedirs(os.path.join(d, "state", "journal"), mode=0o755)
        os.chmod(os.path.join(d, "state", "journal"), 0o755)
    run("journal-0755", ["--source", "stdin"], ["chmod 700", "0755"], pre=loose_journal)
    run("jsonl-device", ["--source", "jsonl:/dev/zero"], ["not a regular file or a FIFO"])


# ---- hardening ---------------------------------------------------------------------------------

def uid_gid(user):
    return int(subprocess.run(["id", "-g", user], capture_output=True).stdout)


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        parts = f.read().rsplit(")", 1)[1].split()
    return int(parts[11]) + int(parts[12])  # utime + stime


def mode_hardening(env):
    # a JSONL path replaced by a link to /dev/zero (no root needed)
    src = os.path.join(env.tmp, "focus.jsonl")
    data, t = events(10, 1767225600000, "h")
    with open(src, "wb") as f:
        f.write(data)
    a = env.agent("h-zero", "jsonl:" + src)
    wait_for("the first events", lambda: a.status()["source"]["items"] == 11, 30)
    os.unlink(src)
    os.symlink("/dev/zero", src)
    wait_for("the link seen", lambda: a.status()["source"]["bad_lines"] >= 1, 30)
    c0 = cpu_ticks(a.p.pid)
    time.sleep(2)
    used = cpu_ticks(a.p.pid) - c0
    check(used < 50, "stintd spent %d ticks of CPU in 2 s on a link to /dev/zero" % used)
    rss = 0
    with open("/proc/%d/status" % a.p.pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    check(rss < 64 * 1024, "stintd grew to %d KiB on /dev/zero" % rss)
    st = a.status()
    check("regular file" in st["source"].get("last_error", ""), "status: %s" % st["source"])
    os.unlink(src)
    more, _ = events(5, t + 10**6, "h2")
    with open(src + ".new", "wb") as f:
        f.write(more)
    os.rename(src + ".new", src)
    wait_for("the real file read again", lambda: a.status()["source"]["items"] >= 17, 30)
    a.stop()
    print("ok: a link to /dev/zero cost %d CPU ticks in 2 s and %d KiB; the real file was read "
          "again" % (used, rss))

    need_root()
    # another local user, made for the test
    user = "stint14test"
    if subprocess.run(["id", user], capture_output=True).returncode != 0:
        r = subprocess.run(["useradd", "--system", "--no-create-home", "--shell",
                            "/usr/sbin/nologin", user], capture_output=True)
        if r.returncode != 0:
            print("SKIP: useradd failed: %s" % r.stderr.decode())
            raise SystemExit(SKIP)
    src = os.path.join(env.tmp, "focus2.jsonl")
    data, _ = events(30, 1767225600000, "secret-title")
    with open(src, "wb") as f:
        f.write(data)
    os.chmod(src, 0o644)
    a = env.agent("h-user", "jsonl:" + src)
    wait_for("records journaled", lambda: a.status()["journal"]["next_seq"] > 20, 30)
    os.chmod(a.dir, 0o755)  # even with the way to the journal open ...
    jmode = stat.S_IMODE(os.stat(a.journal).st_mode)
    check(jmode == 0o700, "journal folder mode %o" % jmode)
    for fn in os.listdir(a.journal):
        m = stat.S_IMODE(os.lstat(os.path.join(a.journal, fn)).st_mode)
        check(m & 0o077 == 0, "journal file %s has mode %o" % (fn, m))
    for fn in os.listdir(a.journal):
        r = subprocess.run(["runuser", "-u", user, "--", "cat", os.path.join(a.journal, fn)],
                           capture_output=True)
        check(r.returncode != 0 and b"secret-title" not in r.stdout,
              "user %s read %s" % (user, fn))
    r = subprocess.run(["runuser", "-u", user, "--", env.stintctl, "--socket", a.sock, "status"],
                       capture_output=True)
    check(r.returncode == 4, "user %s reached the socket: %d %s" % (user, r.returncode, r.stderr))
    a.stop()
    print("ok: user %s could read no journal file and not reach the socket" % user)

    # a fake socket served by another uid: stintctl must not believe it
    fake = os.path.join(env.tmp, "fake")
    os.makedirs(fake, mode=0o777)
    os.chmod(fake, 0o777)
    path = os.path.join(fake, "control")
    uid = int(subprocess.run(["id", "-u", user], capture_output=True).stdout)
    server = subprocess.Popen(["/usr/bin/python3", "-c", """
import socket, os, sys
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); os.chmod(sys.argv[1], 0o777); s.listen(4)
while True:
    c, _ = s.accept()
    try:
        c.recv(4096)
        c.sendall(b'{"ok":true,"private":true,"version":"fake","backlog":0}\\n')
    except OSError:
        pass
    c.close()
""", path], user=uid, group=uid_gid(user), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    env.procs.append(server)
    wait_for("the fake socket", lambda: os.path.exists(path), 20)
    for cmd in (["status"], ["private", "on"]):
        r = subprocess.run([env.stintctl, "--socket", path] + cmd, capture_output=True,
                           timeout=30)
        check(r.returncode == 4 and ("uid %d" % uid).encode() in r.stderr and r.stdout == b"",
              "stintctl believed a socket of uid %d: %d %s %s" % (uid, r.returncode, r.stdout,
                                                                 r.stderr))
    env.stop(server, signal.SIGKILL)
    print("ok: stintctl refused a socket served by uid %d (exit 4)" % uid)


MODES = {"diskfull-jsonl": mode_diskfull_jsonl, "diskfull-stdin": mode_diskfull_stdin,
         "diskfull-purge": mode_diskfull_purge,
         "purge": mode_purge, "misconfig": mode_misconfig, "setup": mode_setup,
         "hardening": mode_hardening}


def main():
    if len(sys.argv) != 6 or sys.argv[1] not in MODES:
        print(__doc__)
        return 2
    env = Env(*sys.argv[2:6])
    ok = False
    try:
        MODES[sys.argv[1]](env)
        ok = True
    finally:
        env.cleanup(ok)
    print("%d checks passed" % checks)
    return 0


if __name__ == "__main__":
    sys.exit(main())
