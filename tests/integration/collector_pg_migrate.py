#!/usr/bin/env python3
"""collector_pg_migrate.py — `stint-collector migrate` upgrades a version 1 database that holds data.

usage: with_postgres.sh collector_pg_migrate.py STINT-COLLECTOR STINT-SEND-TEST

Run under tests/support/with_postgres.sh (STINT_PG_URL). Two schemas of one database stand for two
databases (the URL's search_path picks one):

  cur   made by this collector's `migrate`; three stint-send-test agents in two accounts store
        their records through a collector (real records, real kept Acks)
  old   a version 1 database as version 1 of the schema made it (its DDL is frozen below: one
        flat stint_records, one flat stint_acks, stint_schema = 1), holding a copy of cur's rows

Checks: serve refuses old, naming migrate; a migration that fails half-way (a table in the way of a
partition) changes nothing: still version 1, still flat, every row there; then migrate upgrades
old to version 2 (says so), and again changes nothing (says nothing); the tables are hashed by
account into partitions and the version 1 tables are gone; `dump` of every account and `stats`
read exactly what cur holds (every record there, once); a collector on old then serves: one
agent's journal replayed stores nothing twice, a new agent's records are stored.
Exit 0 pass, 1 fail, 77 skip.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

TOKENS = {"alice": "alice-token-0123456789", "bob": "bob-token-abcdefghijkl"}
FILL = 3000
PARTITIONS = 16

# Version 1 of the schema, as released (collector/store_pg.c, migration 0 -> 1): frozen here, a
# version 1 database is what the test upgrades.
V1_DDL = """
CREATE TABLE stint_schema (version integer NOT NULL);
INSERT INTO stint_schema VALUES (1);
CREATE TABLE stint_records (account text COLLATE "C" NOT NULL, agent_id bytea NOT NULL,
  seq bigint NOT NULL, value bytea NOT NULL, PRIMARY KEY (account, agent_id, seq));
CREATE TABLE stint_acks (account text COLLATE "C" NOT NULL, agent_id bytea NOT NULL,
  idem bytea NOT NULL, fingerprint bigint NOT NULL, ack bytea NOT NULL,
  created timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (account, agent_id, idem));
"""


def fail(msg):
    print("FAIL: " + msg, flush=True)
    sys.exit(1)


def wait_for(cond, what, deadline_s=120):
    """Polls cond() until true; fails naming what after a generous deadline."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < deadline_s:
        if cond():
            return
        time.sleep(0.1)
    fail("timed out waiting for " + what)


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    url = os.environ.get("STINT_PG_URL")
    if not url:
        print("SKIP: run under tests/support/with_postgres.sh")
        return 77
    work = tempfile.mkdtemp(prefix="stint-pg-migrate-")
    procs = []
    try:
        return run(work, sys.argv[1], sys.argv[2], url, procs)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        shutil.rmtree(work, ignore_errors=True)


