#!/usr/bin/env bash
# Models that x86's AVX2 int8 path breaks, and their repair (docs/results/hardware-profiles.md):
# a LeNet on images as a scanner or a product photo delivers them, dark on white
# (scripts/ink-on-paper.py: every pixel 255 - v), so that every first-layer input of the
# background is 255 and vpmaddubsw's int16 pair sums saturate:
#   mnist: MNIST digits as dark ink on white paper; fashion-mnist: garments on a white background.
#   1. the FP32 baseline (8 epochs, no augmentation: a shift would pad white pages with black);
#   2. from it: naive PTQ with 8-bit and with 7-bit weights (ONNX Runtime's reduce_range), QAT for
#      the processor at A32/M12 (the extra-epochs control), the overflow-aware narrowing for
#      x86-avx2 alone (no training), and QAT for the x86-avx2 profile (2 epochs);
#   3. every model on the x86-avx2 profile against exact int32 accumulation (x86-vnni), full test set.
# Resumable: a step whose output exists is skipped. Writes out/profiles/<set>/. About 30 min on 2 cores.
#   scripts/hardware-profiles.sh mnist|fashion-mnist
set -euo pipefail
cd "$(dirname "$0")/.."
set_name="${1:?usage: scripts/hardware-profiles.sh mnist|fashion-mnist}"
case "$set_name" in
  mnist) data=mnist-ink ;;
  fashion-mnist) data=fashion-mnist-white ;;
  *) echo "unknown set $set_name: mnist or fashion-mnist" >&2; exit 2 ;;
esac
./dova --version >/dev/null
export DOVA_SKIP_BUILD=1
d="out/$data"
out="out/profiles/$set_name"
mkdir -p "$out"
[ -f "data/$set_name/t10k-labels-idx1-ubyte" ] || scripts/fetch-data.sh >/dev/null
[ -f "$d/t10k-labels-idx1-ubyte" ] || python3 scripts/ink-on-paper.py "data/$set_name" "$d"
own=(--train-images "$d/train-images-idx3-ubyte" --train-labels "$d/train-labels-idx1-ubyte"
     --test-images "$d/t10k-images-idx3-ubyte" --test-labels "$d/t10k-labels-idx1-ubyte" --data-name "$data")
ckpt="$out/baseline/lenet-$data-fp32.ckpt"
if [ ! -f "$out/baseline/done" ]; then
  echo "== FP32 baseline ($(date -u +%T))"
  ./dova baseline --model lenet "${own[@]}" --augment none --epochs 8 --out "$out/baseline" --resume \
    > "$out/baseline.log" 2>&1
  touch "$out/baseline/done"
fi
common=(--model lenet "${own[@]}" --from "$ckpt" --epochs 0 --mul-bits 12 --seed 1)
run() { # run DIR ARGS...: one compress run into $out/DIR unless it is there
  local dir="$out/$1"; shift
  [ -f "$dir/done" ] && return 0
  echo "== $dir ($(date -u +%T))"
  ./dova compress "${common[@]}" --out "$dir" "$@" > "$dir.log" 2> "$dir.err"
  touch "$dir/done"
}
run naive --acc-bits 32 --qat-epochs 0
run w7 --acc-bits 32 --qat-epochs 0 --weight-bits 7
run qat-processor --acc-bits 32 --qat-epochs 2
run narrowed-avx2 --profile x86-avx2 --qat-epochs 0
run qat-avx2 --profile x86-avx2 --qat-epochs 2
p="lenet-$data-a32m12-wrap"
for m in "naive/$p-naive" "w7/$p-w7-naive" "qat-processor/$p" "narrowed-avx2/$p-x86-avx2" "qat-avx2/$p-x86-avx2"; do
  f="$out/$m.dova"
  [ -f "$f" ] || { echo "missing $f" >&2; continue; }
  [ -f "$out/$m.simulate" ] && continue
  echo "== simulate $f ($(date -u +%T))"
  ./dova simulate --model "$f" --images "$d/t10k-images-idx3-ubyte" --labels "$d/t10k-labels-idx1-ubyte" \
    --profile x86-avx2 --threads 2 > "$out/$m.simulate.tmp" 2>&1
  mv "$out/$m.simulate.tmp" "$out/$m.simulate"
done
echo "== done ($(date -u +%T))"
