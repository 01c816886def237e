#!/bin/sh
# user_unit_test.sh BUILD_DIR — the installed systemd user unit really runs stintd, on the first
# start of an account that has no ~/.local/state and no runtime folder yet:
#   install the build into a temporary prefix, start a systemd user manager for an unprivileged
#   user (nobody, HOME and XDG_RUNTIME_DIR in a temporary folder, a cgroup delegated to it, in a
#   mount namespace of its own), link the installed stintd.service, and check that
#   `systemctl --user start stintd` gets it running with the journal in ~/.local/state/stint
#   and the control socket in $XDG_RUNTIME_DIR/stint, inside its sandbox (own user namespace,
#   no new privileges), that stintctl reaches it, that reload keeps it running, and that stop
#   ends it with status 0 and removes the runtime folder.
# Exit 0 passed, 1 failed, 77 skipped (not root, or no systemd, user namespaces or cgroups to
# delegate: a container without them cannot run a user manager).
set -eu
BUILD=$(cd "$1" && pwd -P)
USER_NAME=nobody
SYSTEMD=/lib/systemd/systemd
skip() {
    echo "user_unit_test: SKIPPED: $*" >&2
    exit 77
}
[ "$(id -u)" -eq 0 ] || skip "needs root (a user to run as, a cgroup to delegate)"
[ -x $SYSTEMD ] || skip "no $SYSTEMD"
for t in systemctl runuser unshare; do
    command -v $t >/dev/null 2>&1 || skip "no $t"
done
unshare --user --map-root-user true 2>/dev/null || skip "no user namespaces"

# not under /tmp: the unit's PrivateTmp= would hide the installed stintd and the home
TMP=$(mktemp -d /var/lib/stint-unit-test.XXXXXX)
chmod 755 "$TMP"
cgroups=""
cleanup() {
    for cg in $cgroups; do
        # the manager and its services are gone by now; kill what is left in our cgroups only
        find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null | while read -r pid; do
            kill -KILL "$pid" 2>/dev/null || true
        done
        find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null || true
    done
    rm -rf "$TMP"
}
trap cleanup EXIT

# the cgroups the manager will own: cgroup v2 (unified or at the root) and hybrid's name=systemd
for root in /sys/fs/cgroup/unified /sys/fs/cgroup/systemd /sys/fs/cgroup; do
    [ -f "$root/cgroup.procs" ] || continue
    grep -q " $root cgroup" /proc/mounts || continue
    cg=$root/stint-unit-test.$$
    mkdir "$cg" 2>/dev/null || skip "cannot create a cgroup in $root"
    cgroups="$cgroups $cg"
    chown -R "$USER_NAME" "$cg"
done
[ -n "$cgroups" ] || skip "no writable cgroup hierarchy"

P=$TMP/prefix
cmake --install "$BUILD" --prefix "$P" >/dev/null
H=$TMP/home
mkdir -p "$H/.config/stint" "$H/.config/systemd/user"
: >"$TMP/events.jsonl"
chmod 644 "$TMP/events.jsonl"
cat >"$H/.config/stint/agent.ini" <<INI
[agent]
source = jsonl:$TMP/events.jsonl
[sender]
server =
INI
# the installed unit, linked as `systemctl --user link` does; an empty target to boot into
ln -s "$P/lib/systemd/user/stintd.service" "$H/.config/systemd/user/stintd.service"
printf '[Unit]\nDescription=stint unit test\n' >"$H/.config/systemd/user/stint-test.target"
# STINT_UNIT_DROPIN="[Service]\nPrivateTmp=no": try the unit with a setting changed (by hand)
if [ -n "${STINT_UNIT_DROPIN:-}" ]; then
    mkdir -p "$H/.config/systemd/user/stintd.service.d"
    printf "$STINT_UNIT_DROPIN\n" >"$H/.config/systemd/user/stintd.service.d/test.conf"
fi
chown -R "$USER_NAME" "$H"

