#!/usr/bin/env bash
# The test command: obtains and verifies the data sets (a no-op when present), then runs
# every module's default test suite. Slow suites: scripts/test.sh -Pslow
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/fetch-data.sh
mvn -B -ntp install "$@"
