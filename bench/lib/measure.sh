# bench/lib/measure.sh: load phases, CPU samples around the measured interval, token files
# (sourced by bench/run).
#
# A measurement of one system in one scenario: a warm-up phase ($WARMUP s, not measured), then
# the measured phase ($DURATION s) with a CPU sample of the process under test (utime + stime
# from /proc/PID/stat, every thread) and of every core (/proc/stat) just before and just after.
# CPU us/request = that CPU time / the requests the load generator completed in the phase.
#
# Load generators (LOAD_KIND), all pinned to $LOAD_CORE and all printing one BENCH_RESULT line:
#   wrk     HTTP/1.1 (plain or TLS), LOAD_HEADERS on every request, or a fresh token per request
#           from TOKENS_FILE (bench/lua/rotate.lua)
#   h2load  HTTP/2 over TLS, the same headers on every request (nghttp2-client)
#   h2tok   HTTP/2 over TLS, a fresh token per request when TOKENS_FILE is set
#           (examples/h2_tokens.rs: h2load cannot vary a header per request)
# Token phases chain: each phase starts at the first line of TOKENS_FILE the one before left.

LOAD_KIND=wrk
LOAD_URL=
LOAD_HEADERS=()
TOKENS_FILE=
TOKENS_START=0
TOKENS_LIMIT=-1

json_get() { # FILE KEY
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"
}
json_get_str() { # JSON KEY: a key of a JSON text
  python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"
}
accepted_of() { # FILE: responses that were not errors (requests - non2xx)
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["requests"] - r["non2xx"])' "$1"
}

to_ms() { # 1m2.345s -> 62345
  [[ $1 =~ ^([0-9]+)m([0-9]+)\.([0-9]+)s$ ]] || { echo 0; return; }
  echo $((BASH_REMATCH[1] * 60000 + 10#${BASH_REMATCH[2]} * 1000 + 10#${BASH_REMATCH[3]}))
}
children_ms() { # CPU time of this shell's finished children (the `times` builtin)
  local u s
  times >"$WORK/times.txt"
  { read -r _ _; read -r u s; } <"$WORK/times.txt"
  CHILDREN_MS=$(($(to_ms "$u") + $(to_ms "$s")))
}

run_load() { # SECS OUT: one load phase; its BENCH_RESULT JSON goes to OUT
  local secs=$1 out=$2 raw=$2.txt h
  case $LOAD_KIND in
    wrk)
      local args=(-t"$THREADS" -c"$CONNECTIONS" -d"${secs}s" --latency)
      for h in "${LOAD_HEADERS[@]}"; do args+=(-H "$h"); done
      if [[ -n $TOKENS_FILE ]]; then
        args+=(-s "$WORK/rotate-report.lua" "$LOAD_URL" -- "$TOKENS_FILE" "$THREADS" "$TOKENS_START" "$TOKENS_LIMIT")
      else
        args+=(-s bench/lua/report.lua "$LOAD_URL")
      fi
      pin_load wrk "${args[@]}" >"$raw" 2>&1 || { cat "$raw" >&2; die "wrk failed"; }
      sed -n 's/^BENCH_RESULT //p' "$raw" >"$out"
      ;;
    h2load)
      local args=(-c"$H2_CLIENTS" -m"$H2_STREAMS" -t1 -D "$secs" --log-file "$raw.log")
      for h in "${LOAD_HEADERS[@]}"; do args+=(-H "$h"); done
      pin_load h2load "${args[@]}" "$LOAD_URL" >"$raw" 2>&1 || { cat "$raw" >&2; die "h2load failed"; }
      python3 bench/benchlib.py h2load "$raw" "$raw.log" "$secs" | sed -n 's/^BENCH_RESULT //p' >"$out"
      rm -f "$raw.log"
      ;;
    h2tok)
      local args=(--url "$LOAD_URL" --ca "$TLS/ca.pem" --connections "$H2_CLIENTS"
        --streams "$H2_STREAMS" --duration "$secs")
      if [[ -n $TOKENS_FILE ]]; then
        args+=(--tokens "$TOKENS_FILE" --start "$TOKENS_START")
        [[ $TOKENS_LIMIT -lt 0 ]] || args+=(--limit "$TOKENS_LIMIT")
      fi
      pin_load "$BIN/examples/h2_tokens" "${args[@]}" >"$raw" 2>&1 ||
        { cat "$raw" >&2; die "h2_tokens failed"; }
      sed -n 's/^BENCH_RESULT //p' "$raw" >"$out"
      ;;
  esac
  [[ -s $out ]] || { cat "$raw" >&2; die "no BENCH_RESULT from $LOAD_KIND"; }
}

