#!/usr/bin/env bash
# Reproduces docs/results/compression-<data>.md: trains (or reuses) the FP32 LeNet, runs the
# compression pipeline at every accumulator width and overflow mode, a pruned and a
# guaranteed-mode variant, then sweeps all models on accelerator-sim. About 25 minutes per
# data set on 2 cores.   Usage: scripts/compression-results.sh [mnist|fashion-mnist]
set -euo pipefail
cd "$(dirname "$0")/.."
data="${1:-mnist}"
./dova --version >/dev/null   # build once, then run from a frozen copy so that edits to the tree cannot disturb the run
export DOVA_SKIP_BUILD=1 DOVA_DIST="$PWD/out/dist-$data"
rm -rf "$DOVA_DIST" && mkdir -p "$DOVA_DIST" && cp -r serve/target/lib serve/target/dova-serve-*.jar "$DOVA_DIST"/
out="out/results/$data"
mkdir -p "$out" docs/results
# the FP32 run in its own folder: its post-training-quantized export is not a compressed model, and
# the sweep reads every model in $out (an earlier layout kept it there: moved)
mkdir -p "$out/fp32"
for f in "$out"/lenet-$data-fp32.ckpt "$out"/lenet-$data-a32m32-wrap*.* "$out/train.log"; do
  [ -e "$f" ] && mv "$f" "$out/fp32/"
done
fp32="$out/fp32/lenet-$data-fp32.ckpt"
common=(--model lenet --data "$data" --qat-epochs 2 --mul-bits 12 --seed 1)
if [ ! -f "$fp32" ]; then
  ./dova train --model lenet --data "$data" --epochs 3 --acc-bits 32 --mul-bits 32 --seed 1 --out "$out/fp32" \
    | tee "$out/fp32/train.log"
fi
for mode in wrap saturate; do
  for acc in 32 16 14 12; do
    f="$out/lenet-$data-a${acc}m12-$mode.dova"
    [ -f "$f" ] || ./dova compress "${common[@]}" --out "$out" --from "$fp32" --epochs 0 --acc-bits "$acc" --overflow "$mode" \
      | tee "$out/compress-a$acc-$mode.log"
  done
done
# pruning to multiples of 16 (conv2 32 -> 16 channels), and the guaranteed (L1-bound) mode, at A16 wrap
[ -f "$out/lenet-$data-a16m12-wrap-pruned.dova" ] || ./dova compress "${common[@]}" --out "$out" --from "$fp32" \
  --epochs 0 --acc-bits 16 --overflow wrap --prune-ratio 0.5 | tee "$out/compress-a16-wrap-pruned.log"
# (its own folder: the sweep reads every model in $out, and the guaranteed run writes its own naive model too)
[ -f "$out/guaranteed/lenet-$data-a16m12-wrap-guaranteed.dova" ] || ./dova compress "${common[@]}" --out "$out/guaranteed" \
  --from "$fp32" --epochs 0 --acc-bits 16 --overflow wrap --guaranteed | tee "$out/compress-a16-wrap-guaranteed.log"
cp "$out/guaranteed/lenet-$data-a16m12-wrap-guaranteed.dova" "$out/"
fp32acc=$(grep -o 'FP32 test accuracy [0-9.]*' "$out/compress-a16-wrap.log" | head -1 | awk '{print $4/100}')
./dova sweep --dir "$out" --naive "$out/lenet-$data-a32m12-wrap-naive.dova" --data "$data" --fp32 "$fp32acc" \
  --markdown "docs/results/compression-$data.md" --png "docs/results/compression-$data.png" \
  --command "scripts/compression-results.sh $data"
