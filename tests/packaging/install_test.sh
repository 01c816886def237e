#!/bin/sh
# install_test.sh SOURCE_DIR C_COMPILER — `make install PREFIX=...` works from any build folder
# state and installs a working tree:
#   1. from a fresh copy of the checkout (what a clone holds): everything is installed, the
#      units name the installed binaries, only what is installed was built;
#   2. again from that used build folder, to another prefix: the units follow the new prefix;
#      and staged for /usr with DESTDIR (configuration in /etc, the units name /usr/bin);
#   3. from the same tree moved elsewhere, whose build folder's CMake cache now belongs to a
#      path that no longer exists: it configures afresh and installs.
# Each installed tree is checked by check_tree below. Runs for a minute or two (3 builds).
set -eu
SRC=$1
CC=$2
# make runs inside make (ctest under `make test`): start clean, not as a sub-make
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES || true
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fail() {
    echo "install_test: $*" >&2
    exit 1
}

check_tree() { # PREFIX
    p=$1
    for f in bin/stintd bin/stintctl bin/stint-collector bin/stint-codec bin/stint-conformance \
        lib/libstint-codec.a lib/pkgconfig/stint-codec.pc \
        lib/cmake/stint-codec/stint-codec-config.cmake include/stint/stint.h \
        lib/systemd/user/stintd.service lib/systemd/system/stint-collector.service \
        etc/stint-collector/collector.conf \
        share/man/man1/stintd.1 share/man/man1/stintctl.1 share/man/man1/stint-codec.1 \
        share/man/man1/stint-conformance.1 share/man/man5/stint-agent.ini.5 \
        share/man/man8/stint-collector.8 \
        share/bash-completion/completions/stintctl \
        share/doc/stint/README.md share/doc/stint/agent.ini.example \
        share/doc/stint/spec/PROTOCOL.md \
        bin/stint-tray share/man/man1/stint-tray.1 etc/xdg/autostart/stint-tray.desktop \
        share/applications/stint-tray.desktop share/icons/hicolor/scalable/apps/stint-private.svg; do
        [ -s "$p/$f" ] || fail "$p: $f not installed"
    done
    # the units name the binaries of this prefix
    exec_start=$(sed -n 's/^ExecStart=//p' "$p/lib/systemd/user/stintd.service")
    [ "$exec_start" = "$p/bin/stintd" ] ||
        fail "$p: stintd.service has ExecStart=$exec_start, not $p/bin/stintd"
    "$exec_start" --version | grep -q '^stintd ' || fail "$p: $exec_start --version failed"
    grep -q "^ExecStart=$p/bin/stint-collector serve " "$p/lib/systemd/system/stint-collector.service" ||
        fail "$p: stint-collector.service does not run $p/bin/stint-collector"
    grep -q "^EnvironmentFile=$p/etc/stint-collector/collector.conf\$" \
        "$p/lib/systemd/system/stint-collector.service" ||
        fail "$p: stint-collector.service does not read $p/etc/stint-collector/collector.conf"
    if command -v systemd-analyze >/dev/null 2>&1; then
        systemd-analyze verify --man=no "$p/lib/systemd/system/stint-collector.service" ||
            fail "$p: systemd-analyze verify stint-collector.service"
        XDG_RUNTIME_DIR=$TMP systemd-analyze --user verify --man=no \
            "$p/lib/systemd/user/stintd.service" || fail "$p: systemd-analyze verify stintd.service"
    fi
    # man pages are roff (scdoc's output), not the sources
    head -c 200 "$p/share/man/man1/stintd.1" | grep -q '^\.TH' || fail "$p: stintd.1 is not roff"
    echo "install_test: $p: complete, units name $p/bin"
}

built_only_installed() { # BUILD_DIR
    b=$1
    for d in tests bench fuzz; do
        [ ! -e "$b/$d" ] || fail "$b/$d exists: make install built more than it installs"
    done
}

# 1. a fresh copy
sh "$SRC/scripts/copy-tree.sh" "$TMP/a/stint"
[ ! -e "$TMP/a/stint/build" ] || fail "the copy has a build folder"
(cd "$TMP/a/stint" && make --no-print-directory install CC="$CC" PREFIX="$TMP/p1") \
    >"$TMP/log1" 2>&1 || { tail -30 "$TMP/log1"; fail "make install from a fresh copy failed"; }
check_tree "$TMP/p1"
build_dir=$(cd "$TMP/a/stint" && ls -d build/*/install)
built_only_installed "$TMP/a/stint/$build_dir"

# 2. the used build folder, another prefix
(cd "$TMP/a/stint" && make --no-print-directory install CC="$CC" PREFIX="$TMP/p2") \
    >"$TMP/log2" 2>&1 || { tail -30 "$TMP/log2"; fail "make install from a used build folder failed"; }
check_tree "$TMP/p2"

# 2b. staged for /usr (DESTDIR), as a package build does: configuration in /etc, not /usr/etc
(cd "$TMP/a/stint" && make --no-print-directory install CC="$CC" PREFIX=/usr DESTDIR="$TMP/stage") \
    >"$TMP/log2b" 2>&1 || { tail -30 "$TMP/log2b"; fail "make install PREFIX=/usr DESTDIR=... failed"; }
s=$TMP/stage
[ -s "$s/etc/stint-collector/collector.conf" ] || fail "DESTDIR, /usr: no /etc/stint-collector/collector.conf"
[ ! -e "$s/usr/etc" ] || fail "DESTDIR, /usr: configuration went to /usr/etc"
[ -s "$s/etc/xdg/autostart/stint-tray.desktop" ] || fail "DESTDIR, /usr: no /etc/xdg/autostart/stint-tray.desktop"
grep -qx 'ExecStart=/usr/bin/stintd' "$s/usr/lib/systemd/user/stintd.service" ||
    fail "DESTDIR, /usr: stintd.service does not run /usr/bin/stintd"
grep -qx 'EnvironmentFile=/etc/stint-collector/collector.conf' \
    "$s/usr/lib/systemd/system/stint-collector.service" ||
    fail "DESTDIR, /usr: stint-collector.service does not read /etc/stint-collector/collector.conf"
echo "install_test: PREFIX=/usr DESTDIR=$s: configuration in /etc, units name /usr/bin"

# 3. the tree moved: its build folder's cache names a path that is gone
mkdir -p "$TMP/b"
mv "$TMP/a/stint" "$TMP/b/stint"
(cd "$TMP/b/stint" && make --no-print-directory install CC="$CC" PREFIX="$TMP/p3") \
    >"$TMP/log3" 2>&1 || { tail -30 "$TMP/log3"; fail "make install from a moved tree failed"; }
grep -q "configuring afresh" "$TMP/log3" || fail "the moved tree's stale build folder was not noticed"
check_tree "$TMP/p3"
echo "install_test: fresh copy, used build folder and moved tree all install"
