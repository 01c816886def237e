#!/bin/sh
# deps.sh — install the Debian packages Stint needs, or say exactly what to install.
#
# As root: installs what is missing with apt-get (after `apt-get update`, since a fresh machine's
# package lists may be empty). Otherwise prints the apt-get line and exits 1. When nothing is
# missing it does nothing and exits 0 at once.
set -eu

# build tools; codec (nanopb, protobuf-c, jansson); Google's protobuf to check our bytes; tests
# (cmocka, PHP as the oracle of the legacy shapes); journal (LevelDB); sender (libcurl, zlib);
# collector (libmicrohttpd with GnuTLS, openssl CLI for test certificates); agent (libinih, xcb,
# and Xvfb/openbox/xdotool/xterm for the X11 tests); iproute2 for the network-namespace test.
# libcurl is the OpenSSL build: with the system's CAs it looks the hashed CA folder up lazily,
# where the GnuTLS build parses the whole bundle up front (2.4 MiB more RSS once a send has
# happened, bench/bench_idle.sh). ca-certificates: the system CAs the sender trusts when no CA
# file is configured.
# Packaging: scdoc builds the man pages (man/); debhelper, dpkg-dev and lintian make and check
# the Debian packages (make deb); systemd gives systemd-analyze, which checks the units; curl
# lets the package test ask the installed collector for its health.
# stint-tray: libsystemd-dev (sd-bus and sd-event); its test: dbus-daemon (dbus-run-session),
# python3-dbus and python3-gi (tray_host.py plays the tray host on the session bus); sway,
# waybar and grim (tray_screenshot.py: a real SNI host on a headless compositor, screenshots).
PACKAGES="
cmake make gcc clang pkg-config libclang-rt-14-dev
nanopb libnanopb-dev
protobuf-c-compiler libprotobuf-c-dev
protobuf-compiler python3 python3-protobuf
libjansson-dev
libcmocka-dev
php-cli
libleveldb-dev
libcurl4-openssl-dev zlib1g-dev
libmicrohttpd-dev libgnutls28-dev openssl ca-certificates
libinih-dev libxcb1-dev libxcb-screensaver0-dev
xvfb openbox xdotool xterm x11-utils xprintidle
libpcre2-dev # agent/filters.c: title patterns in [filters]
chromium # tests/integration/report_html.py renders stintctl report --html headless
iproute2 procps psmisc
scdoc
debhelper dpkg-dev lintian
systemd
curl
sway foot libwayland-dev wayland-protocols libsystemd-dev dbus-daemon dbus-bin nodejs # Wayland + D-Bus sources, their tests
gnome-shell libglib2.0-bin # the GNOME Shell extension tested in a headless GNOME Shell
python3-dbus python3-gi waybar grim # tray_host (the tray host on D-Bus), tray_screenshot (a real SNI host)
postgresql-15 libpq-dev # the collector's PostgreSQL store (libpq) and the tests' own PostgreSQL 15
firefox-esr chromium # the WebExtension and stint-browser-host tested in real browsers
clang-format universal-ctags # make lint (scripts/lint/): the format check, function lengths
nettle-dev # stintctl browser install: the Chromium extension id (SHA-256, ctl/chromium_id.c)
libyajl-dev # agent/jsonl_event.c: the JSONL source parses event lines with yajl
"
PACKAGES=$(printf '%s\n' "$PACKAGES" | sed 's/#.*//') # a line of PACKAGES may end in a comment

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

if [ -z "$missing" ]; then
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "Stint needs these Debian packages, which are missing:$missing" >&2
    echo "Install them with:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends$missing" >&2
    exit 1
fi

echo "deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >&2
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing >&2
