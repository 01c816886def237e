#!/bin/sh
# with_postgres.sh CMD [ARG...] — runs CMD with a PostgreSQL 15 of its own, then stops it.
#
# initdb and pg_ctl put a cluster in a temporary folder, run as an unprivileged user (initdb
# refuses root: as root the cluster belongs to `nobody`, through runuser), listening on a free
# loopback port and on a Unix socket in that folder. CMD gets in its environment:
#   STINT_PG_URL   postgresql://stint@/stint?host=DIR&port=PORT   (database stint, user stint)
#   STINT_PG_CTL   a command line that runs pg_ctl on the cluster: "$STINT_PG_CTL stop -m fast"
# The cluster runs with synchronous_commit = on and fsync = on (the defaults, kept on purpose:
# tests and the benchmark measure what a real server does). The folder is removed afterwards.
# Exit: CMD's status; 77 (skipped) when PostgreSQL 15 is not installed.
set -eu
BIN=${STINT_PG_BIN:-/usr/lib/postgresql/15/bin}
if [ ! -x "$BIN/initdb" ] || [ ! -x "$BIN/pg_ctl" ]; then
    echo "with_postgres: $BIN/initdb not found: apt-get install postgresql-15 (scripts/deps.sh)" >&2
    exit 77
fi
DIR=$(mktemp -d /tmp/stint-pg.XXXXXX)
chmod 0755 "$DIR"
RUNAS=""
if [ "$(id -u)" = 0 ]; then
    chown nobody "$DIR"
    RUNAS="runuser -u nobody --"
fi
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cleanup() {
    $RUNAS "$BIN/pg_ctl" -D "$DIR/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$DIR"
}
trap cleanup EXIT INT TERM
$RUNAS "$BIN/initdb" -D "$DIR/data" -A trust -U stint -E UTF8 --no-sync >"$DIR/initdb.log" 2>&1 || {
    cat "$DIR/initdb.log" >&2
    exit 1
}
STINT_PG_CTL="$RUNAS $BIN/pg_ctl -D $DIR/data -l $DIR/server.log -w -t 120 -o '-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c max_connections=200 -c shared_buffers=128MB'"
export STINT_PG_CTL
if ! sh -c "$STINT_PG_CTL start" >/dev/null; then
    cat "$DIR/server.log" >&2
    exit 1
fi
$RUNAS "$BIN/createdb" -h "$DIR" -p "$PORT" -U stint stint
STINT_PG_URL="postgresql://stint@/stint?host=$DIR&port=$PORT"
export STINT_PG_URL
set +e
"$@"
rc=$?
set -e
if [ $rc -ne 0 ] && [ $rc -ne 77 ]; then
    echo "with_postgres: server log ($DIR/server.log), last lines:" >&2
    tail -n 20 "$DIR/server.log" >&2
fi
exit $rc
