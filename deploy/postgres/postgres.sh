#!/usr/bin/env bash
# Local PostgreSQL from Debian's packages: a project-local cluster on a loopback port.
#   postgres.sh start | stop | status | url
# The cluster lives in RELAIS_VAR_DIR/postgres and survives restarts. PostgreSQL refuses to run as root, so when
# invoked as root the server runs as the `postgres` system user that Debian's package creates.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
var=${RELAIS_VAR_DIR:-$root/var}
port=${RELAIS_PG_PORT:-15432}
state="$var/postgres"
data="$state/data"
sock="$state/run"

bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }

ensure_installed() {
  if [ -n "$(bindir)" ] && [ -x "$(bindir)/initdb" ]; then return 0; fi
  echo "postgres.sh: installing PostgreSQL from Debian's packages" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2 && apt-get install -y -qq postgresql >&2
}

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

url() { echo "postgresql://relais@127.0.0.1:$port/relais"; }

ready() { "$(bindir)/pg_isready" -q -h 127.0.0.1 -p "$port"; }

ours() { [ -f "$data/postmaster.pid" ] && as_owner "$(bindir)/pg_ctl" -D "$data" status >/dev/null 2>&1; }

# A data platform's loads write hundreds of MB at a time: PostgreSQL's defaults (128 MB of shared buffers, a
# checkpoint every 1 GB of WAL) made backends write dirty pages out themselves and checkpoint mid-batch.
tuning="-c max_wal_size=4GB -c checkpoint_timeout=15min"

start() {
  ensure_installed
  bin=$(bindir)
  mkdir -p "$state" "$sock"
  if [ "$(id -u)" = 0 ]; then chown postgres: "$state" "$sock"; fi
  if [ ! -f "$data/PG_VERSION" ]; then
    # trust on loopback only: a developer cluster, never reachable from another host.
    # Text sorts and compares bytewise (collation C): the keys are FINESS numbers and codes, and a libc collation
    # cost a third of the time of sorting them (index builds, joins) without abbreviated keys. Character classes
    # stay Unicode (ctype C.UTF-8).
    as_owner "$bin/initdb" -D "$data" -U relais --auth=trust --encoding=UTF8 --locale=C.UTF-8 --lc-collate=C \
      >/dev/null
  fi
  if ! ours; then
    # pg_ctl fails (and says why in server.log) if another server, e.g. another checkout's, holds the port.
    as_owner "$bin/pg_ctl" -D "$data" -l "$state/server.log" -w -t 60 \
      -o "-p $port -k $sock -c listen_addresses=127.0.0.1 -c max_connections=200 $tuning" start >/dev/null
  fi
  "$bin/psql" -q -h 127.0.0.1 -p "$port" -U relais -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname='relais'" | grep -q 1 ||
    "$bin/createdb" -h 127.0.0.1 -p "$port" -U relais relais
  echo "postgres: running at $(url)"
}

stop() {
  if [ -f "$data/postmaster.pid" ]; then as_owner "$(bindir)/pg_ctl" -D "$data" -m fast -w stop >/dev/null || true; fi
  echo "postgres: stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  url) url ;;
  status) if [ -n "$(bindir)" ] && ours && ready; then echo "postgres: running at $(url)"; else echo "postgres: down"; exit 1; fi ;;
  *) echo "usage: $0 start|stop|status|url" >&2; exit 2 ;;
esac
