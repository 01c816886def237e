#!/bin/sh
# The conformance kit's client mode, proven both ways:
#   1. Stint's sender passes every client case against the kit's scripted HTTPS server, driven
#      two ways: stint-send-test (a journal and the sender of agent/sender.c in a process of their
#      own) and stintd itself (the JSON-lines source, the tracker, the journal and the sender);
#   2. broken_client passes every case too; with --break ID, for every client case the kit lists,
#      the kit reports exactly that case failing, and exits non-zero exactly for a MUST.
# The legacy cases (C11, C12) are skipped by a client that sends Batches; stint-send-test and
# broken_client also run in legacy mode (legacy JSON to /v1/legacy), where every case applies,
# and C11/C12 are broken in that mode.
# usage: test_conformance_client.sh KIT BROKEN_CLIENT [--sender STINT_SEND_TEST] [--stintd STINTD]
set -u
KIT=$1
BROKEN=$2
shift 2
SENDER=
STINTD=
while [ $# -ge 2 ]; do
    case $1 in
    --sender) SENDER=$2 ;;
    --stintd) STINTD=$2 ;;
    *) echo "unknown option $1"; exit 2 ;;
    esac
    shift 2
done
T=$(mktemp -d /tmp/stint-conformance-client-XXXXXX) || exit 1
trap 'rm -rf "$T"' EXIT INT TERM
fail=0
TOKEN=conf-client-token-0123456789

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
    -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
    -keyout "$T/key.pem" -out "$T/cert.pem" 2>/dev/null || { echo "openssl failed"; exit 1; }
N=$("$KIT" --list client | grep -c '^C')
NL=$("$KIT" --list client | grep -c '^C.*Legacy identity')
ALL_BATCH="$((N - NL)) passed, 0 failed, $NL skipped" # a client that sends Batches
ALL_LEGACY="$N passed, 0 failed"                       # a legacy client

# run_client DIR WHAT...: the kit in client mode, then the client WHAT (with URL and CA
# appended as options by the caller through $URL); DIR/kit.out and DIR/rc when the kit ends.
run_client() {
    d=$1
    shift
    mkdir -p "$d"
    "$KIT" client --listen 127.0.0.1:0 --tls-cert "$T/cert.pem" --tls-key "$T/key.pem" \
        --port-file "$d/port" --token "$TOKEN" --timeout 90 --quiet 2 >"$d/kit.out" 2>"$d/kit.err" &
    kpid=$!
    i=0
    while [ ! -s "$d/port" ] && [ $i -lt 500 ] && kill -0 $kpid 2>/dev/null; do
        sleep 0.02
        i=$((i + 1))
    done
    sleep 0.02
    if [ ! -s "$d/port" ]; then
        echo "the kit did not start" >>"$d/kit.out"
        kill $kpid 2>/dev/null
        wait $kpid 2>/dev/null
        echo 99 >"$d/rc"
        return
    fi
    URL="https://127.0.0.1:$(cat "$d/port")"
    "$@" >"$d/client.out" 2>&1
    wait $kpid
    echo $? >"$d/rc"
}

# Waits until the kit of run_client has printed its table ("N passed, ...").
wait_kit() {
    w=0
    while ! grep -q ' passed, ' "$d/kit.out" && [ $w -lt 600 ]; do
        sleep 0.2
        w=$((w + 1))
    done
}

# 1. Stint's sender
if [ -n "$SENDER" ]; then
    "$SENDER" fill "$T/journal" 25 >/dev/null || { echo "stint-send-test fill failed"; exit 1; }
    # the kit's script ends with a 401, after which the sender pauses: it is stopped (like
    # stintd below) once the kit has printed its table
    "$SENDER" fill "$T/journal-legacy" 25 >/dev/null || { echo "stint-send-test fill failed"; exit 1; }
    sender_run() {
        "$SENDER" run --journal "$T/journal$JSUFFIX" --url "$URL" --ca "$T/cert.pem" \
            --token "$TOKEN" --encoding "$ENC" --batch 5 --base-ms 10 --cap-ms 60000 \
            --linger-ms 1 --no-netwatch --until-empty --timeout 100 &
        spid=$!
        wait_kit
        kill "$spid" 2>/dev/null
        wait "$spid"
    }
    for mode in pb legacy-json; do
        ENC=$mode
        JSUFFIX=
        want=$ALL_BATCH
        if [ $mode = legacy-json ]; then JSUFFIX=-legacy; want=$ALL_LEGACY; fi
        run_client "$T/sender-$mode" sender_run
        cat "$T/sender-$mode/kit.out"
        if [ "$(cat "$T/sender-$mode/rc")" -ne 0 ] || ! grep -qx "$want" "$T/sender-$mode/kit.out"; then
            echo "FAIL: Stint's sender ($mode) does not pass every client case"
            cat "$T/sender-$mode/client.out"
            fail=1
        fi
    done
