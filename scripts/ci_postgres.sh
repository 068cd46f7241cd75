#!/usr/bin/env bash
# Start a throwaway PostgreSQL server for the store tests and print its URL on stdout.
#
#   export CALLCOACH_TEST_PG_URL="$(scripts/ci_postgres.sh)"
#   python -m pytest tests/test_store.py
#
# Idempotent: installs Debian's postgresql only when missing, initialises the data folder only
# once, starts the server only when it is not running. Everything but the URL goes to stderr.
# When PostgreSQL cannot be installed or started it says why and exits 0 printing nothing, so
# CALLCOACH_TEST_PG_URL stays empty and the PostgreSQL tests skip.
#
# Settings: CALLCOACH_PG_PORT (54329), CALLCOACH_PG_DATA (/tmp/callcoach-pgdata),
# CALLCOACH_PG_LIB (/usr/lib/postgresql). Stop it with:
#   runuser -u postgres -- /usr/lib/postgresql/*/bin/pg_ctl -D /tmp/callcoach-pgdata stop
set -uo pipefail

PORT="${CALLCOACH_PG_PORT:-54329}"
DATA="${CALLCOACH_PG_DATA:-/tmp/callcoach-pgdata}"
LIB="${CALLCOACH_PG_LIB:-/usr/lib/postgresql}"
SOCKETS="$(dirname "$DATA")"
LOG="$DATA.log"

say() { echo "ci_postgres: $*" >&2; }
give_up() { say "$*; PostgreSQL tests will be skipped"; exit 0; }

find_bin() { ls -d "$LIB"/*/bin 2>/dev/null | sort -V | tail -n 1; }

BIN="$(find_bin)"
if [ -z "$BIN" ] || [ ! -x "$BIN/initdb" ]; then
  command -v apt-get >/dev/null 2>&1 || give_up "PostgreSQL is not installed and apt-get is not available"
  [ "$(id -u)" -eq 0 ] || give_up "PostgreSQL is not installed and installing it needs root"
  say "installing postgresql with apt-get"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >&2 \
    || give_up "could not install postgresql"
  BIN="$(find_bin)"
  [ -n "$BIN" ] && [ -x "$BIN/initdb" ] || give_up "postgresql was installed but initdb is not in $LIB/*/bin"
fi

# PostgreSQL refuses to run as root: as root run it as the 'postgres' user.
if [ "$(id -u)" -eq 0 ]; then
  id postgres >/dev/null 2>&1 || give_up "there is no 'postgres' user to run the server as"
  AS=(runuser -u postgres --)
  OWNER=postgres
else
  AS=()
  OWNER="$(id -un)"
fi

if [ ! -s "$DATA/PG_VERSION" ]; then
  say "initialising $DATA"
  rm -rf "$DATA"
  install -d -m 700 -o "$OWNER" "$DATA" || give_up "cannot create $DATA"
  "${AS[@]}" "$BIN/initdb" -D "$DATA" -A trust -U postgres >"$LOG.initdb" 2>&1 \
    || give_up "initdb failed (see $LOG.initdb)"
fi

if "${AS[@]}" "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
  say "server already running ($DATA)"
else
  touch "$LOG" && chown "$OWNER" "$LOG" 2>/dev/null
  "${AS[@]}" "$BIN/pg_ctl" -D "$DATA" -o "-p $PORT -k $SOCKETS -c listen_addresses=localhost" -l "$LOG" -w -t 60 start >&2 \
    || give_up "the server did not start (see $LOG)"
fi

for _ in $(seq 1 30); do
  if "$BIN/pg_isready" -q -h localhost -p "$PORT"; then
    echo "postgresql+psycopg://postgres@localhost:$PORT/postgres"
    exit 0
  fi
  sleep 1
done
give_up "the server does not accept connections on localhost:$PORT (see $LOG)"
