#!/bin/sh
# deps.sh — install the Debian packages Stint needs, or say exactly what to install.
#
# As root: installs what is missing with apt-get (after `apt-get update`, since a fresh machine's
# package lists may be empty). Otherwise prints the apt-get line and exits 1. When nothing is
# missing it does nothing and exits 0 at once.
set -eu

PACKAGES="
cmake make gcc clang pkg-config
nanopb libnanopb-dev
protobuf-c-compiler libprotobuf-c-dev
protobuf-compiler python3 python3-protobuf
libjansson-dev
libcmocka-dev
php-cli
"

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
