#!/usr/bin/env bash
# Sourced by run-tests.sh: starts the servers the tests need on free loopback ports and
# exports where they are. `stop_test_servers` (installed as an EXIT trap) removes them.
#   DRIPR_TEST_PG_URL    postgresql://postgres@127.0.0.1:PORT/postgres  (throw-away PG cluster)
#   DRIPR_TEST_MOTO_URL  http://127.0.0.1:PORT                           (moto_server)
#   DRIPR_TEST_MYSQL_URL mysql://dripr:PASSWORD@127.0.0.1:PORT/dripr    (throw-away MariaDB)

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...
  local deadline=$((SECONDS + $1)) what=$2
  shift 2
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then echo "timed out waiting for $what" >&2; return 1; fi
    sleep 0.2
  done
}

pg_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin; do [[ -x $d/initdb ]] && echo "$d"; done | sort -V | tail -1
}

# One directory per shell (not exported): sourcing again in the same shell keeps it, so one
# stop_test_servers stops every server that shell started.
if [[ -z ${TEST_SERVERS_DIR:-} || ! -d $TEST_SERVERS_DIR ]]; then
  TEST_SERVERS_DIR=$(mktemp -d /tmp/dripr-test-servers.XXXXXX)
  chmod 755 "$TEST_SERVERS_DIR"
fi

start_postgres() {
  local bin port
  bin=$(pg_bin)
  [[ -n "$bin" ]] || { echo "PostgreSQL server binaries not found (apt-get install postgresql)" >&2; return 1; }
  port=$(free_port)
  local data=$TEST_SERVERS_DIR/pg
  mkdir -p "$data" "$TEST_SERVERS_DIR/pglog" && chown postgres:postgres "$data" "$TEST_SERVERS_DIR/pglog"
  export DRIPR_TEST_PG_CTL="$bin/pg_ctl" DRIPR_TEST_PG_DATA="$data"
  export DRIPR_TEST_PG_OPTS="-h 127.0.0.1 -p $port -k $data -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
  as_postgres "$bin/initdb" -D "$data" -U postgres -A trust -E UTF8 --no-sync >"$TEST_SERVERS_DIR/initdb.log" 2>&1 \
    || { cat "$TEST_SERVERS_DIR/initdb.log" >&2; return 1; }
  pg_server_start || { cat "$TEST_SERVERS_DIR/pglog/pg.log" >&2; return 1; }
  export DRIPR_TEST_PG_URL="postgresql://postgres@127.0.0.1:$port/postgres"
  echo "PostgreSQL on 127.0.0.1:$port"
}

# The test cluster belongs to the postgres user (initdb refuses to run as root).
as_postgres() {
  if [[ $(id -un) == postgres ]]; then "$@"; else runuser -u postgres -- "$@"; fi
}

# Start/stop the cluster made by start_postgres (same port, same data): e2e scripts use them
# to take PostgreSQL away mid-run. A fast stop lets committed transactions reach disk.
pg_server_start() {
  as_postgres "$DRIPR_TEST_PG_CTL" -D "$DRIPR_TEST_PG_DATA" -l "$DRIPR_TEST_PG_DATA/../pglog/pg.log" \
    -w -t 60 -o "$DRIPR_TEST_PG_OPTS" start >/dev/null
}
pg_server_stop() {
  as_postgres "$DRIPR_TEST_PG_CTL" -D "$DRIPR_TEST_PG_DATA" -m fast -w -t 60 stop >/dev/null
}

