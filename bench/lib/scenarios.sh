# bench/lib/scenarios.sh: the scenarios (sourced by bench/run; see bench/README.md).
#
# scenario_X runs X for every system it applies to (ours, and HAProxy unless --no-haproxy),
# one at a time, each on a fresh process, and records each measurement.

CONTRACT=0xd8dA6BF26964aF9D7eEd9e03E53415D37aA96045 # = sign_tokens' first contract
CONSUMER=bench-consumer
PRIVATE_KEY=keys/dev/dauth_private.pem
TOKEN_TTL=86400          # tokens stay valid (exp) and fresh (max_token_age_secs) for a day
TOKEN_REUSE_SECS=72000   # cached token files are re-signed after 20 h

mint_token() { # a single fresh DAuth token
  "$BIN/dauth-proxy" token --private-key "$PRIVATE_KEY" --contract "$CONTRACT" \
    --network ETHEREUM --consumer-key "$CONSUMER" --ttl "$TOKEN_TTL"
}

curl_tls() { # curl with the bench CA when TLS is in use
  if [[ $GATEWAY_URL == https:* ]]; then curl --cacert "$TLS/ca.pem" "$@"; else curl "$@"; fi
}

expect_200() { # URL [HEADER]: one request must answer 200 before a scenario is measured
  local status
  status=$(curl_tls -s -o "$WORK/probe.body" -w '%{http_code}' ${2:+-H "$2"} "$1" || true)
  [[ $status == 200 ]] || die "probe $1 answered $status: $(cat "$WORK/probe.body")"
}

expect_h2() { # URL: answers 200 over HTTP/2
  local got
  got=$(curl_tls -s -o /dev/null -w '%{http_code} %{http_version}' --http2 "$1" || true)
  [[ $got == "200 2" ]] || die "HTTP/2 probe of $1 answered '$got' (want '200 2')"
}

probe() { # LABEL MODE: bench/probe.py against the system just started; exits on a surprise
  local line
  line=$(python3 bench/probe.py "$1" "$GATEWAY_URL/bench/hello" "$2" "$(mint_token)" "$(mint_token)" \
    "$PRIVATE_KEY" ${TLS:+"$TLS/ca.pem"}) || { log "$line"; die "$1: the functional probe failed"; }
  log "$line"
  PROBES+=("$line")
}

systems() { # the systems a scenario with a HAProxy counterpart runs on
  echo ours
  [[ $HAPROXY == 0 ]] || echo haproxy
}

scenario_A() { # the upstream alone, on the measured core
  start_upstream_on "$GW_CORE" "$WORK/upstream-A.log"
  TARGET_PIDS=$STARTED_PID
  GATEWAY_URL=http://$STARTED_ADDR
  expect_200 "$GATEWAY_URL/bench/hello"
  LOAD_KIND=wrk LOAD_URL=$GATEWAY_URL/bench/hello LOAD_HEADERS=() TOKENS_FILE=
  measure A upstream
  record A upstream
  stop_target
}

scenario_B() {
  local s
  for s in $(systems); do
    start_system "$s" "B-$s" none false
    expect_200 "$GATEWAY_URL/bench/hello"
    LOAD_KIND=wrk LOAD_URL=$GATEWAY_URL/bench/hello LOAD_HEADERS=() TOKENS_FILE=
    measure B "$s"
    record B "$s"
    stop_target
  done
}

scenario_C() {
  local s
  for s in $(systems); do
    start_system "$s" "C-$s" required false
    probe "$s C" verify
    local token
    token=$(mint_token)
    expect_200 "$GATEWAY_URL/bench/hello" "DAuth: $token"
    LOAD_KIND=wrk LOAD_URL=$GATEWAY_URL/bench/hello LOAD_HEADERS=("DAuth: $token") TOKENS_FILE=
    measure C "$s"
    record C "$s"
    stop_target
  done
}

d_tokens() { # sizes and signs D's token file for NAME's rate; sets TOKENS_PATH
  local rate
  rate=$(rate_estimate "$1")
  local count=$((rate * (WARMUP + DURATION) * 6 / 5 + 2000))
  [[ $1 != D || $count -gt $((WINDOW + 5000)) ]] || count=$((WINDOW + 5000))
  ensure_tokens D "$count"
}

