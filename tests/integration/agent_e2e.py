#!/usr/bin/python3
"""agent_e2e.py — stintd end to end, through kill -9 and server faults.

    agent_e2e.py STINTD STINTCTL STINT_COLLECTOR AGENT_REPLAY [EVENTS] [KILLS]

A JSONL file of EVENTS (20,000) events is written while stintd follows it, in chunks cut at
random byte offsets (half lines included). stintd sends to stint-collector over TLS, on a free
loopback port, with faults on (503 with Retry-After, connection resets, batches stored but never
acknowledged, delays). stintd is killed with SIGKILL at random moments, at least KILLS (20)
times, and started again on the same journal each time. At the end stintd must drain its backlog,
stop on SIGTERM within 2 s with exit status 0, and the collector must hold exactly the records
that agent_replay (the same source and tracker, run once over the whole file, without faults)
says the file implies: the same seqs, each once, with the same times and fields.

The seed is printed; STINT_E2E_SEED=N repeats a run. Everything lives in a temporary folder
that is removed unless the test fails (then its path is printed) or STINT_E2E_KEEP is set.
"""
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

TOKEN = "e2e-token-0123456789abcdef"
# stintd must exit within 2 s of SIGTERM; sanitizer builds get more (their teardown is slower).
STOP_LIMIT = float(os.environ.get("STINT_STOP_LIMIT_S", "2"))
ACCOUNT = "alice"


def fail(msg):
    print("FAIL: " + msg, flush=True)
    raise SystemExit(1)


def make_events(rng, n, start_ms):
    """A plausible stream: focus changes, idle spans, private spans, a few bad lines."""
    apps = [
        ("firefox", "/usr/lib/firefox/firefox", ["Stint docs — Mozilla Firefox", "Inbox (3) — Mail",
                                                 "jQuery UI Demos", "Ünïcödé ✓ 日本語"],
         ["https://github.com/stint/stint/pull/7", "https://jqueryui.com/demos/", "about:blank"]),
        ("code", "/usr/share/code/code", ["tracker.c — stint", "daemon.c — stint"], [None]),
        ("xterm", "/usr/bin/xterm", ["make test", "htop", "vim README.md"], [None]),
        ("slack", "/usr/lib/slack/slack", ["#general", "#random"], [None]),
    ]
    t = start_ms
    lines = []
    private = False
    for i in range(n):
        t += rng.choice([rng.randint(1, 5000), rng.randint(1000, 120000), rng.randint(0, 3)])
        r = rng.random()
        if r < 0.003:
            lines.append("this is not json %d" % i)
            continue
        if r < 0.01:
            private = not private
            lines.append(json.dumps({"time": t, "private": private}))
            continue
        if r < 0.05:
            lines.append(json.dumps({"time": t, "idle": True}))
            continue
        app, path, titles, urls = rng.choice(apps)
        ev = {"time": t, "app": app, "path": path, "title": rng.choice(titles)}
        url = rng.choice(urls)
        if url:
            ev["url"] = url
        lines.append(json.dumps(ev, ensure_ascii=False))
    lines.append(json.dumps({"time": t + 1000, "idle": True}))  # closes the last active record
    return ("\n".join(lines) + "\n").encode()


def wait_file(path, timeout):
    end = time.time() + timeout
    while time.time() < end:
        if os.path.exists(path) and os.path.getsize(path) > 0:
            with open(path) as f:
                return f.read().strip()
        time.sleep(0.02)
    fail("%s did not appear in %d s" % (path, timeout))


