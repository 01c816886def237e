#!/bin/sh
# demo.sh — Stint end to end in under a minute: `make demo` runs it.
#
#   scripts/demo.sh BUILD_DIR        (BUILD_DIR holds agent/stintd, ctl/stintctl,
#                                      collector/stint-collector)
#
# Starts stint-collector on a free loopback port with a throw-away certificate, starts stintd on
# a JSONL replay of a working day (tests/data/demo-day.jsonl, written to the followed file in
# three parts as the day goes on), takes the collector away for the middle of the day (stintd
# journals offline and retries), brings it back on the same port, waits for the backlog to drain,
# prints the user's own report of the day (`stintctl report`, read from stintd's history of
# acknowledged records), stops stintd, and prints what the server holds against what stintd
# recorded: every record once, and the same time per application as the day's events imply (and
# as the report from the history says). Last line: "VERDICT: PASS ..." or
# "VERDICT: FAIL ...", with the exit status to match. Everything it starts is stopped on the way
# out (also on Ctrl-C), and its temporary folder removed (DEMO_KEEP=1 keeps it).
set -eu

BUILD=${1:?usage: demo.sh BUILD_DIR}
SRC=$(cd "$(dirname "$0")/.." && pwd)
STINTD=$BUILD/agent/stintd
STINTCTL=$BUILD/ctl/stintctl
COLLECTOR=$BUILD/collector/stint-collector
DAY=$SRC/tests/data/demo-day.jsonl
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
for b in "$STINTD" "$STINTCTL" "$COLLECTOR"; do
    [ -x "$b" ] || { echo "demo: $b is not built" >&2; exit 2; }
done

