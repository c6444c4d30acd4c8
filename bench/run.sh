#!/usr/bin/env bash
# dermagraph load benchmark (issue #7): builds release, seeds a fresh
# database per engine, starts the release server and drives the six
# scenarios with wrk (scenario 5, a chain of mutations, with bench-writes).
# On PostgreSQL, scenario 3 is also served by PostGraphile v5 and run as one
# SQL statement by pgbench on the same data, the three interleaved.
#
#   bench/run.sh                      # full run: 10,000 patients, both engines
#   bench/run.sh --smoke              # a quick pass to check the harness
#   bench/run.sh --engines postgres --patients 20000 --duration 30
#
# Every option also reads an environment variable (in brackets):
#   --patients N        patients to seed [PATIENTS=10000]
#   --engines "E ..."   sqlite and/or postgres [ENGINES="sqlite postgres"]
#   --duration S        seconds per timed wrk run [DURATION=15]
#   --warmup S          seconds of warm-up per scenario [WARMUP=5]
#   --runs N            timed runs per scenario [RUNS=3]
#   --connections C     wrk connections [CONNECTIONS=16]
#   --threads T         wrk threads [THREADS=2]
#   --pool-size P       database pool of the server and of PostGraphile,
#                       pgbench clients [POOL_SIZE=10]
#   --write-iterations N  write-mix iterations per timed run [WRITE_ITERATIONS=600]
#   --write-warmup N    write-mix warm-up iterations [WRITE_WARMUP=50]
#   --write-concurrency N  write-mix workers [WRITE_CONCURRENCY=8]
#   --no-peer           skip PostGraphile and pgbench [PEER=0]
#   --smoke             1,000 patients, 1 run of 3 s, 1 s warm-up, 20 writes
#   PORT, PEER_PORT     ports of the server and PostGraphile [28471, 28472]
#   KEEP_WORK=1         keep bench/.work/<stamp> (server logs, bodies, pool)
#   --pg-url URL        PostgreSQL server (databases dermagraph_bench_* are
#                       created and dropped there) [PG_URL=postgres://postgres@127.0.0.1:5432]
#   --pg-params Q       connection parameters our server, PostGraphile and
#                       pgbench all get [PG_PARAMS=sslmode=disable]. sqlx and
#                       libpq default to TLS when the server offers it (Debian's
#                       does) and node-postgres to none, so without one setting
#                       for all three the peer would skip the encryption we pay.
#
# Results: a markdown table per engine in bench/results/<date>-<engine>.md
# (and -smoke for smoke runs), raw numbers in bench/results/raw/.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"

PATIENTS="${PATIENTS:-10000}"
ENGINES="${ENGINES:-sqlite postgres}"
DURATION="${DURATION:-15}"
WARMUP="${WARMUP:-5}"
RUNS="${RUNS:-3}"
CONNECTIONS="${CONNECTIONS:-16}"
THREADS="${THREADS:-2}"
POOL_SIZE="${POOL_SIZE:-10}"
WRITE_ITERATIONS="${WRITE_ITERATIONS:-600}"
WRITE_WARMUP="${WRITE_WARMUP:-50}"
WRITE_CONCURRENCY="${WRITE_CONCURRENCY:-8}"
PEER="${PEER:-1}"
PG_URL="${PG_URL:-postgres://postgres@127.0.0.1:5432}"
PG_PARAMS="${PG_PARAMS-sslmode=disable}"
PORT="${PORT:-28471}"
PEER_PORT="${PEER_PORT:-28472}"
SMOKE=0

