#!/bin/sh
# test_lint.sh — the source checks of scripts/lint/ find what they must and nothing else.
#
#   tests/lint/test_lint.sh SRC
#
# Builds a scratch git tree (STINT_LINT_ROOT) with SRC's .clang-format and clean files, shows that
# every check passes on it, then plants one finding at a time — an unformatted file, a strcpy, a
# 151-line function, a 1,201-line file, a note outside the repo named in a script — and shows that
# the right check fails and names the file, that --known and --report let it through, and that
# look-alikes (a banned name in a comment, a string or as a member; a 150-line function; a long
# test file; an issue number in a Markdown file) are not findings.
set -u
src=${1:?usage: test_lint.sh SRC}
lint=$src/scripts/lint
root=$(mktemp -d "${TMPDIR:-/tmp}/stint-lint-test.XXXXXX")
trap 'rm -rf "$root"' EXIT
export STINT_LINT_ROOT="$root"
fails=0
out=$root/.out

check() { # check NAME [ARGS...]: run one check on the scratch tree, output into $out
    name=$1
    shift
    if [ "$name" = format ]; then
        sh "$lint/format.sh" "$@" >"$out" 2>&1
    else
        python3 "$lint/$name.py" "$@" >"$out" 2>&1
    fi
}

expect() { # expect RC CHECK WHAT [ARGS...]: the check exits RC; WHAT names the case
    want=$1
    name=$2
    what=$3
    shift 3
    check "$name" "$@"
    rc=$?
    if [ "$rc" -ne "$want" ]; then
        echo "FAIL: $name, $what: exit $rc, expected $want"
        sed 's/^/    | /' "$out"
        fails=$((fails + 1))
    else
        echo "ok: $name, $what (exit $rc)"
    fi
}

names() { # names FILE: the last run's output names FILE
    if ! grep -q "^$1:" "$out"; then
        echo "FAIL: the output does not name $1"
        sed 's/^/    | /' "$out"
        fails=$((fails + 1))
    fi
}

add() { # add PATH: write stdin to PATH in the scratch tree and track it
    mkdir -p "$root/$(dirname "$1")"
    cat >"$root/$1"
    git -C "$root" add -f "$1"
}

drop() {
    git -C "$root" rm -q -f "$1"
}

# a function of N lines from its name to its closing brace
long_function() { # long_function NAME N
    printf 'int %s(int x)\n{\n' "$1"
    i=3
    while [ "$i" -lt "$2" ]; do
        printf '    x += %d;\n' "$i"
        i=$((i + 1))
    done
    printf '}\n'
}

git -C "$root" init -q || exit 1
cp "$src/.clang-format" "$root/.clang-format"
add agent/clean.c <<'C'
/* clean.c — formatted, short, with look-alikes of banned names that are not calls. */
#include <string.h>

struct s {
    int atoi;
};

/* strcpy(a, b) in a comment is not a call */
int f(struct s *p, const char *t)
{
    // nor in a line comment: sprintf(buf, "%d", atoi(t));
    const char *msg = "do not call strcpy(a, b) or sprintf(s, \"%d\", n) here";
    return p->atoi + (int)strlen(msg) + (int)strlen(t);
}
C
add README.md <<'MD'
# Scratch
Issue 12 and STYLE.md may be named in a Markdown document.
MD
add scripts/ok.sh <<'SH'
#!/bin/sh
# a script that checks that no ../shared is beside it  # lint: refs-ok, the check itself
SH

for c in format banned size refs; do
    expect 0 "$c" "a clean tree"
done

# format
printf 'int  g( void ){return 0;}\n' | add codec/ugly.c
expect 1 format "an unformatted file"
names codec/ugly.c
printf 'format codec/ugly.c\n' >"$root/.known"
expect 0 format "an unformatted file listed as known" --known "$root/.known"
expect 0 format "an unformatted file, --report" --report
drop codec/ugly.c
expect 0 format "the file removed, its known line pointed out" --known "$root/.known"
grep -q "codec/ugly.c: listed as a known format finding, and none is left" "$out" || {
    echo "FAIL: a stale known line is not pointed out"
    fails=$((fails + 1))
}

# banned
printf '#include <string.h>\n\nvoid h(char *a, const char *b)\n{\n    strcpy(a, b);\n}\n' |
    add tests/unit/copy.c
expect 1 banned "strcpy in a test"
names tests/unit/copy.c
drop tests/unit/copy.c
printf '#include <stdlib.h>\n\nint k(const char *s)\n{\n    return atoi (s);\n}\n' | add ctl/num.c
expect 1 banned "atoi with a space before its parenthesis"
names ctl/num.c
printf 'int (*parse)(const char *) = atoi;\n' | add ctl/ptr.c
expect 1 banned "atoi taken as a function pointer"
names ctl/ptr.c
drop ctl/ptr.c
printf 'banned ctl/num.c\n' >"$root/.known"
expect 0 banned "atoi listed as known" --known "$root/.known"
drop ctl/num.c

# size
long_function at_limit 150 | add agent/limit.c
expect 0 size "a function of exactly 150 lines"
long_function too_long 151 | add agent/over.c
expect 1 size "a function of 151 lines"
names agent/over.c
grep -q "too_long() is 151 lines" "$out" || {
    echo "FAIL: the long function is not named with its length"
    fails=$((fails + 1))
}
grep -q "the ten longest product functions" "$out" || {
    echo "FAIL: the ten longest functions are not printed"
    fails=$((fails + 1))
}
drop agent/over.c
long_function in_a_test 400 | add tests/unit/long_test.c
expect 0 size "a long function in a test"
{
    long_function big 100
    i=0
    while [ "$i" -lt 1101 ]; do
        echo "/* filler */"
        i=$((i + 1))
    done
} | add collector/big.c
expect 1 size "a file of 1,201 lines"
names collector/big.c
expect 0 size "a file of 1,201 lines, --report" --report
drop collector/big.c

# refs
printf '#!/bin/sh\n# see FACTS.md for the figures\n' | add bench/run.sh
expect 1 refs "a script naming a note outside the repo"
names bench/run.sh
drop bench/run.sh
printf '/* the limit of issue 7 */\nint z;\n' | add agent/issue.c
expect 1 refs "an issue number in a C comment"
names agent/issue.c
drop agent/issue.c
printf 'add_subdirectory(x) # issue 18\n' | add x/CMakeLists.txt
expect 1 refs "an issue number in a CMake file"
names x/CMakeLists.txt
drop x/CMakeLists.txt
printf 'Read ../shared/NOTES first.\n' | add spec/NOTES.md
expect 1 refs "a Markdown file pointing at ../shared"
names spec/NOTES.md

if [ "$fails" -ne 0 ]; then
    echo "test_lint: $fails failure(s)"
    exit 1
fi
echo "test_lint: every check finds what it must"
