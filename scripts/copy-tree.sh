#!/bin/sh
# copy-tree.sh DEST — copy this checkout's source files (what a fresh clone would hold, plus
# uncommitted and new files; no build folders, nothing git ignores) into DEST, created if
# missing. Used by `make deb` and by the tests that need a clean tree somewhere else.
set -eu
dest=$1
cd "$(dirname "$0")/.."
mkdir -p "$dest"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    # tracked and untracked-but-not-ignored files that exist (a deleted file is skipped)
    git ls-files -z --cached --others --exclude-standard |
        xargs -0 sh -c 'for f; do [ -e "$f" ] || [ -L "$f" ] && printf "%s\0" "$f"; done; :' sh |
        tar --null -T - -cf - | tar -xf - -C "$dest"
else
    tar --exclude=./build -cf - . | tar -xf - -C "$dest"
fi
