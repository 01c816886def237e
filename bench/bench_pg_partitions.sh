#!/bin/sh
# bench_pg_partitions.sh — the PostgreSQL store's records table flat or hash-partitioned by account:
# ingest and DELETE /v1/data, measured side by side (spec/COLLECTOR.md §6.1 has the table).
#
# usage: bench/bench_pg_partitions.sh [BENCH_COLLECTOR] [ROUNDS] [LAYOUTS]
#   BENCH_COLLECTOR  default build/cc/bench/bench/bench_collector (`make bench` builds it)
#   ROUNDS           default 3: each layout runs ROUNDS times, interleaved (A B C, A B C, ...) so a
#                    shared machine's load falls on every layout alike; the table gives medians
#   LAYOUTS          default "flat hash4 hash8 hash16"
#     flat     one stint_records, one stint_acks (schema version 1)
#     hashN    both tables PARTITION BY HASH (account) with N partitions (the primary keys start
#              with account, so they stay enforceable; version 2 is hash16)
#   Each row's database is migrated, then both tables are made again in the layout.
#
# One PostgreSQL 15 of its own for the whole run (tests/support/with_postgres.sh: fsync and
# synchronous_commit on); each row starts from a freshly migrated database. Per run: 16 agents in
# 16 accounts, batches of 1, 100 and 1,000 records for 4 s each (unnest ingest, the default); then
# a store of 960,000 records in 16 accounts, vacuumed, and the DELETE of one account (60,000
# records), its VACUUM and VACUUM FULL (of the relations that held the account: the whole tables
# when flat, one partition each when hashed). Raw outputs are kept in OUT (printed at the end).
# Last, the time of `stint-collector migrate` from a version 1 database (flat tables) of
# MIGRATE_RECORDS records (default 1,000,000; 0 skips it) to the current schema, ROUNDS times.
# Nothing passes or fails on time.
set -eu
HERE=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "${STINT_PG_URL:-}" ]; then
    exec sh "$HERE/tests/support/with_postgres.sh" sh "$0" "$@"
fi
BENCH=${1:-$HERE/build/cc/bench/bench/bench_collector}
ROUNDS=${2:-3}
LAYOUTS=${3:-flat hash4 hash8 hash16}
MIGRATE_RECORDS=${MIGRATE_RECORDS:-1000000}
COLLECTOR=${STINT_COLLECTOR_UNDER_TEST:-$(dirname "$BENCH")/../collector/stint-collector}
if [ ! -x "$BENCH" ]; then
    echo "bench_pg_partitions: $BENCH not found: run make bench first, or name it" >&2
    exit 2
fi
OUT=$(mktemp -d /tmp/stint-bench-partitions.XXXXXX)

# layout NAME: the SQL run after each `migrate`: both tables made again, flat or hashed
layout() {
    case $1 in
    flat) by="" ;;
    hash*) by="PARTITION BY HASH (account)" ;;
    *)
        echo "bench_pg_partitions: unknown layout $1" >&2
        exit 2
        ;;
    esac
    cat <<EOF
BEGIN;
DROP TABLE stint_records, stint_acks;
CREATE TABLE stint_records (account text COLLATE "C" NOT NULL, agent_id bytea NOT NULL,
  seq bigint NOT NULL, value bytea NOT NULL, PRIMARY KEY (account, agent_id, seq)) $by;
CREATE TABLE stint_acks (account text COLLATE "C" NOT NULL, agent_id bytea NOT NULL,
  idem bytea NOT NULL, fingerprint bigint NOT NULL, ack bytea NOT NULL,
  created timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (account, agent_id, idem)) $by;
EOF
    case $1 in
    hash*)
        n=${1#hash}
        i=0
        while [ $i -lt "$n" ]; do
            for t in stint_records stint_acks; do
                echo "CREATE TABLE ${t}_p$i PARTITION OF $t FOR VALUES WITH (MODULUS $n, REMAINDER $i);"
            done
            i=$((i + 1))
        done
        ;;
    esac
    echo "COMMIT;"
}

r=1
while [ $r -le "$ROUNDS" ]; do
    for l in $LAYOUTS; do
        layout "$l" >"$OUT/$l.sql"
        set -- --store "$STINT_PG_URL" --pg-only --pg-ingest unnest --agents 16 --accounts 16 \
            --seconds 4 --sizes 1,100,1000 --delete-store 960000 --delete-accounts 16
        set -- "$@" --pg-layout "$OUT/$l.sql"
        echo "== round $r, layout $l: $(cut -d' ' -f1-3 /proc/loadavg) (load average)" >&2
        "$BENCH" "$@" >"$OUT/$l.$r.txt"
    done
    r=$((r + 1))
done

# shellcheck disable=SC2086 # LAYOUTS is a list: one argument per layout
python3 - "$OUT" "$ROUNDS" $LAYOUTS <<'EOF'
import re, statistics, sys
out, rounds, layouts = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
def med(xs):
    return statistics.median(xs) if xs else float("nan")
def num(s):
    return float(s.replace(",", ""))