def run(work, collector, send_test, url, procs):
    sep = "&" if "?" in url else "?"
    url_cur = url + sep + "options=-c%20search_path%3Dcur"
    url_old = url + sep + "options=-c%20search_path%3Dold"

    def psql(sql, target=url):
        r = subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", target, "-c", sql],
                           capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            fail("psql %r: %s" % (sql, r.stderr))
        return r.stdout.strip()

    def collector_run(*args):
        return subprocess.run([collector] + list(args), capture_output=True, text=True,
                              timeout=300)

    tokens = os.path.join(work, "tokens")
    with open(tokens, "w") as f:
        for acc, tok in TOKENS.items():
            f.write("%s %s\n" % (tok, acc))
    os.chmod(tokens, 0o600)
    psql("CREATE SCHEMA cur; CREATE SCHEMA old")

    def serve(store_url, name):
        pf = os.path.join(work, name + ".port")
        log = open(os.path.join(work, name + ".log"), "w")
        p = subprocess.Popen([collector, "serve", "--listen", "127.0.0.1:0", "--insecure-http",
                              "--store", store_url, "--tokens", tokens, "--port-file", pf],
                             stdout=log, stderr=subprocess.STDOUT)
        procs.append(p)
        wait_for(lambda: os.path.exists(pf) or p.poll() is not None, "collector " + name)
        if p.poll() is not None:
            fail("collector %s did not start: %s" % (name, open(log.name).read()))
        with open(pf) as f:
            return p, "http://127.0.0.1:%d" % int(f.read())

    def send(journal, base_url, account):
        r = subprocess.run([send_test, "run", "--journal", journal, "--url", base_url,
                            "--token", TOKENS[account], "--batch", "100", "--until-empty",
                            "--base-ms", "50", "--cap-ms", "1000", "--timeout", "300"],
                           capture_output=True, text=True, timeout=400)
        if r.returncode != 0:
            fail("stint-send-test run %s: %s %s" % (journal, r.stdout, r.stderr))

    def dump(store_url, account):
        r = collector_run("dump", "--store", store_url, "--account", account)
        if r.returncode != 0:
            fail("dump %s: %s" % (account, r.stderr))
        return r.stdout.splitlines()

    def stats_total(store_url):
        r = collector_run("stats", "--store", store_url)
        if r.returncode != 0:
            fail("stats: " + r.stderr)
        return [x for x in r.stdout.splitlines() if x.startswith("total ")]

    # cur: real records through a collector
    r = collector_run("migrate", "--store", url_cur)
    if r.returncode != 0:
        fail("migrate cur: " + r.stderr)
    server, base = serve(url_cur, "cur")
    journals = []
    for k, account in enumerate(["alice", "alice", "bob"]):
        j = os.path.join(work, "journal%d" % k)
        subprocess.run([send_test, "fill", j, str(FILL)], check=True, timeout=120,
                       stdout=subprocess.DEVNULL)
        if k == 0:
            shutil.copytree(j, j + "-copy")
        send(j, base, account)
        journals.append((j, account))
    server.terminate()
    server.wait()
    want = {a: dump(url_cur, a) for a in TOKENS}
    for a, lines in want.items():
        keys = [(json.loads(x)["agentId"], json.loads(x)["seq"]) for x in lines]
        n = FILL * (2 if a == "alice" else 1)
        if len(keys) != n or len(set(keys)) != n:
            fail("cur: %s holds %d records (%d distinct), want %d" % (a, len(keys),
                                                                      len(set(keys)), n))

    # old: a version 1 database holding the same rows
    psql(V1_DDL, url_old)
    psql("INSERT INTO old.stint_records SELECT * FROM cur.stint_records; "
         "INSERT INTO old.stint_acks SELECT * FROM cur.stint_acks")
    acks = psql("SELECT count(*) FROM cur.stint_acks")

    def relkind():
        return psql("SELECT relkind FROM pg_class WHERE oid = 'old.stint_records'::regclass")

    r = collector_run("serve", "--listen", "127.0.0.1:0", "--insecure-http", "--store", url_old,
                      "--tokens", tokens)
    if r.returncode == 0 or "migrate" not in r.stderr or "version 1" not in r.stderr:
        fail("serve on a version 1 database: want a refusal naming version 1 and migrate, got "
             "%d %r" % (r.returncode, r.stderr))

    # a migration that fails half-way changes nothing (one transaction)
    psql("CREATE TABLE old.stint_records_p%d (x integer)" % (PARTITIONS // 2))
    r = collector_run("migrate", "--store", url_old)
    if r.returncode == 0 or "stint_records_p" not in r.stderr:
        fail("migrate with a table in the way: want a failure naming it, got %d %r"
             % (r.returncode, r.stderr))
    if (psql("SELECT max(version) FROM old.stint_schema") != "1" or relkind() != "r"
            or psql("SELECT count(*) FROM old.stint_records") != str(3 * FILL)):
        fail("a failed migration changed the version 1 database")
    psql("DROP TABLE old.stint_records_p%d" % (PARTITIONS // 2))
    print("a failed migration left the version 1 database as it was", flush=True)

    # the upgrade, then again: idempotent
    r = collector_run("migrate", "--store", url_old)
    if r.returncode != 0 or "from version 1 to 2" not in r.stderr:
        fail("migrate old: want an upgrade from version 1 to 2, got %d %r"
             % (r.returncode, r.stderr))
    r = collector_run("migrate", "--store", url_old)
    if r.returncode != 0 or "migrated" in r.stderr:
        fail("migrate again: want nothing done, got %d %r" % (r.returncode, r.stderr))
    if psql("SELECT max(version) FROM old.stint_schema") != "2" or relkind() != "p":
        fail("after migrate: want version 2 and a partitioned stint_records")
    for t in ("stint_records", "stint_acks"):
        n = psql("SELECT count(*) FROM pg_inherits WHERE inhparent = 'old.%s'::regclass" % t)
        if n != str(PARTITIONS):
            fail("%s has %s partitions, want %d" % (t, n, PARTITIONS))
    if psql("SELECT count(*) FROM pg_tables WHERE schemaname = 'old' AND "
            "tablename IN ('stint_records_v1', 'stint_acks_v1')") != "0":
        fail("the version 1 tables are still there")
    if psql("SELECT count(*) FROM old.stint_acks") != acks:
        fail("the kept Acks did not all survive the upgrade")
    # the query spec/COLLECTOR.md gives to find an account's partition (for VACUUM FULL after a
    # DELETE) names the one that holds its rows
    for a in TOKENS:
        n = psql("SELECT n FROM generate_series(0, 15) AS n WHERE satisfies_hash_partition("
                 "'stint_records'::regclass, 16, n, '%s'::text)" % a, url_old)
        held = psql("SELECT DISTINCT tableoid::regclass FROM old.stint_records WHERE "
                    "account = '%s'" % a)
        if held != "old.stint_records_p" + n:
            fail("the partition query names p%s for %s, whose rows are in %s" % (n, a, held))

    # every record there, exactly once
    for a, lines in want.items():
        got = dump(url_old, a)
        if got != lines:
            fail("after the upgrade, dump %s differs: %d lines, want %d" % (a, len(got),
                                                                           len(lines)))
    if stats_total(url_old) != stats_total(url_cur):
        fail("stats after the upgrade: %r, want %r" % (stats_total(url_old),
                                                         stats_total(url_cur)))
    print("upgraded version 1 -> 2: %d records, every one once" % (3 * FILL), flush=True)

    # the upgraded database serves: a replay stores nothing twice, new records are stored
    server, base = serve(url_old, "old")
    send(journals[0][0] + "-copy", base, "alice")
    if dump(url_old, "alice") != want["alice"]:
        fail("a replay after the upgrade changed the database")
    new = os.path.join(work, "journal-new")
    subprocess.run([send_test, "fill", new, "500"], check=True, timeout=120,
                   stdout=subprocess.DEVNULL)
    send(new, base, "bob")
    if len(dump(url_old, "bob")) != FILL + 500:
        fail("a new agent's records after the upgrade: want %d for bob" % (FILL + 500))
    server.terminate()
    server.wait()
    print("after the upgrade: a replay stored nothing twice, a new agent's 500 records stored",
          flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
