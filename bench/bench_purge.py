#!/usr/bin/python3
"""bench_purge.py — what `stintctl purge` costs, as a table.

    bench_purge.py STINTD STINTCTL [RUNS]

For journals of 1,000, 10,000 and 100,000 records (stintd on a JSONL file, no server), the
time from `stintctl purge --yes` to its answer (median of RUNS, default 3), the journal folder's
size before and after, and whether any byte of a purged title is left in any file of the folder.
Purge overwrites LevelDB's files with zeros, removes them and makes the database anew, so its
cost follows the folder's size. Prints a Markdown table; never fails on time.
"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


def folder_bytes(path):
    return sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(path) for f in fs)


def holds(path, needle):
    for r, _, fs in os.walk(path):
        for f in fs:
            with open(os.path.join(r, f), "rb") as fh:
                if needle in fh.read():
                    return True
    return False


def one(stintd, stintctl, n):
    tmp = tempfile.mkdtemp(prefix="stint-bench-purge-")
    try:
        src = os.path.join(tmp, "ev.jsonl")
        with open(src, "w") as f:
            t = 1767225600000
            for i in range(n):
                t += 30000
                f.write(json.dumps({"time": t, "app": "app%d" % (i % 7), "path": "/usr/bin/app",
                                    "title": "purge-me-%d some window title of usual length" % i,
                                    "url": "https://example.com/%d" % i}) + "\n")
        sock = os.path.join(tmp, "run", "control")
        journal = os.path.join(tmp, "journal")
        p = subprocess.Popen([stintd, "--source", "jsonl:" + src, "--journal", journal, "--socket",
                              sock, "--server", "", "--max-age", "0", "--log-level", "error"],
                             env=dict(os.environ, XDG_CONFIG_HOME=os.path.join(tmp, "cfg")))
        end = time.time() + 600
        while True:
            r = subprocess.run([stintctl, "--socket", sock, "status", "--json"],
                               capture_output=True)
            if r.returncode == 0 and json.loads(r.stdout)["backlog"] >= n - 1:
                break
            if time.time() > end:
                raise SystemExit("journal not filled")
            time.sleep(0.1)
        before = folder_bytes(journal)
        t0 = time.monotonic()
        r = subprocess.run([stintctl, "--socket", sock, "purge", "--yes"], capture_output=True)
        took = time.monotonic() - t0
        if r.returncode != 0:
            raise SystemExit("purge failed: %s" % r.stderr)
        after = folder_bytes(journal)
        left = holds(journal, b"purge-me-")
        p.terminate()
        p.wait()
        return took, before, after, left
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    stintd, stintctl = sys.argv[1], sys.argv[2]
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    print("| records | journal before | purge (median of %d) | journal after | purged bytes left |"
          % runs)
    print("| --- | --- | --- | --- | --- |")
    for n in (1000, 10000, 100000):
        res = [one(stintd, stintctl, n) for _ in range(runs)]
        print("| %d | %.1f MiB | %.0f ms | %.1f KiB | %s |" % (
            n, statistics.median(r[1] for r in res) / 1048576,
            statistics.median(r[0] for r in res) * 1000,
            statistics.median(r[2] for r in res) / 1024,
            "yes" if any(r[3] for r in res) else "none"), flush=True)


if __name__ == "__main__":
    main()
