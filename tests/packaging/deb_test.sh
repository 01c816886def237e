#!/bin/sh
# deb_test.sh [DEB_DIR] — the Debian packages, end to end, on this machine (as root; CI runs it
# from .ci/run, by hand: `make deb-test`):
#   build stint-agent, stint-collector and libstint-codec-dev (make deb; or use DEB_DIR's),
#   install them with `apt-get install ./*.deb`, run the installed programs, build a program
#   against the installed library (pkg-config and CMake), verify the installed units
#   (systemd-analyze verify, and security: the collector's system unit must score <= 2.0),
#   remove the packages and check that only their conffiles stay, then purge and check that
#   nothing stays.
# Exit 0 passed, 1 failed, 77 skipped (not root, or no apt-get/dpkg-buildpackage).
# Refuses to run when a Stint package is already installed (it would replace it).
set -eu
HERE=$(cd "$(dirname "$0")/../.." && pwd -P)
PKGS="stint-agent stint-collector libstint-codec-dev"
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES || true
export DEBIAN_FRONTEND=noninteractive
APT="apt-get -y -q -o DPkg::Lock::Timeout=900"

if [ "$(id -u)" -ne 0 ]; then
    echo "deb_test: SKIPPED: installs packages, needs root" >&2
    exit 77
fi
for tool in apt-get dpkg-buildpackage dpkg-deb; do
    command -v $tool >/dev/null 2>&1 || { echo "deb_test: SKIPPED: no $tool" >&2; exit 77; }
done
for p in $PKGS; do
    if dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qv '^not-installed$'; then
        echo "deb_test: $p is installed already (dpkg -l $p); remove it first" >&2
        exit 1
    fi
done

