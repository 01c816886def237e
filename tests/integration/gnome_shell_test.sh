#!/bin/sh
# gnome_shell_test.sh — the GNOME Shell extension (desktop/gnome-legacy for GNOME 42-44,
# desktop/gnome for 45+) inside a real, headless GNOME Shell (`gnome-shell --headless --wayland
# --no-x11 --virtual-monitor`; Debian 12 has 43.9), with stintd's gnome source reading it.
# Everything runs as an unprivileged user the test creates (useradd, when run as
# root; removed after) on a session bus of its own; GNOME Shell also wants a system bus (it asks
# logind when /run/systemd/seats exists), so a private one stands in, where logind, PolicyKit
# and the rest are absent (GNOME Shell logs that and carries on). A second, test-only extension
# turns on GNOME Shell's unsafe mode so that the test can drive it through org.gnome.Shell.Eval:
# activate a window (Meta.Window.activate), and fake pointer motion (a Clutter virtual device)
# as input for the idle monitor. Checked:
#   - three foot windows (ASCII, CJK, emoji titles) activated in turn and a title changed by the
#     program in the window: the records name them in order with app_id, title and the path of
#     the pid GNOME gives (/usr/bin/foot), each within LATENCY_MS of the command (1000 ms by
#     default on this loaded 2-core machine; the figures are printed);
#   - idle from the extension's GetIdletime (Mutter's idle monitor): idle_after without input
#     makes an idle record from the last faked input; input ends it;
#   - GNOME Shell going away: reported as "nothing in focus" and the helper absent.
# Usage: gnome_shell_test.sh SOURCE_DRIVER SRC_DIR
set -eu
DRIVER=$1
SRC=$2
LATENCY_MS=${LATENCY_MS:-1000}
IDLE_MS=5000
LC_ALL=C.UTF-8
export LC_ALL
for tool in gnome-shell gsettings gdbus foot dbus-daemon setpriv; do
    command -v $tool >/dev/null 2>&1 || { echo "SKIP: $tool is not installed"; exit 77; }
