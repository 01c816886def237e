#!/bin/sh
# The conformance kit's server mode, proven both ways:
#   1. stint-collector (TLS, certificate made here) passes every case, S36/S37 included (the kit
#      provokes 503s through the collector's admin endpoint);
#   2. broken_server without --break passes every case too; with --break ID, for every case ID
#      the kit lists, the kit reports exactly that case failing, and exits non-zero exactly when
#      the case is a MUST;
#   3. the report: JUnit and JSON outputs, a skipped case on the summary line, --strict.
# usage: test_conformance_server.sh KIT COLLECTOR BROKEN_SERVER
set -u
KIT=$1
COLLECTOR=$2
BROKEN=$3
T=$(mktemp -d /tmp/stint-conformance-XXXXXX) || exit 1
PID=
fail=0

stop() {
    if [ -n "$PID" ]; then
        kill "$PID" 2>/dev/null
        wait "$PID" 2>/dev/null
        PID=
    fi
}
trap 'stop; rm -rf "$T"' EXIT INT TERM

# Waits for a port file; prints the port.
wait_port() {
    i=0
    while [ $i -lt 500 ]; do
        if [ -s "$1" ]; then
            sleep 0.02
            cat "$1"
            return 0
        fi
        if ! kill -0 "$PID" 2>/dev/null; then
            echo "server exited early:" >&2
            cat "$T/server.out" >&2
            return 1
        fi
        sleep 0.02
        i=$((i + 1))
    done
    echo "server did not start" >&2
    return 1
}

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
    -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
    -keyout "$T/key.pem" -out "$T/cert.pem" 2>/dev/null || { echo "openssl failed"; exit 1; }
printf '# accounts of the conformance run\nconf-alice-token-0123456789 alice\nconf-bob-token-0123456789 bob\n' \
    >"$T/tokens"
chmod 600 "$T/tokens"
printf 'conf-admin-token-0123456789 operator\n' >"$T/admin-tokens"
chmod 600 "$T/admin-tokens"
A=conf-alice-token-0123456789
B=conf-bob-token-0123456789
N=$("$KIT" --list server | grep -c '^S')
[ "$N" -ge 30 ] || { echo "the kit lists only $N server cases"; exit 1; }

# 1. the reference server
"$COLLECTOR" serve --listen 127.0.0.1:0 --tls-cert "$T/cert.pem" --tls-key "$T/key.pem" \
    --data "$T/coll" --tokens "$T/tokens" --port-file "$T/coll.port" --admin 127.0.0.1:0 \
    --admin-tokens "$T/admin-tokens" >"$T/server.out" 2>&1 &
PID=$!
PORT=$(wait_port "$T/coll.port") || exit 1
sleep 0.1
ADMIN=$(sed -n 's/.*admin endpoint on .* port \([0-9]*\).*/\1/p' "$T/server.out")
[ -n "$ADMIN" ] || { echo "no admin port"; cat "$T/server.out"; exit 1; }
# the fault rules go to the collector's admin endpoint (python3's urllib: no curl CLI needed)
ADMIN_PY="import sys, urllib.request as u; u.urlopen(u.Request('http://127.0.0.1:$ADMIN/admin/faults', data=sys.argv[2].encode() or None, method=sys.argv[1], headers={'Authorization': 'Bearer conf-admin-token-0123456789'}), timeout=10)"
"$KIT" server --url "https://127.0.0.1:$PORT" --token "$A" --token-b "$B" --ca-file "$T/cert.pem" \
    --throttle-cmd "python3 -c \"$ADMIN_PY\" POST 'status=503,retry-after=2,count=1'" \
    --unthrottle-cmd "python3 -c \"$ADMIN_PY\" DELETE ''" \
    --junit "$T/collector.xml" >"$T/kit.out" 2>&1
rc=$?
cat "$T/kit.out"
if [ $rc -ne 0 ] || ! grep -qx "$N passed, 0 failed" "$T/kit.out"; then
    echo "FAIL: stint-collector does not pass every case (exit $rc)"
    fail=1
fi
grep -q '<testsuite name="stint-conformance.server" tests="'"$N"'" failures="0"' "$T/collector.xml" ||
    { echo "FAIL: the JUnit report does not say $N cases, 0 failures"; fail=1; }
# Retry-After as an IMF-fixdate (429) is well-formed too
"$KIT" server --url "https://127.0.0.1:$PORT" --token "$A" --token-b "$B" --ca-file "$T/cert.pem" \
    --case S36,S37 \
    --throttle-cmd "python3 -c \"$ADMIN_PY\" POST 'status=429,retry-after-date=3,count=1'" \
    --unthrottle-cmd "python3 -c \"$ADMIN_PY\" DELETE ''" >"$T/kit.out" 2>&1
rc=$?
cat "$T/kit.out"
if [ $rc -ne 0 ] || ! grep -qx "2 passed, 0 failed" "$T/kit.out"; then
    echo "FAIL: 429 with an HTTP-date Retry-After is not judged well-formed (exit $rc)"
    fail=1
fi