sample() { # OUT: CPU ticks of the process under test, the helpers, every core
  pin_load python3 bench/benchlib.py sample --target $TARGET_PIDS --helper $HELPER_PIDS >"$1"
}

# measure NAME SYSTEM: warm-up, then the measured phase between two samples. Sets MEASURED (the
# files' prefix), LOAD_MS (the load tool's CPU), RSS_KB (peak RSS of the process under test at
# the end of the measured phase) and, with tokens, NEXT_TOKEN.
measure() {
  local name=$1 system=$2 f=$WORK/m-$1-$2
  log "$name $system: ${WARMUP}s warm-up, then ${DURATION}s measured ($LOAD_KIND $LOAD_URL)"
  TOKENS_START=0
  TOKENS_LIMIT=-1
  if [[ $WARMUP -gt 0 ]]; then
    run_load "$WARMUP" "$f.warm.json"
    [[ -z $TOKENS_FILE ]] || TOKENS_START=$(json_get "$f.warm.json" tokens_next)
  fi
  # AT_MEASURED_START: a function run when the measured interval begins (CM scrapes the
  # gateway's histograms, to count the measured interval's observations only).
  [[ -z ${AT_MEASURED_START:-} ]] || "$AT_MEASURED_START" "$f"
  children_ms
  local ms0=$CHILDREN_MS
  sample "$f.before.json"
  local perf_pid=
  if [[ -n ${BENCH_PERF:-} ]]; then # a call-graph profile of the measured phase (bench/README.md)
    perf record -q -e cpu-clock ${BENCH_PERF_ARGS--g} -p "${TARGET_PIDS// /,}" -o "$f.perf.data" >"$f.perf.log" 2>&1 &
    perf_pid=$!
  elif [[ -n ${BENCH_PERF_STAT:-} ]]; then # system-call and context-switch counts (bench/README.md)
    perf stat -e "${BENCH_PERF_STAT_EVENTS:-cs,sched:sched_waking,syscalls:sys_enter_fdatasync,syscalls:sys_enter_fsync,syscalls:sys_enter_sync_file_range,syscalls:sys_enter_pwrite64,syscalls:sys_enter_pwritev,syscalls:sys_enter_futex,syscalls:sys_enter_write,syscalls:sys_enter_writev,syscalls:sys_enter_epoll_wait}" -p "${TARGET_PIDS// /,}" -o "$f.perfstat.txt" >/dev/null 2>&1 &
    perf_pid=$!
  fi
  run_load "$DURATION" "$f.load.json"
  if [[ -n $perf_pid ]]; then kill -INT "$perf_pid"; wait "$perf_pid" || true; fi
  sample "$f.after.json"
  children_ms
  LOAD_MS=$((CHILDREN_MS - ms0))
  RSS_KB=$(target_kb VmHWM)
  check_target_alive "$name $system"
  MEASURED=$f
  if [[ -n $TOKENS_FILE ]]; then NEXT_TOKEN=$(json_get "$f.load.json" tokens_next); fi
}

