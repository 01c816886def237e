#!/bin/sh
# build-deb.sh OUTDIR — `make deb`: the Debian packages stint-agent, stint-collector and
# libstint-codec-dev, built by dpkg-buildpackage (debhelper, debian/) from a clean copy of the
# tree in OUTDIR/src (dpkg-buildpackage writes its results beside the source folder, so they
# stay inside OUTDIR), then checked by lintian. Prints the packages and their sizes.
# Exit 0 when the packages are built and lintian reports no error.
set -eu
out=$1
here=$(cd "$(dirname "$0")/.." && pwd -P)
version=$(sed -n '1s/^stint (\([^)]*\)).*/\1/p' "$here/debian/changelog")
mkdir -p "$out"
out=$(cd "$out" && pwd -P)
src=$out/src/stint-$version

rm -rf "$out/src" "$out/dbgsym" "$out"/*.deb "$out"/*.changes "$out"/*.buildinfo
sh "$here/scripts/copy-tree.sh" "$src"
echo "== dpkg-buildpackage in $src ==" >&2
(cd "$src" && DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS:-} parallel=$(nproc)" \
    dpkg-buildpackage -b -us -uc) >"$out/build.log" 2>&1 || {
    tail -40 "$out/build.log" >&2
    echo "build-deb: dpkg-buildpackage failed; the whole log: $out/build.log" >&2
    exit 1
}
mv "$out"/src/*.deb "$out"/src/*.changes "$out"/src/*.buildinfo "$out"/
rm -rf "$out/src"

if command -v lintian >/dev/null 2>&1; then
    echo "== lintian ==" >&2
    # errors fail the build; warnings and info are printed (README, "Debian packages", says
    # which remain and why)
    rc=0
    lintian --tag-display-limit 0 --info "$out"/*.changes >"$out/lintian.txt" 2>&1 || rc=$?
    grep -v '^running with root privileges' "$out/lintian.txt" >&2 || true
    if grep -q '^E:' "$out/lintian.txt"; then
        echo "build-deb: lintian reports errors" >&2
        exit 1
    elif [ "$rc" -ne 0 ] || grep -q '^Skipping\|No packages selected' "$out/lintian.txt"; then
        echo "build-deb: lintian did not run (exit $rc)" >&2
        exit 1
    fi
    echo "lintian: no errors ($(grep -c '^W:' "$out/lintian.txt") warnings)" >&2
else
    echo "build-deb: lintian not installed, packages not checked" >&2
fi
# the debug symbols apart, so that OUTDIR/*.deb is the three packages
mkdir "$out/dbgsym"
mv "$out"/*-dbgsym_*.deb "$out/dbgsym/"

echo "== packages ==" >&2
for d in "$out"/*.deb "$out"/dbgsym/*.deb; do
    printf '%-45s %8s bytes, %6s KiB installed\n' "$(basename "$d")" "$(stat -c %s "$d")" \
        "$(dpkg-deb -f "$d" Installed-Size)" >&2
done
echo "build-deb: packages in $out" >&2
