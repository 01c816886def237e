#!/bin/sh
# bench_idle.sh — what stintd costs when nothing happens (targets: < 0.1% of a core, <= 12 MiB).
#
#   bench_idle.sh STINTD [SECONDS] [STINT-COLLECTOR] [STINT-TRAY]
#
# Runs stintd under Xvfb with openbox (an EWMH window manager) and one focused xterm, with the
# X11 source, and measures it over SECONDS (default 30) after a 3 s warm-up:
#   CPU     the sum over stintd's threads of /proc/PID/task/TID/schedstat (ns on a CPU), so
#           the resolution is not the 10 ms of utime/stime;
#   wakes   voluntary + involuntary context switches of every thread, per second: each is a
#           wake-up (a poll or a condition wait returning);
#   RSS     VmRSS and VmHWM (peak) of /proc/PID/status, and Pss of smaps_rollup.
# Rows: x11 with the user active and nothing changing (idle_after 180 s not reached), x11 once
# the user is idle (idle_after 5 s, so the bench sees the idle state); the same two for the
# wayland source under a headless sway 1.7 with one foot window (sway runs as an unprivileged
# user, made here with useradd when run as root and removed after); the jsonl source on a
# file that does not grow, for comparison; each also with the sender on (a server configured,
# an empty journal: its thread and the network watcher sleep; libcurl and TLS are set up only by
# the first send) and, given STINT-COLLECTOR, once the sender has delivered 199 records over
# TLS and keeps its connection (libcurl, its TLS library and the TLS session in memory). Given
# STINT-TRAY (target: < 0.1% of a core), on a private session bus (dbus-daemon) with stintd on
# a file that does not grow: stint-tray's own cost while nothing changes, and stintd's with a
# tray watching (its watch tick compares the state once a second). A table, never a
# pass/fail: the targets are printed beside the figures. Machines are shared and noisy: read the
# medians of several runs.
set -eu

