#!/usr/bin/env bash
# `npm run bench`: ours vs the naive way, side by side, in one run. Needs root (sandbox, netns, tc).
set -uo pipefail
cd "$(dirname "$0")/.."
[ -x node_modules/.bin/tsc ] || npm ci --no-audit --no-fund
[ -f dist/index.js ] || npm run -s bundle
bash __tests__/sandbox/sandbox.sh up
bash bench/netns.sh up
npx tsc -p tsconfig.tools.json
rc=0
for b in retention-plan build ship; do
  echo
  echo "=== bench: $b ==="
  node "build-tools/bench/$b.js" || rc=1
done
exit $rc
