#!/usr/bin/env bash
# JMH: one quantization-aware training step (A16/M12 WRAP, downscaling- and overflow-aware)
# against one FP32 step on the same model and batch, LeNet and the ResNet-20-like network.
# Writes the raw JMH output to docs/results/jmh-training-step.{txt,json}.   About 5 minutes.
#   scripts/bench-training-step.sh [extra JMH args...]
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p docs/results
# run-test-main.sh builds, assembles compress's test classpath and sources scripts/native-env.sh
scripts/run-test-main.sh compress org.openjdk.jmh.Main TrainingStepBenchmark \
  -jvmArgsAppend "-DDJL_CACHE_DIR=$PWD/.djl -Djna.tmpdir=$PWD/.djl/jna" -rf json -rff docs/results/jmh-training-step.json "$@" \
  | tee docs/results/jmh-training-step.txt