done
VER=$(gnome-shell --version 2>/dev/null | sed -n 's/^GNOME Shell \([0-9]*\).*/\1/p')
[ -n "$VER" ] || { echo "SKIP: cannot tell GNOME Shell's version"; exit 77; }
T=$(mktemp -d /tmp/stint-gshell-test-XXXXXX)
chmod 755 "$T"
WUSER=""
SHELLPID=""
DRV=""
cleanup() {
    [ -z "$DRV" ] || kill "$DRV" 2>/dev/null || true
    [ -z "$SHELLPID" ] || kill "$SHELLPID" 2>/dev/null || true
    for f in "$T/run/bus.pid" "$T/run/sysbus.pid"; do
        [ ! -s "$f" ] || kill "$(cat "$f")" 2>/dev/null || true
    done
    sleep 0.5
    if [ -n "$WUSER" ]; then
        pkill -u "$WUSER" 2>/dev/null || true # only this run's user: the shell's helpers, foot
        sleep 0.3
        pkill -9 -u "$WUSER" 2>/dev/null || true
        userdel "$WUSER" 2>/dev/null || true
    fi
    [ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT INT TERM
fail() {
    echo "FAIL: $*"
    echo "--- records:"; cat "$T/home/records.tsv" 2>/dev/null || true
    echo "--- driver:"; cat "$T/driver.out" 2>/dev/null || true
    echo "--- gnome-shell:"; grep -v "^\s*$" "$T/shell.log" 2>/dev/null | tail -25 || true
    exit 1
}
now_ms() { date +%s%3N; }

if [ "$(id -u)" = 0 ]; then
    command -v useradd >/dev/null 2>&1 || { echo "SKIP: no useradd"; exit 77; }
    WUSER="stintgs$$"
    useradd --system --no-create-home --home-dir "$T/home" --shell /usr/sbin/nologin "$WUSER" ||
        fail "useradd $WUSER"
    AS="setpriv --reuid=$WUSER --regid=$WUSER --clear-groups"
else
    AS=""
fi
EXT=$T/home/.local/share/gnome-shell/extensions
mkdir -p "$T/run" "$EXT/stint-test-unsafe@stint.dev"
if [ "$VER" -ge 45 ]; then
    cp -r "$SRC/desktop/gnome" "$EXT/stint-focus@stint.dev"
    cat > "$EXT/stint-test-unsafe@stint.dev/extension.js" <<'EOF'
import {Extension} from 'resource:///org/gnome/shell/extensions/extension.js';
export default class Unsafe extends Extension {
    enable() { global.context.unsafe_mode = true; }
    disable() { global.context.unsafe_mode = false; }
}
EOF
else
    cp -r "$SRC/desktop/gnome-legacy" "$EXT/stint-focus@stint.dev"
    cat > "$EXT/stint-test-unsafe@stint.dev/extension.js" <<'EOF'
function init() {
    return {
        enable() { global.context.unsafe_mode = true; },
        disable() { global.context.unsafe_mode = false; },
    };
}
EOF
fi
printf '{"uuid": "stint-test-unsafe@stint.dev", "name": "Stint test: unsafe mode", "description": "Test only: org.gnome.Shell.Eval for the test.", "shell-version": ["%s"]}\n' \
    "$VER" > "$EXT/stint-test-unsafe@stint.dev/metadata.json"
cp "$DRIVER" "$T/source_driver" # the user may not reach the build tree
chmod 755 "$T/source_driver"
cat > "$T/hold.sh" <<'EOF'
read -r title < "$1"
printf '\033]2;%s\007' "$title"
exec sleep 600
EOF
mkfifo -m 666 "$T/fifo-c" "$T/fifo-x"
R=$T/run
cat > "$T/shell.sh" <<EOF
dbus-daemon --session --nofork --nopidfile --address=unix:path=$R/system_bus >$R/sysbus.log 2>&1 &
echo \$! > $R/sysbus.pid
dbus-daemon --session --nofork --nopidfile --address=unix:path=$R/bus >$R/bus.log 2>&1 &
echo \$! > $R/bus.pid
i=0
until [ -S $R/bus ] && [ -S $R/system_bus ]; do i=\$((i + 1)); [ \$i -lt 100 ] || exit 1; sleep 0.1; done
gsettings set org.gnome.shell enabled-extensions "['stint-focus@stint.dev', 'stint-test-unsafe@stint.dev']"
exec gnome-shell --headless --wayland --no-x11 --virtual-monitor 1280x800
EOF
chmod 644 "$T/hold.sh" "$T/shell.sh"
[ -z "$WUSER" ] || chown -R "$WUSER" "$T/home" "$T/run"
chmod 700 "$T/run"
ENV="env -i PATH=/usr/bin:/bin HOME=$T/home XDG_RUNTIME_DIR=$R LC_ALL=C.UTF-8
     DBUS_SESSION_BUS_ADDRESS=unix:path=$R/bus DBUS_SYSTEM_BUS_ADDRESS=unix:path=$R/system_bus"

# shellcheck disable=SC2086
$AS $ENV sh "$T/shell.sh" >"$T/shell.log" 2>&1 &
SHELLPID=$!
call() { # gdbus call as the user on its session bus
    # shellcheck disable=SC2086
    $AS $ENV gdbus call --session "$@"
}
i=0
until call --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
    --method org.freedesktop.DBus.NameHasOwner org.stint.Desktop 2>/dev/null | grep -q true; do
    i=$((i + 1))
    kill -0 "$SHELLPID" 2>/dev/null || fail "gnome-shell --headless exited"
    [ $i -lt 600 ] || fail "the extension did not publish org.stint.Desktop within 60 s"
    sleep 0.1
done
i=0
until call --dest org.gnome.Shell --object-path /org/gnome/Shell --method org.gnome.Shell.Eval \
    'String("ok")' > "$T/eval.out" 2>&1 && grep -q true "$T/eval.out"; do
    i=$((i + 1))
    [ $i -lt 300 ] || fail "org.gnome.Shell.Eval is not open (the test extension): $(cat "$T/eval.out";
        call --dest org.gnome.Shell --object-path /org/gnome/Shell --method \
        org.gnome.Shell.Extensions.GetExtensionInfo stint-test-unsafe@stint.dev 2>&1 | head -c 600)"
    sleep 0.1
done
eval_js() {
    call --dest org.gnome.Shell --object-path /org/gnome/Shell --method org.gnome.Shell.Eval "$1" \
        > "$T/eval.out" 2>&1 || true
    grep -q "^(true" "$T/eval.out" || fail "Eval $1: $(cat "$T/eval.out")"
}
activate() { # app_id
    eval_js "global.get_window_actors().map(a => a.meta_window).find(w => w.get_wm_class() === '$1').activate(global.get_current_time()); 'ok'"
}
input() { # pointer motion from a virtual device: input for Mutter's idle monitor
    eval_js "const C = imports.gi.Clutter; if (!global._stintDev) global._stintDev = C.get_default_backend().get_default_seat().create_virtual_device(C.InputDeviceType.POINTER_DEVICE); global._stintDev.notify_relative_motion(global.get_current_time() * 1000, 1, 1); 'ok'"
}
open_window() { # app_id title fifo
    # shellcheck disable=SC2086
    $AS $ENV WAYLAND_DISPLAY=wayland-0 foot --app-id="$1" --title="$2" sh "$T/hold.sh" "$3" \
        >>"$T/foot.log" 2>&1 &
    i=0
    until call --dest org.gnome.Shell --object-path /org/gnome/Shell --method org.gnome.Shell.Eval \
        "global.get_window_actors().some(a => a.meta_window.get_wm_class() === '$1')" 2>/dev/null |
        grep -q "'true'"; do
        i=$((i + 1)); [ $i -lt 300 ] || fail "the foot window $1 did not appear"; sleep 0.1
    done
}
lines() { wc -l < "$T/driver.out"; }
wait_sample() {
    i=0
    until tail -n +"$(($2 + 1))" "$T/driver.out" | grep -q "sample $1"; do
        i=$((i + 1)); [ $i -lt 200 ] || fail "no sample \"$1\" from the source"; sleep 0.05
    done
}

TA="alpha window"
TB="日本語のウィンドウ 漢字"
TC="emoji 🦊🚀 ✓"
TC2="題名が変わった ✓ retitled"
open_window stint.ascii "$TA" "$T/fifo-x"
open_window stint.cjk "$TB" "$T/fifo-x"
open_window stint.emoji "$TC" "$T/fifo-c"
input
activate stint.emoji

# shellcheck disable=SC2086
$AS $ENV "$T/source_driver" gnome "$T/home/j" "$IDLE_MS" "$T/home/records.tsv" \
    >"$T/driver.out" 2>&1 &
DRV=$!
wait_sample "stint.emoji	$TC	/usr/bin/foot" 0
: > "$T/lat"
step() {
    input
    n=$(lines)
    t0=$(now_ms)
    activate "$1"
    wait_sample "$1" "$n"
    ts=$(tail -n +"$((n + 1))" "$T/driver.out" | grep "sample $1" | head -1 | cut -d' ' -f1)
    echo "$1 $((ts - t0))" >> "$T/lat"
}
step stint.ascii
step stint.cjk
step stint.emoji
input
n=$(lines)
t0=$(now_ms)
echo "$TC2" > "$T/fifo-c"
wait_sample "stint.emoji	$TC2" "$n"
ts=$(tail -n +"$((n + 1))" "$T/driver.out" | grep "sample stint.emoji	$TC2" | head -1 | cut -d' ' -f1)
echo "title $((ts - t0))" >> "$T/lat"
t0=$(now_ms)
input
LAST_INPUT=$(now_ms)
sleep $((IDLE_MS / 1000 + 3))
grep -q "idle: the helper's GetIdletime" "$T/driver.out" ||
    fail "idle was not read from the extension's GetIdletime"
input # back
sleep 1.5
# GNOME Shell goes away: the helper with it
n=$(lines)
kill "$SHELLPID"
wait_sample "		" "$n"
i=0
until grep -q "helper org.stint.Desktop absent" "$T/driver.out"; do
    i=$((i + 1)); [ $i -lt 100 ] || fail "status missed the helper leaving"; sleep 0.1
done
kill -TERM "$DRV"
wait "$DRV" || fail "the driver failed"
DRV=""

cut -f1,2,4 "$T/home/records.tsv" > "$T/seq.tsv"
printf '1\tstint.emoji\t%s\n1\tstint.ascii\t%s\n1\tstint.cjk\t%s\n1\tstint.emoji\t%s\n1\tstint.emoji\t%s\n2\t\t\n1\tstint.emoji\t%s\n1\t\t\n' \
    "$TC" "$TA" "$TB" "$TC" "$TC2" "$TC2" > "$T/want.tsv"
diff "$T/want.tsv" "$T/seq.tsv" || fail "the records are not the windows activated in turn"
awk -F'\t' '$1 == 1 && $2 != "" && $3 != "/usr/bin/foot" { exit 1 }' "$T/home/records.tsv" ||
    fail "path is not /usr/bin/foot (from the pid GNOME gives)"
IDLE_START=$(awk -F'\t' '$1 == 2 { print $6 }' "$T/home/records.tsv")
D=$((IDLE_START - LAST_INPUT))
[ "$D" -gt -"$LATENCY_MS" ] && [ "$D" -lt "$LATENCY_MS" ] ||
    fail "idle starts ${D} ms away from the last input"
while read -r what lat; do
    [ "$lat" -le "$LATENCY_MS" ] || fail "$what: the record came ${lat} ms after the change"
done < "$T/lat"
MED=$(awk '{print $2}' "$T/lat" | sort -n | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}')
echo "latency, ms from the start of the command (gdbus Eval, or the write to the window):"
sed 's/^/  /' "$T/lat"
echo "ok: GNOME Shell $(gnome-shell --version | sed 's/GNOME Shell //'), headless, with the" \
    "extension: $(wc -l < "$T/home/records.tsv") records; latency median ${MED} ms" \
    "(assert <= ${LATENCY_MS}); idle started ${D} ms from the last input"