while [[ $# -gt 0 ]]; do
  case "$1" in
    --patients) PATIENTS="$2"; shift 2 ;;
    --engines) ENGINES="$2"; shift 2 ;;
    --duration) DURATION="$2"; shift 2 ;;
    --warmup) WARMUP="$2"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    --connections) CONNECTIONS="$2"; shift 2 ;;
    --threads) THREADS="$2"; shift 2 ;;
    --pool-size) POOL_SIZE="$2"; shift 2 ;;
    --write-iterations) WRITE_ITERATIONS="$2"; shift 2 ;;
    --write-warmup) WRITE_WARMUP="$2"; shift 2 ;;
    --write-concurrency) WRITE_CONCURRENCY="$2"; shift 2 ;;
    --no-peer) PEER=0; shift ;;
    --pg-url) PG_URL="$2"; shift 2 ;;
    --pg-params) PG_PARAMS="$2"; shift 2 ;;
    --smoke)
      SMOKE=1 PATIENTS=1000 DURATION=3 WARMUP=1 RUNS=1 WRITE_ITERATIONS=20 WRITE_WARMUP=5
      shift ;;
    -h|--help) sed -n '2,/^set -euo/{/^#/p}' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
  esac
done

log() { printf '\n[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

# --- build and tools -------------------------------------------------------
log "building release (cargo build --release --locked)"
cd "$repo"
cargo build --release --locked --bin dermagraph --bin bench-writes >&2
target="${CARGO_TARGET_DIR:-$repo/target}"
BIN="$target/release/dermagraph"
WRITES="$target/release/bench-writes"

if ! command -v wrk >/dev/null; then
  log "installing wrk"
  sudo_cmd=""
  [[ "$(id -u)" -ne 0 ]] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq && $sudo_cmd apt-get install -y -qq wrk >&2
fi
for tool in wrk jq curl python3; do
  command -v "$tool" >/dev/null || { echo "bench/run.sh needs $tool" >&2; exit 1; }
done
if [[ "$PEER" == 1 && " $ENGINES " == *" postgres "* ]]; then
  command -v pgbench >/dev/null || { echo "bench/run.sh needs pgbench (postgresql-client)" >&2; exit 1; }
fi

for port in "$PORT" "$PEER_PORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "port $port is in use; choose others with PORT=… PEER_PORT=…" >&2
    exit 1
  fi
done

stamp="$(date -u +%Y%m%dT%H%M%SZ)"
day="$(date -u +%F)"
work="$here/.work/$stamp"
results="$here/results"
mkdir -p "$work" "$results/raw"
raw="$results/raw/$stamp.jsonl"
: > "$raw"
JWT_SECRET="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
# Production serves /metrics only with a token (or on its own address).
METRICS_TOKEN="$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
PASSWORD="bench-password-2026"
WRITE_POOL=$((WRITE_WARMUP + RUNS * WRITE_ITERATIONS))

server_pid=""
peer_pid=""
pg_db=""
cleanup() {
  [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  [[ -n "$peer_pid" ]] && kill "$peer_pid" 2>/dev/null && wait "$peer_pid" 2>/dev/null || true
  if [[ -n "$pg_db" ]]; then
    psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS \"$pg_db\" WITH (FORCE)" >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

# db_statements_total of requests (background work excluded).
statements() {
  curl -fsS -H "Authorization: Bearer $METRICS_TOKEN" "http://127.0.0.1:$PORT/metrics" |
    awk '/^db_statements_total\{/ && /source="request"/ {sum += $NF} END {printf "%d\n", sum}'
}

gql() { # token body -> response
  local auth=()
  [[ -n "$1" ]] && auth=(-H "Authorization: Bearer $1")
  curl -sS "http://127.0.0.1:$PORT/graphql" -H 'Content-Type: application/json' "${auth[@]}" -d "$2"
}

login() { # email -> access token
  local body
  body="$(jq -nc --arg e "$1" --arg p "$PASSWORD" \
    '{query: "mutation($i: LoginInput!) { login(input: $i) { accessToken } }", variables: {i: {email: $e, password: $p}}}')"
  gql "" "$body" | jq -er '.data.login.accessToken'
}

body_of() { # file [variables-json] -> one-line request body
  local vars="${2:-}"
  [[ -z "$vars" ]] && vars='{}'
  jq -nc --rawfile q "$1" --argjson v "$vars" '{query: $q, variables: $v}'
}

record() { # engine scenario run json-fields...
  local engine="$1" scenario="$2" run="$3" json="$4"
  jq -c --arg engine "$engine" --arg scenario "$scenario" --arg run "$run" \
    '. + {engine: $engine, scenario: $scenario, run: ($run | tonumber)}' <<<"$json" >>"$raw"
}

# wrk_warmup url body-file token expect-code: untimed load, results dropped.
wrk_warmup() {
  BODY_FILE="$2" TOKEN="$3" EXPECT_CODE="$4" \
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" -s "$here/wrk/graphql.lua" "$1" >/dev/null
}

# wrk_timed_run engine scenario run url body-file token expect-code pid(for RSS) ours
# One timed run: records req/s, latencies, errors, SQL statements per
# request (ours) and RSS.
wrk_timed_run() {
  local engine="$1" scenario="$2" run="$3" url="$4" bodies="$5" token="$6" expect="$7" pid="$8" ours="$9"
  local before=0 after=0 out
  [[ "$ours" == 1 ]] && before="$(statements)"
  out="$(BODY_FILE="$bodies" TOKEN="$token" EXPECT_CODE="$expect" \
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" -s "$here/wrk/graphql.lua" "$url" | tail -n 1)"
  [[ "$ours" == 1 ]] && after="$(statements)"
  out="$(jq -c --argjson b "$before" --argjson a "$after" --argjson ours "$ours" \
    --argjson rss "$(rss_kb "$pid")" --argjson hwm "$(hwm_kb "$pid")" \
    '. + {rss_kb: $rss, hwm_kb: $hwm,
          statements_per_request: (if $ours == 1 and .requests > 0 then (($a - $b) / .requests) else null end)}' <<<"$out")"
  echo "  run $run ($scenario): $(jq -r '"\(.rps|floor) req/s, p50 \(.p50_ms) ms, p99 \(.p99_ms) ms, errors \(.socket_errors + .non2xx + .gql_errors + .unexpected), stmts/req \(.statements_per_request)"' <<<"$out")" >&2
  record "$engine" "$scenario" "$run" "$out"
}

# wrk_scenario engine scenario url body-file token expect-code pid(for RSS) ours
# Warm-up, then RUNS timed runs.
wrk_scenario() {
  local engine="$1" scenario="$2" url="$3" bodies="$4" token="$5" expect="$6" pid="$7" ours="$8"
  log "$engine: scenario $scenario"
  wrk_warmup "$url" "$bodies" "$token" "$expect"
  for run in $(seq 1 "$RUNS"); do
    wrk_timed_run "$engine" "$scenario" "$run" "$url" "$bodies" "$token" "$expect" "$pid" "$ours"
  done
}

# CHECKPOINT needs a superuser or pg_checkpoint; without either the runs
# start without one (said once).
checkpoint_refused=0
checkpoint() { # database-url
  [[ "$checkpoint_refused" == 1 ]] && return 0
  if ! psql "$1" -qc "CHECKPOINT" >/dev/null 2>&1; then
    checkpoint_refused=1
    echo "warning: CHECKPOINT refused on $PG_URL (needs a superuser or pg_checkpoint); timed runs start without one" >&2
  fi
}

wait_for() { # url seconds
  for _ in $(seq 1 "$(( $2 * 10 ))"); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "timed out waiting for $1" >&2
  return 1
}

start_server() { # engine database-url
  local logfile="$work/$1-server.log"
  DATABASE_URL="$2" \
  DERMAGRAPH_ENV=production \
  DERMAGRAPH_BIND="127.0.0.1:$PORT" \
  DERMAGRAPH_JWT_SECRET="$JWT_SECRET" \
  DERMAGRAPH_METRICS_TOKEN="$METRICS_TOKEN" \
  DERMAGRAPH_CORS_ORIGINS="https://portal.bench.clinic" \
  DERMAGRAPH_DATA_DIR="$work/data" \
  DERMAGRAPH_DB_MAX_CONNECTIONS="$POOL_SIZE" \
  DERMAGRAPH_RATE_LIMIT_STAFF_PER_MINUTE=1000000000 \
  DERMAGRAPH_RATE_LIMIT_PARTNER_PER_MINUTE=1000000000 \
  DERMAGRAPH_RATE_LIMIT_ANONYMOUS_PER_MINUTE=1000000000 \
    "$BIN" serve >"$logfile" 2>&1 &
  server_pid=$!
  wait_for "http://127.0.0.1:$PORT/readyz" 30
}

stop_server() {
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}

run_engine() {
  local engine="$1" url
  case "$engine" in
    sqlite)
      mkdir -p "$work/sqlite"
      url="sqlite://$work/sqlite/dermagraph.db?mode=rwc" ;;
    postgres)
      pg_db="dermagraph_bench_${stamp,,}"
      psql "$PG_URL/postgres" -qc "CREATE DATABASE \"$pg_db\"" >/dev/null
      url="$PG_URL/$pg_db${PG_PARAMS:+?$PG_PARAMS}" ;;
    *) echo "unknown engine $engine" >&2; exit 2 ;;
  esac

  log "$engine: seeding $PATIENTS patients (+ $WRITE_POOL write-pool pairs)"
  local started_ms seed_ms
  started_ms="$(date +%s%3N)"
  DATABASE_URL="$url" DERMAGRAPH_PASSWORD="$PASSWORD" "$BIN" seed-bench \
    --patients "$PATIENTS" --write-pool "$WRITE_POOL" --pool-file "$work/$engine-pool.json" >&2
  seed_ms=$(( $(date +%s%3N) - started_ms ))
  record "$engine" "seed" 0 "$(jq -nc --argjson ms "$seed_ms" --argjson p "$PATIENTS" --argjson w "$WRITE_POOL" \
    '{seed_seconds: ($ms / 1000), patients: $p, write_pool: $w}')"

  if [[ "$engine" == postgres ]]; then
    # As pgbench does before it runs: no scenario, ours or the peer's, pays
    # for the bulk load's deferred work (hint bits, visibility map, dirty
    # pages) in its timed runs.
    psql "$url" -qc "VACUUM (ANALYZE)" >/dev/null
    checkpoint "$url"
  fi

  start_server "$engine" "$url"
  local graphql="http://127.0.0.1:$PORT/graphql"
  local provider desk
  provider="$(login provider1@bench.clinic)"
  desk="$(login desk@bench.clinic)"
  sleep 2
  record "$engine" "idle" 0 "$(jq -nc --argjson r "$(rss_kb "$server_pid")" '{rss_kb: $r}')"

  # Request bodies.
  local s="$here/scenarios" b="$work/$engine-bodies"
  mkdir -p "$b"
  body_of "$s/1-me.graphql" >"$b/1.jsonl"
  gql "$provider" "$(jq -nc '{query: "{ patients(first: 100) { edges { node { id } } } }"}')" |
    jq -r '.data.patients.edges[].node.id' |
    while read -r id; do body_of "$s/2-patient.graphql" "$(jq -nc --arg id "$id" '{id: $id}')"; done >"$b/2.jsonl"
  body_of "$s/3-headline.graphql" >"$b/3.jsonl"
  body_of "$s/4-worklist.graphql" >"$b/4.jsonl"
  body_of "$s/6-bomb.graphql" >"$b/6.jsonl"
  # Check each read scenario once before loading it.
  for n in 1 2 3 4; do
    local token="$provider"
    [[ "$n" == 4 ]] && token="$desk"
    gql "$token" "$(head -n 1 "$b/$n.jsonl")" | jq -e '(.errors == null) and (.data != null)' >/dev/null ||
      { echo "scenario $n fails: $(gql "$token" "$(head -n 1 "$b/$n.jsonl")" | head -c 500)" >&2; exit 1; }
  done
  record "$engine" "4-rows" 0 "$(gql "$desk" "$(cat "$b/4.jsonl")" | jq -c '{due_today_pending: .data.followUps.totalCount}')"

  wrk_scenario "$engine" "1-me" "$graphql" "$b/1.jsonl" "$provider" "" "$server_pid" 1
  wrk_scenario "$engine" "2-patient" "$graphql" "$b/2.jsonl" "$provider" "" "$server_pid" 1
  provider="$(login provider1@bench.clinic)"
  if [[ "$engine" == postgres && "$PEER" == 1 ]]; then
    compare_headline "$url" "$graphql" "$b/3.jsonl" "$provider"
  else
    wrk_scenario "$engine" "3-headline" "$graphql" "$b/3.jsonl" "$provider" "" "$server_pid" 1
  fi
  desk="$(login desk@bench.clinic)"
  wrk_scenario "$engine" "4-worklist" "$graphql" "$b/4.jsonl" "$desk" "" "$server_pid" 1
  wrk_scenario "$engine" "6-bomb" "$graphql" "$b/6.jsonl" "" "QUERY_TOO_COMPLEX" "$server_pid" 1

  # Scenario 5: every run uses its own pool pairs; numbing 150 min ago for all.
  log "$engine: scenario 5-write-mix"
  local numbing before after out offset
  numbing="$(date -u -d '-150 min' +%Y-%m-%dT%H:%M:%SZ)"
  DERMAGRAPH_JWT_SECRET="$JWT_SECRET" "$WRITES" --url "$graphql" --pool "$work/$engine-pool.json" \
    --offset 0 --iterations "$WRITE_WARMUP" --concurrency "$WRITE_CONCURRENCY" --numbing-at "$numbing" >/dev/null
  for run in $(seq 1 "$RUNS"); do
    offset=$((WRITE_WARMUP + (run - 1) * WRITE_ITERATIONS))
    before="$(statements)"
    out="$(DERMAGRAPH_JWT_SECRET="$JWT_SECRET" "$WRITES" --url "$graphql" --pool "$work/$engine-pool.json" \
      --offset "$offset" --iterations "$WRITE_ITERATIONS" --concurrency "$WRITE_CONCURRENCY" --numbing-at "$numbing")"
    after="$(statements)"
    out="$(jq -c --argjson b "$before" --argjson a "$after" \
      --argjson rss "$(rss_kb "$server_pid")" --argjson hwm "$(hwm_kb "$server_pid")" \
      '. + {rss_kb: $rss, hwm_kb: $hwm, socket_errors: 0, non2xx: 0, gql_errors: .errors, unexpected: 0,
            statements_per_request: (if .requests > 0 then (($a - $b) / .requests) else null end)}' <<<"$out")"
    echo "  run $run: $(jq -r '"\(.rps|floor) req/s (\(.iterations_per_s|floor) iterations/s), p50 \(.p50_ms) ms, p99 \(.p99_ms) ms, errors \(.errors), stmts/req \(.statements_per_request)"' <<<"$out")" >&2
    record "$engine" "5-write-mix" "$run" "$out"
  done
  record "$engine" "final" 0 "$(jq -nc --argjson r "$(rss_kb "$server_pid")" --argjson h "$(hwm_kb "$server_pid")" '{rss_kb: $r, hwm_kb: $h}')"
  stop_server
  if [[ "$engine" == postgres ]]; then
    psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS \"$pg_db\" WITH (FORCE)" >/dev/null
    pg_db=""
  fi
  rm -rf "$work/sqlite"
  # The per-request JSON log runs to hundreds of MB; kept only on failure.
  [[ "${KEEP_WORK:-0}" == 1 ]] || rm -f "$work/$engine-server.log"
}

