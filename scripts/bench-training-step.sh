#!/usr/bin/env bash
# JMH: one quantization-aware training step (A16/M12 WRAP, downscaling- and overflow-aware)
# against one FP32 step on the same model and batch, LeNet and the ResNet-20-like network.
# Writes the raw JMH output to docs/results/jmh-training-step.{txt,json}.   About 5 minutes.
#   scripts/bench-training-step.sh [extra JMH args...]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/native-env.sh
mvn -q -B -ntp install -DskipTests
mvn -q -B -ntp -pl compress test-compile
cp_file=$(mktemp)
mvn -q -B -ntp -pl compress dependency:build-classpath -Dmdep.outputFile="$cp_file" -Dmdep.includeScope=test
cp="compress/target/test-classes:compress/target/classes:$(cat "$cp_file")"
mkdir -p .djl/jna docs/results
java -DDJL_CACHE_DIR="$PWD/.djl" -Djna.tmpdir="$PWD/.djl/jna" -cp "$cp" org.openjdk.jmh.Main TrainingStepBenchmark \
  -jvmArgsAppend "-DDJL_CACHE_DIR=$PWD/.djl -Djna.tmpdir=$PWD/.djl/jna" -rf json -rff docs/results/jmh-training-step.json "$@" \
  | tee docs/results/jmh-training-step.txt
