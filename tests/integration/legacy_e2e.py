#!/usr/bin/python3
"""legacy_e2e.py — stintd's legacy modes against stint-collector: no record lost, none twice.

    legacy_e2e.py STINTD STINTCTL STINT_COLLECTOR AGENT_REPLAY [EVENTS]

For each legacy encoding (legacy-form, legacy-json), on a fresh collector:

  1. A JSONL day of EVENTS (2,000) focus events, half of the focus changes under 1 s apart (so
     many records start in the same second as the one before them), with idle stretches.
  2. Two stintd agents of one account (two journals, so two agent_ids, one token) replay that
     same day: identical records, identical seqs, identical legacy payloads but for the agent.
     They send through a recording proxy (plain HTTP on loopback), which keeps every request.
  3. The collector must hold, for each agent, exactly the active records agent_replay says the
     file implies (the legacy array carries only active records, times in whole seconds): the
     same seqs, each once, with the same seconds and strings. Under the v1.0 rule (one record per
     account and start second) the records that start in the same second as another, and every
     record of the second agent, would have been lost; the count is printed.
  4. Every request the agents sent is sent again twice, directly: as it was (the same
     Idempotency-Key: the kept Ack must come back byte for byte) and without its
     Idempotency-Key (de-duplication alone). Neither stores anything new.

Then, against an older server (a stand-in here that keeps one record per start second and
answers 200 without Stint-Legacy-Identity, as a 1.0 server did), stintd in legacy-json mode
must lose nothing silently: every active record is either stored by that server or kept as a
dead letter, and the dead letters are exactly the records that start in the same second as the
record before them (spec/PROTOCOL.md §6.10, rule 7).

The seed is printed; STINT_E2E_SEED=N repeats a run; STINT_E2E_KEEP keeps the folder.
"""
import http.client
import http.server
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

TOKEN = "legacy-e2e-token-0123456789"
ACCOUNT = "alice"
FORWARD = ("Authorization", "Content-Type", "Content-Encoding", "Idempotency-Key",
           "Stint-Agent-Id", "Stint-Seqs", "User-Agent")


def fail(msg):
    print("FAIL: " + msg, flush=True)
    raise SystemExit(1)


def make_events(rng, n, start_ms):
    """Focus changes, half under 1 s apart, among apps with a few titles; some idle."""
    apps = [("firefox", "/usr/lib/firefox/firefox", ["Stint docs", "Inbox (3)", "日本語 ✓"],
             ["https://github.com", "https://jqueryui.com"]),
            ("code", "/usr/share/code/code", ["tracker.c", "sender.c"], [None]),
            ("xterm", "/usr/bin/xterm", ["make test", "htop"], [None])]
    t = start_ms
    lines = []
    for i in range(n):
        t += rng.randint(20, 999) if i % 2 == 0 else rng.randint(1000, 30000)
        if rng.random() < 0.04:
            lines.append(json.dumps({"time": t, "idle": True}))
            continue
        app, path, titles, urls = rng.choice(apps)
        ev = {"time": t, "app": app, "path": path, "title": rng.choice(titles)}
        url = rng.choice(urls)
        if url:
            ev["url"] = url
        lines.append(json.dumps(ev, ensure_ascii=False))
    lines.append(json.dumps({"time": t + 1000, "idle": True}))  # closes the last record
    return ("\n".join(lines) + "\n").encode()


def wait_file(path, timeout):
    end = time.time() + timeout
    while time.time() < end:
        if os.path.exists(path) and os.path.getsize(path) > 0:
            with open(path) as f:
                return f.read().strip()
        time.sleep(0.02)
    fail("%s did not appear in %d s" % (path, timeout))


def post(port, path, headers, body):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        c.request("POST", path, body=body, headers=headers)
        r = c.getresponse()
        return r.status, dict(r.getheaders()), r.read()
    finally:
        c.close()


