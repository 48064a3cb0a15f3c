#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the test suite (CI and developers).
#
#   scripts/pg_cluster.sh start DIR   initdb into DIR (if empty), start on 127.0.0.1:$PGPORT (default 55432),
#                                     create the role `rutaci` with CREATEDB, print the test database URL
#   scripts/pg_cluster.sh stop DIR    stop the cluster (fast shutdown)
#
# As root the cluster runs as the unprivileged `postgres` user (PostgreSQL refuses to run as root);
# otherwise as the current user. Durability is switched off: the data is thrown away after the run.
set -euo pipefail

cmd=${1:?usage: pg_cluster.sh start|stop DIR}
dir=${2:?usage: pg_cluster.sh start|stop DIR}
port=${PGPORT:-55432}
role=${RUTA_PG_ROLE:-rutaci}

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bindir" ]; then
  bindir=$(dirname "$(command -v pg_ctl || command -v initdb || echo /nonexistent/x)")
fi
[ -x "$bindir/initdb" ] || { echo "PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 1; }

as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u "${RUTA_PG_OWNER:-postgres}" -- "$@"
  else
    "$@"
  fi
}

case "$cmd" in
  start)
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then chown "${RUTA_PG_OWNER:-postgres}" "$dir"; fi
    chmod 700 "$dir"
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      as_owner "$bindir/initdb" -D "$dir/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
        -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-k $dir -p $port -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 -c autovacuum=off" \
      start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    password_file="$dir/role_password"
    if [ ! -f "$password_file" ]; then
      as_owner sh -c "umask 077; head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > '$password_file'"
    fi
    password=$(cat "$password_file")
    as_owner "$bindir/psql" -q -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U postgres -d postgres >/dev/null <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$role') THEN
    CREATE ROLE $role LOGIN CREATEDB PASSWORD '$password';
  END IF;
END \$\$;
-- DROP DATABASE ... WITH (FORCE) in the tests' teardown may have to end a backend of another role.
GRANT pg_signal_backend TO $role;
SQL
    echo "postgresql+psycopg://$role:$password@127.0.0.1:$port/postgres"
    ;;
  stop)
    if [ -f "$dir/data/postmaster.pid" ]; then
      as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
    fi
    ;;
  *)
    echo "usage: pg_cluster.sh start|stop DIR" >&2
    exit 2
    ;;
esac
