#!/bin/sh
# gnome_test.sh — the D-Bus source on a private session bus (dbus-daemon, started
# here), against desktop_mock, which speaks the desktop helpers' side of the contract exactly as
# desktop/gnome/extension.js (owns org.stint.Desktop: GetFocus, GetIdletime, FocusChanged) and
# desktop/kwin/contents/code/main.js (calls org.stint.Agent's Update) do. GNOME Shell and KWin
# themselves do not run here (spec/AGENT.md says what was and was not verified). Checked:
#   - the records follow the focus the helper publishes (ASCII, CJK and emoji titles, a title
#     change), with the path of the pid it gives (/proc/PID/exe);
#   - idle from the helper's GetIdletime: the idle record starts at the last input; input ends it;
#   - a push from a KWin-style helper (Update) is a focus like any other;
#   - the helper going away is reported ("nothing in focus", status detail) and a new helper is
#     picked up by itself (NameOwnerChanged, then GetFocus);
#   - latency of each record: within LATENCY_MS of the command (1000 ms by default: a loaded
#     2-core machine; the measured figures are printed);
#   - source = auto: with neither WAYLAND_DISPLAY nor DISPLAY and the helper on the bus it picks
#     gnome, and stintctl status says so; with only DISPLAY (Xvfb, when installed) it picks x11;
#     with nothing at all it fails naming what it tried.
# Usage: gnome_test.sh SOURCE_DRIVER DESKTOP_MOCK STINTD STINTCTL
set -eu
DRIVER=$1
MOCK=$2
STINTD=$3
STINTCTL=$4
LATENCY_MS=${LATENCY_MS:-1000}
LC_ALL=C.UTF-8
export LC_ALL
command -v dbus-daemon >/dev/null 2>&1 || { echo "SKIP: dbus-daemon is not installed"; exit 77; }
T=$(mktemp -d /tmp/stint-gnome-test-XXXXXX)
PIDS=""
cleanup() {
    exec 4>&- 5>&- 2>/dev/null || true
    for p in $PIDS; do kill "$p" 2>/dev/null || true; done
    for p in $PIDS; do wait "$p" 2>/dev/null || true; done
    [ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT INT TERM
fail() {
    echo "FAIL: $*"
    echo "--- records:"; cat "$T/records.tsv" 2>/dev/null || true
    echo "--- driver:"; cat "$T/driver.out" 2>/dev/null || true
    exit 1
}
now_ms() { date +%s%3N; }
unset WAYLAND_DISPLAY DISPLAY SWAYSOCK

dbus-daemon --session --nofork --nopidfile --print-address=3 3>"$T/bus" >"$T/dbus.log" 2>&1 &
PIDS="$PIDS $!"
i=0
until [ -s "$T/bus" ]; do
    i=$((i + 1)); [ $i -lt 100 ] || fail "dbus-daemon did not start"; sleep 0.1
done
DBUS_SESSION_BUS_ADDRESS=$(head -1 "$T/bus")
export DBUS_SESSION_BUS_ADDRESS

# processes whose pids the helper hands over (their path is /usr/bin/sleep)
sleep 600 & P1=$!
sleep 600 & P2=$!
PIDS="$PIDS $P1 $P2"
SLEEP=$(readlink -f "$(command -v sleep)")
for p in $P1 $P2; do # a child is the forked shell until it has exec'd sleep
    i=0
    until [ "$(readlink /proc/$p/exe 2>/dev/null)" = "$SLEEP" ]; do
        i=$((i + 1)); [ $i -lt 100 ] || fail "sleep $p did not start"; sleep 0.05
    done
done

start_mock() { # fd 4 writes to the helper's commands
    rm -f "$T/mock.in"
    mkfifo "$T/mock.in"
    "$MOCK" < "$T/mock.in" > "$T/mock.out" 2>&1 &
    MOCKPID=$!
    PIDS="$PIDS $MOCKPID"
    exec 4>"$T/mock.in"
    i=0
    until grep -q ready "$T/mock.out"; do
        i=$((i + 1)); [ $i -lt 100 ] || fail "desktop_mock did not start"; sleep 0.1
    done
}
lines() { wc -l < "$T/driver.out"; }
wait_sample() { # text, after line
    i=0
    until tail -n +"$(($2 + 1))" "$T/driver.out" | grep -q "sample $1"; do
        i=$((i + 1)); [ $i -lt 200 ] || fail "no sample \"$1\" from the source"; sleep 0.05
    done
}
: > "$T/lat"
focus() { # app title pid: input, then the helper publishes it; the latency to the sample is kept
    echo input >&4
    n=$(lines)
    t0=$(now_ms)
    printf 'focus %s\t%s\t%s\n' "$1" "$2" "$3" >&4
    wait_sample "$1	$2" "$n"
    ts=$(tail -n +"$((n + 1))" "$T/driver.out" | grep "sample $1	$2" | head -1 | cut -d' ' -f1)
    echo "$1 $((ts - t0))" >> "$T/lat"
}

TA="Terminal — ascii"
TB="ファイル 日本語 漢字"
TC="emoji 🦊🚀 ✓"
TC2="emoji 🦊 retitled ✓"
start_mock
printf 'focus org.gnome.Terminal\t%s\t%s\n' "$TA" "$P1" >&4

"$DRIVER" gnome "$T/j" 5000 "$T/records.tsv" >"$T/driver.out" 2>&1 4>&- &
DRV=$!
PIDS="$PIDS $DRV"
wait_sample "org.gnome.Terminal	$TA	$SLEEP" 0
grep -q "helper org.stint.Desktop present" "$T/driver.out" || fail "status does not see the helper"
focus org.gnome.Nautilus "$TB" "$P2"
focus firefox "$TC" "$P1"
focus firefox "$TC2" "$P1" # a title change of the focused window
echo input >&4
LAST_INPUT=$(now_ms)
i=0
until grep -q "idle: the helper's GetIdletime" "$T/driver.out" && [ "$(($(now_ms) - LAST_INPUT))" -gt 6500 ]; do
    i=$((i + 1)); [ $i -lt 300 ] || fail "idle not asked of the helper"; sleep 0.1
done
n=$(lines)
t0=$(now_ms)
echo input >&4 # back
i=0
until tail -n +"$((n + 1))" "$T/driver.out" | grep -q "sample" ||
      [ "$(($(now_ms) - t0))" -gt 1500 ]; do sleep 0.05; done
# a KWin-style helper pushes a focus (callDBus to org.stint.Agent)
sleep 0.5
echo input >&4
printf 'push org.kde.konsole\tKonsole ✓\t%s\n' "$P2" | "$MOCK" --no-name > "$T/push.out" 2>&1 ||
    fail "the push helper failed: $(cat "$T/push.out")"
grep -q pushed "$T/push.out" || fail "Update was refused: $(cat "$T/push.out")"
wait_sample "org.kde.konsole	Konsole ✓	$SLEEP" 0
# the helper goes away, another comes
n=$(lines)
exec 4>&-
wait "$MOCKPID" 2>/dev/null || true
wait_sample "		" "$n"
grep -q "helper org.stint.Desktop absent" "$T/driver.out" || fail "status missed the helper leaving"
start_mock
focus org.gnome.TextEditor "after the restart" "$P2"
kill -TERM "$DRV"
wait "$DRV" || fail "the driver failed"
PIDS=$(echo "$PIDS" | sed "s/ $DRV\$//; s/ $DRV / /")

cut -f1,2,4 "$T/records.tsv" > "$T/seq.tsv"
printf '1\torg.gnome.Terminal\t%s\n1\torg.gnome.Nautilus\t%s\n1\tfirefox\t%s\n1\tfirefox\t%s\n2\t\t\n1\tfirefox\t%s\n1\torg.kde.konsole\tKonsole ✓\n1\t\t\n1\torg.gnome.TextEditor\tafter the restart\n' \
    "$TA" "$TB" "$TC" "$TC2" "$TC2" > "$T/want.tsv"
diff "$T/want.tsv" "$T/seq.tsv" || fail "the records are not the focus the helper published"
awk -F'\t' -v p="$SLEEP" '$1 == 1 && $2 != "" && $3 != p { exit 1 }' "$T/records.tsv" ||
    fail "path is not $SLEEP (from the pid)"
IDLE_START=$(awk -F'\t' '$1 == 2 { print $6 }' "$T/records.tsv")
D=$((IDLE_START - LAST_INPUT))
[ "$D" -gt -"$LATENCY_MS" ] && [ "$D" -lt "$LATENCY_MS" ] ||
    fail "idle starts ${D} ms away from the last input"
while read -r what lat; do
    [ "$lat" -le "$LATENCY_MS" ] || fail "$what: the record came ${lat} ms after the change"
done < "$T/lat"

# source = auto: the helper on the bus, no WAYLAND_DISPLAY, no DISPLAY
exec 5>"$T/mock.in" # keep the new helper's input open; fd 4 is its writer already
mkdir -p "$T/run"
chmod 700 "$T/run"
"$STINTD" --source auto --journal "$T/j2" --socket "$T/run/control" --server "" \
    >"$T/stintd.log" 2>&1 4>&- 5>&- &
SD=$!
PIDS="$PIDS $SD"
i=0
until "$STINTCTL" --socket "$T/run/control" status --json > "$T/status.json" 2>/dev/null; do
    i=$((i + 1)); [ $i -lt 100 ] || fail "stintd did not start: $(cat "$T/stintd.log")"
    sleep 0.1
done
grep -q '"name": *"gnome"' "$T/status.json" ||
    fail "auto did not choose gnome: $(cat "$T/status.json")"
grep -q '"detail": *"gnome: helper org.stint.Desktop present' "$T/status.json" ||
    fail "status has no detail: $(cat "$T/status.json")"
kill -TERM "$SD"
wait "$SD" || fail "stintd did not stop cleanly: $(cat "$T/stintd.log")"
# ... and with nothing at all: a clear error naming what was tried
if DBUS_SESSION_BUS_ADDRESS="unix:path=$T/no-bus" "$DRIVER" auto "$T/j3" 5000 "$T/r3" \
    > "$T/auto.out" 2>&1; then
    fail "auto started with no desktop"
fi
for want in "wayland: WAYLAND_DISPLAY is not set" "gnome: no org.stint.Desktop" \
    "x11: DISPLAY is not set"; do
    grep -q "$want" "$T/auto.out" || fail "auto's error does not say \"$want\": $(cat "$T/auto.out")"
done
# ... and with only an X display (and no helper on the bus): x11
if command -v Xvfb >/dev/null 2>&1; then
    Xvfb -displayfd 6 -screen 0 640x480x24 -nolisten tcp 6>"$T/display" 2>"$T/xvfb.log" 4>&- 5>&- &
    PIDS="$PIDS $!"
    i=0
    until [ -s "$T/display" ]; do
        i=$((i + 1)); [ $i -lt 100 ] || fail "Xvfb did not start"; sleep 0.1
    done
    DISPLAY=":$(cat "$T/display")" DBUS_SESSION_BUS_ADDRESS="unix:path=$T/no-bus" \
        "$DRIVER" auto "$T/j4" 5000 "$T/r4" > "$T/auto-x11.out" 2>&1 4>&- 5>&- &
    AX=$!
    i=0
    until grep -q "ready" "$T/auto-x11.out"; do
        i=$((i + 1)); [ $i -lt 100 ] || fail "auto with DISPLAY: $(cat "$T/auto-x11.out")"
        sleep 0.05
    done
    kill -TERM "$AX"
    wait "$AX" || fail "auto with DISPLAY: the driver failed: $(cat "$T/auto-x11.out")"
    grep -q "ready x11" "$T/auto-x11.out" || fail "auto did not choose x11: $(cat "$T/auto-x11.out")"
fi
MED=$(awk '{print $2}' "$T/lat" | sort -n | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}')
echo "latency, ms from the helper's signal to the sample:"
sed 's/^/  /' "$T/lat"
echo "ok: $(wc -l < "$T/records.tsv") records; latency median ${MED} ms (assert <= ${LATENCY_MS});" \
    "idle started ${D} ms from the last input; auto chose gnome; auto's error: $(cat "$T/auto.out")"