STINTD=${1:?usage: bench_idle.sh STINTD [SECONDS] [STINT-COLLECTOR] [STINT-TRAY]}
SECS=${2:-30}
COLLECTOR=${3:-}
TRAY=${4:-}
T=$(mktemp -d /tmp/stint-bench-idle-XXXXXX)
PIDS=
WUSER=
cleanup() {
    for p in $PIDS; do kill "$p" 2>/dev/null || true; done
    for p in $PIDS; do wait "$p" 2>/dev/null || true; done
    if [ -n "$WUSER" ]; then
        pkill -u "$WUSER" 2>/dev/null || true # this run's sway user only
        sleep 0.2
        userdel "$WUSER" 2>/dev/null || true
    fi
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

have_x=1
for b in Xvfb openbox xterm xdotool; do
    command -v $b >/dev/null 2>&1 || { have_x=0; echo "bench_idle: no $b: x11 rows skipped"; }
done

if [ $have_x = 1 ]; then
    Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp 3>"$T/display" 2>"$T/xvfb.log" &
    PIDS="$PIDS $!"
    i=0
    while [ ! -s "$T/display" ]; do
        i=$((i + 1)); [ $i -lt 100 ] || { echo "bench_idle: Xvfb did not start"; exit 1; }
        sleep 0.1
    done
    DISPLAY=:$(cat "$T/display")
    export DISPLAY
    openbox >"$T/openbox.log" 2>&1 &
    PIDS="$PIDS $!"
    sleep 0.5
    xterm -T "Stint idle bench" -e sleep 100000 &
    PIDS="$PIDS $!"
    WIN=$(xdotool search --sync --name "Stint idle bench" | head -1)
    xdotool windowactivate --sync "$WIN" 2>/dev/null || true
fi

# cpu_ns PID: CPU time of every thread, in ns
cpu_ns() {
    cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{s += $1} END {printf "%d\n", s}'
}
# switches PID: context switches of every thread
switches() {
    cat /proc/"$1"/task/*/status 2>/dev/null |
        awk '/^(voluntary|nonvoluntary)_ctxt_switches/ {s += $2} END {printf "%d\n", s}'
}
kib() { awk -v k="$2" '$1 == k":" {print $2}' /proc/"$1"/status; }
pss() { awk '$1 == "Pss:" {print $2}' /proc/"$1"/smaps_rollup 2>/dev/null || echo 0; }

printf '\nstintd idle cost: %s s per row after a 3 s warm-up (%s, %s cores)\n' "$SECS" \
    "$(uname -r)" "$(nproc)"
printf '%-7s %-30s %9s %9s %9s %8s %9s %8s\n' source state "CPU ms" "% core" "wakes/s" \
    "RSS MiB" "peak MiB" "Pss MiB"

row() { # $1 source, $2 label, rest: extra stintd flags
    src=$1 label=$2
    shift 2
    n=$(ls -d "$T"/run* 2>/dev/null | wc -l)
    dir="$T/run$n"
    mkdir -p "$dir"
    env ${ROW_ENV:-} "$STINTD" --source "$src" --journal "$dir/journal" --socket "$dir/run/control" --server "" \
        --max-age 0 "$@" 2>"$dir/log" &
    pid=$!
    sleep 3
    if ! kill -0 $pid 2>/dev/null; then
        printf '%-7s %-30s %s\n' "${src%%:*}" "$label" "not measured: $(tail -1 "$dir/log")"
        wait $pid 2>/dev/null || true
        return
    fi
    c0=$(cpu_ns $pid); w0=$(switches $pid)
    sleep "$SECS"
    c1=$(cpu_ns $pid); w1=$(switches $pid)
    rss=$(kib $pid VmRSS); hwm=$(kib $pid VmHWM); p=$(pss $pid)
    kill -TERM $pid
    wait $pid 2>/dev/null || true
    awk -v s="${src%%:*}" -v l="$label" -v c=$((c1 - c0)) -v w=$((w1 - w0)) -v t="$SECS" \
        -v r="$rss" -v h="$hwm" -v p="$p" 'BEGIN {
        printf "%-7s %-30s %9.2f %9.4f %9.2f %8.2f %9.2f %8.2f\n", s, l, c / 1e6,
               100 * c / (t * 1e9), w / t, r / 1024, h / 1024, p / 1024 }'
}

(umask 077; echo bench-token-0123456789 > "$T/token")
SERVER="--server https://127.0.0.1:9 --token-file $T/token"
if [ $have_x = 1 ]; then
    row x11 "focus unchanged, user active"
    row x11 "user idle (idle_after 5s)" --idle-after 5s
    # shellcheck disable=SC2086
    row x11 "focus unchanged, sender on" $SERVER
fi
# wayland: headless sway as an unprivileged user, one foot window, nothing changing
have_wl=1
for b in sway swaymsg foot; do
    command -v $b >/dev/null 2>&1 || { have_wl=0; echo "bench_idle: no $b: wayland rows skipped"; }
done
RUNAS=
if [ $have_wl = 1 ] && [ "$(id -u)" = 0 ]; then
    WUSER="stintbench$$"
    useradd --system --no-create-home --home-dir "$T/wlhome" --shell /usr/sbin/nologin "$WUSER" ||
        have_wl=0
    RUNAS="runuser -u $WUSER --"
fi
if [ $have_wl = 1 ]; then
    chmod 755 "$T"
    mkdir -p "$T/wlrun" "$T/wlhome"
    [ -z "$WUSER" ] || chown "$WUSER" "$T/wlrun" "$T/wlhome"
    chmod 700 "$T/wlrun"
    printf 'default_border none\n' > "$T/sway.conf"
    chmod 644 "$T/sway.conf"
    # shellcheck disable=SC2086
    $RUNAS env -i PATH=/usr/bin:/bin HOME="$T/wlhome" XDG_RUNTIME_DIR="$T/wlrun" \
        WLR_BACKENDS=headless WLR_RENDERER=pixman WLR_LIBINPUT_NO_DEVICES=1 \
        sway -c "$T/sway.conf" >"$T/sway.log" 2>&1 &
    PIDS="$PIDS $!"
    i=0
    until ls "$T"/wlrun/sway-ipc.*.sock >/dev/null 2>&1 && ls "$T"/wlrun/wayland-? >/dev/null 2>&1; do
        i=$((i + 1)); [ $i -lt 100 ] || { echo "bench_idle: sway did not start"; exit 1; }
        sleep 0.1
    done
    SOCK=$(ls "$T"/wlrun/sway-ipc.*.sock | head -1)
    swaymsg -s "$SOCK" 'exec foot --app-id=stint.bench --title="Stint idle bench" sleep 100000' \
        >/dev/null
    i=0
    until swaymsg -s "$SOCK" -t get_tree | grep -q stint.bench; do
        i=$((i + 1)); [ $i -lt 100 ] || { echo "bench_idle: foot did not start"; exit 1; }
        sleep 0.1
    done
    ROW_ENV="XDG_RUNTIME_DIR=$T/wlrun WAYLAND_DISPLAY=$(basename "$(ls "$T"/wlrun/wayland-? | head -1)")"
    row wayland "focus unchanged, user active"
    row wayland "user idle (idle_after 5s)" --idle-after 5s
    ROW_ENV=
fi
: > "$T/empty.jsonl"
row "jsonl:$T/empty.jsonl" "file not growing"
# shellcheck disable=SC2086
row "jsonl:$T/empty.jsonl" "file not growing, sender on" $SERVER

# After a delivery: a collector on a free loopback port, 200 events sent, then nothing happens.
if [ -n "$COLLECTOR" ] && command -v openssl >/dev/null 2>&1; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
        -subj /CN=localhost -addext subjectAltName=IP:127.0.0.1 -keyout "$T/key.pem" \
        -out "$T/cert.pem" 2>/dev/null
    (umask 077; echo "bench-token-0123456789 bench" > "$T/tokens")
    "$COLLECTOR" serve --listen 127.0.0.1:0 --port-file "$T/port" --tls-cert "$T/cert.pem" \
        --tls-key "$T/key.pem" --data "$T/server" --tokens "$T/tokens" >"$T/collector.log" 2>&1 &
    CPID=$!
    PIDS="$PIDS $CPID"
    i=0
    while [ ! -s "$T/port" ]; do
        i=$((i + 1)); [ $i -lt 100 ] || { echo "bench_idle: the collector did not start: $(cat "$T/collector.log")"; exit 1; }
        sleep 0.1
    done
    i=0
    while [ $i -lt 200 ]; do # a minute each from 2023-11-14 (shell arithmetic: mawk's stops at 2^31)
        printf '{"time": %s, "app": "app%d", "title": "window %d"}\n' \
            $((1700000000000 + i * 60000)) $((i % 7)) $i
        i=$((i + 1))
    done > "$T/day.jsonl"
    SENT="--server https://127.0.0.1:$(cat "$T/port") --token-file $T/token --ca-file $T/cert.pem"
    # shellcheck disable=SC2086
    row "jsonl:$T/day.jsonl" "after sending 199 records" $SENT
    kill -TERM "$CPID"
    wait "$CPID" 2>/dev/null || true
    echo "(the row above is after a real delivery; the collector holds:"
    "$COLLECTOR" stats --data "$T/server" 2>&1 | sed 's/^/  /'
    echo ")"
fi
# The tray: stint-tray and stintd side by side, measured over the same SECS.
if [ -n "$TRAY" ] && command -v dbus-daemon >/dev/null 2>&1; then
    dbus-daemon --session --nofork --print-address=3 3>"$T/bus" 2>"$T/dbus.log" &
    PIDS="$PIDS $!"
    i=0
    while [ ! -s "$T/bus" ]; do
        i=$((i + 1)); [ $i -lt 100 ] || { echo "bench_idle: dbus-daemon did not start"; exit 1; }
        sleep 0.1
    done
    DBUS_SESSION_BUS_ADDRESS=$(head -1 "$T/bus")
    export DBUS_SESSION_BUS_ADDRESS
    : > "$T/tray.jsonl"
    "$STINTD" --source "jsonl:$T/tray.jsonl" --journal "$T/trayj" --socket "$T/trayrun/control" \
        --server "" --max-age 0 2>"$T/tray-stintd.log" &
    SPID=$!
    PIDS="$PIDS $SPID"
    i=0
    while [ ! -S "$T/trayrun/control" ]; do
        i=$((i + 1)); [ $i -lt 100 ] || { echo "bench_idle: stintd did not start"; exit 1; }
        sleep 0.1
    done
    "$TRAY" --socket "$T/trayrun/control" 2>"$T/tray.log" &
    TPID=$!
    PIDS="$PIDS $TPID"
    sleep 3
    t0=$(cpu_ns $TPID); tw0=$(switches $TPID); s0=$(cpu_ns $SPID); sw0=$(switches $SPID)
    sleep "$SECS"
    t1=$(cpu_ns $TPID); tw1=$(switches $TPID); s1=$(cpu_ns $SPID); sw1=$(switches $SPID)
    for who in tray stintd; do
        if [ $who = tray ]; then
            pid=$TPID c=$((t1 - t0)) w=$((tw1 - tw0)) label="stint-tray, nothing changing"
        else
            pid=$SPID c=$((s1 - s0)) w=$((sw1 - sw0)) label="stintd, a tray watching"
        fi
        awk -v s="$who" -v l="$label" -v c=$c -v w=$w -v t="$SECS" -v r="$(kib $pid VmRSS)" \
            -v h="$(kib $pid VmHWM)" -v p="$(pss $pid)" 'BEGIN {
            printf "%-6s %-30s %9.2f %9.4f %9.2f %8.2f %9.2f %8.2f\n", s, l, c / 1e6,
                   100 * c / (t * 1e9), w / t, r / 1024, h / 1024, p / 1024 }'
    done
fi
printf 'targets: < 0.1%% of a core, <= 12 MiB RSS\n'
