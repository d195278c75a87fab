#!/usr/bin/env bash
# JMH: the bit-exact simulator (dova A16/M12 WRAP and SATURATE, A32/M32) against ONNX Runtime int8 and
# FP32 on the same exported models, one thread, then two threads at batch 32; a measurement of the
# core's peak beside it. Writes the raw output to docs/results/jmh-simulator.{txt,json} and
# docs/results/jmh-simulator-2threads.{txt,json}. About 15 minutes.
#   scripts/bench-simulator.sh [JMH include regex] [extra JMH args...]
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
jvm=(-DDJL_CACHE_DIR="$PWD/.djl" -Djna.tmpdir="$PWD/.djl/jna")
gcc -O2 -mavx2 -mfma scripts/peak-avx2.c -o target-peak-avx2 && ./target-peak-avx2 | tee docs/results/peak-avx2.txt
java "${jvm[@]}" -cp "$cp" org.openjdk.jmh.Main "$include" -jvmArgsAppend "${jvm[*]}" -prof gc \
  -rf json -rff docs/results/jmh-simulator.json "$@" | tee docs/results/jmh-simulator.txt
if [ "$include" = RuntimeBenchmark ] && [ $# -eq 0 ]; then
  java "${jvm[@]}" -cp "$cp" org.openjdk.jmh.Main RuntimeBenchmark -t 2 -p batch=32 -p engine=dova-a16-wrap,dova-a32,ort-int8 \
    -jvmArgsAppend "${jvm[*]}" -rf json -rff docs/results/jmh-simulator-2threads.json | tee docs/results/jmh-simulator-2threads.txt
fi
./target-peak-avx2 | tee -a docs/results/peak-avx2.txt
rm -f target-peak-avx2
