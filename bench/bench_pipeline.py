#!/usr/bin/python3
"""bench_pipeline.py — the whole pipeline at the machine's pace, as a table.

    bench_pipeline.py STINTD STINTCTL COLLECTOR [--events N] [--outage S] [--returns K]
                      [--kills K] [--runs R]

stintd reads N JSONL events (generated; every line a focus change, so every event closes a
record) and delivers them over loopback TLS to stint-collector:
  (a) live: into `--ack-only` and into a storing collector: records/s (start to the last record
      acknowledged), stintd's CPU per record, its peak RSS;
  (b) the collector down (nothing listening on its port): ingest records/s (start to the last
      record in the journal), CPU per record, peak RSS, journal bytes on disk per record; then the
      collector started after OUTAGE seconds: the delay from its port listening to the first
      acknowledged batch (min/median/max over K returns: the collector is stopped and started
      again, with records still in the journal), the time from the last return to everything
      acknowledged, peak RSS;
  (c) kill -9 of stintd 5 times during the drain into a storing collector: records lost and
      duplicated, exact, from `stint-collector dump` (every event's title is unique).
Every figure is the median of R runs (default 3). Prints a Markdown table; never fails on time.
"""
import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import time

TOKEN = "bench-pipeline-token-0123456789"
TICK = os.sysconf("SC_CLK_TCK")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def hwm_mib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def folder_bytes(path):
    return sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(path) for f in fs)


