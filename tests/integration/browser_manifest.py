#!/usr/bin/python3
"""browser_manifest.py EXTENSION_DIR [MANIFEST]: the extension asks for least privilege.

Allowed permissions: tabs, nativeMessaging, idle. Refused: host permissions, content scripts,
optional permissions, web-accessible resources, externally_connectable, any other API. The
background script may not fetch or store anything (no fetch, XMLHttpRequest, WebSocket,
storage, cookies, executeScript). Exit 0 when all hold; 1 naming each breach.
"""
import json
import os
import re
import sys

ALLOWED = {"tabs", "nativeMessaging", "idle"}
FORBIDDEN_KEYS = ["host_permissions", "content_scripts", "optional_permissions",
                  "optional_host_permissions", "web_accessible_resources",
                  "externally_connectable", "declarative_net_request", "content_security_policy"]
FORBIDDEN_JS = [r"\bfetch\s*\(", r"XMLHttpRequest", r"WebSocket", r"\.storage\.", r"\.cookies\.",
                r"executeScript", r"\.scripting\.", r"\.history\.", r"\.webRequest\."]


def check(folder, manifest_name="manifest.json"):
    breaches = []
    with open(os.path.join(folder, manifest_name), encoding="utf-8") as f:
        m = json.load(f)
    if m.get("manifest_version") != 3:
        breaches.append("manifest_version is %r, not 3" % m.get("manifest_version"))
    perms = m.get("permissions", [])
    for p in perms:
        if p not in ALLOWED:
            breaches.append("permission %r is not in the least-privilege list %s"
                            % (p, sorted(ALLOWED)))
        if "://" in p or p.startswith("<") or "*" in p:
            breaches.append("host permission %r in permissions" % p)
    for need in ("tabs", "nativeMessaging"):
        if need not in perms:
            breaches.append("permission %r is missing (the extension cannot work)" % need)
    for k in FORBIDDEN_KEYS:
        if k in m:
            breaches.append("manifest key %r is not allowed" % k)
    bg = m.get("background", {})
    scripts = set(bg.get("scripts", []))
    if "service_worker" in bg:
        scripts.add(bg["service_worker"])
    if not scripts:
        breaches.append("no background script")
    for s in sorted(scripts):
        with open(os.path.join(folder, s), encoding="utf-8") as f:
            text = f.read()
        # comments may name what is not done
        code = re.sub(r"//[^\n]*", "", text)
        for pat in FORBIDDEN_JS:
            if re.search(pat, code):
                breaches.append("%s uses %s" % (s, pat))
    return breaches


def self_test(folder):
    """The checker must catch a broader manifest: a copy with a host permission is refused."""
    import shutil
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        for name in os.listdir(folder):
            shutil.copy(os.path.join(folder, name), d)
        with open(os.path.join(d, "manifest.json"), encoding="utf-8") as f:
            m = json.load(f)
        bad = dict(m, permissions=m["permissions"] + ["<all_urls>", "storage"],
                   content_scripts=[{"matches": ["<all_urls>"], "js": ["x.js"]}])
        with open(os.path.join(d, "bad.json"), "w", encoding="utf-8") as f:
            json.dump(bad, f)
        found = check(d, "bad.json")
        if len(found) < 3:
            return ["self-test: a broad manifest gave only %r" % found]
    return []


def main():
    folder = sys.argv[1]
    breaches = self_test(folder) + check(folder)
    for b in breaches:
        print("browser_manifest: " + b)
    if breaches:
        return 1
    print("browser_manifest: permissions %s; no host permissions, no content scripts"
          % json.load(open(os.path.join(folder, "manifest.json")))["permissions"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
