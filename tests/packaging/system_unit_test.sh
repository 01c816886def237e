#!/bin/sh
# system_unit_test.sh BUILD_DIR — the installed collector system unit really serves, on its first
# start: install the build into a temporary prefix, boot a systemd system manager as PID 1 of
# its own PID, mount, UTS and IPC namespaces (the way a container runs one; only this test's
# units are visible to it, /run and /var/lib are fresh tmpfs, the network is the host's), put a
# certificate, key and tokens file where the unit loads its credentials from, and check that
# `systemctl start stint-collector` serves HTTPS on the configured port as a dynamic user, with
# its data in /var/lib/stint-collector (StateDirectory=, made on this first start), that a batch
# is stored, and that stop ends it with status 0.
# Exit 0 passed, 1 failed, 77 skipped (not root, or no systemd, curl, openssl, namespaces or
# cgroups to give the manager).
set -eu
BUILD=$(cd "$1" && pwd -P)
SYSTEMD=/lib/systemd/systemd
skip() {
    echo "system_unit_test: SKIPPED: $*" >&2
    exit 77
}
[ "$(id -u)" -eq 0 ] || skip "needs root (a system manager in namespaces)"
[ -x $SYSTEMD ] || skip "no $SYSTEMD"
for t in systemctl unshare nsenter curl openssl python3; do
    command -v $t >/dev/null 2>&1 || skip "no $t"
done

# not under /tmp or /var/tmp (PrivateTmp= hides them) nor /var/lib (a tmpfs for the manager)
TMP=$(mktemp -d /var/cache/stint-system-unit-test.XXXXXX)
chmod 755 "$TMP"
cgroups=""
pid1=""
cleanup() {
    [ -z "$pid1" ] || kill -KILL "$pid1" 2>/dev/null || true
    for cg in $cgroups; do
        find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null | while read -r pid; do
            kill -KILL "$pid" 2>/dev/null || true
        done
    done
    sleep 0.5
    for cg in $cgroups; do
        find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null || true
    done
    rm -rf "$TMP"
}
trap cleanup EXIT
fail() {
    echo "system_unit_test: FAILED: $*" >&2
    exit 1
}

for root in /sys/fs/cgroup/unified /sys/fs/cgroup/systemd /sys/fs/cgroup; do
    [ -f "$root/cgroup.procs" ] || continue
    grep -q " $root cgroup" /proc/mounts || continue
    cg=$root/stint-system-unit-test.$$
    mkdir "$cg" 2>/dev/null || skip "cannot create a cgroup in $root"
    cgroups="$cgroups $cg"
done
[ -n "$cgroups" ] || skip "no writable cgroup hierarchy"

P=$TMP/prefix
cmake --install "$BUILD" --prefix "$P" >/dev/null
unit=$P/lib/systemd/system/stint-collector.service
conf=$P/etc/stint-collector
# the credentials the unit loads, and a free port
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
    -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
    -keyout "$conf/tls.key" -out "$conf/tls.crt" 2>/dev/null
(umask 077 && echo "system-unit-test-token-0123456789 alice" >"$conf/tokens")
chmod 600 "$conf/tls.key"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
sed -i "s|^STINT_LISTEN=.*|STINT_LISTEN=127.0.0.1:$port|" "$conf/collector.conf"

# the manager's world: this test's units only, stubs for the targets every service names
mkdir -p "$TMP/units" "$TMP/empty"
ln -s "$unit" "$TMP/units/stint-collector.service"
# no journald here: the service's output to a file, so that a failure can be read
mkdir "$TMP/units/stint-collector.service.d"
printf '[Service]\nStandardOutput=append:%s\nStandardError=inherit\n' "$TMP/collector.log" \
    >"$TMP/units/stint-collector.service.d/log.conf"
# STINT_UNIT_DROPIN="[Service]\nStateDirectory=": try the unit with a setting changed (by hand)
if [ -n "${STINT_UNIT_DROPIN:-}" ]; then
    printf "$STINT_UNIT_DROPIN\n" >"$TMP/units/stint-collector.service.d/test.conf"
fi
for t in stint-test sysinit basic shutdown network-online multi-user sockets paths timers \
    slices exit; do
    printf '[Unit]\nDescription=%s (stub)\n' "$t" >"$TMP/units/$t.target"
done
cat >"$TMP/inner.sh" <<'INNER'
set -eu
for cg in $CGROUPS; do echo $$ >"$cg/cgroup.procs"; done
mount -t tmpfs tmpfs /run
mkdir -p /run/systemd
mount --bind "$TMP/units" /run/systemd/system 2>/dev/null || {
    mkdir /run/systemd/system && mount --bind "$TMP/units" /run/systemd/system; }