# inside a mount namespace, a /run of our own that looks like a systemd-booted system's
cat >"$TMP/inner.sh" <<'INNER'
set -eu
for cg in $CGROUPS; do echo $$ >"$cg/cgroup.procs"; done
mkdir -p "$TMP/fakerun"
mount --bind "$TMP/fakerun" /run
# as a systemd-booted system has them (PID 1 makes unit-root, where units' namespaces are built)
mkdir -p /run/systemd/system /run/user
mkdir -m 0700 /run/systemd/unit-root
# the user's runtime folder where systemd expects it (its namespaces use /run/user/UID)
R=/run/user/$(id -u "$USER_NAME")
mkdir -m 0700 "$R"
chown "$USER_NAME" "$R"
as_user() { runuser -u "$USER_NAME" -- env HOME="$H" XDG_RUNTIME_DIR="$R" SYSTEMD_LOG_TARGET="${SYSTEMD_LOG_TARGET:-auto}" SYSTEMD_LOG_LEVEL="${SYSTEMD_LOG_LEVEL:-info}" "$@"; }
fail() { echo "user_unit_test: FAILED: $*" >&2; exit 1; }
wait_for() { # SECONDS COMMAND...: until COMMAND succeeds
    n=$(($1 * 10)); shift
    while ! "$@" >/dev/null 2>&1; do
        n=$((n - 1)); [ $n -gt 0 ] || return 1; sleep 0.1
    done
}
SYSTEMD_LOG_TARGET=console SYSTEMD_LOG_LEVEL=${LOG_LEVEL:-info} as_user $SYSTEMD --user --unit=stint-test.target --log-target=console --log-level=${LOG_LEVEL:-info} >"$TMP/manager.log" 2>&1 &
manager=$!
wait_for 120 test -S "$R/systemd/private" || { tail -20 "$TMP/manager.log"; fail "no user manager"; }
ctl() { as_user systemctl --user "$@"; }
[ ! -e "$H/.local/state" ] || fail "the account has ~/.local/state already"
ctl start stintd || { ctl status stintd || true; tail -30 "$TMP/manager.log"; fail "start stintd"; }
wait_for 60 test -S "$R/stint/control" || { ctl status stintd || true; fail "no control socket"; }
[ "$(ctl is-active stintd)" = active ] || fail "stintd is not active"
[ -d "$H/.local/state/stint/journal" ] || fail "no journal in ~/.local/state/stint"
[ "$(stat -c %a "$R/stint")" = 700 ] || fail "$R/stint is not mode 0700"
pid=$(ctl show -p MainPID --value stintd)
[ "$(readlink "/proc/$pid/exe")" = "$P/bin/stintd" ] || fail "MainPID $pid is not $P/bin/stintd"
grep -q '^NoNewPrivs:[[:space:]]*1' "/proc/$pid/status" || fail "stintd runs without NoNewPrivileges"
[ "$(cat /proc/$pid/uid_map | tr -s ' ')" != " 0 0 4294967295" ] || fail "stintd runs in the host's user namespace"
as_user "$P/bin/stintctl" --socket "$R/stint/control" status >"$TMP/status" ||
    { cat "$TMP/status"; fail "stintctl status"; }
ctl reload stintd || fail "reload"
# it still answers after the SIGHUP, and it is the same process
as_user "$P/bin/stintctl" --socket "$R/stint/control" status >"$TMP/status" ||
    { cat "$TMP/status"; fail "stintctl status after reload"; }
[ "$(ctl is-active stintd)" = active ] || fail "stintd not active after reload"
[ "$(ctl show -p MainPID --value stintd)" = "$pid" ] || fail "stintd restarted on reload"
ctl stop stintd || fail "stop"
[ "$(ctl show -p ExecMainStatus --value stintd)" = 0 ] || fail "stintd did not exit 0 on stop"
[ ! -e "$R/stint" ] || fail "$R/stint left after stop"
ctl exit >/dev/null 2>&1 || kill $manager
wait $manager 2>/dev/null || true
echo "user_unit_test: stintd ran from the installed user unit (journal and socket made on the first start, sandboxed, reload, clean stop)"
INNER
TMP=$TMP H=$H P=$P USER_NAME=$USER_NAME SYSTEMD=$SYSTEMD CGROUPS=$cgroups \
    unshare --mount --propagation private sh "$TMP/inner.sh"
