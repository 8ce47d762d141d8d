#!/usr/bin/env bash
# Cold starts under a ramp: a function whose initialiser takes 200 ms, 2 → 50 concurrent callers over 24 s, once
# with the autoscaler and once without (both at the same time). Prints the share of invocations after the first
# 10 s that were cold starts. The test suite runs the same code on a short ramp and asserts only that every call
# was answered; the figure is the machine's and is printed here, not asserted.
# Runs PlumbHostTests' ColdStartTimingTests (debug build, the probe plugin lives in the tests) alone.
# Usage: bash bench/coldstart.sh [ROUNDS=1]
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-1}
swift build --build-tests 2>&1 | tail -1
for round in $(seq "$ROUNDS"); do
  echo "== round $round"
  PLUMB_BENCH_COLDSTART=1 swift test --skip-build --filter ColdStartTimingTests 2>&1 | grep -E "^cold starts, autoscaler" || {
    echo "bench/coldstart.sh: the run printed no figures (did it fail?)" >&2
    exit 1
  }
done
