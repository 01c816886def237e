#!/usr/bin/python3
"""sender_netwake.py — a network change does not cut short a wait the server asked for.

A link coming up wakes a sender waiting out a network failure (sender_netns shows that), but a
wait after an HTTP answer (429, 5xx, Retry-After) is the server's: spec/PROTOCOL.md §7.6 says a
client MUST NOT send before Retry-After, whatever the laptop's links do. The test runs
stint-collector answering the first batch 503 with Retry-After: 4, and stint-send-test; once the
503 is in the attempt log it adds and removes a veth pair a few times (netlink events every
sender on the machine sees), and the next attempt must still come at least 4 s after the 503.

Needs root for `ip link add` (CI runs as root); otherwise exit 77 (ctest SKIP_RETURN_CODE).
usage: sender_netwake.py STINT-COLLECTOR STINT-SEND-TEST
"""
import os
import subprocess
import sys
import tempfile
import time

SKIP = 77
RETRY_AFTER_S = 4


def wait_for(what, cond, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = cond()
        if v:
            return v
        time.sleep(0.05)
    sys.exit("FAIL: timed out after %d s waiting for %s" % (timeout, what))


def main(collector, sender):
    if os.geteuid() != 0:
        print("SKIPPED: needs root to add a veth pair")
        return SKIP
    link = "stnw%d" % (os.getpid() % 100000)
    if subprocess.run(["ip", "link", "add", link, "type", "veth", "peer", "name", link + "p"],
                      capture_output=True).returncode != 0:
        print("SKIPPED: `ip link add ... type veth` refused here")
        return SKIP
    subprocess.run(["ip", "link", "del", link], capture_output=True)
    tmp = tempfile.mkdtemp(prefix="stint-netwake-")
    procs = []
    try:
        tokens = os.path.join(tmp, "tokens")
        with open(os.open(tokens, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write("netwake-token-0123456789 acct\n")
        port_file = os.path.join(tmp, "port")
        coll = subprocess.Popen([collector, "serve", "--listen", "127.0.0.1:0", "--insecure-http",
                                 "--data", os.path.join(tmp, "data"), "--tokens", tokens,
                                 "--port-file", port_file, "--fault",
                                 "status=503,retry-after=%d,count=1" % RETRY_AFTER_S],
                                stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "c.log"), "w"))
        procs.append(coll)
        wait_for("the collector's port", lambda: os.path.exists(port_file) and
                 os.path.getsize(port_file) > 0, 30)
        port = int(open(port_file).read())
        journal = os.path.join(tmp, "journal")
        subprocess.run([sender, "fill", journal, "5"], check=True, stdout=subprocess.DEVNULL)
        attempts = os.path.join(tmp, "attempts")
        snd = subprocess.Popen([sender, "run", "--journal", journal, "--url",
                                "http://127.0.0.1:%d" % port, "--token", "netwake-token-0123456789",
                                "--attempts", attempts, "--until-empty", "--timeout", "60"],
                               stdout=subprocess.PIPE, stderr=open(os.path.join(tmp, "s.log"), "w"),
                               text=True)
        procs.append(snd)

        def lines():
            if not os.path.exists(attempts):
                return []
            return [l.split() for l in open(attempts).read().splitlines() if l.strip()]
        wait_for("the first attempt", lambda: len(lines()) >= 1, 30)
        first = lines()[0]
        if first[3] != "503":
            sys.exit("FAIL: the first attempt got %s, not the 503 the fault asks for" % first[3])
        # netlink events: a link comes and goes, several times, within the server's wait
        for _ in range(3):
            subprocess.run(["ip", "link", "add", link, "type", "veth", "peer", "name", link + "p"], check=True)
            subprocess.run(["ip", "link", "set", link, "up"], check=True)
            time.sleep(0.2)
            subprocess.run(["ip", "link", "del", link], check=True)
            time.sleep(0.2)
        out, _ = snd.communicate(timeout=90)
        if snd.returncode != 0:
            sys.exit("FAIL: stint-send-test exited %d: %s" % (snd.returncode, out))
        ls = lines()
        if len(ls) < 2:
            sys.exit("FAIL: no second attempt: %s" % ls)
        gap_ms = int(ls[1][0]) - int(first[1])
        print("503 with Retry-After: %d at %s; next attempt %d ms later; %s" %
              (RETRY_AFTER_S, first[1], gap_ms, out.strip()))
        if gap_ms < RETRY_AFTER_S * 1000 - 50:
            sys.exit("FAIL: the sender came back %d ms after Retry-After: %d (a network change "
                     "cut the server's wait short)" % (gap_ms, RETRY_AFTER_S))
        if "net_wakes=0" not in out:
            sys.exit("FAIL: the network changes woke the sender: %s" % out)
        print("ok: the server's wait held through 3 link changes")
        return 0
    finally:
        subprocess.run(["ip", "link", "del", link], capture_output=True)
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        subprocess.run(["rm", "-rf", tmp])


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