# a case that cannot run is SKIPPED, counted on the summary line, and fails nothing
"$KIT" server --url "https://127.0.0.1:$PORT" --token "$A" --token-b "$B" --ca-file "$T/cert.pem" \
    --case S36 >"$T/kit.out" 2>&1
rc=$?
if [ $rc -ne 0 ] || ! grep -qx "0 passed, 0 failed, 1 skipped" "$T/kit.out"; then
    cat "$T/kit.out"
    echo "FAIL: S36 without --throttle-cmd is not reported as skipped (exit $rc)"
    fail=1
fi
# --json is one JSON document with the counts
"$KIT" server --url "https://127.0.0.1:$PORT" --token "$A" --token-b "$B" --ca-file "$T/cert.pem" \
    --case S01,S33 --json >"$T/kit.json" 2>&1
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d['passed']==2 and d['failed']==0 and [c['id'] for c in d['cases']]==['S01','S33'] else 1)" \
    "$T/kit.json" || { echo "FAIL: --json output"; cat "$T/kit.json"; fail=1; }
stop

# 2. the broken server, one requirement at a time; four runs at once, each in its own folder
# with its own server process. check_break DIR ID writes DIR/kit.out and DIR/rc.
check_break() {
    d=$1
    mkdir -p "$d"
    if [ "$2" = none ]; then brk=; else brk="--break $2"; fi
    # shellcheck disable=SC2086
    "$BROKEN" --listen 127.0.0.1:0 --port-file "$d/port" --data "$d/data" \
        --tokens "$T/tokens" --throttle-file "$d/throttle" --max-body 262144 \
        --max-decoded 1048576 --max-records 100 $brk >"$d/server.out" 2>&1 &
    bpid=$!
    i=0
    while [ ! -s "$d/port" ] && [ $i -lt 500 ] && kill -0 $bpid 2>/dev/null; do
        sleep 0.02
        i=$((i + 1))
    done
    sleep 0.02
    if [ ! -s "$d/port" ]; then
        echo "broken_server did not start" >"$d/kit.out"
        cat "$d/server.out" >>"$d/kit.out"
        echo 99 >"$d/rc"
        kill $bpid 2>/dev/null
        wait $bpid 2>/dev/null
        return
    fi
    "$KIT" server --url "http://127.0.0.1:$(cat "$d/port")" --token "$A" --token-b "$B" \
        --max-body 262144 --max-decoded 1048576 --max-records 100 \
        --throttle-cmd "touch '$d/throttle'" --unthrottle-cmd "rm -f '$d/throttle'" \
        >"$d/kit.out" 2>&1
    echo $? >"$d/rc"
    kill $bpid 2>/dev/null
    wait $bpid 2>/dev/null
}

check_break "$T/none" none
if [ "$(cat "$T/none/rc")" -ne 0 ] || ! grep -qx "$N passed, 0 failed" "$T/none/kit.out"; then
    cat "$T/none/kit.out"
    echo "FAIL: broken_server without --break does not pass every case"
    fail=1
fi

"$KIT" --list server | awk '/^S/ {print $1, $2}' >"$T/cases"
jobs=0
while read -r id level; do
    check_break "$T/b-$id" "$id" &
    jobs=$((jobs + 1))
    if [ $jobs -ge 4 ]; then
        wait
        jobs=0
    fi
done <"$T/cases"
wait

shown=0
while read -r id level; do
    d="$T/b-$id"
    rc=$(cat "$d/rc" 2>/dev/null || echo 99)
    failing=$(awk '$3 == "FAIL" {print $1}' "$d/kit.out" | tr '\n' ' ' | sed 's/ $//')
    want_rc=0
    [ "$level" = MUST ] && want_rc=1
    if [ "$failing" != "$id" ] || [ "$rc" -ne $want_rc ]; then
        echo "FAIL: --break $id ($level): the kit reported failing [$failing], exit $rc (want [$id], exit $want_rc)"
        cat "$d/kit.out"
        fail=1
    else
        shown=$((shown + 1))
        echo "ok: --break $id ($level) fails exactly $id: $(awk -v id="$id" '$1 == id {$1=$2=$3=""; print}' "$d/kit.out" | sed 's/^ *//')"
    fi
done <"$T/cases"
echo "$shown of $N cases shown to fail alone against a server that breaks them"

# --strict: a failing SHOULD case (S06) makes the exit status non-zero
"$BROKEN" --listen 127.0.0.1:0 --port-file "$T/strict.port" --data "$T/strict.data" \
    --tokens "$T/tokens" --break S06 >"$T/server.out" 2>&1 &
PID=$!
PORT=$(wait_port "$T/strict.port") || exit 1
"$KIT" server --url "http://127.0.0.1:$PORT" --token "$A" --token-b "$B" --case S06 --strict \
    >"$T/kit.out" 2>&1
rc=$?
stop
if [ $rc -ne 1 ] || ! grep -qx "0 passed, 1 failed" "$T/kit.out"; then
    cat "$T/kit.out"
    echo "FAIL: --strict with a failing SHOULD case exits $rc, not 1"
    fail=1
else
    echo "ok: --strict makes a failing SHOULD case fail the run"
fi
[ "$shown" -eq "$N" ] || fail=1
exit $fail