# pgbench_timed_run run database-url log-dir: scenario 3 as one SQL
# statement, latencies from pgbench's per-transaction log.
pgbench_timed_run() {
  local run="$1" url="$2" logs="$3" out
  rm -f "$logs"/pgbench_log.*
  out="$(cd "$logs" && pgbench -n -l -f "$here/peer/scenario3.sql" -c "$POOL_SIZE" -j "$THREADS" -T "$DURATION" "$url" 2>&1)"
  out="$(python3 "$here/pgbench_stats.py" "$logs" <<<"$out")"
  echo "  run $run (pgbench floor): $(jq -r '"\(.rps|floor) tx/s, p50 \(.p50_ms) ms, p99 \(.p99_ms) ms"' <<<"$out")" >&2
  record postgres "3-headline-pgbench" "$run" "$out"
}

# Scenario 3 served by us, by PostGraphile and by pgbench, interleaved:
# each round runs the three one after the other (starting with a different
# one each round), each after a CHECKPOINT, so a change in the VM's speed
# or a burst of another's disk writes falls on all three alike.
compare_headline() { # database-url our-graphql-url our-bodies our-token
  local url="$1" graphql="$2" bodies="$3" token="$4"
  log "postgres: PostGraphile v5 (amber) on the same database"
  DATABASE_URL="$url" PEER_PORT="$PEER_PORT" PEER_POOL_SIZE="$POOL_SIZE" \
    "$here/peer/start.sh" >"$work/peer.log" 2>&1 &
  peer_pid=$!
  local peer_url="http://127.0.0.1:$PEER_PORT/graphql" b="$work/postgres-bodies"
  body_of "$here/peer/scenario3.graphql" >"$b/peer3.jsonl"
  for _ in $(seq 1 600); do
    curl -fsS -o /dev/null -H 'Content-Type: application/json' -d "$(cat "$b/peer3.jsonl")" "$peer_url" 2>/dev/null && break
    kill -0 "$peer_pid" 2>/dev/null || { echo "PostGraphile exited: $(tail -n 20 "$work/peer.log")" >&2; exit 1; }
    sleep 0.5
  done
  curl -sS -H 'Content-Type: application/json' -d "$(cat "$b/peer3.jsonl")" "$peer_url" |
    jq -e '(.errors == null) and (.data.patients.nodes | length) > 0' >/dev/null ||
    { echo "PostGraphile's scenario 3 fails: $(curl -sS -H 'Content-Type: application/json' -d "$(cat "$b/peer3.jsonl")" "$peer_url" | head -c 500)" >&2; exit 1; }

  local logs="$work/pgbench"
  mkdir -p "$logs"
  log "postgres: scenario 3-headline, PostGraphile and the pgbench floor, interleaved"
  wrk_warmup "$graphql" "$bodies" "$token" ""
  wrk_warmup "$peer_url" "$b/peer3.jsonl" "" ""
  (cd "$logs" && pgbench -n -f "$here/peer/scenario3.sql" -c "$POOL_SIZE" -j "$THREADS" -T "$WARMUP" "$url" >/dev/null 2>&1)
  local order=(ours peer floor) run who
  for run in $(seq 1 "$RUNS"); do
    for who in "${order[@]}"; do
      checkpoint "$url"
      case "$who" in
        ours) wrk_timed_run postgres "3-headline" "$run" "$graphql" "$bodies" "$token" "" "$server_pid" 1 ;;
        peer) wrk_timed_run postgres "3-headline-postgraphile" "$run" "$peer_url" "$b/peer3.jsonl" "" "" "$peer_pid" 0 ;;
        floor) pgbench_timed_run "$run" "$url" "$logs" ;;
      esac
    done
    order=("${order[@]:1}" "${order[0]}")
  done
  record postgres "peer-final" 0 "$(jq -nc --argjson h "$(hwm_kb "$peer_pid")" '{hwm_kb: $h}')"
  kill "$peer_pid" 2>/dev/null || true
  wait "$peer_pid" 2>/dev/null || true
  peer_pid=""
}

for engine in $ENGINES; do
  run_engine "$engine"
done

log "report"
suffix=""
[[ "$SMOKE" == 1 ]] && suffix="-smoke"
[[ "${KEEP_WORK:-0}" == 1 ]] || rm -rf "$work"
python3 "$here/report.py" "$raw" --results "$results" --day "$day" --suffix="$suffix" \
  --setup "patients=$PATIENTS duration=${DURATION}s warmup=${WARMUP}s runs=$RUNS wrk=-t$THREADS/-c$CONNECTIONS pool=$POOL_SIZE write-mix=${WRITE_ITERATIONS}x$RUNS/c$WRITE_CONCURRENCY"
