#!/bin/sh
# desktop_helpers_test.sh — what can be checked of desktop/ without GNOME Shell or KWin:
# both scripts parse as JavaScript (node --check; the extension as an ES module), both manifests
# are JSON with the keys their loaders need, and both speak the D-Bus contract that
# agent/source_gnome.c reads: the same bus names, object path, interface and members, with the
# same signatures. A rename on one side only fails here. Usage: desktop_helpers_test.sh SRC_DIR
set -eu
SRC=$1
G=$SRC/desktop/gnome
K=$SRC/desktop/kwin
C=$SRC/agent/source_gnome.c
fail() { echo "FAIL: $*"; exit 1; }
command -v node >/dev/null 2>&1 || { echo "SKIP: node is not installed (JavaScript syntax check)"; exit 77; }
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 is not installed"; exit 77; }
T=$(mktemp -d /tmp/stint-desktop-test-XXXXXX)
trap 'rm -rf "$T"' EXIT INT TERM
cp "$G/extension.js" "$T/extension.mjs"
node --check "$T/extension.mjs" || fail "desktop/gnome/extension.js does not parse"
L=$SRC/desktop/gnome-legacy
node --check "$L/extension.js" || fail "desktop/gnome-legacy/extension.js does not parse"
node --check "$K/contents/code/main.js" || fail "desktop/kwin/contents/code/main.js does not parse"
python3 - "$G/metadata.json" "$K/metadata.json" "$L/metadata.json" <<'PY' || fail "a manifest is wrong"
import json, sys
g = json.load(open(sys.argv[1]))
l = json.load(open(sys.argv[3]))
assert l["uuid"] == g["uuid"], "the two GNOME extensions must share one uuid"
assert all(42 <= int(v) <= 44 for v in l["shell-version"]), "gnome-legacy: GNOME 42-44 only"
for k in ("uuid", "name", "description", "shell-version"):
    assert k in g, "gnome metadata.json: no %s" % k
assert "@" in g["uuid"], "gnome uuid is not name@domain"
assert all(int(v) >= 45 for v in g["shell-version"]), "extension.js is an ES module: GNOME 45+"
k = json.load(open(sys.argv[2]))
assert k["KPackageStructure"] == "KWin/Script", "kwin: not a KWin/Script package"
assert k["X-Plasma-API"] == "javascript" and k["X-Plasma-MainScript"] == "code/main.js"
assert k["KPlugin"]["Id"], "kwin: no KPlugin.Id"
PY
# the contract: each string must appear on both sides
for s in '"org.stint.Desktop"' '"/org/stint/Desktop"' '"org.stint.Desktop1"'; do
    grep -q "$s" "$C" || fail "source_gnome.c does not name $s"
done
for m in GetFocus GetIdletime FocusChanged; do
    grep -q "\"$m\"" "$C" || fail "source_gnome.c does not use $m"
done
for x in "$G/extension.js" "$L/extension.js"; do
    grep -q "'org.stint.Desktop'" "$x" || fail "$x does not own org.stint.Desktop"
    grep -q "'/org/stint/Desktop'" "$x" || fail "$x does not export /org/stint/Desktop"
    grep -q 'interface name="org.stint.Desktop1"' "$x" || fail "$x: the interface name"
    for m in GetFocus GetIdletime FocusChanged; do
        grep -q "name=\"$m\"" "$x" || fail "$x does not declare $m"
    done
    python3 - "$x" <<'PY' || fail "$x: signatures differ from the source's"
import re, sys
x = open(sys.argv[1]).read()
def sig(name):
    m = re.search(r'<(method|signal) name="%s">(.*?)</(method|signal)>' % name, x, re.S)
    return "".join(re.findall(r'type="(\w)"', m.group(2)))
assert sig("GetFocus") == "ssu", sig("GetFocus")
assert sig("FocusChanged") == "ssu", sig("FocusChanged")
assert sig("GetIdletime") == "t", sig("GetIdletime")
PY
done
grep -q 'sd_bus_message_read(m, "ssu"' "$C" || fail "source_gnome.c does not read (ssu)"
grep -q 'sd_bus_message_read(reply, "t"' "$C" || fail "source_gnome.c does not read GetIdletime's t"
# the KWin script calls Update(s, s, s) on org.stint.Agent, which the source serves
grep -q 'SD_BUS_METHOD("Update", "sss"' "$C" || fail "source_gnome.c does not serve Update(sss)"
grep -q '#define AGENT_NAME "org.stint.Agent"' "$C" || fail "source_gnome.c: org.stint.Agent"
grep -q 'callDBus("org.stint.Agent", "/org/stint/Desktop", "org.stint.Desktop1", "Update"' \
    "$K/contents/code/main.js" || fail "the KWin script does not call org.stint.Agent Update"
grep -q 'String(w.pid' "$K/contents/code/main.js" || fail "the KWin script must send the pid as text"
echo "ok: both helpers parse, their manifests load, and they speak source_gnome.c's contract"