def ctl(stintctl, sock, *args, timeout=60):
    p = subprocess.run([stintctl, "--socket", sock] + list(args), capture_output=True,
                       timeout=timeout)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def main():
    stintd, stintctl, collector, replay = sys.argv[1:5]
    n_events = int(sys.argv[5]) if len(sys.argv) > 5 else 20000
    min_kills = int(sys.argv[6]) if len(sys.argv) > 6 else 20
    seed = int(os.environ.get("STINT_E2E_SEED", random.randrange(1 << 30)))
    rng = random.Random(seed)
    print("seed %d, %d events, at least %d kills" % (seed, n_events, min_kills), flush=True)
    tmp = tempfile.mkdtemp(prefix="stint-agent-e2e-")
    procs = []
    ok = False
    try:
        cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                        "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", key,
                        "-out", cert], check=True, capture_output=True)
        fd = os.open(os.path.join(tmp, "tokens"), os.O_WRONLY | os.O_CREAT, 0o600)
        os.write(fd, ("%s %s\n" % (TOKEN, ACCOUNT)).encode())
        os.close(fd)
        token_file = os.path.join(tmp, "token")
        fd = os.open(token_file, os.O_WRONLY | os.O_CREAT, 0o600)
        os.write(fd, TOKEN.encode() + b"\n")
        os.close(fd)
        data = os.path.join(tmp, "data")
        port_file = os.path.join(tmp, "port")
        coll_log = open(os.path.join(tmp, "collector.log"), "w")
        coll = subprocess.Popen(
            [collector, "serve", "--listen", "127.0.0.1:0", "--port-file", port_file,
             "--tls-cert", cert, "--tls-key", key, "--data", data, "--tokens",
             os.path.join(tmp, "tokens"), "--fault-seed", str(seed),
             "--fault", "status=503,retry-after=1,rate=0.15",
             "--fault", "reset,rate=0.05",
             "--fault", "drop-after-store,rate=0.08",
             "--fault", "delay=300,rate=0.05"],
            stdout=coll_log, stderr=subprocess.STDOUT)
        procs.append(coll)
        port = int(wait_file(port_file, 20))

        # The reference: the whole file through the same source and tracker, once.
        events = make_events(rng, n_events, 1767225600000)  # 2026-01-01T00:00:00Z
        full = os.path.join(tmp, "full.jsonl")
        with open(full, "wb") as f:
            f.write(events)
        ref = subprocess.run([replay, full, os.path.join(tmp, "ref-journal")],
                             capture_output=True, check=True, timeout=300)
        expected = [json.loads(l) for l in ref.stdout.decode().splitlines()]
        print("the file implies %d records" % len(expected), flush=True)
        if len(expected) < n_events // 4:
            fail("the reference made only %d records" % len(expected))

        live = os.path.join(tmp, "events.jsonl")
        open(live, "wb").close()
        sock = os.path.join(tmp, "run", "control")
        log_path = os.path.join(tmp, "stintd.log")
        args = [stintd, "--source", "jsonl:" + live, "--journal", os.path.join(tmp, "journal"),
                "--socket", sock, "--server", "https://127.0.0.1:%d" % port,
                "--token-file", token_file, "--ca-file", cert, "--max-age", "0",
                "--backoff-base", "50ms", "--backoff-cap", "1s", "--batch-records", "300",
                "--timeout", "5s", "--log-level", "info"]
        env = dict(os.environ, XDG_CONFIG_HOME=os.path.join(tmp, "cfg"))

        def start():
            with open(log_path, "a") as lf:
                return subprocess.Popen(args, stdout=lf, stderr=subprocess.STDOUT, env=env)

        written, kills = 0, 0
        t0 = time.time()
        while kills < min_kills or written < len(events):
            d = start()
            procs.append(d)
            # Grow the file while it runs; chunks end anywhere, half lines included.
            if written < len(events):
                step = rng.randint(1, max(2, len(events) // (min_kills * 2)))
                chunk = events[written:written + step]
                with open(live, "ab") as f:
                    f.write(chunk)
                written += len(chunk)
            time.sleep(rng.uniform(0.02, 0.5))
            if d.poll() is not None:
                fail("stintd exited by itself (status %s); log: %s" % (d.returncode, log_path))
            d.kill()
            d.wait()
            procs.remove(d)
            kills += 1
        print("%d kills in %.1f s" % (kills, time.time() - t0), flush=True)

        # The last run: everything must arrive.
        d = start()
        procs.append(d)
        deadline = time.time() + 240
        while True:
            rc, out, err = ctl(stintctl, sock, "status", "--json")
            if rc == 0:
                st = json.loads(out)
                appended = st["journal"]["next_seq"] - 1
                if appended > len(expected):
                    fail("stintd made %d records, the file implies %d" % (appended, len(expected)))
                if appended == len(expected) and st["backlog"] == 0:
                    break
            if time.time() > deadline or d.poll() is not None:
                fail("backlog not drained in 240 s: %s %s" % (out, err))
            time.sleep(0.2)
        rc, out, err = ctl(stintctl, sock, "flush", "--wait", "--timeout", "30")
        if rc != 0:
            fail("flush --wait: %d %s" % (rc, err))
        t_stop = time.time()
        d.send_signal(signal.SIGTERM)
        try:
            d.wait(timeout=5)
        except subprocess.TimeoutExpired:
            fail("stintd did not stop within 5 s of SIGTERM")
        stop_s = time.time() - t_stop
        procs.remove(d)
        print("SIGTERM to exit: %.3f s, status %d" % (stop_s, d.returncode), flush=True)
        if d.returncode != 0 or stop_s > STOP_LIMIT:
            fail("SIGTERM: status %d after %.3f s (want 0 within %g s)" % (d.returncode, stop_s,
                                                                          STOP_LIMIT))
        if os.path.exists(sock):
            fail("the control socket was left behind")

        dump = subprocess.run([collector, "dump", "--data", data, "--account", ACCOUNT],
                              capture_output=True, check=True, timeout=60)
        stored = [json.loads(l) for l in dump.stdout.decode().splitlines()]
        agents = {s["agentId"] for s in stored}
        if len(agents) != 1:
            fail("records from %d agent ids (want one journal, one agent)" % len(agents))
        got = sorted((s["record"] for s in stored), key=lambda r: int(r["seq"]))
        seqs = [int(r["seq"]) for r in got]
        if len(set(seqs)) != len(seqs):
            fail("a seq stored twice")
        if len(got) != len(expected):
            fail("the collector holds %d records, the file implies %d" % (len(got), len(expected)))
        for a, b in zip(got, expected):
            if a != b:
                fail("record differs:\n  stored   %s\n  expected %s" % (a, b))
        with open(log_path) as f:
            log = f.read()
        if TOKEN in log:
            fail("the token appears in stintd's log")
        print("ok: %d records, each once, as the file implies, after %d kills" %
              (len(got), kills), flush=True)
        ok = True
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        if ok and not os.environ.get("STINT_E2E_KEEP"):
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print("files kept in " + tmp, flush=True)


if __name__ == "__main__":
    main()
