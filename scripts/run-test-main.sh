#!/usr/bin/env bash
# Runs a main class from a module's test classpath (benchmarks that are programs, not unit tests).
#   scripts/run-test-main.sh MODULE CLASS [ARGS...]
set -euo pipefail
cd "$(dirname "$0")/.."
module=$1
cls=$2
shift 2
mvn -q -B -ntp install -DskipTests
mvn -q -B -ntp -pl "$module" test-compile
cp_file=$(mktemp)
mvn -q -B -ntp -pl "$module" dependency:build-classpath -Dmdep.outputFile="$cp_file" -Dmdep.includeScope=test
source scripts/native-env.sh
mkdir -p .djl/jna
exec java -Xmx4g -DDJL_CACHE_DIR="$PWD/.djl" -Djna.tmpdir="$PWD/.djl/jna" -Dai.djl.offline=true \
  -cp "$module/target/test-classes:$module/target/classes:$(cat "$cp_file")" "$cls" "$@"
