#!/usr/bin/python3
"""bench_pipeline.py — the whole pipeline at the machine's pace, as a table.

    bench_pipeline.py STINTD STINTCTL COLLECTOR [--events N] [--outage S] [--returns K]
                      [--kills K] [--runs R] [--before DIR]

stintd, with its default settings (the history of acknowledged records on, 14 days, 64 MiB),
reads N JSONL events (generated, one a second up to now; every line a focus change, so every
event closes a record) and delivers them over loopback TLS to stint-collector:
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
Every figure is the median of R runs (default 3), with the 1-minute load average of the machine
at the end of each phase beside it (the median of those). `--before DIR` names a folder holding
another build's stintd, stintctl and stint-collector: the two builds then run alternately, run by
run, and the table has a column for each. Prints a Markdown table; never fails on time.

Whatever happens (a failure, Ctrl-C, SIGTERM), the programs it started are killed and its
temporary folder is removed before it exits.
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


def load1():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


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
    def __init__(self, a, tmp):
        self.a = a
        self.tmp = tmp
        self.procs = []
        self.cert = os.path.join(self.tmp, "cert.pem")
        self.key = os.path.join(self.tmp, "key.pem")

    def prepare(self):
        """Makes the certificate, the tokens and the events file in the temporary folder."""
        a = self.a
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                        "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout",
                        self.key, "-out", self.cert], check=True, capture_output=True)
        self.tokens = self.secret("tokens", "%s acct\n" % TOKEN)
        self.token = self.secret("token", TOKEN + "\n")
        self.events = os.path.join(self.tmp, "events.jsonl")
        with open(self.events, "w") as f:
            # one event a second, the last one now: records as recent as a live agent's, so
            # they stay in the history the agent keeps by default (until its size cap)
            t = int(time.time() * 1000) - a.events * 1000
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
        p = self.spawn(args)
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
        p = self.spawn([self.a.stintd, "--source", "jsonl:" + self.events, "--journal",
                        os.path.join(d, "journal"), "--socket", sock, "--server",
                        "https://127.0.0.1:%d" % port, "--token-file", self.token, "--ca-file",
                        self.cert, "--max-age", "0", "--log-level", "error"],
                       env=dict(os.environ, XDG_CONFIG_HOME=os.path.join(d, "cfg")))
        return p, sock, os.path.join(d, "journal")

    def spawn(self, args, env=None):
        p = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        self.procs = [q for q in self.procs if q.poll() is None] + [p]
        return p

    def kill_all(self):
        """Kills every program this bench started that still runs (on any exit)."""
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        self.procs = []

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
        p, sock, journal = self.stintd("live-%d-%f" % (ack_only, t0), port)
        self.wait(sock, "live delivery", lambda s: s["journal"]["acked_seq"] >= self.n)
        dt = time.monotonic() - t0
        cpu, rss = cpu_s(p.pid), hwm_mib(p.pid)
        self.stop(p)
        self.stop(c)
        shutil.rmtree(data, ignore_errors=True)
        shutil.rmtree(os.path.dirname(journal), ignore_errors=True)
        return {"rate": self.n / dt, "cpu_us": cpu / self.n * 1e6, "rss": rss, "load": load1()}

    def offline(self):
        port = free_port()
        t0 = time.monotonic()
        p, sock, journal = self.stintd("off-%f" % t0, port)
        self.wait(sock, "ingest", lambda s: s["journal"]["next_seq"] > self.n)
        dt = time.monotonic() - t0
        out = {"rate": self.n / dt, "cpu_us": cpu_s(p.pid) / self.n * 1e6,
               "rss_ingest": hwm_mib(p.pid), "disk": folder_bytes(journal) / self.n,
               "load": load1()}
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
        shutil.rmtree(os.path.dirname(journal), ignore_errors=True)
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
        p, sock, journal = self.stintd(tag, port)
        self.wait(sock, "drain", lambda s: s["journal"]["acked_seq"] >= self.n)
        self.stop(p)
        self.stop(c)
        shutil.rmtree(os.path.dirname(journal), ignore_errors=True)
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
        return {"kills": done, "lost": lost, "dup": dup, "load": load1()}


def on_signal(signum, frame):
    raise KeyboardInterrupt("signal %d" % signum)


def binaries(own, folder):
    """The programs of one build: those named on the command line (own) or those in folder."""
    if folder is None:
        return own
    return tuple(os.path.join(folder, n) for n in ("stintd", "stintctl", "stint-collector"))


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
    ap.add_argument("--before", metavar="DIR",
                    help="a folder with another build's stintd, stintctl and stint-collector, "
                    "run alternately with these")
    a = ap.parse_args()
    builds = [("before", a.before), ("after", None)] if a.before else [("stintd", None)]
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    tmp = tempfile.mkdtemp(prefix="stint-bench-pipeline-")
    b = Bench(a, tmp)
    own = (a.stintd, a.stintctl, a.collector)  # b.a is a: kept before the loop overwrites it
    rows = {}
    try:
        b.prepare()
        for _ in range(a.runs):
            for label, folder in builds:
                b.a.stintd, b.a.stintctl, b.a.collector = binaries(own, folder)
                for name, fn in (("ack", lambda: b.live(True)), ("store", lambda: b.live(False)),
                                 ("off", b.offline), ("kill", b.kills)):
                    for k, v in fn().items():
                        rows.setdefault((label, name + "." + k), []).append(v)
    except KeyboardInterrupt as e:
        raise SystemExit("bench_pipeline: interrupted (%s); cleaned up" % (e or "Ctrl-C"))
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        b.kill_all()
        shutil.rmtree(tmp, ignore_errors=True)
    table(a, [label for label, _ in builds], rows)


def table(a, labels, rows):
    def m(k, fmt):
        return " | ".join(fmt % statistics.median(rows[(label, k)]) for label in labels)

    def mm(k1, k2, fmt):
        return " | ".join("%s / %s" % (fmt % statistics.median(rows[(label, k1)]),
                                       fmt % statistics.median(rows[(label, k2)]))
                          for label in labels)

    print("\nbench_pipeline: %d events, outage %.0f s, %d returns, %d kills; medians of %d runs"
          "%s\n" % (a.events, a.outage, a.returns, a.kills, a.runs,
                    ", the builds alternating run by run" if len(labels) > 1 else ""))
    print("| | " + " | ".join(labels) + " |\n| --- |" + " ---: |" * len(labels))
    rows_out = [
        ("live, to an acking collector: records/s", m("ack.rate", "%.0f")),
        ("live, to a storing collector: records/s", m("store.rate", "%.0f")),
        ("agent CPU per record, live (acking), µs", m("ack.cpu_us", "%.2f")),
        ("peak RSS, live (acking / storing), MiB", mm("ack.rss", "store.rss", "%.1f")),
        ("ingest with the collector down: records/s", m("off.rate", "%.0f")),
        ("ingest CPU per record, µs", m("off.cpu_us", "%.2f")),
        ("peak RSS while ingesting offline, MiB", m("off.rss_ingest", "%.1f")),
        ("journal bytes on disk per record", m("off.disk", "%.0f")),
        ("first delivery after the collector returns: min / median / max of %d, s" % a.returns,
         " | ".join("%.2f / %.2f / %.2f" % tuple(statistics.median(rows[(label, k)])
                                                  for k in ("off.first_min", "off.first_med",
                                                            "off.first_max"))
                    for label in labels)),
        ("last return -> all acknowledged, s", m("off.drain", "%.1f")),
        ("peak RSS, offline then drain, MiB", m("off.rss", "%.1f")),
        ("lost / duplicated after %d kill -9 during a drain" % a.kills,
         mm("kill.lost", "kill.dup", "%d")),
        ("load average (1 min) after live acking / storing", mm("ack.load", "store.load", "%.1f")),
        ("load average (1 min) after offline / kills", mm("off.load", "kill.load", "%.1f")),
    ]
    for what, cells in rows_out:
        print("| %s | %s |" % (what, cells))


if __name__ == "__main__":
    main()
