#!/usr/bin/env bash
# The whole test suite: installs what the tests need (system libraries, the VADER lexicon, promtool, the
# fortunes corpus), builds once (debug, with tests and the plumb binary the crash test starts), runs every test.
#
# Two passes over the one build: first every test in parallel, then one at a time the wall-clock-driven tests (types
# named *TimingTests: coordinated omission, cold starts under a ramp, systemd notify, slow clients, shutdown, alarm
# notification latency) and the multi-node ones (types named *ClusterTests: several `plumb serve` with PostgreSQL,
# VictoriaMetrics and nginx, and a leader takeover they time), so that the timeouts and deadlines they check are
# not stretched by the rest of the suite competing for two cores, nor the rest starved by them. They assert behaviour (a timeout fires, a deadline holds), not speed: the
# speed figures are printed by bench/coldstart.sh, bench/slowclients.sh and bench/watchdog.sh.
#
# Each pass has a time limit (PLUMB_TEST_TIMEOUT seconds, 1200 by default): a test that hangs fails the run with
# the names of the tests that started and never finished, instead of holding CI until its own limit. The output
# is kept in .build/test-output.log and .build/test-timing-output.log.
set -euo pipefail
cd "$(dirname "$0")/.."
PLUMB_TEST_PEERS=1 bash scripts/setup.sh
# The tree stays formatted (.swift-format: 4 spaces, 120 columns, the anchors' rules); `swift format format
# --in-place --recursive --parallel Sources Tests Plugins Package.swift` fixes what this finds.
swift format lint --strict --recursive --parallel Sources Tests Plugins Package.swift
# Package.swift must match docs/architecture.md's target table.
swift package dump-package | python3 scripts/check-targets.py docs/architecture.md
swift build --build-tests

limit=${PLUMB_TEST_TIMEOUT:-1200}
# Swift Testing starts every test at once by default (390 in flight on a two-core host, each starting servers and
# peers, until the slowest missed their 30-60 s answers). Eight at a time keeps the cores busy and every wait short:
# the parallel pass went from 446-534 s with load timeouts to 404 s with none (the fuzz test's 404 s is its floor).
export SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH=${SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH:-8}
timing='TimingTests|ClusterTests'
run_pass() {
  local log=$1
  shift
  local status=0
  timeout --kill-after=30s "$limit" swift test --skip-build "$@" 2>&1 | tee "$log" || status=$?
  if [ "$status" = 124 ] || [ "$status" = 137 ]; then
    echo "scripts/test.sh: the tests did not finish within $limit s; started and never finished:"
    python3 scripts/unfinished-tests.py "$log"
  fi
  return "$status"
}
first=0
run_pass .build/test-output.log --skip "$timing" || first=$?
second=0
run_pass .build/test-timing-output.log --filter "$timing" --no-parallel || second=$?
if [ "$first" != 0 ] || [ "$second" != 0 ]; then
  # CI shows the end of the log: say there what failed.
  for log in .build/test-output.log .build/test-timing-output.log; do
    echo "scripts/test.sh: what failed in $log:"
    python3 scripts/failed-tests.py "$log"
  done
  echo "scripts/test.sh: failed (parallel pass: exit $first, timing pass: exit $second)"
  exit 1
fi
