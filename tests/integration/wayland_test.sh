#!/bin/sh
# wayland_test.sh — the Wayland source against a real compositor: Debian 12's sway 1.7,
# headless (WLR_BACKENDS=headless WLR_RENDERER=pixman WLR_LIBINPUT_NO_DEVICES=1), run as an
# unprivileged user (created here with useradd when the test runs as root, as CI does; removed at
# the end). Three foot windows with ASCII, CJK and emoji titles; the focus is moved with swaymsg,
# the focused window's title is changed by the program in it (an OSC 2 sequence), input is faked
# with sway's `seat cursor move` (it counts as activity for the idle protocol) and then none comes
# for idle_after. Checked:
#   - the records name the windows in the order they were focused, with their app_id, title and
#     path (/usr/bin/foot, found through sway's IPC), the retitled one under its new title, then
#     an idle record from the last input, then the window again after input;
#   - latency: each record starts within LATENCY_MS of the start of the command causing it. The
#     issue asks for 200 ms; this machine is shared by several builds on 2 cores, so the assertion
#     allows LATENCY_MS (1000 ms by default) and the measured figures are printed (median and
#     maximum) for the report;
#   - private mode: no sample while it is on (the source lets go of every window handle), the
#     focused window again when it ends;
#   - source = auto chooses wayland when WAYLAND_DISPLAY names a wlroots compositor;
#   - the compositor going away and coming back: the source says so, connects again, reports the
#     window of the new session, did not crash, and used little CPU while waiting (no busy loop:
#     under 0.5 s of CPU and under 200 wake-ups over the wait, measured from /proc).
# Usage: wayland_test.sh SOURCE_DRIVER
set -eu
DRIVER=$1
LATENCY_MS=${LATENCY_MS:-1000}
IDLE_MS=5000
LC_ALL=C.UTF-8
export LC_ALL
for tool in sway swaymsg foot; do
    command -v $tool >/dev/null 2>&1 || { echo "SKIP: $tool is not installed"; exit 77; }
done
T=$(mktemp -d /tmp/stint-wl-test-XXXXXX)
chmod 755 "$T"
PIDS=""
WUSER=""
RUNAS=""
SWAYPID=""
cleanup() {
    [ -z "$SWAYPID" ] || kill "$SWAYPID" 2>/dev/null || true
    for p in $PIDS; do kill "$p" 2>/dev/null || true; done
    for p in $PIDS; do wait "$p" 2>/dev/null || true; done
    if [ -n "$WUSER" ]; then
        pkill -u "$WUSER" 2>/dev/null || true # only this run's user: what sway started
        sleep 0.2
        userdel "$WUSER" 2>/dev/null || true
    fi
    rm -rf "$T"
}
trap cleanup EXIT INT TERM
fail() {
    echo "FAIL: $*"
    echo "--- records:"; cat "$T/records.tsv" 2>/dev/null || true
    echo "--- driver:"; cat "$T/driver.out" 2>/dev/null || true
    echo "--- sway:"; tail -20 "$T/sway.log" 2>/dev/null || true
    exit 1
}
now_ms() { date +%s%3N; }

if [ "$(id -u)" = 0 ]; then # sway is run as an unprivileged user, as on a desktop
    command -v useradd >/dev/null 2>&1 || { echo "SKIP: no useradd"; exit 77; }
    WUSER="stintwl$$"
    useradd --system --no-create-home --home-dir "$T/home" --shell /usr/sbin/nologin "$WUSER" ||
        fail "useradd $WUSER"
    RUNAS="runuser -u $WUSER --"
fi
mkdir -p "$T/run" "$T/home"
[ -z "$WUSER" ] || chown "$WUSER" "$T/run" "$T/home"
chmod 700 "$T/run"
XDG=$T/run
printf '# no bar, no bindings: only what the test does\ndefault_border none\n' > "$T/config"
# the program in each window: waits for a line on its FIFO, then sets the window title to it
cat > "$T/hold.sh" <<'EOF'
read -r title < "$1"
printf '\033]2;%s\007' "$title"
exec sleep 600
EOF
chmod 644 "$T/config" "$T/hold.sh"
for w in a b c; do mkfifo -m 666 "$T/fifo-$w"; done

