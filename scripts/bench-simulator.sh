#!/usr/bin/env bash
# JMH: the fast bit-exact simulator against DJL/PyTorch FP32 on the same architectures (the QAT
# training step has its own script, scripts/bench-training-step.sh). Writes the raw JMH output to docs/results/.
#   scripts/bench-simulator.sh [JMH include regex] [extra JMH args...]   (about 15 minutes for everything)
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -q -B -ntp install -DskipTests
mvn -q -B -ntp -pl compress test-compile
cp_file=$(mktemp)
mvn -q -B -ntp -pl compress dependency:build-classpath -Dmdep.outputFile="$cp_file" -Dmdep.includeScope=test
cp="compress/target/test-classes:compress/target/classes:$(cat "$cp_file")"
mkdir -p .djl/jna docs/results
include="${1:-RuntimeBenchmark}"
shift || true
java -DDJL_CACHE_DIR="$PWD/.djl" -Djna.tmpdir="$PWD/.djl/jna" -cp "$cp" org.openjdk.jmh.Main "$include" \
  -jvmArgsAppend "-DDJL_CACHE_DIR=$PWD/.djl -Djna.tmpdir=$PWD/.djl/jna" -prof gc -rf json -rff docs/results/jmh-simulator.json "$@" \
  | tee docs/results/jmh-simulator.txt