ingest, delete, loads = {}, {}, []
for l in layouts:
    for r in range(1, rounds + 1):
        text = open(f"{out}/{l}.{r}.txt").read()
        m = re.search(r"load average before the run: (\S+) (\S+) (\S+)", text)
        if m:
            loads.append(float(m.group(1)))
        for line in text.splitlines():
            c = [x.strip() for x in line.strip().strip("|").split("|")]
            if len(c) == 12 and c[0] == "pg unnest":
                ingest.setdefault((l, int(c[1])), []).append(
                    (num(c[3]), num(c[4]), num(c[5]), num(c[7]), num(c[8])))
            if len(c) == 10 and c[0] == "pg":
                vac = re.match(r"([\d.]+) \(([\d.]+) MiB\)", c[7])
                full = re.match(r"([\d.]+) \(([\d.]+) -> ([\d.]+) MiB\)", c[8])
                delete.setdefault(l, []).append(
                    (num(c[4]), float(vac.group(1)), float(vac.group(2)), float(full.group(1)),
                     float(full.group(3)), int(c[3])))
print(f"\nbench_pg_partitions: medians of {rounds} interleaved runs; load average (1 min) at the "
      f"start of each run: {min(loads):.2f} to {max(loads):.2f}, median {med(loads):.2f}\n")
print("| layout | records/batch | records/s (runs) | median records/s | p50 ms | p99 ms | "
      "bytes/record | WAL bytes/record |")
print("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |")
for (l, size), rows in ingest.items():
    print(f"| {l} | {size:,} | {' / '.join(f'{x[0]:,.0f}' for x in rows)} | "
          f"{med([x[0] for x in rows]):,.0f} | {med([x[1] for x in rows]):.2f} | "
          f"{med([x[2] for x in rows]):.2f} | {med([x[3] for x in rows]):.0f} | "
          f"{med([x[4] for x in rows]):.0f} |")
print("\n| layout | deleted records | DELETE s (runs) | median DELETE s | VACUUM s (runs) | "
      "median VACUUM s | MiB vacuumed | VACUUM FULL s (runs) | median VACUUM FULL s | "
      "MiB after VACUUM FULL |")
print("| --- | ---: | --- | ---: | --- | ---: | ---: | --- | ---: | ---: |")
for l, rows in delete.items():
    print(f"| {l} | {rows[0][5]:,} | {' / '.join(f'{x[0]:.3f}' for x in rows)} | "
          f"{med([x[0] for x in rows]):.3f} | {' / '.join(f'{x[1]:.3f}' for x in rows)} | "
          f"{med([x[1] for x in rows]):.3f} | {med([x[2] for x in rows]):.1f} | "
          f"{' / '.join(f'{x[3]:.3f}' for x in rows)} | {med([x[3] for x in rows]):.3f} | "
          f"{med([x[4] for x in rows]):.1f} |")
print(f"\nraw outputs: {out}")
EOF

# the upgrade of a version 1 database: its DDL as version 1 made it, rows of ~300 bytes
if [ "$MIGRATE_RECORDS" -gt 0 ]; then
    echo
    echo "stint-collector migrate, version 1 -> current, of $MIGRATE_RECORDS records in 16 accounts:"
    r=1
    while [ $r -le "$ROUNDS" ]; do
        psql -X -q -v ON_ERROR_STOP=1 "$STINT_PG_URL" >/dev/null <<EOF
SET client_min_messages = warning;
DROP SCHEMA IF EXISTS mig CASCADE;
CREATE SCHEMA mig;
SET search_path = mig;
CREATE TABLE stint_schema (version integer NOT NULL);
INSERT INTO stint_schema VALUES (1);
CREATE TABLE stint_records (account text COLLATE "C" NOT NULL, agent_id bytea NOT NULL,
  seq bigint NOT NULL, value bytea NOT NULL, PRIMARY KEY (account, agent_id, seq));
CREATE TABLE stint_acks (account text COLLATE "C" NOT NULL, agent_id bytea NOT NULL,
  idem bytea NOT NULL, fingerprint bigint NOT NULL, ack bytea NOT NULL,
  created timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (account, agent_id, idem));
INSERT INTO stint_records SELECT 'acct' || (i % 16), decode(md5((i % 64)::text), 'hex'), i,
  decode(repeat(md5(i::text), 18), 'hex') FROM generate_series(1, $MIGRATE_RECORDS) AS i;
INSERT INTO stint_acks SELECT 'acct' || (i % 16), decode(md5((i % 64)::text), 'hex'),
  decode(md5(i::text), 'hex'), i, decode(md5(i::text), 'hex')
  FROM generate_series(1, $MIGRATE_RECORDS / 1000) AS i;
VACUUM ANALYZE stint_records, stint_acks;
CHECKPOINT;
EOF
        t0=$(date +%s.%N)
        "$COLLECTOR" migrate --store "$STINT_PG_URL&options=-c%20search_path%3Dmig" 2>&1 |
            sed 's/^/  /'
        t1=$(date +%s.%N)
        echo "  round $r: $(python3 -c "print('%.2f' % ($t1 - $t0))") s (load average $(cut -d' ' -f1 /proc/loadavg))"
        r=$((r + 1))
    done
    psql -X -q "$STINT_PG_URL" -c "SET client_min_messages = warning" -c "DROP SCHEMA mig CASCADE" \
        >/dev/null
fi