class Bench:
    def __init__(self, a):
        self.a = a
        self.tmp = tempfile.mkdtemp(prefix="stint-bench-pipeline-")
        self.cert = os.path.join(self.tmp, "cert.pem")
        self.key = os.path.join(self.tmp, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                        "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout",
                        self.key, "-out", self.cert], check=True, capture_output=True)
        self.tokens = self.secret("tokens", "%s acct\n" % TOKEN)
        self.token = self.secret("token", TOKEN + "\n")
        self.events = os.path.join(self.tmp, "events.jsonl")
        with open(self.events, "w") as f:
            t = 1767225600000
            for i in range(a.events):
                t += 1000
                f.write('{"time": %d, "app": "app%d", "path": "/usr/bin/app%d", '
                        '"title": "pipeline window %d of the benchmark", '
                        '"url": "https://example.com/page/%d"}\n' % (t, i % 7, i % 7, i, i))
        self.n = a.events - 1  # the last event's record stays open

    def secret(self, name, text):
        p = os.path.join(self.tmp, name)
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.write(fd, text.encode())
        os.close(fd)
        return p

    def collector(self, port, data, ack_only):
        pf = os.path.join(self.tmp, "port-file")
        if os.path.exists(pf):
            os.remove(pf)
        args = [self.a.collector, "serve", "--listen", "127.0.0.1:%d" % port, "--port-file", pf,
                "--tls-cert", self.cert, "--tls-key", self.key, "--data", data, "--tokens",
                self.tokens]
        if ack_only:
            args.append("--ack-only")
        p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        end = time.time() + 60
        while not (os.path.exists(pf) and os.path.getsize(pf) > 0):
            if time.time() > end or p.poll() is not None:
                raise SystemExit("the collector did not start")
            time.sleep(0.005)
        with open(pf) as f:
            port = int(f.read().split()[0])
        return p, port, time.monotonic()

    def stintd(self, tag, port):
        d = os.path.join(self.tmp, tag)
        os.makedirs(d, exist_ok=True)
        sock = os.path.join(d, "control")
        p = subprocess.Popen([self.a.stintd, "--source", "jsonl:" + self.events, "--journal",
                              os.path.join(d, "journal"), "--socket", sock, "--server",
                              "https://127.0.0.1:%d" % port, "--token-file", self.token,
                              "--ca-file", self.cert, "--max-age", "0", "--log-level", "error"],
                             env=dict(os.environ, XDG_CONFIG_HOME=os.path.join(d, "cfg")),
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return p, sock, os.path.join(d, "journal")

    def status(self, sock):
        r = subprocess.run([self.a.stintctl, "--socket", sock, "status", "--json"],
                           capture_output=True)
        return json.loads(r.stdout) if r.returncode == 0 else None

    def wait(self, sock, what, cond, limit=1800, step=0.02):
        end = time.time() + limit
        while time.time() < end:
            st = self.status(sock)
            if st and cond(st):
                return st
            time.sleep(step)
        raise SystemExit("timed out waiting for " + what)

    @staticmethod
    def stop(p):
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(60)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def live(self, ack_only):
        data = os.path.join(self.tmp, "data-live-%d" % ack_only)
        c, port, _ = self.collector(0, data, ack_only)
        t0 = time.monotonic()
        p, sock, _ = self.stintd("live-%d-%f" % (ack_only, t0), port)
        self.wait(sock, "live delivery", lambda s: s["journal"]["acked_seq"] >= self.n)
        dt = time.monotonic() - t0
        cpu, rss = cpu_s(p.pid), hwm_mib(p.pid)
        self.stop(p)
        self.stop(c)
        shutil.rmtree(data, ignore_errors=True)
        return {"rate": self.n / dt, "cpu_us": cpu / self.n * 1e6, "rss": rss}

    def offline(self):
        port = free_port()
        t0 = time.monotonic()
        p, sock, journal = self.stintd("off-%f" % t0, port)
        self.wait(sock, "ingest", lambda s: s["journal"]["next_seq"] > self.n)
        dt = time.monotonic() - t0
        out = {"rate": self.n / dt, "cpu_us": cpu_s(p.pid) / self.n * 1e6,
               "rss_ingest": hwm_mib(p.pid), "disk": folder_bytes(journal) / self.n}
        time.sleep(max(0.0, self.a.outage - dt))
        data = os.path.join(self.tmp, "data-off-%f" % t0)
        delays = []
        drain_start = 0.0
        for k in range(self.a.returns):
            c, port, up = self.collector(port, data, True)
            drain_start = up  # the drain is timed from the last return
            before = self.status(sock)["sender"]["records_sent"]
            self.wait(sock, "first ack", lambda s: s["sender"]["records_sent"] > before,
                      step=0.005)
            delays.append(time.monotonic() - up)
            if k + 1 < self.a.returns:
                self.stop(c)
                time.sleep(min(self.a.outage, 5.0))  # short outages after the first one
        self.wait(sock, "drain", lambda s: s["journal"]["acked_seq"] >= self.n)
        out["drain"] = time.monotonic() - drain_start
        out["first_min"], out["first_med"], out["first_max"] = (
            min(delays), statistics.median(delays), max(delays))
        out["rss"] = hwm_mib(p.pid)
        self.stop(p)
        self.stop(c)
        shutil.rmtree(data, ignore_errors=True)
        return out

    def kills(self):
        data = os.path.join(self.tmp, "data-kill")
        port = free_port()
        tag = "kill-%f" % time.monotonic()
        p, sock, _ = self.stintd(tag, port)
        self.wait(sock, "ingest", lambda s: s["journal"]["next_seq"] > self.n)
        self.stop(p)
        c, port, _ = self.collector(port, data, False)
        done = 0
        for k in range(self.a.kills):
            p, sock, _ = self.stintd(tag, port)
            target = (k + 1) * self.n // (self.a.kills + 1)
            self.wait(sock, "drain progress", lambda s: s["journal"]["acked_seq"] >= target)
            p.kill()
            p.wait()
            done += 1
        p, sock, _ = self.stintd(tag, port)
        self.wait(sock, "drain", lambda s: s["journal"]["acked_seq"] >= self.n)
        self.stop(p)
        self.stop(c)
        r = subprocess.run([self.a.collector, "dump", "--data", data, "--account", "acct"],
                           capture_output=True, text=True, check=True)
        seen = {}
        for line in r.stdout.splitlines():
            t = json.loads(line).get("record", {}).get("title", "")
            seen[t] = seen.get(t, 0) + 1
        want = ["pipeline window %d of the benchmark" % i for i in range(self.n)]
        lost = sum(1 for t in want if t not in seen)
        dup = sum(v - 1 for v in seen.values() if v > 1)
        shutil.rmtree(data, ignore_errors=True)
        return {"kills": done, "lost": lost, "dup": dup}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("stintd")
    ap.add_argument("stintctl")
    ap.add_argument("collector")
    ap.add_argument("--events", type=int, default=1000000)
    ap.add_argument("--outage", type=float, default=30.0)
    ap.add_argument("--returns", type=int, default=5)
    ap.add_argument("--kills", type=int, default=5)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    b = Bench(a)
    rows = {}
    try:
        for _ in range(a.runs):
            for name, fn in (("ack", lambda: b.live(True)), ("store", lambda: b.live(False)),
                             ("off", b.offline), ("kill", b.kills)):
                for k, v in fn().items():
                    rows.setdefault(name + "." + k, []).append(v)
    finally:
        shutil.rmtree(b.tmp, ignore_errors=True)

    def m(k, fmt):
        return fmt % statistics.median(rows[k])

    print("\nbench_pipeline: %d events, outage %.0f s, %d returns, %d kills; medians of %d runs\n"
          % (a.events, a.outage, a.returns, a.kills, a.runs))
    print("| | stintd |\n| --- | ---: |")
    print("| live, to an acking collector: records/s | %s |" % m("ack.rate", "%.0f"))
    print("| live, to a storing collector: records/s | %s |" % m("store.rate", "%.0f"))
    print("| agent CPU per record, live (acking) | %s µs |" % m("ack.cpu_us", "%.1f"))
    print("| peak RSS, live (acking / storing) | %s / %s MiB |" % (m("ack.rss", "%.1f"),
                                                                   m("store.rss", "%.1f")))
    print("| ingest with the collector down: records/s | %s |" % m("off.rate", "%.0f"))
    print("| ingest CPU per record | %s µs |" % m("off.cpu_us", "%.1f"))
    print("| peak RSS while ingesting offline | %s MiB |" % m("off.rss_ingest", "%.1f"))
    print("| journal bytes on disk per record | %s |" % m("off.disk", "%.0f"))
    print("| first delivery after the collector returns: min / median / max of %d | "
          "%s / %s / %s s |" % (a.returns, m("off.first_min", "%.2f"), m("off.first_med", "%.2f"),
                                m("off.first_max", "%.2f")))
    print("| last return -> all acknowledged | %s s |" % m("off.drain", "%.1f"))
    print("| peak RSS, offline then drain | %s MiB |" % m("off.rss", "%.1f"))
    print("| lost / duplicated after %d kill -9 during a drain | %s / %s |" % (
        a.kills, m("kill.lost", "%d"), m("kill.dup", "%d")))


if __name__ == "__main__":
    main()