T=$(mktemp -d /tmp/stint-demo-XXXXXX)
COLL_PID=
AGENT_PID=
cleanup() {
    status=$?
    for p in $AGENT_PID $COLL_PID; do
        kill -TERM "$p" 2>/dev/null || true
    done
    for p in $AGENT_PID $COLL_PID; do
        wait "$p" 2>/dev/null || true
    done
    if [ "${DEMO_KEEP:-}" = 1 ]; then
        echo "demo: files kept in $T"
    else
        rm -rf "$T"
    fi
    exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

START=$(date +%s)
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
[ -t 1 ] || say() { printf '\n== %s\n' "$*"; }

say "a throw-away certificate, a token, and stint-collector on a free loopback port"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=localhost \
    -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout "$T/key.pem" -out "$T/cert.pem" \
    2>/dev/null
TOKEN=demo-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
(umask 077; echo "$TOKEN demo" > "$T/tokens"; echo "$TOKEN" > "$T/token")

start_collector() { # $1: listen address
    "$COLLECTOR" serve --listen "$1" --port-file "$T/port" --tls-cert "$T/cert.pem" \
        --tls-key "$T/key.pem" --data "$T/server" --tokens "$T/tokens" >>"$T/collector.log" 2>&1 &
    COLL_PID=$!
    i=0
    while [ ! -s "$T/port" ]; do
        i=$((i + 1))
        [ $i -lt 200 ] || { echo "demo: the collector did not start:" >&2; cat "$T/collector.log" >&2; exit 1; }
        sleep 0.05
    done
}
start_collector 127.0.0.1:0
PORT=$(cat "$T/port")
echo "stint-collector (pid $COLL_PID) serves https://127.0.0.1:$PORT"

ctl() { "$STINTCTL" --socket "$T/run/control" "$@"; }

# The day in three parts: morning (collector up), midday (collector away), afternoon (back).
"$PY" - "$DAY" "$T" <<'EOF'
import json, sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines(True)
def hour(l): return (json.loads(l)["time"] // 1000 % 86400) / 3600
parts = [[], [], []]
for l in lines:
    h = hour(l)
    parts[0 if h < 11 else 1 if h < 14.5 else 2].append(l)
for i, p in enumerate(parts):
    open("%s/part%d.jsonl" % (sys.argv[2], i), "w", encoding="utf-8").writelines(p)
EOF
: > "$T/day.jsonl"

# The day is 15 Jan 2026: the history (14 days by default) is asked to reach back to it.
DAY_DATE=2026-01-15
HISTORY=$(( ($(date +%s) - 1768435200) / 86400 + 2 ))d
say "stintd follows the day's events (journal: $T/journal)"
"$STINTD" --source "jsonl:$T/day.jsonl" --journal "$T/journal" --socket "$T/run/control" \
    --server "https://127.0.0.1:$PORT" --token-file "$T/token" --ca-file "$T/cert.pem" \
    --max-age 0 --backoff-base 200ms --backoff-cap 2s --log-level info --history "$HISTORY" \
    2>"$T/stintd.log" &
AGENT_PID=$!
i=0
while [ ! -S "$T/run/control" ]; do
    i=$((i + 1))
    [ $i -lt 200 ] || { echo "demo: stintd did not start:" >&2; cat "$T/stintd.log" >&2; exit 1; }
    sleep 0.05
done

appended() { ctl status --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["journal"]["next_seq"] - 1)'; }
wait_items() { # $1: events written so far; waits until stintd has read them all
    i=0
    while [ "$(ctl status --json | "$PY" -c 'import json,sys; s=json.load(sys.stdin)["source"]; print(s["items"] + s["bad_lines"])')" -lt "$1" ]; do
        i=$((i + 1))
        [ $i -lt 300 ] || { echo "demo: stintd did not read the events" >&2; exit 1; }
        sleep 0.1
    done
}

say "08:55-11:00: the morning is written; the collector is up"
cat "$T/part0.jsonl" >> "$T/day.jsonl"
N=$(wc -l < "$T/day.jsonl")
wait_items "$N"
ctl flush --wait --timeout 30
echo "stintd recorded $(appended) records so far; the server has them all"

say "11:00-14:30: the collector goes away (a train, a dead Wi-Fi): stintd journals offline"
kill -TERM "$COLL_PID"; wait "$COLL_PID" 2>/dev/null || true; COLL_PID=
cat "$T/part1.jsonl" >> "$T/day.jsonl"
N=$(wc -l < "$T/day.jsonl")
wait_items "$N"
ctl flush >/dev/null 2>&1 || true
sleep 1.5
ctl status | sed -n '/^backlog/p;/^sender:/,$p'
echo "what would leave the machine next (stintctl pending --limit 5):"
ctl pending --limit 5

say "14:30: the collector is back on the same port; the backlog drains"
start_collector "127.0.0.1:$PORT"
cat "$T/part2.jsonl" >> "$T/day.jsonl"
N=$(wc -l < "$T/day.jsonl")
wait_items "$N"
ctl flush --wait --timeout 30
RECORDED=$(appended)
ctl status --json > "$T/status.json"

say "the user's own day: stintctl report --day $DAY_DATE (from stintd's history of sent records)"
ctl status --json | "$PY" -c 'import json,sys; j=json.load(sys.stdin)["journal"]; print("(stintd holds %d records not sent and a history of %d sent ones, %d bytes)" % (j["next_seq"] - 1 - j["acked_seq"], j["history"], j["history_bytes"]))'
TZ=UTC ctl report --day "$DAY_DATE"
TZ=UTC ctl report --day "$DAY_DATE" --json > "$T/report.json"

say "stopping stintd (SIGTERM)"
kill -TERM "$AGENT_PID"
wait "$AGENT_PID" && echo "stintd stopped cleanly (exit 0)" || { echo "demo: stintd exit $?" >&2; exit 1; }
AGENT_PID=

say "what the server holds against what was recorded"
"$COLLECTOR" dump --data "$T/server" --account demo > "$T/dump.jsonl"
set +e
"$PY" - "$T/dump.jsonl" "$RECORDED" "$DAY" "$T/status.json" "$T/report.json" <<'EOF'
import collections, json, sys
stored = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
recorded = int(sys.argv[2])
status = json.load(open(sys.argv[4]))
seqs = collections.Counter(int(s["seq"]) for s in stored)
twice = sorted(s for s, n in seqs.items() if n > 1)
missing = sorted(set(range(1, recorded + 1)) - set(seqs))
extra = sorted(set(seqs) - set(range(1, recorded + 1)))

# Time per application, as the server holds it ...
server = collections.Counter()
kinds = collections.Counter()
for s in stored:
    r = s["record"]
    k = r.get("kind", "KIND_UNSPECIFIED").replace("KIND_", "").lower()
    kinds[k] += 1
    if k == "active":
        server[r.get("app", "?")] += int(r["endMs"]) - int(r["startMs"])
# ... and as the day's events imply: each event holds until the next one; idle and private
# spans count for nothing. (The open record at the end is not closed yet, so not stored.)
events = [json.loads(l) for l in open(sys.argv[3], encoding="utf-8")]
implied = collections.Counter()
state, private = None, False
for e in events:
    if state is not None:
        implied[state[0]] += e["time"] - state[1]
    if "private" in e:
        private = e["private"]
        state = None
    elif e.get("idle") or private:
        state = None
    else:
        state = (e["app"], e["time"])

def hm(ms):
    m = round(ms / 60000)
    return "%dh%02dm" % (m // 60, m % 60)

print("%-18s %10s %10s" % ("application", "server", "the day"))
for app in sorted(set(server) | set(implied), key=lambda a: -implied.get(a, 0)):
    mark = "" if server.get(app, 0) == implied.get(app, 0) else "   <-- differs"
    print("%-18s %10s %10s%s" % (app, hm(server.get(app, 0)), hm(implied.get(app, 0)), mark))
print("%-18s %10s %10s" % ("total", hm(sum(server.values())), hm(sum(implied.values()))))
report = json.load(open(sys.argv[5]))
from_history = {r["key"]: r["active_ms"] for r in report["rows"]}
print()
print("records recorded by stintd: %d   stored by the server: %d (%s)" %
      (recorded, len(stored), ", ".join("%s %d" % kv for kv in sorted(kinds.items()))))
print("journal: %d dead letters, %d dropped; sender: %d attempts, %d records sent" %
      (status["journal"]["dead_letters"], status["journal"]["dropped"],
       status["sender"]["attempts"], status["sender"]["records_sent"]))
problems = []
if twice: problems.append("seqs stored twice: %s" % twice[:10])
if missing: problems.append("%d records never arrived: %s" % (len(missing), missing[:10]))
if extra: problems.append("records the agent never made: %s" % extra[:10])
if server != implied: problems.append("time per application differs from the day's events")
if from_history != {a: ms for a, ms in implied.items() if ms}:
    problems.append("stintctl report (the history) differs from the day's events")
if len(stored) == 0: problems.append("nothing stored")
if problems:
    print("VERDICT: FAIL — " + "; ".join(problems))
    sys.exit(1)
print("VERDICT: PASS — the server holds all %d records, each once, and the day's time per "
      "application to the millisecond, as stintctl report shows it from the history" % recorded)
EOF
RC=$?
set -e
echo "(demo ran in $(( $(date +%s) - START )) s)"
exit $RC
