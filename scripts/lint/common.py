"""common: what every check of scripts/lint/ shares: the tracked files, the flags, the known
findings and the verdict line.

Flags of every check:
  --report       print the findings but exit 0 (a check not yet enforced)
  --known FILE   findings in the files FILE lists for this check ("CHECK PATH" a line, `#`
                 comments) are printed as known and do not fail the check; a listed file with
                 no finding left is pointed out, so that its line can go
"""
import os
import subprocess
import sys

# STINT_LINT_ROOT: check another tree (the checks' own test plants findings in a scratch copy)
ROOT = os.environ.get("STINT_LINT_ROOT") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))


def tracked(*patterns):
    """Tracked files of the checkout matching git pathspecs, sorted, relative to ROOT."""
    try:
        res = subprocess.run(["git", "-C", ROOT, "ls-files", "-z", "--", *patterns],
                             check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError) as e:
        print("lint: cannot list the tracked files of %s with git: %s" % (ROOT, e),
              file=sys.stderr)
        sys.exit(2)
    files = [f for f in res.stdout.decode().split("\0") if f]
    return sorted(f for f in files if os.path.isfile(os.path.join(ROOT, f)))


def read(rel):
    with open(os.path.join(ROOT, rel), encoding="utf-8", errors="replace") as f:
        return f.read()


class Options:
    report = False
    known = set()


def parse_args(name, usage):
    """The flags above, and -h/--help; a bad flag exits 2 with a message."""
    opts = Options()
    args = sys.argv[1:]
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("-h", "--help"):
            print(usage.strip())
            print(__doc__[__doc__.index("Flags"):].rstrip())
            sys.exit(0)
        elif a == "--report":
            opts.report = True
        elif a == "--known" and i + 1 < len(args):
            i += 1
            opts.known = load_known(name, args[i])
        else:
            print("%s: unknown argument %s (try --help)" % (name, a), file=sys.stderr)
            sys.exit(2)
        i += 1
    return opts


def load_known(name, path):
    """The paths listed for check `name` in a known-findings file."""
    known = set()
    try:
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                words = line.split("#", 1)[0].split()
                if not words:
                    continue
                if len(words) != 2:
                    print("%s: %s:%d: expected CHECK PATH" % (name, path, n), file=sys.stderr)
                    sys.exit(2)
                if words[0] == name:
                    known.add(words[1])
    except OSError as e:
        print("%s: cannot read the known findings %s: %s" % (name, path, e), file=sys.stderr)
        sys.exit(2)
    return known


def verdict(name, findings, opts, what):
    """Print the findings ((path, message) pairs) and one summary line; return the exit status:
    1 on a finding that is not known, unless report-only."""
    new = 0
    for path, msg in findings:
        if path in opts.known:
            print("%s (known)" % msg)
        else:
            print(msg)
            new += 1
    found = {p for p, _ in findings}
    for path in sorted(opts.known - found):
        print("%s: listed as a known %s finding, and none is left: remove its line" % (path, name))
    known = len(findings) - new
    tail = "%s%s" % (what, ", %d known" % known if known else "")
    if new == 0:
        print("%s: OK, %s" % (name, tail))
        return 0
    if opts.report:
        print("%s: %d finding(s), %s (report only: not failing)" % (name, new, tail))
        return 0
    print("%s: FAILED, %d finding(s), %s" % (name, new, tail))
    return 1
