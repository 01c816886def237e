#!/usr/bin/env python3
"""collector_fleet.py — three collectors on one PostgreSQL, eight agents, faults: one truth.

usage: with_postgres.sh collector_fleet.py STINT-COLLECTOR STINT-SEND-TEST

Run under tests/support/with_postgres.sh (STINT_PG_URL, STINT_PG_CTL). The schema is made with
`stint-collector migrate`; a collector is first shown to refuse a database without it. Then:

  collectors  A (no faults; killed with SIGKILL mid-run and restarted on its port),
              B (--fault status=503 on a fifth of the requests), C (--fault drop-after-store on
              a fifth: the batch is stored and the Ack lost, so the agent sends it again)
  agents      eight stint-send-test processes, agent k sending to collector k mod 3, four
              accounts' worth over two accounts (alice: agents 0-3, bob: 4-7); each journal
              starts with FILL records and appends APPEND_N every APPEND_MS while the run lasts
  mid-run     A is killed with SIGKILL while batches are in flight and restarted; then the
              database is stopped for 10 s (pg_ctl stop -m fast) and started again: the
              collectors answer 503 meanwhile, and recover by themselves
  the end     the agents stop appending and drain (each trims only what was acknowledged);
              then a copy of agent 0's journal taken before the run is replayed through
              collector B (agent 0 sent to A): every record of it is already held.
  timeout     a fourth collector D whose URL sets statement_timeout=1000 while a psql session
              holds an exclusive lock on stint_records for 6 s: a ninth agent is answered 503
              (the statement timed out), then drains once the lock is gone.

Checks: serve and migrate refuse a schema newer than theirs; every agent drained with nothing
dead; `stats --store` counts what dump shows; in `stint-collector dump --store URL` every
agent's seqs are exactly 1..(FILL + appended), each once (an acknowledged record that was not
committed leaves a hole: the agent trimmed it); agents saw 503s while the database was down and
2xx after; the replay stored nothing new. Exit 0 pass, 1 fail, 77 skip.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

FILL = 2000
APPEND_N = 20
APPEND_MS = 50
BATCH = "100"
TOKENS = {"alice": "alice-token-0123456789", "bob": "bob-token-abcdefghijkl"}


def fail(msg):
    print("FAIL: " + msg, flush=True)
    sys.exit(1)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_for(cond, what, deadline_s=120):
    """Polls cond() until true; fails naming what after a generous deadline."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < deadline_s:
        if cond():
            return
        time.sleep(0.1)
    fail("timed out waiting for " + what)


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    collector, send_test = sys.argv[1], sys.argv[2]
    url = os.environ.get("STINT_PG_URL")
    pg_ctl = os.environ.get("STINT_PG_CTL")
    if not url or not pg_ctl:
        print("SKIP: run under tests/support/with_postgres.sh")
        return 77
    work = tempfile.mkdtemp(prefix="stint-fleet-")
    procs = []
    try:
        return run(work, collector, send_test, url, pg_ctl, procs)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        shutil.rmtree(work, ignore_errors=True)


def attempts_of(path):
    """The attempt lines of one agent: (wall_start_ms, wall_end_ms, class, status)."""
    out = []
    try:
        with open(path) as f:
            for line in f:
                p = line.split()
                if len(p) >= 4:
                    out.append((int(p[0]), int(p[1]), p[2], int(p[3])))
    except FileNotFoundError:
        pass
    return out