start_sway() {
    rm -f "$XDG"/sway-ipc.*
    # shellcheck disable=SC2086
    $RUNAS env -i PATH=/usr/bin:/bin HOME="$T/home" XDG_RUNTIME_DIR="$XDG" LC_ALL=C.UTF-8 \
        WLR_BACKENDS=headless WLR_RENDERER=pixman WLR_LIBINPUT_NO_DEVICES=1 \
        sway -c "$T/config" >>"$T/sway.log" 2>&1 &
    PIDS="$PIDS $!"
    i=0
    until ls "$XDG"/sway-ipc.*.sock >/dev/null 2>&1 && ls "$XDG"/wayland-? >/dev/null 2>&1; do
        i=$((i + 1)); [ $i -lt 300 ] || fail "sway did not start"; sleep 0.1
    done
    SOCK=$(ls "$XDG"/sway-ipc.*.sock | head -1)
    SWAYPID=$(basename "$SOCK" .sock)
    SWAYPID=${SWAYPID##*.}
    WLNAME=$(basename "$(ls "$XDG"/wayland-? | head -1)")
}
msg() { swaymsg -s "$SOCK" "$@" >/dev/null; }
open_window() { # app_id title fifo
    printf 'exec foot --app-id=%s --title="%s" sh %s %s\n' "$1" "$2" "$T/hold.sh" "$3" \
        > "$T/open.sh"
    msg "$(cat "$T/open.sh")"
    i=0
    until swaymsg -s "$SOCK" -t get_tree | grep -q "\"app_id\": \"$1\""; do
        i=$((i + 1)); [ $i -lt 300 ] || fail "the foot window $1 did not appear"; sleep 0.1
    done
}
# waits until the driver has printed a sample line containing $1 after line $2
wait_sample() {
    i=0
    until tail -n +"$(($2 + 1))" "$T/driver.out" | grep -q "sample $1"; do
        i=$((i + 1)); [ $i -lt 200 ] || fail "no sample \"$1\" from the source"; sleep 0.05
    done
}
lines() { wc -l < "$T/driver.out"; }

TA="alpha window"
TB="日本語のウィンドウ 漢字"
TC="emoji 🦊🚀 ✓"
TB2="題名が変わった ✓ retitled"
start_sway
open_window stint.ascii "$TA" "$T/fifo-a"
open_window stint.cjk "$TB" "$T/fifo-b"
open_window stint.emoji "$TC" "$T/fifo-c"

# source = auto picks wayland here, even with an X display named (sway has no Xwayland here)
XDG_RUNTIME_DIR=$XDG WAYLAND_DISPLAY=$WLNAME DISPLAY=:99 \
    "$DRIVER" auto "$T/jauto" "$IDLE_MS" "$T/auto.tsv" >"$T/auto.out" 2>&1 &
AUTO=$!
i=0
until grep -q "ready" "$T/auto.out"; do
    i=$((i + 1)); [ $i -lt 200 ] || fail "auto did not start: $(cat "$T/auto.out")"; sleep 0.05
done
kill -TERM "$AUTO"
wait "$AUTO" || fail "auto: the driver failed: $(cat "$T/auto.out")"
grep -q "ready wayland" "$T/auto.out" || fail "auto did not choose wayland: $(cat "$T/auto.out")"

XDG_RUNTIME_DIR=$XDG WAYLAND_DISPLAY=$WLNAME \
    "$DRIVER" wayland "$T/j" "$IDLE_MS" "$T/records.tsv" >"$T/driver.out" 2>&1 &
DRV=$!
PIDS="$PIDS $DRV"
i=0
until grep -q "ready wayland" "$T/driver.out"; do
    i=$((i + 1)); [ $i -lt 200 ] || fail "the driver did not start"; sleep 0.05
done
grep -q "idle: org_kde_kwin_idle\|idle: ext_idle_notifier_v1" "$T/driver.out" ||
    fail "no idle protocol found on sway 1.7 (it has org_kde_kwin_idle)"
wait_sample stint.emoji 0

: > "$T/lat"
step() { # app_id: input, then focus it; the latency from the command to the sample
    msg seat seat0 cursor move 1 1
    n=$(lines)
    t0=$(now_ms)
    msg "[app_id=\"$1\"] focus"
    t1=$(now_ms)
    wait_sample "$1" "$n"
    ts=$(tail -n +"$((n + 1))" "$T/driver.out" | grep "sample $1" | head -1 | cut -d' ' -f1)
    echo "$1 $((ts - t0)) $((t1 - t0))" >> "$T/lat"
}
step stint.ascii
step stint.cjk
step stint.emoji
step stint.cjk
# the program in the focused window changes its title
msg seat seat0 cursor move 1 1
n=$(lines)
t0=$(now_ms)
echo "$TB2" > "$T/fifo-b"
t1=$(now_ms)
wait_sample "stint.cjk	$TB2" "$n"
ts=$(tail -n +"$((n + 1))" "$T/driver.out" | grep "sample stint.cjk	$TB2" | head -1 | cut -d' ' -f1)
echo "title $((ts - t0)) $((t1 - t0))" >> "$T/lat"
# the last input, then none for longer than idle_after
t0=$(now_ms)
msg seat seat0 cursor move 1 1
LAST_INPUT=$(now_ms)
n=$(lines)
i=0
until tail -n +"$((n + 1))" "$T/driver.out" | grep -q " idle "; do
    i=$((i + 1)); [ $i -lt 400 ] || fail "idle was not reported within $((IDLE_MS + 20000)) ms"
    sleep 0.1
done
IDLE_SEEN=$(tail -n +"$((n + 1))" "$T/driver.out" | grep " idle " | head -1 | cut -d' ' -f1)
echo "idle $((IDLE_SEEN - LAST_INPUT - IDLE_MS)) $((LAST_INPUT - t0))" >> "$T/lat"
# input again: the window is back
n=$(lines)
t0=$(now_ms)
msg seat seat0 cursor move 1 1
t1=$(now_ms)
wait_sample "stint.cjk	$TB2" "$n"
ts=$(tail -n +"$((n + 1))" "$T/driver.out" | grep "sample stint.cjk" | head -1 | cut -d' ' -f1)
echo "resume $((ts - t0)) $((t1 - t0))" >> "$T/lat"

# private mode: the source lets go of every window; nothing is sampled until it ends
kill -USR1 "$DRV"
i=0
until grep -q "private on" "$T/driver.out"; do
    i=$((i + 1)); [ $i -lt 100 ] || fail "private mode did not start"; sleep 0.05
done
n=$(lines)
msg seat seat0 cursor move 1 1
msg '[app_id="stint.ascii"] focus'
msg '[app_id="stint.emoji"] focus'
sleep 0.5
! tail -n +"$((n + 1))" "$T/driver.out" | grep -q "sample" || fail "a sample in private mode"
kill -USR2 "$DRV"
wait_sample "stint.emoji	$TC" "$n"

# the compositor goes away...
cpu_ticks() { awk '{print $14 + $15}' "/proc/$DRV/stat"; }
wakeups() { # context switches of every thread: each is a wake-up
    cat /proc/"$DRV"/task/*/status | awk '/^(voluntary|nonvoluntary)_ctxt_switches/ {s += $2} END {print s}'
}
kill "$SWAYPID"
i=0
until grep -q "error wayland: lost the compositor" "$T/driver.out"; do
    i=$((i + 1)); [ $i -lt 200 ] || fail "the loss of the compositor was not reported"; sleep 0.1
done
c0=$(cpu_ticks)
s0=$(wakeups)
w0=$(now_ms)
sleep 3
kill -0 "$DRV" 2>/dev/null || fail "the driver died with the compositor"
# ... and comes back
start_sway
i=0
until grep -q "detail wayland .*reconnections: 1" "$T/driver.out"; do
    i=$((i + 1)); [ $i -lt 200 ] || fail "the source did not connect again"; sleep 0.1
done
c1=$(cpu_ticks)
s1=$(wakeups)
w1=$(now_ms)
HZ=$(getconf CLK_TCK)
CPU_MS=$(((c1 - c0) * 1000 / HZ))
WAKES=$((s1 - s0))
[ "$CPU_MS" -lt 500 ] || fail "${CPU_MS} ms of CPU in $((w1 - w0)) ms without a compositor: a busy loop"
# the back-off (200 ms doubling to 5 s) tries a handful of times; a tight retry wakes hundreds
[ "$WAKES" -lt 200 ] || fail "$WAKES wake-ups in $((w1 - w0)) ms without a compositor: retrying too often"
open_window stint.after "after the restart" "$T/fifo-a"
wait_sample "stint.after	after the restart" 0

kill -TERM "$DRV"
wait "$DRV" || fail "the driver failed"
PIDS=$(echo "$PIDS" | sed "s/ $DRV\$//; s/ $DRV / /")

# kind app path title: the sequence of records
cut -f1,2,4 "$T/records.tsv" > "$T/seq.tsv"
printf '1\tstint.emoji\t%s\n1\tstint.ascii\t%s\n1\tstint.cjk\t%s\n1\tstint.emoji\t%s\n1\tstint.cjk\t%s\n1\tstint.cjk\t%s\n2\t\t\n1\tstint.cjk\t%s\n3\t\t\n1\tstint.emoji\t%s\n1\t\t\n1\tstint.after\tafter the restart\n' \
    "$TC" "$TA" "$TB" "$TC" "$TB" "$TB2" "$TB2" "$TC" > "$T/want.tsv"
diff "$T/want.tsv" "$T/seq.tsv" || fail "the records are not the windows focused in turn"
awk -F'\t' '$1 == 1 && $2 != "" && $3 != "/usr/bin/foot" { exit 1 }' "$T/records.tsv" ||
    fail "path is not /usr/bin/foot (sway IPC)"
# the idle record starts at the last input (the tracker's clock; the sway command's own time
# is inside [t0, LAST_INPUT])
IDLE_START=$(awk -F'\t' '$1 == 2 { print $6 }' "$T/records.tsv")
D=$((IDLE_START - LAST_INPUT))
[ "$D" -gt -"$LATENCY_MS" ] && [ "$D" -lt "$LATENCY_MS" ] ||
    fail "idle starts ${D} ms away from the last input"
awk -F'\t' 'NR > 1 && $6 < prev { exit 1 } $7 <= $6 { exit 1 } { prev = $7 }' "$T/records.tsv" ||
    fail "records overlap or are empty"
# latency: sample time minus the moment the causing command started
while read -r what lat cmd; do
    [ "$lat" -le "$LATENCY_MS" ] || fail "$what: the record came ${lat} ms after the change"
done < "$T/lat"
MED=$(awk '{print $2}' "$T/lat" | sort -n | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}')
MAX=$(awk '{print $2}' "$T/lat" | sort -n | tail -1)
echo "latency, ms from the start of the causing command (what, latency, the command's own time):"
sed 's/^/  /' "$T/lat"
echo "ok: $(wc -l < "$T/records.tsv") records; latency median ${MED} ms, max ${MAX} ms" \
    "(assert <= ${LATENCY_MS}); idle started ${D} ms from the last input; ${CPU_MS} ms CPU and" \
    "${WAKES} wake-ups in $((w1 - w0)) ms while the compositor was away"
