#!/usr/bin/env bash
# The whole test suite: installs what the tests need (system libraries, the VADER lexicon, promtool, the
# fortunes corpus), builds once (debug, with tests and the plumb binary the crash test starts), runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
PLUMB_TEST_PEERS=1 bash scripts/setup.sh
swift build --build-tests
swift test --skip-build
