#!/bin/sh
# x11_test.sh — the X11 source under Xvfb with openbox (an EWMH window manager): xterm windows
# with known titles (ASCII, and non-ASCII that xterm stores in WM_NAME as COMPOUND_TEXT) are
# focused in turn with xdotool, one is retitled, then nothing happens for longer than idle_after.
# The records must name every window in order, with the right app, path and title, an idle record
# must start at the last input (compared with the time of the last faked input), and the window
# must be back after input. Usage: x11_test.sh X11_DRIVER [nowm]
# With "nowm" no window manager runs: the source must follow the core input focus (xdotool
# windowfocus), and only the focus sequence is checked.
set -eu
DRIVER=$1
MODE=${2:-wm}
LC_ALL=C.UTF-8 # titles as UTF-8 whatever ctest's environment is
export LC_ALL
for tool in Xvfb openbox xterm xdotool; do
    command -v $tool >/dev/null 2>&1 || { echo "SKIP: $tool is not installed"; exit 77; }
done
T=$(mktemp -d /tmp/stint-x11-test-XXXXXX)
PIDS=""
cleanup() {
    for p in $PIDS; do kill "$p" 2>/dev/null || true; done
    for p in $PIDS; do wait "$p" 2>/dev/null || true; done
    rm -rf "$T"
}
trap cleanup EXIT INT TERM
fail() { echo "FAIL: $*"; echo "--- records:"; cat "$T/records.tsv" 2>/dev/null || true;
         echo "--- driver:"; cat "$T/driver.out" 2>/dev/null || true; exit 1; }
now_ms() { date +%s%3N; }

# Xvfb on a free display: it writes the number it took to fd 3
Xvfb -displayfd 3 -screen 0 1024x768x24 -nolisten tcp 3>"$T/display" 2>"$T/xvfb.log" &
PIDS="$!"
i=0
while [ ! -s "$T/display" ]; do
    i=$((i + 1)); [ $i -lt 100 ] || fail "Xvfb did not start"; sleep 0.1
done
DISPLAY=":$(cat "$T/display")"
export DISPLAY
if [ "$MODE" = wm ]; then
    HOME="$T" openbox --sm-disable >"$T/openbox.log" 2>&1 &
    PIDS="$PIDS $!"
    i=0
    until xprop -root _NET_SUPPORTING_WM_CHECK 2>/dev/null | grep -q "window id"; do
        i=$((i + 1)); [ $i -lt 100 ] || fail "openbox did not start"; sleep 0.1
    done
fi

TITLE_A="alpha"
TITLE_B="Grüße — ☃ Привет ελλάδα 日本"
TITLE_C="retitled ✓ ok"
LC_ALL=C.UTF-8 xterm -class StintAlpha -T "$TITLE_A" -e sleep 300 2>/dev/null &
PIDS="$PIDS $!"
LC_ALL=C.UTF-8 xterm -class StintBeta -T "$TITLE_B" -e sleep 300 2>/dev/null &
PIDS="$PIDS $!"
WA=$(xdotool search --sync --class StintAlpha | head -1)
WB=$(xdotool search --sync --class StintBeta | head -1)
[ -n "$WA" ] && [ -n "$WB" ] || fail "the xterm windows did not appear"
activate() { # openbox may not manage a new window yet: retry until it is the active one
    if [ "$MODE" = nowm ]; then
        # search --sync finds a window before it is mapped, and focusing an unmapped window is a
        # BadMatch: on a loaded machine, retry until xterm has mapped it
        i=0
        until xdotool windowfocus --sync "$1" 2>/dev/null; do
            i=$((i + 1)); [ $i -lt 50 ] || fail "cannot focus window $1"
            sleep 0.1
        done
        return
    fi
    i=0
    until [ "$(xdotool getactivewindow 2>/dev/null)" = "$1" ]; do
        i=$((i + 1)); [ $i -lt 50 ] || fail "cannot activate window $1"
        xdotool windowactivate --sync "$1" 2>/dev/null || sleep 0.1
    done
}
activate "$WB"
activate "$WA"
xdotool mousemove --sync 10 10 # input: the user is here when the driver starts

"$DRIVER" "$T/j" 4000 "$T/records.tsv" >"$T/driver.out" 2>&1 &
DRV=$!
PIDS="$PIDS $DRV"
i=0
until grep -q ready "$T/driver.out"; do
    i=$((i + 1)); [ $i -lt 100 ] || fail "the driver did not start"; sleep 0.1
done
xdotool mousemove --sync 20 20

step() { # input (so that idle stays away), then activate a window
    xdotool mousemove --sync $((100 + $2)) $((100 + $2))
    activate "$1"
    sleep 0.7
}
step "$WB" 1
step "$WA" 2
step "$WB" 3
if [ "$MODE" = nowm ]; then
    kill -TERM "$DRV"
    wait "$DRV" || fail "the driver failed"
    PIDS=$(echo "$PIDS" | sed "s/ $DRV//")
    cut -f1,2,4 "$T/records.tsv" > "$T/seq.tsv"
    printf '1\tStintAlpha\t%s\n1\tStintBeta\t%s\n1\tStintAlpha\t%s\n1\tStintBeta\t%s\n' \
        "$TITLE_A" "$TITLE_B" "$TITLE_A" "$TITLE_B" > "$T/want.tsv"
    diff "$T/want.tsv" "$T/seq.tsv" || fail "without a window manager: not the windows focused"
    echo "ok: no window manager, $(wc -l < "$T/records.tsv") records from the input focus"
    exit 0
fi
xdotool set_window --name "$TITLE_C" "$WB" # a title change of the focused window
sleep 0.7
xdotool mousemove --sync 50 50
LAST_INPUT=$(now_ms)
sleep 5.5                     # idle_after is 4 s
xdotool mousemove --sync 60 60 # back
sleep 1
kill -TERM "$DRV"
wait "$DRV" || fail "the driver failed"
PIDS=$(echo "$PIDS" | sed "s/ $DRV//")

# kind app path title url start end
cut -f1,2,4 "$T/records.tsv" > "$T/seq.tsv"
printf '1\tStintAlpha\t%s\n1\tStintBeta\t%s\n1\tStintAlpha\t%s\n1\tStintBeta\t%s\n1\tStintBeta\t%s\n2\t\t\n1\tStintBeta\t%s\n' \
    "$TITLE_A" "$TITLE_B" "$TITLE_A" "$TITLE_B" "$TITLE_C" "$TITLE_C" > "$T/want.tsv"
diff "$T/want.tsv" "$T/seq.tsv" || fail "the records are not the windows focused in turn"
awk -F'\t' '$1 == 1 && $3 != "/usr/bin/xterm" { exit 1 }' "$T/records.tsv" ||
    fail "path is not /usr/bin/xterm"
# the idle record starts at the last input, give or take the test's own delays
IDLE_START=$(awk -F'\t' '$1 == 2 { print $6 }' "$T/records.tsv")
D=$((IDLE_START - LAST_INPUT))
[ "$D" -gt -1000 ] && [ "$D" -lt 1000 ] || fail "idle starts ${D} ms away from the last input"
# no record is empty or overlaps the one before
awk -F'\t' 'NR > 1 && $6 < prev { exit 1 } $7 <= $6 { exit 1 } { prev = $7 }' "$T/records.tsv" ||
    fail "records overlap or are empty"
echo "ok: $(wc -l < "$T/records.tsv") records, idle started ${D} ms from the last input"