class Recorder:
    """A plain-HTTP proxy on loopback that forwards to the collector and keeps every request."""

    def __init__(self, upstream):
        self.upstream = upstream
        self.requests = []
        self.lock = threading.Lock()
        rec = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                hdrs = {k: self.headers[k] for k in FORWARD if self.headers.get(k) is not None}
                try:
                    status, rh, rbody = post(rec.upstream, self.path, hdrs, body)
                except OSError as e:
                    self.send_error(502, str(e))
                    return
                with rec.lock:
                    rec.requests.append((self.path, hdrs, body, status, rbody,
                                         rh.get("Stint-Legacy-Identity")))
                self.send_response(status)
                for k in ("Content-Type", "Stint-Legacy-Identity", "Retry-After"):
                    if rh.get(k):
                        self.send_header(k, rh[k])
                self.send_header("Content-Length", str(len(rbody)))
                self.end_headers()
                self.wfile.write(rbody)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class OldServer:
    """A 1.0-style legacy server: one record per start second, no identity header."""

    def __init__(self):
        self.seconds = set()
        self.requests = 0
        srv = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.headers.get("Content-Encoding") == "gzip":
                    import gzip
                    body = gzip.decompress(body)
                payload = json.loads(body)
                new = 0
                for e in payload.get("log", []):
                    if "end" in e and e["start"] not in srv.seconds:
                        srv.seconds.add(e["start"])
                        new += 1
                srv.requests += 1
                out = json.dumps({"stored": str(new)}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def run_old_server(tmp, bins, events, expected):
    stintd, stintctl, _ = bins
    d = os.path.join(tmp, "old-server")
    os.makedirs(d)
    old = OldServer()
    p = None
    try:
        day = os.path.join(d, "day.jsonl")
        with open(day, "wb") as f:
            f.write(events)
        sock = os.path.join(d, "control")
        args = [stintd, "--source", "jsonl:" + day, "--journal", os.path.join(d, "j"),
                "--socket", sock, "--server", "http://127.0.0.1:%d" % old.port,
                "--token-file", os.path.join(tmp, "token"), "--encoding", "legacy-json",
                "--max-age", "0", "--batch-records", "150", "--log-level", "info"]
        env = dict(os.environ, XDG_CONFIG_HOME=os.path.join(d, "cfg"))
        p = subprocess.Popen(args, stdout=open(os.path.join(d, "stintd.log"), "w"),
                             stderr=subprocess.STDOUT, env=env)
        deadline = time.time() + 180
        while True:
            r = subprocess.run([stintctl, "--socket", sock, "status", "--json"],
                               capture_output=True, timeout=60)
            if r.returncode == 0:
                st = json.loads(r.stdout)
                if st["journal"]["next_seq"] - 1 == len(expected) and st["backlog"] == 0:
                    break
            if p.poll() is not None or time.time() > deadline:
                fail("old server: stintd did not drain: %s" % r.stdout)
            time.sleep(0.2)
        dead = st["journal"]["dead_letters"]
        starts = [int(e["startMs"]) // 1000 for e in expected if e.get("kind") == "KIND_ACTIVE"]
        merged = sum(1 for i in range(1, len(starts)) if starts[i] == starts[i - 1])
        if dead != merged:
            fail("old server: %s dead letters, %d records start in the second of the one before"
                 % (dead, merged))
        if len(old.seconds) + merged != len(starts):
            fail("old server: %d stored + %d kept != %d active records" %
                 (len(old.seconds), merged, len(starts)))
        print("old server: %d active records: %d stored by a server that keeps one per second, "
              "%d kept as dead letters, none lost silently (%d requests)" %
              (len(starts), len(old.seconds), merged, old.requests), flush=True)
    finally:
        if p and p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        old.close()


def stored_records(collector, data):
    dump = subprocess.run([collector, "dump", "--data", data, "--account", ACCOUNT],
                          capture_output=True, check=True, timeout=120)
    return [json.loads(l) for l in dump.stdout.decode().splitlines()]


def legacy_view(rec):
    """What a legacy payload carries of a record: whole seconds and the four strings."""
    return (int(rec.get("seq", "0")), int(rec["startMs"]) // 1000 * 1000,
            int(rec.get("endMs", "0")) // 1000 * 1000, rec.get("app", ""), rec.get("path", ""),
            rec.get("title", ""), rec.get("url", ""))


def run_mode(mode, tmp, bins, events, expected, rng):
    stintd, stintctl, collector = bins
    d = os.path.join(tmp, mode)
    os.makedirs(d)
    data = os.path.join(d, "data")
    port_file = os.path.join(d, "port")
    procs = []
    proxy = None
    try:
        log = open(os.path.join(d, "collector.log"), "w")
        coll = subprocess.Popen([collector, "serve", "--listen", "127.0.0.1:0", "--insecure-http",
                                 "--port-file", port_file, "--data", data, "--tokens",
                                 os.path.join(tmp, "tokens")],
                                stdout=log, stderr=subprocess.STDOUT)
        procs.append(coll)
        port = int(wait_file(port_file, 30))
        proxy = Recorder(port)
        day = os.path.join(d, "day.jsonl")
        with open(day, "wb") as f:
            f.write(events)
        agents = []
        for name in ("a", "b"):
            sock = os.path.join(d, name, "control")
            args = [stintd, "--source", "jsonl:" + day, "--journal", os.path.join(d, name, "j"),
                    "--socket", sock, "--server", "http://127.0.0.1:%d" % proxy.port,
                    "--token-file", os.path.join(tmp, "token"), "--encoding", mode,
                    "--max-age", "0", "--batch-records", str(rng.choice([97, 150, 400])),
                    "--backoff-base", "50ms", "--backoff-cap", "1s", "--log-level", "info"]
            lf = open(os.path.join(d, name + ".log"), "w")
            env = dict(os.environ, XDG_CONFIG_HOME=os.path.join(d, name, "cfg"))
            p = subprocess.Popen(args, stdout=lf, stderr=subprocess.STDOUT, env=env)
            procs.append(p)
            agents.append((name, p, sock))
        deadline = time.time() + 180
        for name, p, sock in agents:
            while True:
                r = subprocess.run([stintctl, "--socket", sock, "status", "--json"],
                                   capture_output=True, timeout=60)
                if r.returncode == 0:
                    st = json.loads(r.stdout)
                    if st["journal"]["next_seq"] - 1 == len(expected) and st["backlog"] == 0:
                        break
                if p.poll() is not None:
                    fail("%s: stintd %s exited (status %s)" % (mode, name, p.returncode))
                if time.time() > deadline:
                    fail("%s: stintd %s did not drain in 180 s: %s" % (mode, name, r.stdout))
                time.sleep(0.2)
        for name, p, sock in agents:
            p.send_signal(signal.SIGTERM)
            p.wait(timeout=30)
            procs.remove(p)
        for r in proxy.requests:
            if r[5] != "agent-seq":
                fail("%s: an answer without Stint-Legacy-Identity: agent-seq (%s)" % (mode, r[5]))

        # 3. every active record of each agent, once
        want = sorted(legacy_view(e) for e in expected if e.get("kind") == "KIND_ACTIVE")
        stored = stored_records(collector, data)
        by_agent = {}
        for s in stored:
            by_agent.setdefault(s["agentId"], []).append(legacy_view(s["record"]))
        if len(by_agent) != 2:
            fail("%s: records of %d agents stored, want 2" % (mode, len(by_agent)))
        for agent, got in by_agent.items():
            got.sort()
            seqs = [g[0] for g in got]
            if len(set(seqs)) != len(seqs):
                fail("%s: agent %s: a seq stored twice" % (mode, agent))
            if got != want:
                missing = sorted(set(want) - set(got))[:3]
                extra = sorted(set(got) - set(want))[:3]
                fail("%s: agent %s: %d records stored, %d expected; missing %s; extra %s" %
                     (mode, agent, len(got), len(want), missing, extra))
        starts = [w[1] for w in want]
        same_second = sum(1 for i in range(1, len(starts)) if starts[i] == starts[i - 1])
        print("%s: 2 agents x %d active records stored, each once (%d requests); the v1.0 rule "
              "would have kept %d of these %d (%d start in the same second as the record "
              "before them, and the second agent's all collide with the first's)" %
              (mode, len(want), len(proxy.requests), len(set(starts)), 2 * len(want),
               same_second), flush=True)
        if same_second < len(want) // 10:
            fail("%s: only %d records share a start second: the day does not test the rule" %
                 (mode, same_second))

        # 4. every request twice more: nothing new
        before = len(stored)
        replays = 0
        for path, hdrs, body, status, rbody, ident in list(proxy.requests):
            if status != 200:
                continue
            st, _, again = post(port, path, hdrs, body)
            if st != 200 or again != rbody:
                fail("%s: a replay with its Idempotency-Key got %d and another Ack:\n  %s\n  %s" %
                     (mode, st, rbody[:200], again[:200]))
            h2 = {k: v for k, v in hdrs.items() if k != "Idempotency-Key"}
            st, _, again = post(port, path, h2, body)
            ack = json.loads(again) if st == 200 else {}
            if st != 200 or int(ack.get("stored", "0")) != 0:
                fail("%s: a replay without Idempotency-Key: %d %s" % (mode, st, again[:200]))
            replays += 2
        after = len(stored_records(collector, data))
        if after != before:
            fail("%s: %d records after the replays, %d before" % (mode, after, before))
        print("%s: %d replays (every batch twice more) stored nothing new" % (mode, replays),
              flush=True)
    finally:
        if proxy:
            proxy.close()
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()


def main():
    stintd, stintctl, collector, replay = sys.argv[1:5]
    n_events = int(sys.argv[5]) if len(sys.argv) > 5 else 2000
    seed = int(os.environ.get("STINT_E2E_SEED", random.randrange(1 << 30)))
    rng = random.Random(seed)
    print("seed %d, %d events" % (seed, n_events), flush=True)
    tmp = tempfile.mkdtemp(prefix="stint-legacy-e2e-")
    ok = False
    try:
        fd = os.open(os.path.join(tmp, "tokens"), os.O_WRONLY | os.O_CREAT, 0o600)
        os.write(fd, ("%s %s\n" % (TOKEN, ACCOUNT)).encode())
        os.close(fd)
        fd = os.open(os.path.join(tmp, "token"), os.O_WRONLY | os.O_CREAT, 0o600)
        os.write(fd, TOKEN.encode() + b"\n")
        os.close(fd)
        events = make_events(rng, n_events, 1767225600000)  # 2026-01-01T00:00:00Z
        full = os.path.join(tmp, "full.jsonl")
        with open(full, "wb") as f:
            f.write(events)
        ref = subprocess.run([replay, full, os.path.join(tmp, "ref-journal")],
                             capture_output=True, check=True, timeout=300)
        expected = [json.loads(l) for l in ref.stdout.decode().splitlines()]
        active = sum(1 for e in expected if e.get("kind") == "KIND_ACTIVE")
        print("the day implies %d records, %d active" % (len(expected), active), flush=True)
        if active < n_events // 2:
            fail("the reference made only %d active records" % active)
        for mode in ("legacy-form", "legacy-json"):
            run_mode(mode, tmp, (stintd, stintctl, collector), events, expected, rng)
        run_old_server(tmp, (stintd, stintctl, collector), events, expected)
        ok = True
    finally:
        if ok and not os.environ.get("STINT_E2E_KEEP"):
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print("files kept in " + tmp, flush=True)


if __name__ == "__main__":
    main()