# measure_tokens NAME SYSTEM KIND SCHEME...: start, probe, measure with fresh tokens; on a
# shortage, sign more and measure again on a new process. Leaves the process running.
measure_tokens() {
  local name=$1 system=$2 kind=$3 tls=${4:-} attempt
  for attempt in 1 2; do
    [[ -z ${BEFORE_START:-} ]] || "$BEFORE_START"
    start_system "$system" "$name-$system" required true "$tls"
    probe "$system $name" replay
    expect_200 "$GATEWAY_URL/bench/hello" "DAuth: $(mint_token)"
    TOKENS_FILE=$TOKENS_PATH LOAD_URL=$GATEWAY_URL/bench/hello LOAD_HEADERS=() LOAD_KIND=$kind
    measure "$name" "$system"
    local short
    short=$(tokens_short)
    [[ $short -gt 0 ]] || return 0
    [[ $attempt == 1 ]] || { log "warning: $name $system ran out of tokens again ($short requests without one)"; return 0; }
    local total
    total=$(json_get "$MEASURED.load.json" requests)
    log "$name $system ran out of tokens ($short requests without one); signing more, measuring again"
    stop_target
    # Requests without a token are cheaper than with one: this overestimates the rate. Good.
    ensure_tokens "$(basename "$TOKENS_PATH" .txt)" $((total * (WARMUP + DURATION) / DURATION * 13 / 10 + 2000))
  done
}

# fill_window SYSTEM: after D's measurement, more fresh tokens until the replay window holds
# $WINDOW request ids; sets WINDOW_IDS (accepted tokens since start: a lower bound, as none
# expires within the run) and WINDOW_RSS_KB (peak RSS then).
fill_window() {
  local f=$MEASURED accepted=3 round # 3: the probe's two tokens and expect_200's
  [[ $WARMUP -eq 0 ]] || accepted=$((accepted + $(accepted_of "$f.warm.json")))
  accepted=$((accepted + $(accepted_of "$f.load.json")))
  local rate
  rate=$(json_get "$f.load.json" requests)
  rate=$((rate * 1000000 / $(json_get "$f.load.json" duration_us) + 1))
  for round in 1 2 3 4; do
    [[ $accepted -lt $WINDOW ]] || break
    # + one request per connection: wrk does not count those in flight when it stops, though the
    # process under test may have accepted them, so the count stays a lower bound.
    local need=$((WINDOW - accepted + CONNECTIONS)) avail
    avail=$(($(wc -l <"$TOKENS_PATH") - NEXT_TOKEN))
    [[ $avail -gt 0 ]] || { log "warning: no tokens left to fill the replay window"; break; }
    [[ $need -le $avail ]] || need=$avail
    local secs=$((need * 13 / 10 / rate + 1))
    log "D $1: filling the replay window: $need more fresh tokens (${secs}s at most)"
    TOKENS_START=$NEXT_TOKEN TOKENS_LIMIT=$need LOAD_KIND=wrk
    run_load "$secs" "$f.fill$round.json"
    accepted=$((accepted + $(accepted_of "$f.fill$round.json")))
    NEXT_TOKEN=$(json_get "$f.fill$round.json" tokens_next)
  done
  WINDOW_IDS=$accepted
  WINDOW_RSS_KB=$(target_kb VmHWM)
  log "D $1: replay window holds at least $WINDOW_IDS request ids; peak RSS $((WINDOW_RSS_KB / 1024)) MB"
}

scenario_D() {
  d_tokens D
  local s
  for s in $(systems); do
    measure_tokens D "$s" wrk
    local extra=()
    if [[ $WINDOW -gt 0 ]]; then
      fill_window "$s"
      extra=(replay_ids="$WINDOW_IDS" window_rss_mb="$(python3 -c "print(round($WINDOW_RSS_KB/1024, 1))")")
    fi
    record D "$s" "${extra[@]}"
    stop_target
  done
}

# D_shared NAME BACKEND: D on the gateway alone with `[replay] backend = BACKEND` (a window every
# replica would share), the service on the load core, emptied before each process starts.
D_shared() {
  local name=$1 backend=$2 url
  if [[ $backend == redis ]]; then start_redis; url=$REDIS_URL; else start_postgres; url=$PG_URL; fi
  d_tokens D
  GATEWAY_EXTRA_TOML=$(printf '[replay]\nbackend = "%s"\nurl = "%s"\n' "$backend" "$url")
  BEFORE_START=empty_windows
  measure_tokens "$name" ours wrk
  BEFORE_START= GATEWAY_EXTRA_TOML=
  record "$name" ours replay_backend="$backend"
  stop_target
}

