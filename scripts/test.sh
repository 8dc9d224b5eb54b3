#!/usr/bin/env bash
# `npm test`: type-check and lint, then every Vitest project.
# `npm test -- ARGS`: only Vitest with ARGS, for fast feedback; e.g.
#   npm test -- test/server/replay.test.ts       one file
#   npm test -- --project unit                   one project (also: npm run test:unit)
#   npm test -- test/client -t "locked"          tests whose name matches, under a folder
# Vitest needs Node >= 22.12: with-node24.sh provides it whatever the system Node is.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$#" -eq 0 ]; then
  scripts/with-node24.sh npm run -s check
fi
exec scripts/with-node24.sh vitest run "$@"