record() { # NAME SYSTEM [KEY=VALUE...]: the last measurement, into $RESULTS
  python3 bench/benchlib.py record --scenario "$1" --system "$2" --before "$MEASURED.before.json" \
    --after "$MEASURED.after.json" --load "$MEASURED.load.json" --load-ms "$LOAD_MS" \
    --rss-kb "$RSS_KB" --gateway-core "$GW_CORE" --load-core "$LOAD_CORE" --tool "$LOAD_KIND" --extra "${@:3}"
}

tokens_short() { json_get "$MEASURED.load.json" tokens_short; }

# --- Token files --------------------------------------------------------------------------------
# Pre-signed tokens are kept in bench/work/tokens between runs (signing is the slow part of a
# run) while younger than TOKEN_REUSE_SECS and signed with the same key; each system under test
# starts with an empty replay window, so a file is reused by every system and scenario, never
# within one measurement. KIND D: one contract (the user exists after the first request); G:
# every token its own random contract (every request creates a user).
ensure_tokens() { # KIND COUNT: sets TOKENS_PATH to a file of at least COUNT tokens
  local kind=$1 count=$2 dir=$ROOT/bench/work/tokens
  local file=$dir/$kind.txt stamp=$dir/$kind.signed key_id
  mkdir -p "$dir"
  key_id=$(sha256sum "$PRIVATE_KEY" | cut -c1-16)
  if [[ -f $stamp ]]; then
    local t k
    read -r t k <"$stamp"
    if [[ $(($(date +%s) - t)) -gt $TOKEN_REUSE_SECS || $k != "$key_id" ]]; then
      log "tokens $kind: the cached file is stale or from another key; signing anew"
      rm -f "$file" "$stamp"
    fi
  fi
  local have=0
  [[ ! -f $file ]] || have=$(wc -l <"$file")
  if [[ $have -lt $count ]]; then
    local extra=()
    [[ $kind != G ]] || extra=(--random-contracts)
    log "tokens $kind: $have cached, signing $((count - have)) more on every core"
    [[ -f $stamp ]] || echo "$(date +%s) $key_id" >"$stamp"
    "$BIN/examples/sign_tokens" --count $((count - have)) --out - --private-key "$PRIVATE_KEY" \
      --consumer-key "$CONSUMER" --ttl "$TOKEN_TTL" "${extra[@]}" >>"$file" 2>"$WORK/sign-$kind.log"
    SIGNING_NOTES+="$kind: $(cat "$WORK/sign-$kind.log"); "
    log "$(cat "$WORK/sign-$kind.log")"
  else
    log "tokens $kind: reusing $have cached tokens (need $count)"
  fi
  TOKENS_PATH=$file
}

# rate_estimate SCENARIO: req/s to size a token file by (a shortage is caught and measured again
# with more tokens, so this need not be an upper bound). From, in this order: this scenario's
# or D's rate in this run or in bench/results/latest.json (x 1.4); HAProxy's C, which verifies a
# signature per request as D does (x 1.6); for G, 10,000 (twice its target); else the rate of a
# core doing nothing but one verification and 5 us more per request.
rate_estimate() {
  python3 - "$1" "$VERIFY_US" "$RESULTS" "$ROOT/bench/results/latest.json" <<'PY'
import json, sys
scen, verify, results, latest = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4]
bound = 1e6 / (verify + 5)
same = (scen,) if scen == "G" else (scen, "D")
run = [json.loads(l) for l in open(results)]
rates = [r["rps"] for r in run if r["scenario"] in same]
try:
    doc = json.load(open(latest))["scenarios"]
    for name in same:
        for rec in doc.get(name, {}).values():
            if isinstance(rec, dict) and "rps" in rec:
                rates.append(rec["rps"])
except (OSError, ValueError, KeyError, AttributeError):
    pass
if rates:
    est = 1.4 * max(rates)
elif scen == "G":
    est = 10000
else:
    hc = [r["rps"] for r in run if r["scenario"] == "C" and r["system"] == "haproxy"]
    est = 1.6 * max(hc) if hc else bound
print(int(min(bound, est)))
PY
}
