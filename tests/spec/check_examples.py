#!/usr/bin/env python3
"""Checks every example of the spec, so the spec cannot drift from the code.

An example is a fenced block whose info string carries `example=KIND` (spec/PROTOCOL.md, "Conformance",
"Examples in the spec"):

    ```json example=batch                  a Batch in canonical/lenient JSON
    ```json example=record | example=ack   a Record or an Ack in JSON
    ```hex example=batch-pb                a Batch in protobuf, as hex bytes (spaces, newlines and
                                           `#` comments ignored); also record-pb, ack-pb
    ```json example=legacy-json            the legacy payload as PHP json_encode writes it
    ```php example=php                     ... as PHP var_export writes it
    ```text example=form                   ... as PHP http_build_query writes it
    ```json example=error                  an error body {"error":{"code":..,"message":..}}
    ```http example=request status=N       an HTTP/1.1 request sent to a fresh stint-collector
                                           (plain HTTP on loopback); `Bearer TOKEN` is replaced by
                                           the test's token; the answer's status must be N (200)

`expect=invalid` turns a codec example around: it must be refused (exit status 1 of
stint-codec validate). Codec examples go through `stint-codec validate --format F --type T`.

usage: check_examples.py --codec STINT_CODEC [--collector STINT_COLLECTOR] [--min N] FILE...
Exit status 0 when every example holds (and at least N were found), 1 otherwise.
"""
import argparse
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

CODEC_KINDS = {
    "batch": ("json", "batch"),
    "record": ("json", "record"),
    "ack": ("json", "ack"),
    "batch-pb": ("pb", "batch"),
    "record-pb": ("pb", "record"),
    "ack-pb": ("pb", "ack"),
    "legacy-json": ("legacy-json", "batch"),
    "php": ("php", "batch"),
    "form": ("form", "batch"),
}
TOKEN = "spec-examples-token-0123456789"


def blocks(path):
    """Yields (line, info attributes, text) for every annotated fenced block of a Markdown file."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    i = 0
    while i < len(lines):
        m = re.match(r"^(\s*)(`{3,}|~{3,})(.*)$", lines[i])
        if not m:
            i += 1
            continue
        indent, fence, info = m.group(1), m.group(2), m.group(3).strip()
        start = i + 1
        j = start
        while j < len(lines) and not lines[j].strip().startswith(fence):
            j += 1
        body = [ln[len(indent):] if ln.startswith(indent) else ln for ln in lines[start:j]]
        attrs = dict(re.findall(r"(\w[\w-]*)=(\S+)", info))
        if "example" in attrs:
            yield start, attrs, "\n".join(body) + "\n"
        i = j + 1


class Collector:
    """A stint-collector on a free loopback port, started on first use."""

    def __init__(self, binary):
        self.binary = binary
        self.proc = None
        self.dir = None
        self.port = None

    def start(self):
        if self.proc:
            return
        self.dir = tempfile.mkdtemp(prefix="stint-spec-examples-")
        tokens = os.path.join(self.dir, "tokens")
        with open(tokens, "w") as f:
            f.write("%s examples\n" % TOKEN)
        os.chmod(tokens, 0o600)
        portfile = os.path.join(self.dir, "port")
        self.proc = subprocess.Popen(
            [self.binary, "serve", "--listen", "127.0.0.1:0", "--insecure-http", "--data",
             os.path.join(self.dir, "data"), "--tokens", tokens, "--port-file", portfile],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(500):
            if os.path.exists(portfile) and os.path.getsize(portfile) > 0:
                with open(portfile) as f:
                    self.port = int(f.read())
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        raise RuntimeError("stint-collector did not start")

    def send(self, raw):
        """Sends a raw request (request line, headers, blank line, body); returns the status."""
        self.start()
        head, _, body = raw.partition("\n\n")
        lines = head.split("\n")
        method, target = lines[0].split()[:2]
        headers = {}
        for ln in lines[1:]:
            if ":" in ln:
                k, v = ln.split(":", 1)
                headers[k.strip()] = v.strip().replace("Bearer TOKEN", "Bearer " + TOKEN)
        data = body.rstrip("\n").encode("utf-8")
        headers.pop("Content-Length", None)
        headers.pop("Host", None)
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        c.request(method, target, body=data if data else None, headers=headers)
        r = c.getresponse()
        r.read()
        c.close()
        return r.status

    def stop(self):
        if self.proc:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)


def check_codec(codec, kind, text, expect_valid, tmp):
    fmt, typ = CODEC_KINDS[kind]
    path = os.path.join(tmp, "example")
    if fmt == "pb":
        hexdigits = re.sub(r"#[^\n]*", "", text)
        hexdigits = re.sub(r"\s+", "", hexdigits)
        with open(path, "wb") as f:
            f.write(bytes.fromhex(hexdigits))
    else:
        # a Markdown block ends with a newline the payload does not have (PHP writes none)
        with open(path, "wb") as f:
            f.write(text.rstrip("\n").encode("utf-8"))
    r = subprocess.run([codec, "validate", "--format", fmt, "--type", typ, path],
                       capture_output=True, text=True)
    ok = (r.returncode == 0) if expect_valid else (r.returncode == 1)
    return ok, (r.stderr.strip() or r.stdout.strip())


def check_error(text):
    try:
        v = json.loads(text)
        e = v["error"]
        if isinstance(e["code"], str) and e["code"] and isinstance(e["message"], str):
            return True, ""
        return False, "error.code or error.message is not a string"
    except (ValueError, KeyError, TypeError) as ex:
        return False, "not an error body: %s" % ex


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--codec", required=True)
    ap.add_argument("--collector")
    ap.add_argument("--min", type=int, default=0)
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="stint-spec-")
    coll = Collector(a.collector) if a.collector else None
    found = failed = skipped = 0
    try:
        for path in a.files:
            for line, attrs, text in blocks(path):
                kind = attrs["example"]
                where = "%s:%d" % (os.path.relpath(path), line)
                found += 1
                expect_valid = attrs.get("expect", "valid") != "invalid"
                if kind in CODEC_KINDS:
                    ok, why = check_codec(a.codec, kind, text, expect_valid, tmp)
                elif kind == "error":
                    ok, why = check_error(text)
                elif kind == "request":
                    if not coll:
                        print("skip %s example=request (no --collector)" % where)
                        skipped += 1
                        continue
                    want = int(attrs.get("status", "200"))
                    got = coll.send(text)
                    ok, why = got == want, "answered %d, the example says %d" % (got, want)
                else:
                    ok, why = False, "unknown example kind %r" % kind
                print("%s %s example=%s%s%s" % ("ok  " if ok else "FAIL", where, kind,
                                               "" if expect_valid else " expect=invalid",
                                               "" if ok else ": " + why))
                if not ok:
                    failed += 1
    finally:
        if coll:
            coll.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d examples, %d failed%s" % (found, failed, ", %d skipped" % skipped if skipped else ""))
    if found < a.min:
        print("FAIL: fewer than %d examples found" % a.min)
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
