#!/usr/bin/python3
"""check_refs.py — every reference in the spec leads somewhere, and names what it leads to.

    check_refs.py ROOT FILE.md...

For each Markdown file (spec/*.md and README.md in the suite), relative to the repository ROOT:

  - `§N`, `§N.M`, `§N.M.K` and `section N`/`section N.M` resolve to a numbered heading
    (`## N. Title`, `### N.M Title`) of the document they point into: the .md file named just
    before them (`spec/COLLECTOR.md §2`, `JOURNAL.md, §3`), else the file itself. A reference
    right after `RFC NNNN` belongs to that RFC and is not checked. `sections N to M`: both ends.
  - where a reference names a title, the title must be the heading's: `§9 Versioning and
    compatibility` (text after the number that starts with a capital letter must start with the
    heading's title; RFC 2119 words such as MUST do not count as a title), `section 5 ("Legacy
    payload")`, and `FILE.md, "Title"` (the title of any heading of FILE.md);
  - a link `[text](target)` that is not a URL resolves to a file of the repository, and its
    `#anchor` to a heading of that file (GitHub's anchor rule);
  - a file named in the text (`spec/PROTOCOL.md`, `tests/spec/check_refs.py`) exists: every name
    ending in .md, and every path with a `/` under one of the repository's top folders.

Prints one line per broken reference (FILE:LINE: what) and exits 1 when there is any, else
prints a summary and exits 0.
"""
import os
import re
import sys

KEYWORDS = {"MUST", "SHOULD", "MAY", "REQUIRED", "SHALL", "RECOMMENDED", "OPTIONAL", "NOT"}
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
NUMBERED = re.compile(r"^(\d+(?:\.\d+)*)\.?\s+(.*)$")
SECTION_REF = re.compile(
    r"(?P<pre>(?:RFC\s*\d+\s*)?)(?:§\s?(?P<sec>\d+(?:\.\d+)*)|\b[Ss]ection (?P<word>\d+(?:\.\d+)*)"
    r"(?: to (?P<to>\d+))?)")
DOC_BEFORE = re.compile(r"([\w./-]+\.md)[`\"]?,?\s*(?:\(|, )?$")
QUOTED_TITLE = re.compile(r"([\w./-]*\.md)`?,\s+\"([^\"]+)\"")
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
MD_NAME = re.compile(r"(?<![\w/.-])([\w./-]*[\w-]\.md)\b")
PATH = re.compile(r"(?<![\w/.$-])((?:[\w.-]+/)+[\w.-]+\.(?:c|h|py|sh|proto|options|json|php|md|"
                  r"txt|cmake|ini|example|in))\b")


def slug(title):
    """GitHub's heading anchor: lower case, punctuation but - and _ dropped, spaces to -."""
    s = title.strip().lower()
    s = re.sub(r"[^\w\- ]", "", s)
    return s.replace(" ", "-")


class Doc:
    def __init__(self, path):
        self.path = path
        self.numbers = {}  # "6.3" -> "Request headers"
        self.titles = set()
        self.anchors = set()
        self.lines = []
        fence = False
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.rstrip("\n")
                self.lines.append((line, fence))
                if line.lstrip().startswith("```"):
                    fence = not fence
                    continue
                m = None if fence else HEADING.match(line)
                if not m:
                    continue
                text = m.group(2)
                self.anchors.add(slug(text))
                n = NUMBERED.match(text)
                if n:
                    self.numbers[n.group(1)] = n.group(2)
                    self.titles.add(n.group(2))
                else:
                    self.titles.add(text)


def main():
    root = sys.argv[1]
    files = sys.argv[2:]
    docs = {}
    problems = []
    counts = {"section": 0, "title": 0, "link": 0, "file": 0}

    def doc(path):
        path = os.path.normpath(path)
        if path not in docs:
            docs[path] = Doc(path)
        return docs[path]

    def find_file(name, base):
        for cand in (os.path.join(base, name), os.path.join(root, name),
                     os.path.join(root, "spec", name)):
            if os.path.exists(cand):
                return cand
        return None

    top = {d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d))}
    for path in files:
        here = doc(path)
        base = os.path.dirname(path)
        rel = os.path.relpath(path, root)
        for no, (line, fenced) in enumerate(here.lines, 1):
            where = "%s:%d" % (rel, no)
            # files named
            for m in MD_NAME.finditer(line):
                name = m.group(1)
                if "*" in name or name.startswith("build/"):
                    continue
                counts["file"] += 1
                if not find_file(name, base):
                    problems.append("%s: %s does not exist" % (where, name))
            for m in PATH.finditer(line):
                p = m.group(1)
                if p.split("/")[0] not in top or p.startswith("build/") or p.endswith(".md"):
                    continue
                counts["file"] += 1
                if not find_file(p, base):
                    problems.append("%s: %s does not exist" % (where, p))
            if fenced:
                continue
            # links
            for m in LINK.finditer(line):
                target = m.group(1)
                if re.match(r"^[a-z]+:", target):
                    continue
                counts["link"] += 1
                fname, _, anchor = target.partition("#")
                tpath = os.path.join(base, fname) if fname else path
                if not os.path.exists(tpath):
                    problems.append("%s: link to %s: no such file" % (where, fname))
                    continue
                if anchor and tpath.endswith(".md") and anchor not in doc(tpath).anchors:
                    problems.append("%s: link to %s#%s: no such heading" % (where, fname, anchor))
            # quoted titles of a named document
            for m in QUOTED_TITLE.finditer(line):
                target = find_file(m.group(1), base) if m.group(1) else path
                if not target:
                    continue
                counts["title"] += 1
                if m.group(2) not in doc(target).titles:
                    problems.append("%s: %s has no section titled \"%s\"" %
                                    (where, m.group(1), m.group(2)))
            # section references
            for m in SECTION_REF.finditer(line):
                if m.group("pre"):
                    continue  # an RFC's own section
                num = m.group("sec") or m.group("word")
                before = line[:m.start()]
                d = DOC_BEFORE.search(before)
                target = find_file(d.group(1), base) if d else path
                if not target:
                    continue  # the missing file is reported above
                tdoc = doc(target)
                nums = [num] + ([m.group("to")] if m.group("to") else [])
                for n in nums:
                    counts["section"] += 1
                    if n not in tdoc.numbers:
                        problems.append("%s: §%s: %s has no section %s" %
                                        (where, n, os.path.relpath(target, root), n))
                if num not in tdoc.numbers:
                    continue
                title = tdoc.numbers[num]
                after = line[m.end():]
                q = re.match(r'\s*\(\s*"([^"]+)"\s*\)', after)
                if q:
                    counts["title"] += 1
                    if q.group(1) != title:
                        problems.append("%s: §%s is \"%s\", not \"%s\"" % (where, num, title,
                                                                           q.group(1)))
                    continue
                w = re.match(r" ([A-Z][\w-]*)", after)
                if w and w.group(1) not in KEYWORDS and not w.group(1).isupper() or \
                        (w and w.group(1) in ("JSON",)):
                    counts["title"] += 1
                    if not after[1:].startswith(title):
                        named = re.split(r"[;,.|)]", after[1:])[0].strip()
                        problems.append("%s: §%s is \"%s\", not \"%s\"" %
                                        (where, num, title, named))
    for p in problems:
        print(p)
    print("%d files: %d section references, %d titles, %d links, %d file names checked; "
          "%d broken" % (len(files), counts["section"], counts["title"], counts["link"],
                         counts["file"], len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
