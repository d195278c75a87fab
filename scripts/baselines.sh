#!/usr/bin/env bash
# Converged FP32 baselines (issue "Compression against converged baselines"): each network by its
# documented recipe (dova.compress.train.Recipe.converged), the full test set measured every epoch.
# Resumable: run it again after an interruption and every network continues from its last epoch.
# Writes out/baselines/<net>-<data>-fp32{.ckpt,-history.csv,-curves.png} and .log. Training runs on
# one core (./dova sets one PyTorch thread): two invocations run side by side, for example
#   nohup scripts/baselines.sh resnet & nohup scripts/baselines.sh mobilenet &
# Measured on this machine: LeNet 25-30 s per epoch (20 epochs), ResNet 4-7 min per epoch (24 epochs).
#   scripts/baselines.sh [lenet] [resnet] [mobilenet]
set -euo pipefail
cd "$(dirname "$0")/.."
./dova --version >/dev/null
nets=("$@")
[ ${#nets[@]} -gt 0 ] || nets=(lenet resnet mobilenet)
# a frozen copy of the jars, so that rebuilding the project does not disturb a long run
export DOVA_SKIP_BUILD=1 DOVA_DIST="$PWD/out/dist-baselines-$(IFS=-; echo "${nets[*]}")"
rm -rf "$DOVA_DIST" && mkdir -p "$DOVA_DIST" && cp -r serve/target/lib serve/target/dova-serve-*.jar "$DOVA_DIST"/
mkdir -p out/baselines
for n in "${nets[@]}"; do
  data=fashion-mnist
  [ "$n" = lenet ] && data=mnist
  echo "== $n on $data ($(date -u +%FT%TZ))" >> "out/baselines/$n.log"
  ./dova baseline --model "$n" --data "$data" --out out/baselines --resume 2>&1 | stdbuf -oL tr '\r' '\n' | grep --line-buffered -av '^fp32 epoch [0-9]*/' >> "out/baselines/$n.log"
done