else
    echo "no stint-send-test given: Stint's sender not checked through it"
fi

# 1b. stintd: 26 focus events an hour ago make 25 closed records (the last one stays open)
if [ -n "$STINTD" ]; then
    mkdir -p "$T/stintd"
    now=$(date +%s)
    i=0
    while [ $i -lt 26 ]; do
        printf '{"time":%d,"app":"app%d","path":"/usr/bin/app%d","title":"Window %d"}\n' \
            $(((now - 3600 + i * 10) * 1000)) $i $i $i
        i=$((i + 1))
    done >"$T/stintd/events.jsonl"
    printf '%s' "$TOKEN" >"$T/stintd/token"
    chmod 600 "$T/stintd/token"
    stintd_run() {
        "$STINTD" --source "jsonl:$T/stintd/events.jsonl" --journal "$T/stintd/journal" \
            --socket "$T/stintd/control" --server "$URL" --token-file "$T/stintd/token" \
            --ca-file "$T/cert.pem" --batch-records 5 --backoff-base 10ms --backoff-cap 60s &
        spid=$!
        wait_kit
        kill "$spid"
        wait "$spid"
    }
    run_client "$T/stintd" stintd_run
    cat "$T/stintd/kit.out"
    if [ "$(cat "$T/stintd/rc")" -ne 0 ] || ! grep -qx "$ALL_BATCH" "$T/stintd/kit.out"; then
        echo "FAIL: stintd does not pass every client case"
        tail -20 "$T/stintd/client.out"
        fail=1
    fi
else
    echo "no stintd given: the daemon not checked here"
fi

# 2. broken_client, one rule at a time (four runs at once)
client_run() {
    # shellcheck disable=SC2086
    "$BROKEN" --url "$URL" --ca "$T/cert.pem" --token "$TOKEN" --records 25 --batch 5 \
        --base-ms "$BASE" $BRK --timeout 80
}
check() { # DIR ID [--legacy]
    BASE=10
    if [ "$2" = none ]; then BRK=; else BRK="--break $2"; fi
    BRK="$BRK ${3:-}"
    # the legacy cases are broken by a legacy client
    case $2 in C11 | C12) BRK="$BRK --legacy" ;; esac
    # a fixed exponential sequence is only told from jitter above the timing noise
    [ "$2" = C06 ] && BASE=25
    run_client "$1" client_run
}

"$KIT" --list client | awk '/^C/ {print $1, $2}' >"$T/cases"
check "$T/none" none &
check "$T/none-legacy" none --legacy &
jobs=2
while read -r id level; do
    check "$T/b-$id" "$id" &
    jobs=$((jobs + 1))
    if [ $jobs -ge 4 ]; then
        wait
        jobs=0
    fi
done <"$T/cases"
wait

if [ "$(cat "$T/none/rc")" -ne 0 ] || ! grep -qx "$ALL_BATCH" "$T/none/kit.out"; then
    cat "$T/none/kit.out"
    echo "FAIL: broken_client without --break does not pass every client case"
    fail=1
fi
if [ "$(cat "$T/none-legacy/rc")" -ne 0 ] || ! grep -qx "$ALL_LEGACY" "$T/none-legacy/kit.out"; then
    cat "$T/none-legacy/kit.out"
    echo "FAIL: broken_client --legacy without --break does not pass every client case"
    fail=1
fi
shown=0
while read -r id level; do
    d="$T/b-$id"
    rc=$(cat "$d/rc" 2>/dev/null || echo 99)
    failing=$(awk '$3 == "FAIL" {print $1}' "$d/kit.out" | tr '\n' ' ' | sed 's/ $//')
    want_rc=0
    [ "$level" = MUST ] && want_rc=1
    if [ "$failing" != "$id" ] || [ "$rc" -ne $want_rc ]; then
        echo "FAIL: --break $id ($level): the kit reported failing [$failing], exit $rc (want [$id], exit $want_rc)"
        cat "$d/kit.out" "$d/kit.err"
        fail=1
    else
        shown=$((shown + 1))
        echo "ok: --break $id ($level) fails exactly $id: $(awk -v id="$id" '$1 == id {$1=$2=$3=""; print}' "$d/kit.out" | sed 's/^ *//')"
    fi
done <"$T/cases"
echo "$shown of $N client cases shown to fail alone against a client that breaks them"
[ "$shown" -eq "$N" ] || fail=1
exit $fail