def run(work, collector, send_test, url, pg_ctl, procs):
    tokens = os.path.join(work, "tokens")
    with open(tokens, "w") as f:
        for acc, tok in TOKENS.items():
            f.write("%s %s\n" % (tok, acc))
    os.chmod(tokens, 0o600)

    # serve refuses a database without the schema, naming the fix
    r = subprocess.run([collector, "serve", "--listen", "127.0.0.1:0", "--insecure-http",
                        "--store", url, "--tokens", tokens], capture_output=True, text=True,
                       timeout=60)
    if r.returncode == 0 or "migrate" not in r.stderr:
        fail("serve on an empty database: want a refusal naming migrate, got %d %r"
             % (r.returncode, r.stderr))
    for _ in range(2):  # idempotent
        r = subprocess.run([collector, "migrate", "--store", url], capture_output=True,
                           text=True, timeout=60)
        if r.returncode != 0:
            fail("migrate: " + r.stderr)
    # a schema newer than this collector knows is refused too, naming the fix; migrate does
    # not touch it
    def psql(sql):
        subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", url, "-c", sql],
                       check=True, timeout=60, stdout=subprocess.DEVNULL)

    psql("UPDATE stint_schema SET version = 99")
    for cmd in (["serve", "--listen", "127.0.0.1:0", "--insecure-http", "--store", url,
                 "--tokens", tokens], ["migrate", "--store", url]):
        r = subprocess.run([collector] + cmd, capture_output=True, text=True, timeout=60)
        if r.returncode == 0 or "newer" not in r.stderr:
            fail("%s on a schema of version 99: want a refusal naming it newer, got %d %r"
                 % (cmd[0], r.returncode, r.stderr))
    psql("UPDATE stint_schema SET version = 2")

    faults = {"A": [], "B": ["--fault", "status=503,retry-after=1,rate=0.2"],
              "C": ["--fault", "drop-after-store,rate=0.2"]}
    ports = {n: free_port() for n in faults}
    servers = {}

    def start(name):
        pf = os.path.join(work, name + ".port")
        if os.path.exists(pf):
            os.unlink(pf)
        log = open(os.path.join(work, name + ".log"), "a")
        p = subprocess.Popen([collector, "serve", "--listen", "127.0.0.1:%d" % ports[name],
                              "--insecure-http", "--store", url, "--tokens", tokens,
                              "--port-file", pf, "--fault-seed", str(len(name) + ports[name])]
                             + faults[name], stdout=log, stderr=log)
        procs.append(p)
        servers[name] = p
        wait_for(lambda: os.path.exists(pf) or p.poll() is not None, "collector %s" % name)
        if p.poll() is not None:
            fail("collector %s did not start: %s" % (name, open(log.name).read()))

    for n in faults:
        start(n)

    names = ["A", "B", "C"]
    agents = []
    for k in range(8):
        j = os.path.join(work, "journal%d" % k)
        subprocess.run([send_test, "fill", j, str(FILL)], check=True, timeout=120,
                       stdout=subprocess.DEVNULL)
        agents.append({"journal": j, "account": "alice" if k < 4 else "bob",
                       "collector": names[k % 3],
                       "attempts": os.path.join(work, "attempts%d" % k)})
    replay_copy = os.path.join(work, "journal0-copy")
    shutil.copytree(agents[0]["journal"], replay_copy)

    stop_file = os.path.join(work, "stop")
    for a in agents:
        a["out"] = open(a["journal"] + ".out", "w")
        a["proc"] = subprocess.Popen(
            [send_test, "run", "--journal", a["journal"],
             "--url", "http://127.0.0.1:%d" % ports[a["collector"]],
             "--token", TOKENS[a["account"]], "--batch", BATCH, "--base-ms", "50",
             "--cap-ms", "1000", "--append-every-ms", str(APPEND_MS), "--append-n",
             str(APPEND_N), "--stop-file", stop_file, "--attempts", a["attempts"],
             "--timeout", "600"], stdout=a["out"], stderr=subprocess.STDOUT)
        procs.append(a["proc"])

    def ok_count(k):
        return sum(1 for x in attempts_of(agents[k]["attempts"]) if x[3] == 200)

    # kill -9 collector A while its agents (0, 3, 6) are sending
    wait_for(lambda: all(ok_count(k) >= 3 for k in (0, 3, 6)), "agents of A to get Acks")
    servers["A"].send_signal(signal.SIGKILL)
    servers["A"].wait()
    print("killed collector A (SIGKILL) mid-run", flush=True)
    time.sleep(0.5)
    start("A")
    before = [ok_count(k) for k in range(8)]
    wait_for(lambda: all(ok_count(k) > before[k] for k in range(8)),
             "every agent to be acknowledged after the restart of A")

    # the database down for 10 s
    down_ms = int(time.time() * 1000)
    subprocess.run(["sh", "-c", pg_ctl + " stop -m fast"], check=True, timeout=120,
                   stdout=subprocess.DEVNULL)
    print("database stopped", flush=True)
    time.sleep(10)
    subprocess.run(["sh", "-c", pg_ctl + " start"], check=True, timeout=120,
                   stdout=subprocess.DEVNULL)
    up_ms = int(time.time() * 1000)
    print("database started after %.1f s" % ((up_ms - down_ms) / 1000), flush=True)
    before = [ok_count(k) for k in range(8)]
    wait_for(lambda: all(ok_count(k) > before[k] for k in range(8)),
             "every agent to be acknowledged after the database came back", 180)

    open(stop_file, "w").close()
    expected = {}
    for k, a in enumerate(agents):
        try:
            rc = a["proc"].wait(timeout=600)
        except subprocess.TimeoutExpired:
            fail("agent %d did not drain" % k)
        a["out"].close()
        out = open(a["journal"] + ".out").read()
        res = dict(x.split("=", 1) for x in out.split() if "=" in x)
        if rc != 0 or "appended" not in res:
            fail("agent %d ended with %d: %s" % (k, rc, out))
        if int(res.get("dead", "0")) != 0:
            fail("agent %d has dead batches: %s" % (k, out))
        expected.setdefault(a["account"], []).append(FILL + int(res["appended"]))

    # 503s while the database was down, and the kinds of fault seen at all
    during = 0
    for a in agents:
        if a["collector"] == "B":  # B answers 503s of its own (--fault)
            continue
        for (t0, t1, cls, status) in attempts_of(a["attempts"]):
            if status == 503 and down_ms <= t1 and t0 <= up_ms + 2000:
                during += 1
    if during == 0:
        fail("no agent of collectors A and C was answered 503 while the database was down")
    print("503s while the database was down: %d" % during, flush=True)

    def dump(account):
        r = subprocess.run([collector, "dump", "--store", url, "--account", account],
                           capture_output=True, text=True, timeout=300)
        if r.returncode != 0:
            fail("dump %s: %s" % (account, r.stderr))
        seen = {}
        for line in r.stdout.splitlines():
            d = json.loads(line)
            seen.setdefault(d["agentId"], []).append(int(d["seq"]))
        return seen

    def check(when):
        total = 0
        for account, maxes in expected.items():
            seen = dump(account)
            if len(seen) != len(maxes):
                fail("%s: %s: %d agents in the database, want %d"
                     % (when, account, len(seen), len(maxes)))
            got = []
            for agent, seqs in seen.items():
                if len(seqs) != len(set(seqs)):
                    fail("%s: agent %s: a record stored twice" % (when, agent))
                if sorted(seqs) != list(range(1, len(seqs) + 1)):
                    missing = sorted(set(range(1, max(seqs) + 1)) - set(seqs))[:10]
                    fail("%s: agent %s: seqs missing (acknowledged, not committed?): %s"
                         % (when, agent, missing))
                got.append(len(seqs))
                total += len(seqs)
            if sorted(got) != sorted(maxes):
                fail("%s: %s: records per agent %s, the agents appended %s"
                     % (when, account, sorted(got), sorted(maxes)))
        return total

    total = check("after the run")
    r = subprocess.run([collector, "stats", "--store", url], capture_output=True, text=True,
                       timeout=120)
    if r.returncode != 0 or ("total accounts=2 agents=8 records=%d" % total) not in r.stdout:
        fail("stats --store: want totals of 2 accounts, 8 agents, %d records; got %r %r"
             % (total, r.stdout, r.stderr))
    print("every record exactly once: %d records of 8 agents" % total, flush=True)

    # agent 0 (collector A) replays its first FILL records through collector B
    out = subprocess.run([send_test, "run", "--journal", replay_copy,
                          "--url", "http://127.0.0.1:%d" % ports["B"],
                          "--token", TOKENS["alice"], "--batch", BATCH, "--until-empty",
                          "--base-ms", "50", "--cap-ms", "1000", "--timeout", "300"],
                         capture_output=True, text=True, timeout=400)
    if out.returncode != 0:
        fail("replay: %s %s" % (out.stdout, out.stderr))
    if check("after the replay") != total:
        fail("the replay through another collector changed the database")
    print("replay of agent 0 through collector B: nothing stored twice", flush=True)
    # a statement timeout: collector D's URL sets statement_timeout=1000; a session holds an
    # exclusive lock on stint_records for 6 s; D's inserts time out: 503, then recovery
    sep = "&" if "?" in url else "?"
    url_d = url + sep + "options=-c%20statement_timeout%3D1000"
    faults["D"] = []
    ports["D"] = free_port()
    pf = os.path.join(work, "D.port")
    log = open(os.path.join(work, "D.log"), "a")
    d = subprocess.Popen([collector, "serve", "--listen", "127.0.0.1:%d" % ports["D"],
                          "--insecure-http", "--store", url_d, "--tokens", tokens,
                          "--port-file", pf], stdout=log, stderr=log)
    procs.append(d)
    servers["D"] = d
    wait_for(lambda: os.path.exists(pf) or d.poll() is not None, "collector D")
    if d.poll() is not None:
        fail("collector D did not start: " + open(log.name).read())
    locker = subprocess.Popen(["psql", "-X", "-q", url, "-c",
                               "BEGIN; LOCK TABLE stint_records IN ACCESS EXCLUSIVE MODE; "
                               "SELECT pg_sleep(6); COMMIT;"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    procs.append(locker)
    time.sleep(1)  # the lock is taken (psql connects in well under a second; 503s show it)
    j = os.path.join(work, "journal-timeout")
    subprocess.run([send_test, "fill", j, "500"], check=True, timeout=120,
                   stdout=subprocess.DEVNULL)
    att = os.path.join(work, "attempts-timeout")
    out = subprocess.run([send_test, "run", "--journal", j,
                          "--url", "http://127.0.0.1:%d" % ports["D"], "--token",
                          TOKENS["alice"], "--batch", BATCH, "--until-empty", "--base-ms", "50",
                          "--cap-ms", "1000", "--attempts", att, "--timeout", "300"],
                         capture_output=True, text=True, timeout=400)
    if locker.wait(timeout=120) != 0:
        fail("psql holding the lock: " + locker.stderr.read().decode())
    if out.returncode != 0:
        fail("agent through D: %s %s" % (out.stdout, out.stderr))
    timeouts = sum(1 for x in attempts_of(att) if x[3] == 503)
    if timeouts == 0:
        fail("no 503 while a statement timed out (collector D log: %s)"
             % open(log.name).read())
    if "statement timeout" not in open(log.name).read():
        fail("collector D did not log the statement timeout")
    expected["alice"].append(500)
    check("after the statement timeouts")
    print("statement timeout: %d answers 503, then every record once" % timeouts, flush=True)

    for n, p in servers.items():
        p.send_signal(signal.SIGTERM)
        if p.wait(timeout=60) != 0:
            fail("collector %s exited with %d" % (n, p.returncode))
    print("PASS", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