TMP=$(mktemp -d)
installed=no
cleanup() {
    if [ "$installed" = yes ]; then
        for p in $PKGS; do
            dpkg --purge "$p" >/dev/null 2>&1 || true
        done
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT
fail() {
    echo "deb_test: FAILED: $*" >&2
    exit 1
}
t0=$(date +%s)

# 1. build
if [ $# -ge 1 ]; then
    debs=$(cd "$1" && pwd -P)
else
    debs=$TMP/deb
    sh "$HERE/scripts/build-deb.sh" "$debs" || fail "make deb"
fi
t_built=$(date +%s)
for p in $PKGS; do
    ls "$debs/${p}_"*.deb >/dev/null 2>&1 || fail "no ${p}_*.deb in $debs"
done

# 2. install, as people do
(cd "$debs" && $APT install ./*.deb) >"$TMP/apt-install.log" 2>&1 || {
    tail -20 "$TMP/apt-install.log"
    fail "apt-get install ./*.deb"
}
installed=yes
for p in $PKGS; do
    dpkg-query -W -f='${db:Status-Status}' "$p" | grep -qx installed || fail "$p not installed"
done

# 3. the installed programs run
/usr/bin/stintd --version | grep -q '^stintd ' || fail "stintd --version"
/usr/bin/stint-collector --help >"$TMP/out" 2>&1 || fail "stint-collector --help"
grep -q 'stint-collector serve' "$TMP/out" || fail "stint-collector --help says no serve"
/usr/bin/stintctl --help | grep -q 'stintctl status' || fail "stintctl --help"
/usr/bin/stint-codec --version >/dev/null || fail "stint-codec --version"
/usr/bin/stint-conformance --list >/dev/null || fail "stint-conformance --list"
/usr/bin/stint-tray --version | grep -q '^stint-tray ' || fail "stint-tray --version"
for f in /etc/xdg/autostart/stint-tray.desktop /usr/share/applications/stint-tray.desktop \
    /usr/share/icons/hicolor/scalable/apps/stint-private.svg /usr/share/man/man1/stint-tray.1.gz; do
    [ -s "$f" ] || fail "$f missing"
done
for m in man1/stintd.1 man1/stintctl.1 man5/stint-agent.ini.5 man8/stint-collector.8 \
    man1/stint-codec.1 man1/stint-conformance.1; do
    [ -s "/usr/share/man/$m.gz" ] || fail "/usr/share/man/$m.gz missing"
done
# the browsers' host manifests, system-wide: valid JSON naming the installed host, the Firefox
# extension's id, and the id Chromium gives the installed extension folder (computed here
# independently: SHA-256 of the path, 32 hex digits as the letters a-p)
[ -s /usr/share/stint/browser-extension/manifest.json ] || fail "the browser extension is missing"
[ -s /usr/share/stint/stint-extension.xpi ] || fail "the extension's XPI (for Firefox) is missing"
[ -x /usr/bin/stint-browser-host ] || fail "/usr/bin/stint-browser-host missing"
python3 - <<'PY' || fail "the browsers' host manifests"
import hashlib, json, sys
ext = "/usr/share/stint/browser-extension"
cid = "".join(chr(97 + int(c, 16)) for c in hashlib.sha256(ext.encode()).hexdigest()[:32])
want = {"/usr/lib/mozilla/native-messaging-hosts/org.stint.browser_host.json":
        ("allowed_extensions", ["stint@stint.invalid"]),
        "/etc/chromium/native-messaging-hosts/org.stint.browser_host.json":
        ("allowed_origins", ["chrome-extension://%s/" % cid])}
for path, (key, value) in want.items():
    try:
        m = json.load(open(path))
    except (OSError, ValueError) as e:
        sys.exit("deb_test: %s: %s" % (path, e))
    if m.get("name") != "org.stint.browser_host" or m.get("type") != "stdio" or \
            m.get("path") != "/usr/bin/stint-browser-host" or m.get(key) != value:
        sys.exit("deb_test: %s: %r" % (path, m))
json.load(open(ext + "/manifest.json"))
PY
# the collector serves from the installed binary (plain HTTP on loopback, a throw-away folder)
(umask 077 && echo "deb-test-token-0123456789 alice" >"$TMP/tokens")
/usr/bin/stint-collector serve --listen 127.0.0.1:0 --insecure-http --data "$TMP/data" \
    --tokens "$TMP/tokens" --port-file "$TMP/port" >"$TMP/collector.log" 2>&1 &
cpid=$!
i=0
while [ ! -s "$TMP/port" ] && [ $i -lt 600 ]; do # up to 60 s on a loaded machine
    kill -0 $cpid 2>/dev/null || break
    sleep 0.1
    i=$((i + 1))
done
[ -s "$TMP/port" ] || { cat "$TMP/collector.log"; fail "installed stint-collector did not start"; }
if command -v curl >/dev/null 2>&1; then
    curl -fsS "http://127.0.0.1:$(cat "$TMP/port")/v1/health" >/dev/null ||
        fail "GET /v1/health on the installed collector"
fi
kill -TERM $cpid
wait $cpid || fail "installed stint-collector did not stop cleanly on SIGTERM"

# 4. a program against the installed library, found only through the system's paths
cat >"$TMP/main.c" <<'C'
#include <stdio.h>
#include <stint/stint.h>
int main(void)
{
    static struct stint_batch head;
    struct stint_buf out = {0};
    stint_batch_clear(&head);
    stint_batch_set_version(&head, "9.9", 3);
    if (stint_pb_encode_batch(&head, NULL, &out) != STINT_OK || out.len != 5)
        return 1;
    stint_buf_free(&out);
    puts("linked");
    return 0;
}
C
# shellcheck disable=SC2046
cc -o "$TMP/pc" "$TMP/main.c" $(pkg-config --cflags --libs --static stint-codec) ||
    fail "compile with pkg-config stint-codec"
"$TMP/pc" | grep -qx linked || fail "the pkg-config program"
mkdir "$TMP/cm"
cp "$TMP/main.c" "$TMP/cm/"
cat >"$TMP/cm/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.20)
project(consumer C)
find_package(stint-codec REQUIRED)
add_executable(cm main.c)
target_link_libraries(cm PRIVATE stint::codec)
CM
cmake -S "$TMP/cm" -B "$TMP/cm/build" >"$TMP/cm.log" 2>&1 &&
    cmake --build "$TMP/cm/build" >>"$TMP/cm.log" 2>&1 || { cat "$TMP/cm.log"; fail "CMake consumer"; }
"$TMP/cm/build/cm" | grep -qx linked || fail "the CMake program"

# 5. the installed units
unit_sys=/lib/systemd/system/stint-collector.service
unit_user=/usr/lib/systemd/user/stintd.service
grep -qx 'ExecStart=/usr/bin/stintd' $unit_user || fail "$unit_user: ExecStart is not /usr/bin/stintd"
grep -q '^ExecStart=/usr/bin/stint-collector serve ' $unit_sys || fail "$unit_sys: ExecStart"
grep -qx 'DynamicUser=yes' $unit_sys || fail "$unit_sys: no DynamicUser="
grep -qx 'StateDirectory=stint-collector' $unit_sys || fail "$unit_sys: no StateDirectory="
if command -v systemd-analyze >/dev/null 2>&1; then
    mkdir "$TMP/run"
    systemd-analyze verify --man=no $unit_sys || fail "systemd-analyze verify $unit_sys"
    XDG_RUNTIME_DIR=$TMP/run systemd-analyze --user verify --man=no $unit_user ||
        fail "systemd-analyze --user verify $unit_user"
    systemd-analyze security --offline=yes $unit_sys >"$TMP/sec-sys" 2>&1 || true
    XDG_RUNTIME_DIR=$TMP/run systemd-analyze --user security --offline=yes $unit_user \
        >"$TMP/sec-user" 2>&1 || true
    s_sys=$(sed -n 's/.*Overall exposure level for stint-collector.service: \([0-9.]*\).*/\1/p' "$TMP/sec-sys")
    s_user=$(sed -n 's/.*Overall exposure level for stintd.service: \([0-9.]*\).*/\1/p' "$TMP/sec-user")
    [ -n "$s_sys" ] || { cat "$TMP/sec-sys"; fail "no security score for $unit_sys"; }
    echo "deb_test: systemd-analyze security: stint-collector.service $s_sys, stintd.service (user) ${s_user:-?}"
    awk -v s="$s_sys" 'BEGIN { exit !(s <= 2.0) }' || fail "stint-collector.service exposure $s_sys > 2.0"
else
    echo "deb_test: systemd-analyze not installed: units not verified" >&2
fi

# 6. remove: only conffiles stay; purge: nothing stays
for p in $PKGS; do
    dpkg-deb -c "$debs/${p}_"*.deb | awk '{print $6}' | sed 's|^\./|/|' | grep -v '/$' \
        >"$TMP/files-$p"
    dpkg-deb -e "$debs/${p}_"*.deb "$TMP/ctl-$p"
    touch "$TMP/ctl-$p/conffiles"
done
$APT remove $PKGS >"$TMP/apt-remove.log" 2>&1 || { cat "$TMP/apt-remove.log"; fail "apt-get remove"; }
for p in $PKGS; do
    while read -r f; do
        if [ -e "$f" ] && ! grep -qx "$f" "$TMP/ctl-$p/conffiles"; then
            fail "$f ($p) is still there after apt-get remove"
        fi
    done <"$TMP/files-$p"
    while read -r f; do
        [ -e "$f" ] || fail "conffile $f ($p) went with apt-get remove (it should stay until purge)"
    done <"$TMP/ctl-$p/conffiles"
done
# a package without conffiles is gone already; the others are in state config-files
left=""
for p in $PKGS; do
    s=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    case $s in
    config-files) left="$left $p" ;;
    not-installed | "") ;;
    *) fail "$p is in state $s after apt-get remove" ;;
    esac
done
[ -z "$left" ] || $APT purge $left >"$TMP/apt-purge.log" 2>&1 || {
    cat "$TMP/apt-purge.log"
    fail "apt-get purge$left"
}
installed=no
for p in $PKGS; do
    while read -r f; do
        [ ! -e "$f" ] || fail "$f ($p) is still there after apt-get purge"
    done <"$TMP/files-$p"
    if dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qv '^not-installed$'; then
        fail "$p still known to dpkg after purge"
    fi
done
[ ! -e /etc/stint-collector ] || fail "/etc/stint-collector stays after purge"
t_end=$(date +%s)
echo "deb_test: passed (build $((t_built - t0)) s, install to purge $((t_end - t_built)) s)"