# BN, DN: B and D on a gateway without the admin listener (`[admin] listen = ""`), which then
# counts nothing and reads no clock for metrics: with B and D, the metrics' cost (issue 14).
NO_ADMIN_TOML=$'[admin]\nlisten = ""'
scenario_BN() {
  GATEWAY_EXTRA_TOML=$NO_ADMIN_TOML
  start_system ours BN-ours none false
  GATEWAY_EXTRA_TOML=
  expect_200 "$GATEWAY_URL/bench/hello"
  LOAD_KIND=wrk LOAD_URL=$GATEWAY_URL/bench/hello LOAD_HEADERS=() TOKENS_FILE=
  measure BN ours
  record BN ours
  stop_target
}
scenario_DN() {
  d_tokens D
  GATEWAY_EXTRA_TOML=$NO_ADMIN_TOML
  measure_tokens DN ours wrk
  GATEWAY_EXTRA_TOML=
  record DN ours
  stop_target
}

scenario_DR() { D_shared DR redis; }

# CM: D on the PostgreSQL store with the hot-user cache off (`[cache] users = 0`): D's tokens
# name one contract, so after the first request each request's user exists and is a store
# lookup (with replay protection on, the verified-token cache is not consulted either). The
# lookup's p99 comes from the gateway's own histogram,
# dauth_store_operation_duration_seconds{op="get_or_create_user"}, read from the admin listener
# after the run.
# What it isolates, and at what load (a latency target is read below saturation, not at it):
# - The replay window is the memory one, so the database serves the lookups alone (DP measures
#   the PostgreSQL window; with it, every request also waits for a commit on the load core).
# - CM_CONNECTIONS (default 2) wrk connections, not --connections: about half the gateway's
#   D rate here (the measured core 55-60 % busy). At 4 connections it was 66-82 % busy on the
#   slower host of 2026-12-02, and at 8 or 64 the measured core's own run queue (other
#   requests' RSA checks) and the load core (wrk, the upstream and the database on one core)
#   are full: the histogram then times the queue for the core as much as the lookup.
# - Only the measured interval's lookups count (the histogram is scraped when it begins): the
#   warm-up's, with the pool's first connections, do not.
CM_CONNECTIONS=${CM_CONNECTIONS:-2}
fresh_cm_database() {
  "$PG_BIN/psql" -q -d "$PG_URL" -c 'DROP DATABASE IF EXISTS cm' -c 'CREATE DATABASE cm' >/dev/null
}
# The gateway's metrics (the admin listener's default address) into FILE, or the run stops: a
# failed scrape must not pass for an empty histogram.
scrape_metrics() { curl -sf http://127.0.0.1:9901/metrics >"$1" || die "cannot scrape the gateway's metrics"; }
scrape_measured_start() { scrape_metrics "$1.metrics-start.txt"; }
scenario_CM() {
  start_postgres
  d_tokens D
  STORE_EXTRA_TOML=$(printf 'backend = "postgres"\nurl = "%s"\npool_size = 32\n' "${PG_URL%/*}/cm")
  GATEWAY_EXTRA_TOML=$'[cache]\nusers = 0\n\n[replay]\nbackend = "memory"'
  BEFORE_START=fresh_cm_database AT_MEASURED_START=scrape_measured_start
  CONNECTIONS=$CM_CONNECTIONS measure_tokens CM ours wrk
  BEFORE_START= AT_MEASURED_START= STORE_EXTRA_TOML= GATEWAY_EXTRA_TOML=
  scrape_metrics "$MEASURED.metrics.txt"
  local lookup
  lookup=$(python3 bench/benchlib.py p99 "$MEASURED.metrics.txt" dauth_store_operation_duration_seconds \
    'op="get_or_create_user"' --before "$MEASURED.metrics-start.txt")
  log "CM: store lookup of an existing user ($CM_CONNECTIONS connections, the measured interval's lookups): $lookup"
  record CM ours store_backend=postgres replay_backend=memory connections="$CM_CONNECTIONS" \
    store_p99_ms="$(json_get_str "$lookup" p99_ms)" store_mean_ms="$(json_get_str "$lookup" mean_ms)" \
    store_within_half_ms_pct="$(json_get_str "$lookup" within_half_ms_pct)" \
    store_lookups="$(json_get_str "$lookup" observations)"
  stop_target
}
scenario_DP() { D_shared DP postgres; }

scenario_G() { # ours only: HAProxy has no user store
  local rate count
  rate=$(rate_estimate G)
  count=$((rate * (WARMUP + DURATION) * 6 / 5 + 2000))
  ensure_tokens G "$count"
  measure_tokens G ours wrk
  local users
  users=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(round((r["requests"] - r["non2xx"]) / r["duration_us"] * 1e6))' "$MEASURED.load.json")
  record G ours new_users_per_s="$users"
  stop_target
}

# GP: G on the PostgreSQL store (`pool_size` 32), as replicas run it: each new user is committed
# (synchronous_commit on) and, with no [replay] table, each request id is recorded in the
# store's own dauth_replay table too. The database is made anew before each process starts.
scenario_GP() {
  start_postgres
  local rate count db=${PG_URL%/*}/gp
  rate=$(rate_estimate G)
  count=$((rate * (WARMUP + DURATION) * 6 / 5 + 2000))
  ensure_tokens G "$count"
  STORE_EXTRA_TOML=$(printf 'backend = "postgres"\nurl = "%s"\npool_size = 32\n' "$db")
  BEFORE_START=fresh_gp_database
  measure_tokens GP ours wrk
  BEFORE_START= STORE_EXTRA_TOML=
  local users
  users=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(round((r["requests"] - r["non2xx"]) / r["duration_us"] * 1e6))' "$MEASURED.load.json")
  record GP ours new_users_per_s="$users" store_backend=postgres
  stop_target
}

scenario_E() {
  gateway_config E required false
  start_gateway E
  local token
  token=$(mint_token)
  expect_200 "$GATEWAY_URL/obp/v5.1.0/users/current" "DAuth: $token"
  LOAD_KIND=wrk LOAD_URL=$GATEWAY_URL/obp/v5.1.0/users/current LOAD_HEADERS=("DAuth: $token") TOKENS_FILE=
  measure E ours
  record E ours
  stop_target
}

scenario_F() {
  local token
  gateway_config F required false
  start_gateway F
  token=$(bearer_token)
  [[ -n $token ]] || die "scenario F: could not get a bearer token from the gateway"
  expect_200 "$GATEWAY_URL/obp/v5.1.0/users/current" "Authorization: Bearer $token"
  LOAD_KIND=wrk LOAD_URL=$GATEWAY_URL/obp/v5.1.0/users/current
  LOAD_HEADERS=("Authorization: Bearer $token") TOKENS_FILE=
  measure F ours
  record F ours
  stop_target
}

scenario_TB() {
  local s
  for s in $(systems); do
    start_system "$s" "TB-$s" none false tls
    expect_200 "$GATEWAY_URL/bench/hello"
    LOAD_KIND=wrk LOAD_URL=$GATEWAY_URL/bench/hello LOAD_HEADERS=() TOKENS_FILE=
    measure TB "$s"
    record TB "$s"
    stop_target
  done
}

scenario_TD() {
  d_tokens TD
  local s
  for s in $(systems); do
    measure_tokens TD "$s" wrk tls
    record TD "$s"
    stop_target
  done
}

scenario_HB() { # h2load, as the issue asks
  local s
  for s in $(systems); do
    start_system "$s" "HB-$s" none false tls
    expect_h2 "$GATEWAY_URL/bench/hello"
    LOAD_KIND=h2load LOAD_URL=$GATEWAY_URL/bench/hello LOAD_HEADERS=() TOKENS_FILE=
    measure HB "$s"
    record HB "$s"
    stop_target
  done
}

scenario_HBt() { # HB driven by HD's tool, so that HD - HBt compares like with like
  local s
  for s in $(systems); do
    start_system "$s" "HBt-$s" none false tls
    expect_h2 "$GATEWAY_URL/bench/hello"
    LOAD_KIND=h2tok LOAD_URL=$GATEWAY_URL/bench/hello LOAD_HEADERS=() TOKENS_FILE=
    measure HBt "$s"
    record HBt "$s"
    stop_target
  done
}

scenario_HD() {
  d_tokens HD
  local s
  for s in $(systems); do
    make_tls
    measure_tokens HD "$s" h2tok tls
    record HD "$s"
    stop_target
  done
}

scenario_I() { # idle keep-alive connections: memory per open connection
  gateway_config IDLE none false "" "idle_timeout_secs = 600"
  start_gateway IDLE
  log "idle: opening $IDLE_CONNS keep-alive connections to the gateway"
  pin_load python3 bench/idle_conns.py 127.0.0.1 "$PORT" "$IDLE_CONNS" "$TARGET_PIDS" /health 3 \
    >"$WORK/idle.json" || die "idle connections measurement failed"
  log "idle: $(cat "$WORK/idle.json")"
  stop_target
}
