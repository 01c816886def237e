#!/bin/sh
# fresh-build-dir.sh DIR — remove the build folder DIR when its CMake cache belongs to another
# source tree (a copied checkout, a moved clone): CMake would refuse to configure there. A
# folder of this tree, or none, is left as it is. Only DIR is ever removed.
set -eu
dir=$1
cache=$dir/CMakeCache.txt
[ -f "$cache" ] || exit 0
here=$(pwd -P)
home=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$cache")
if [ -n "$home" ] && [ -d "$home" ] && [ "$(cd "$home" && pwd -P)" = "$here" ]; then
    exit 0
fi
echo "$dir: configured for ${home:-an unknown source tree}, not $here: configuring afresh" >&2
rm -rf "$dir"
