#!/usr/bin/env bash
# `npm run demo`: installs what it needs, stands up the local sandbox, runs the bundled action.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x node_modules/.bin/tsc ] || npm ci --no-audit --no-fund
[ -f dist/index.js ] || npm run -s bundle
bash __tests__/sandbox/sandbox.sh up
npx tsc -p tsconfig.tools.json
exec node build-tools/scripts/demo.js