# A throw-away MariaDB: its own datadir and mariadbd on a free loopback port. The datadir is
# bootstrapped directly (`mariadbd --bootstrap` with the system tables only: what
# mariadb-install-db does minus the 3 MB of help tables and the sys schema, ~3x faster), with
# the durability knobs off like the PostgreSQL cluster. The tests connect as `dripr` (all
# privileges and a password, so the URL carries one) and create a database of their own per
# test; root logs in over the server's socket only (unix_socket authentication).
start_mariadb() {
  [[ -x /usr/sbin/mariadbd ]] || { echo "mariadbd not found (apt-get install mariadb-server)" >&2; return 1; }
  local port data=$TEST_SERVERS_DIR/mariadb share=/usr/share/mysql
  port=$(free_port)
  mkdir -p "$data/db" && chown -R mysql:mysql "$data"
  export DRIPR_TEST_MYSQL_DATA=$data DRIPR_TEST_MYSQL_PORT=$port
  {
    echo "CREATE DATABASE IF NOT EXISTS mysql;"
    echo "USE mysql;"
    echo "SET @auth_root_socket='root';"
    cat "$share/mysql_system_tables.sql" "$share/mysql_performance_tables.sql" "$share/mysql_system_tables_data.sql"
    # (No CREATE USER while bootstrapping: the grant tables are written directly.)
    echo "INSERT INTO mysql.global_priv VALUES ('%', 'dripr', CONCAT('{\"access\":18446744073709551615,\"plugin\":\"mysql_native_password\",\"authentication_string\":\"', PASSWORD('dripr-test-pw'), '\"}'));"
    echo "CREATE DATABASE dripr;"
  } | /usr/sbin/mariadbd --no-defaults --user=mysql --bootstrap --datadir="$data/db" --log-warnings=0 \
    --enforce-storage-engine="" --skip-log-bin $MARIADB_TEST_OPTS >"$TEST_SERVERS_DIR/mariadb-install.log" 2>&1 \
    || { cat "$TEST_SERVERS_DIR/mariadb-install.log" >&2; return 1; }
  mariadb_server_start || return 1
  export DRIPR_TEST_MYSQL_URL="mysql://dripr:dripr-test-pw@127.0.0.1:$port/dripr"
  echo "MariaDB on 127.0.0.1:$port"
}
MARIADB_TEST_OPTS="--innodb-buffer-pool-size=64M --innodb-log-file-size=16M --innodb-flush-log-at-trx-commit=0 --innodb-doublewrite=0"

# Start/stop the server made by start_mariadb (same port, same data), for e2e scripts.
mariadb_server_start() {
  local data=$DRIPR_TEST_MYSQL_DATA
  # In a subshell, so the server is not a job of this shell (no "Killed" notice at the end).
  (/usr/sbin/mariadbd --no-defaults --user=mysql --datadir="$data/db" --bind-address=127.0.0.1 \
    --port="$DRIPR_TEST_MYSQL_PORT" --socket="$data/mysqld.sock" --pid-file="$data/mysqld.pid" \
    --skip-name-resolve --max-connections=300 --skip-log-bin $MARIADB_TEST_OPTS \
    --log-error="$data/error.log" >/dev/null 2>&1 &
    echo $! >"$data/server.pid")
  wait_for 60 mariadbd /usr/bin/mariadb-admin --no-defaults -uroot --socket="$data/mysqld.sock" ping \
    || { cat "$data/error.log" >&2; return 1; }
}
mariadb_server_stop() {
  local pid
  pid=$(cat "$DRIPR_TEST_MYSQL_DATA/server.pid" 2>/dev/null) || return 0
  kill "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
}

start_moto() {
  command -v moto_server >/dev/null || { echo "moto_server not found on PATH" >&2; return 1; }
  local port
  port=$(free_port)
  moto_server -H 127.0.0.1 -p "$port" >"$TEST_SERVERS_DIR/moto.log" 2>&1 &
  echo $! >"$TEST_SERVERS_DIR/moto.pid"
  export DRIPR_TEST_MOTO_URL="http://127.0.0.1:$port"
  wait_for 60 moto_server curl -fsS -X POST "$DRIPR_TEST_MOTO_URL/moto-api/reset" || { cat "$TEST_SERVERS_DIR/moto.log" >&2; return 1; }
  echo "moto_server on 127.0.0.1:$port"
}

# Stops only the servers this sourcing started (their data lives in its TEST_SERVERS_DIR): an
# e2e script that starts a private server of one kind inherits the outer run's variables for
# the other kinds, and must not stop the servers the concurrently running suites use.
stop_test_servers() {
  if [[ -f $TEST_SERVERS_DIR/moto.pid ]]; then kill "$(cat "$TEST_SERVERS_DIR/moto.pid")" 2>/dev/null || true; fi
  if [[ ${DRIPR_TEST_PG_DATA:-} == "$TEST_SERVERS_DIR"/* && -f $DRIPR_TEST_PG_DATA/postmaster.pid ]]; then
    as_postgres "$DRIPR_TEST_PG_CTL" -D "$DRIPR_TEST_PG_DATA" -m immediate stop >/dev/null 2>&1 || true
  fi
  if [[ ${DRIPR_TEST_MYSQL_DATA:-} == "$TEST_SERVERS_DIR"/* && -f $DRIPR_TEST_MYSQL_DATA/server.pid ]]; then
    kill -9 "$(cat "$DRIPR_TEST_MYSQL_DATA/server.pid")" 2>/dev/null || true
  fi
  rm -rf "$TEST_SERVERS_DIR"
}