for d in /etc/systemd/system /usr/lib/systemd/system /usr/lib/systemd/system-generators \
    /etc/systemd/system-generators /usr/lib/systemd/system-preset; do
    [ ! -d $d ] || mount --bind "$TMP/empty" $d
done
mount -t tmpfs tmpfs /var/lib
# PID 1 logs to the console: this test's file instead of the machine's
: >"$TMP/manager.log"
mount --bind "$TMP/manager.log" /dev/console
# shared inside this namespace, as PID 1 has it at boot (credentials are moved into place from
# a helper's namespace and must propagate back); the host's mounts stay apart (private above)
mount --make-rshared /
export container=stint-test
exec $SYSTEMD --system --unit=stint-test.target --log-target=console --log-level=info \
    </dev/null >>"$TMP/manager.log" 2>&1
INNER
TMP=$TMP SYSTEMD=$SYSTEMD CGROUPS=$cgroups \
    unshare --pid --fork --mount --uts --ipc --propagation private --mount-proc \
    sh "$TMP/inner.sh" 2>"$TMP/unshare.log" &
outer=$!
wait_for() { # SECONDS COMMAND...
    n=$(($1 * 10))
    shift
    while ! "$@" >/dev/null 2>&1; do
        n=$((n - 1))
        [ $n -gt 0 ] || return 1
        sleep 0.1
    done
}
find_pid1() { pid1=$(pgrep -P "$outer" | head -1) && [ -n "$pid1" ]; }
wait_for 60 find_pid1 || fail "the manager did not start"
find_pid1
ns() { nsenter --target "$pid1" --mount --pid "$@"; }
wait_for 120 ns systemctl is-system-running || true
[ -S "/proc/$pid1/root/run/systemd/private" ] || wait_for 60 ns test -S /run/systemd/private ||
    { cat "$TMP/manager.log"; fail "the manager has no control socket"; }

[ ! -e "/proc/$pid1/root/var/lib/stint-collector" ] || fail "state folder before the first start"
ns systemctl start stint-collector || {
    ns systemctl status --no-pager stint-collector || true
    tail -20 "$TMP/collector.log"
    fail "systemctl start stint-collector"
}
health() { curl -fsS --cacert "$conf/tls.crt" "https://127.0.0.1:$port/v1/health"; }
wait_for 60 health || {
    ns systemctl status --no-pager stint-collector || true
    tail -20 "$TMP/collector.log"
    fail "no HTTPS on $port"
}
main=$(ns systemctl show -p MainPID --value stint-collector)
# the process whose pid in the manager's namespace is MainPID (NSpid: host pid, then that)
hostpid=""
for f in $(grep -lE "^NSpid:[[:space:]]+[0-9]+[[:space:]]+$main\$" /proc/[0-9]*/status 2>/dev/null); do
    c=$(echo "$f" | cut -d/ -f3)
    if grep -q "stint-system-unit-test\.$$/" "/proc/$c/cgroup" 2>/dev/null; then
        hostpid=$c
    fi
done
[ -n "$hostpid" ] || fail "cannot find the collector's process"
[ "$(readlink "/proc/$hostpid/exe")" = "$P/bin/stint-collector" ] || fail "not $P/bin/stint-collector"
uid=$(awk '/^Uid:/ { print $2 }' "/proc/$hostpid/status")
[ "$uid" -ge 61184 ] && [ "$uid" -le 65519 ] || fail "runs as uid $uid, not a dynamic user"
grep -q '^CapEff:[[:space:]]*0000000000000000' "/proc/$hostpid/status" || fail "has capabilities"
# a batch, stored in the state folder
printf '{"agentId":"AAAAAAAAAAAAAAAAAAAAAA==","clientVersion":"t","nowMs":"1000","records":[{"seq":"1","startMs":"1","endMs":"2","kind":"KIND_ACTIVE","app":"x"}]}' >"$TMP/batch.json"
curl -fsS --cacert "$conf/tls.crt" -H 'Content-Type: application/json' \
    -H 'Authorization: Bearer system-unit-test-token-0123456789' \
    --data-binary @"$TMP/batch.json" "https://127.0.0.1:$port/v1/batches" >"$TMP/ack" ||
    fail "POST /v1/batches"
state=/proc/$pid1/root/var/lib/private/stint-collector
[ -L "/proc/$pid1/root/var/lib/stint-collector" ] || fail "/var/lib/stint-collector is not the DynamicUser link"
ls "$state" | grep -q '\.log$' || fail "no LevelDB files in /var/lib/private/stint-collector"
ns systemctl stop stint-collector || fail "stop"
[ "$(ns systemctl show -p ExecMainStatus --value stint-collector)" = 0 ] || fail "did not exit 0 on stop"
echo "system_unit_test: stint-collector served from the installed system unit (dynamic user uid $uid, no capabilities, state made on the first start, clean stop)"
