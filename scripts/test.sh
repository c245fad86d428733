#!/usr/bin/env bash
# `npm test`: every test. Starts the real engines the adapter suites run against (Redis, Kafka,
# Elasticsearch, FerretDB; installed on first use, see docs/engines.md), lints, type-checks every
# package, then runs all vitest suites. Engines stay up for the next run: `npm run engines:down`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/engines.sh up
eval "$(bash scripts/engines.sh env)"
npx biome check . --diagnostic-level=error
npx turbo run typecheck --output-logs=errors-only
npx vitest run "$@"
