#!/usr/bin/python3
"""check_google.py - Google's protobuf reads Stint's golden vectors to the same values.

For every case of spec/vectors/manifest.json:
  1. `protoc --decode=stint.v1.Batch` (C++) decodes the .pb; its text output is parsed back
     with Python's text_format (unknown fields, which protoc prints by number, are skipped);
  2. Python's protobuf parses the .pb (binary) and the .json (json_format, proto3 JSON mapping);
  3. all three messages must be equal (after discarding unknown fields of the binary parse),
     and the binary parse must carry exactly the manifest's count of unknown fields.
Usage: check_google.py PROTO_DIR VECTORS_DIR
"""
import json
import os
import subprocess
import sys
import tempfile

from google.protobuf import descriptor_pb2, descriptor_pool, json_format, text_format

try:
    from google.protobuf import message_factory
except ImportError:  # pragma: no cover
    message_factory = None


def load_batch_class(proto_dir):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "stint.desc")
        subprocess.run(["protoc", "-I", proto_dir, "--include_imports",
                        "--descriptor_set_out=" + out, "stint/v1/stint.proto"], check=True)
        fds = descriptor_pb2.FileDescriptorSet()
        with open(out, "rb") as f:
            fds.ParseFromString(f.read())
    pool = descriptor_pool.DescriptorPool()
    for fd in fds.file:
        pool.Add(fd)
    desc = pool.FindMessageTypeByName("stint.v1.Batch")
    if hasattr(message_factory, "GetMessageClass"):
        return message_factory.GetMessageClass(desc)
    return message_factory.MessageFactory(pool).GetPrototype(desc)


def count_unknown(msg):
    """Unknown fields of msg and of every nested message."""
    n = len(msg.UnknownFields())
    for field, value in msg.ListFields():
        if field.message_type is None:
            continue
        if field.label == field.LABEL_REPEATED:
            n += sum(count_unknown(v) for v in value)
        else:
            n += count_unknown(value)
    return n


def main():
    proto_dir, vec_dir = sys.argv[1], sys.argv[2]
    Batch = load_batch_class(proto_dir)
    with open(os.path.join(vec_dir, "manifest.json")) as f:
        manifest = json.load(f)
    failures = 0
    for case in manifest["cases"]:
        name = case["name"]
        with open(os.path.join(vec_dir, case["pb"]), "rb") as f:
            pb = f.read()
        with open(os.path.join(vec_dir, case["json"]), encoding="utf-8") as f:
            js = f.read()
        from_pb = Batch()
        from_pb.ParseFromString(pb)
        unknown = count_unknown(from_pb)
        from_pb.DiscardUnknownFields()
        from_json = Batch()
        json_format.Parse(js, from_json)
        text = subprocess.run(["protoc", "-I", proto_dir, "--decode=stint.v1.Batch",
                               "stint/v1/stint.proto"], input=pb, capture_output=True,
                              check=True).stdout.decode("utf-8")
        from_protoc = Batch()
        text_format.Parse(text, from_protoc, allow_unknown_field=True)
        problems = []
        if from_pb != from_json:
            problems.append("binary parse != JSON parse")
        if from_protoc != from_json:
            problems.append("protoc --decode != JSON parse")
        if unknown != case["unknown_fields"]:
            problems.append("%d unknown fields, manifest says %d" % (unknown, case["unknown_fields"]))
        if len(from_pb.records) != case["records"]:
            problems.append("%d records, manifest says %d" % (len(from_pb.records), case["records"]))
        if problems:
            failures += 1
            print("FAIL %s: %s" % (name, "; ".join(problems)))
        else:
            print("ok   %s (%d records, %d unknown fields)" % (name, len(from_pb.records), unknown))
    print("%d passed, %d failed" % (len(manifest["cases"]) - failures, failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
