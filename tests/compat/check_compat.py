#!/usr/bin/python3
"""check_compat.py - the compatibility gate of the Stint wire format.

Compares the .proto files of a package against the last released descriptor (kept in spec/released/
as a text-format FileDescriptorSet) and fails on any change that breaks the wire format or the
JSON mapping for a reader or writer of the released version:
  - a message, field, enum or enum value removed without its number (and, for fields, its name)
    being `reserved`;
  - a field renumbered, retyped (wire type or message/enum type), relabelled (singular/repeated),
    or renamed (its JSON name changes);
  - an enum value renumbered or renamed (enums travel by name in JSON);
  - the package renamed (a new major version is a new package and a new released descriptor);
  - a reserved number or name of the release reused.
Adding fields, messages and enum values is allowed (spec/PROTOCOL.md, "Versioning and
compatibility").

With --spec PROTOCOL.md it also checks what must be bumped (spec/PROTOCOL.md §9):
  - the spec's "Protocol version" (MAJOR.MINOR) has MAJOR equal to the package's (stint.vMAJOR);
  - the changelog has a row for that version ("| DATE | MAJOR.MINOR: ..." or "MAJOR.MINOR,");
  - when the .proto differs from the released descriptor in any way (an added field or enum
    value included), the version is above the released one (named in the released file's name,
    stint-vMAJOR.MINOR.descriptor.txt), so a change of the wire format never ships unversioned.

Usage:
  check_compat.py --proto-dir DIR --proto FILE --released FILE [--spec FILE]   check; exit 1 on a break
  check_compat.py --proto-dir DIR --proto FILE --released FILE --write         record a release
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

from google.protobuf import descriptor_pb2, text_format

F = descriptor_pb2.FieldDescriptorProto


def compile_set(proto_dir, proto):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "d.pb")
        subprocess.run(["protoc", "-I", proto_dir, "--descriptor_set_out=" + out, proto],
                       check=True)
        fds = descriptor_pb2.FileDescriptorSet()
        with open(out, "rb") as f:
            fds.ParseFromString(f.read())
    for fd in fds.file:  # comments and source positions are not part of the contract
        fd.ClearField("source_code_info")
    return fds


def messages(fd):
    """name -> DescriptorProto, nested ones included with dotted names."""
    out = {}

    def walk(prefix, msgs):
        for m in msgs:
            name = prefix + m.name
            out[name] = m
            walk(name + ".", m.nested_type)
    walk(fd.package + ".", fd.message_type)
    return out


def enums(fd):
    out = {}
    for e in fd.enum_type:
        out[fd.package + "." + e.name] = e
    for name, m in messages(fd).items():
        for e in m.enum_type:
            out[name + "." + e.name] = e
    return out


def reserved_numbers(m):
    nums = set()
    for r in m.reserved_range:  # end is exclusive in descriptors
        nums.update(range(r.start, r.end))
    return nums


def enum_reserved_numbers(e):
    nums = set()
    for r in e.reserved_range:  # end is inclusive for enums
        nums.update(range(r.start, r.end + 1))
    return nums


def check(old_set, new_set):
    problems = []
    old_files = {f.name: f for f in old_set.file}
    new_files = {f.name: f for f in new_set.file}
    for fname, old in old_files.items():
        new = new_files.get(fname)
        if new is None:
            problems.append("%s: file removed" % fname)
            continue
        if old.package != new.package:
            problems.append("%s: package %s renamed to %s" % (fname, old.package, new.package))
            continue
        old_m, new_m = messages(old), messages(new)
        for name, om in old_m.items():
            nm = new_m.get(name)
            if nm is None:
                problems.append("message %s removed" % name)
                continue
            new_by_num = {f.number: f for f in nm.field}
            new_by_name = {f.name: f for f in nm.field}
            res_nums, res_names = reserved_numbers(nm), set(nm.reserved_name)
            for of in om.field:
                where = "%s.%s (%d)" % (name, of.name, of.number)
                nf = new_by_num.get(of.number)
                moved = new_by_name.get(of.name)
                if nf is None and moved is not None:
                    problems.append("%s renumbered to %d" % (where, moved.number))
                    continue
                if nf is None:
                    if of.number not in res_nums or of.name not in res_names:
                        problems.append("%s removed without reserving its number and name" % where)
                    continue
                if nf.name != of.name:
                    problems.append("%s renamed to %s (JSON name changes)" % (where, nf.name))
                if nf.json_name != of.json_name:
                    problems.append("%s JSON name %s became %s" % (where, of.json_name, nf.json_name))
                if nf.type != of.type:
                    problems.append("%s retyped from %s to %s" % (where, F.Type.Name(of.type),
                                                                   F.Type.Name(nf.type)))
                if nf.type_name != of.type_name:
                    problems.append("%s type %s became %s" % (where, of.type_name, nf.type_name))
                if nf.label != of.label:
                    problems.append("%s label %s became %s" % (where, F.Label.Name(of.label),
                                                                F.Label.Name(nf.label)))
                if of.proto3_optional != nf.proto3_optional:
                    problems.append("%s presence changed" % where)
                moved = new_by_name.get(of.name)
                if moved is not None and moved.number != of.number:
                    problems.append("%s renumbered to %d" % (where, moved.number))
            for n in reserved_numbers(om):
                if n in new_by_num:
                    problems.append("%s: reserved number %d reused by %s" % (name, n,
                                                                             new_by_num[n].name))
            for n in om.reserved_name:
                if n in new_by_name:
                    problems.append("%s: reserved name %s reused" % (name, n))
        old_e, new_e = enums(old), enums(new)
        for name, oe in old_e.items():
            ne = new_e.get(name)
            if ne is None:
                problems.append("enum %s removed" % name)
                continue
            new_by_num = {v.number: v for v in ne.value}
            new_by_name = {v.name: v for v in ne.value}
            res = enum_reserved_numbers(ne)
            for ov in oe.value:
                nv = new_by_num.get(ov.number)
                if nv is None:
                    if ov.number not in res or ov.name not in ne.reserved_name:
                        problems.append("%s.%s (%d) removed without reserving it" % (name, ov.name, ov.number))
                    continue
                if nv.name != ov.name:
                    problems.append("%s value %d renamed %s -> %s (JSON names change)" % (name, ov.number, ov.name, nv.name))
                moved = new_by_name.get(ov.name)
                if moved is not None and moved.number != ov.number:
                    problems.append("%s.%s renumbered %d -> %d" % (name, ov.name, ov.number, moved.number))
    return problems


def version_problems(spec_path, released_path, released, current):
    """What must be bumped: see the module's comment."""
    problems = []
    with open(spec_path, encoding="utf-8") as f:
        spec = f.read()
    m = re.search(r"^\| Protocol version \| (\d+)\.(\d+) ", spec, re.M)
    if not m:
        return ["%s: no '| Protocol version | MAJOR.MINOR' row" % spec_path]
    ver = (int(m.group(1)), int(m.group(2)))
    r = re.search(r"v(\d+)\.(\d+)", os.path.basename(released_path))
    rel = (int(r.group(1)), int(r.group(2))) if r else (1, 0)
    for fd in current.file:
        pm = re.match(r".*\.v(\d+)$", fd.package)
        if pm and int(pm.group(1)) != ver[0]:
            problems.append("the spec says protocol %d.%d, the package is %s" %
                            (ver[0], ver[1], fd.package))
    if not re.search(r"^\| [0-9-]+ \| %d\.%d[:,]" % ver, spec, re.M):
        problems.append("the changelog of %s has no row for %d.%d" % (spec_path, ver[0], ver[1]))
    a, b = descriptor_pb2.FileDescriptorSet(), descriptor_pb2.FileDescriptorSet()
    a.CopyFrom(released)
    b.CopyFrom(current)
    if a.SerializeToString(deterministic=True) != b.SerializeToString(deterministic=True) and \
            ver <= rel:
        problems.append("the .proto differs from the released %d.%d but the spec still says "
                        "%d.%d: bump the minor version and add a changelog row" %
                        (rel[0], rel[1], ver[0], ver[1]))
    return problems


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--proto-dir", required=True)
    ap.add_argument("--proto", required=True)
    ap.add_argument("--released", required=True)
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--spec", help="spec/PROTOCOL.md: check the version and changelog too")
    a = ap.parse_args()
    current = compile_set(a.proto_dir, a.proto)
    if a.write:
        with open(a.released, "w") as f:
            f.write("# The released stint.v1 descriptor: the compatibility gate compares the .proto\n")
            f.write("# files against it (tests/compat/check_compat.py). Written by --write at a release.\n")
            f.write(text_format.MessageToString(current))
        print("wrote", a.released)
        return 0
    released = descriptor_pb2.FileDescriptorSet()
    with open(a.released) as f:
        text_format.Parse(f.read(), released)
    problems = check(released, current)
    for p in problems:
        print("BREAKING:", p)
    bumps = version_problems(a.spec, a.released, released, current) if a.spec else []
    for p in bumps:
        print("VERSION:", p)
    if problems:
        print("%s breaks compatibility with %s: %d problem(s)" % (a.proto, a.released, len(problems)))
        return 1
    if bumps:
        print("%s is compatible with %s, but the version must be bumped: %d problem(s)" %
              (a.proto, a.released, len(bumps)))
        return 1
    print("%s is compatible with %s%s" % (a.proto, a.released,
                                          ", and the spec's version and changelog agree"
                                          if a.spec else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
