#!/usr/bin/env bash
# `npm test`: everything, the sandbox e2e suite included. Works on a fresh clone.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x node_modules/.bin/jest ] || npm ci --no-audit --no-fund
# The e2e suite runs the bundle the runner would run: bundle what is in src/ now.
npm run -s bundle
bash __tests__/sandbox/sandbox.sh up
exec node --experimental-vm-modules node_modules/jest/bin/jest.js "$@"
