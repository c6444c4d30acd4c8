#!/usr/bin/env bash
# The database cost of the session check on every authenticated request
# (issue 16): the statement that loads the account, without and with the
# EXISTS on the session's refresh tokens, run by pgbench on a seeded
# database. Prints tps and mean latency per round.
#
#   bench/session_check/run.sh [BIN] [PG_URL]
#     BIN     dermagraph release binary [target/release/dermagraph]
#     PG_URL  server to create dermagraph_session_check on [postgres://postgres@127.0.0.1:5432]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-${CARGO_TARGET_DIR:-$here/../../target}/release/dermagraph}
pg=${2:-postgres://postgres@127.0.0.1:5432}
db=dermagraph_session_check
url="$pg/$db?sslmode=disable"
psql "$pg/postgres" -Atqc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null
psql "$pg/postgres" -Atqc "CREATE DATABASE $db" >/dev/null
trap 'psql "$pg/postgres" -Atqc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null' EXIT
DATABASE_URL="$url" DERMAGRAPH_PASSWORD="session check password" "$bin" seed-bench --patients 10000 >/dev/null
# 20 sessions per staff account, each of 3 rotations (2 rotated and revoked),
# as a busy clinic's refresh_tokens would hold.
psql "$url" -Atq >/dev/null <<'SQL'
CREATE TEMP TABLE sessions AS
  SELECT u.id AS user_id, gen_random_uuid() AS family_id FROM users u, generate_series(1, 20);
INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, token_version, issued_at, expires_at, rotated_at, revoked_at)
  SELECT gen_random_uuid(), s.user_id, s.family_id, md5(random()::text), 0, now(), now() + interval '12 hours',
         CASE WHEN r < 3 THEN now() END, CASE WHEN r < 3 THEN now() END
  FROM sessions s, generate_series(1, 3) r;
ANALYZE;
SQL
read -r user family < <(psql "$url" -AtF ' ' -c \
  "SELECT user_id, family_id FROM refresh_tokens WHERE revoked_at IS NULL ORDER BY random() LIMIT 1")
sed "s/:user/'$user'/g; s/:family/'$family'/g" "$here/without.sql" >"$here/.without.sql"
sed "s/:user/'$user'/g; s/:family/'$family'/g" "$here/with.sql" >"$here/.with.sql"
for round in 1 2 3; do
  for shape in without with; do
    out=$(pgbench -n -M prepared -c 8 -j 2 -T 10 -f "$here/.$shape.sql" "$url" 2>&1)
    tps=$(grep -oP 'tps = \K[0-9.]+' <<<"$out" | head -1)
    lat=$(grep -oP 'latency average = \K[0-9.]+' <<<"$out")
    echo "round $round $shape: $tps tps, latency average $lat ms"
  done
done
rm -f "$here/.without.sql" "$here/.with.sql"
