# bench/lib/services.sh: the Redis and PostgreSQL the shared replay window scenarios (DR, DP)
# use (sourced by bench/run; see bench/README.md). Each runs on the load core, like the
# upstream, so the measured core has the gateway alone; their CPU is not in the gateway's
# figure (the JSON records theirs as "others" of the load core). Started once per run, emptied
# before each measurement, stopped by cleanup.

REDIS_PID= REDIS_URL= PG_DIR= PG_URL= PG_BIN=

start_redis() { # a throw-away redis-server on a free port (append-only file, fsync every second)
  [[ -z $REDIS_URL ]] || return 0
  need_pkg redis-server redis-server
  local port dir=$WORK/redis
  port=$(free_port)
  mkdir -p "$dir"
  # Not through pin_load: a function sent to the background is a subshell, and $! would be
  # its PID, not redis-server's (killing it left the server running, and its CPU uncounted).
  taskset -c "$LOAD_CORE" redis-server --bind 127.0.0.1 --port "$port" --dir "$dir" --save '' \
    --appendonly yes --appendfsync everysec >"$WORK/redis.log" 2>&1 &
  REDIS_PID=$!
  wait_port "$port" "$REDIS_PID" "$WORK/redis.log"
  REDIS_URL=redis://127.0.0.1:$port/0
  HELPER_PIDS="$HELPER_PIDS $REDIS_PID"
  log "redis: $(redis-server --version | cut -d' ' -f1-3) on $REDIS_URL (load core)"
}

pg_tool() { # NAME ARGS...: a PostgreSQL server binary, as the postgres user when root
  if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$PG_BIN/$1" "${@:2}"; else "$PG_BIN/$1" "${@:2}"; fi
}

start_postgres() { # a throw-away cluster in bench/work/pg, trust on loopback, fsync on
  [[ -z $PG_URL ]] || return 0
  PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  if [[ -z $PG_BIN ]]; then
    need_pkg pg_ctlcluster postgresql
    PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  fi
  local port
  port=$(free_port)
  PG_DIR=$WORK/pg
  mkdir -p "$PG_DIR"
  [[ $(id -u) != 0 ]] || chown postgres: "$PG_DIR"
  pg_tool initdb -D "$PG_DIR/data" -U dauth --auth=trust -E UTF8 --locale=C --no-sync >"$WORK/pg-initdb.log" 2>&1 ||
    { cat "$WORK/pg-initdb.log" >&2; die "initdb failed"; }
  printf "listen_addresses = '127.0.0.1'\nunix_socket_directories = ''\nport = %s\nfsync = on\nsynchronous_commit = on\nmax_connections = 200\nshared_buffers = '256MB'\n" \
    "$port" >>"$PG_DIR/data/postgresql.conf"
  # pg_ctl's server inherits the load core's affinity.
  pin_load bash -c "$(declare -f pg_tool); PG_BIN=$PG_BIN pg_tool pg_ctl -D $PG_DIR/data -l $PG_DIR/server.log -w start" >/dev/null ||
    { cat "$PG_DIR/server.log" >&2; die "postgres did not start"; }
  PG_URL=postgres://dauth@127.0.0.1:$port/postgres
  HELPER_PIDS="$HELPER_PIDS $(head -1 "$PG_DIR/data/postmaster.pid")"
  log "postgres: $("$PG_BIN/postgres" --version) on 127.0.0.1:$port (load core, fsync and synchronous_commit on)"
}

stop_services() {
  [[ -z $REDIS_PID ]] || kill "$REDIS_PID" 2>/dev/null || true
  [[ -z $PG_DIR ]] || pg_tool pg_ctl -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
}

empty_windows() { # before each DR/DP measurement: every token file line is fresh again
  if [[ -n $REDIS_URL ]]; then redis-cli -u "$REDIS_URL" FLUSHDB >/dev/null; fi
  if [[ -n $PG_URL ]]; then
    "$PG_BIN/psql" -q -d "$PG_URL" -c 'DROP TABLE IF EXISTS dauth_replay' >/dev/null 2>&1
  fi
}

fresh_gp_database() { # before each GP measurement: an empty database for the store
  "$PG_BIN/psql" -q -d "$PG_URL" -c 'DROP DATABASE IF EXISTS gp' -c 'CREATE DATABASE gp' >/dev/null
}
