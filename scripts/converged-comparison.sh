#!/usr/bin/env bash
# Compression against a converged FP32 baseline (issue "Compression against converged baselines"):
# from the checkpoint that scripts/baselines.sh wrote, every run of the comparison, then one sweep
# on accelerator-sim over the full test set:
#   - naive post-training quantization (over the whole grid of A, M and overflow modes);
#   - the paper's method (downscaling- and overflow-aware QAT, 2 epochs) at A in {32,16,14,12} x
#     {wrap, saturate} with M = 12, at M in {8,6,5,4} with A = 32, and at A12/M8;
#   - ablations: downscaling-awareness off at M in {12,8,6,5,4} (A = 32); overflow-awareness off at
#     A in {16,14,12} (M = 12, wrap); the guaranteed (L1-bounded) mode at A16/M12 and A12/M8;
#   - the control: FP32 fine-tuned for the same 2 extra epochs at the same rate, then naive PTQ.
# Resumable: a run whose model exists is skipped. Writes out/converged/<net>/ and
# docs/results/compression-converged-<net>.md with two plots. LeNet: about 60 min on one core.
#   scripts/converged-comparison.sh lenet|resnet|mobilenet
# DOVA_COMPRESS_ARGS adds options to every compress run (the ResNet's recipe:
#   DOVA_COMPRESS_ARGS="--prefix-bound-everywhere --qat-lr 0.0001"); DOVA_CONVERGED_OUT names
# the output folder (default out/converged/<net>); DOVA_CONVERGED_ONLY (a bash regex) runs only
# the runs whose names match it and skips the sweep (to fill gaps in a grid run before).
set -euo pipefail
cd "$(dirname "$0")/.."
net="${1:?usage: scripts/converged-comparison.sh lenet|resnet|mobilenet}"
data=fashion-mnist
[ "$net" = lenet ] && data=mnist
ckpt="out/baselines/$net-$data-fp32.ckpt"
hist="out/baselines/$net-$data-fp32-history.csv"
# the shipped copy (models/baselines/) where scripts/baselines.sh has not run here
[ -f "$ckpt" ] || { ckpt="models/baselines/$net-$data-fp32.ckpt"; hist="models/baselines/$net-$data-fp32-history.csv"; }
[ -f "$ckpt" ] || { echo "no converged checkpoint out/baselines/$net-$data-fp32.ckpt or $ckpt: run scripts/baselines.sh $net first" >&2; exit 2; }
./dova --version >/dev/null
export DOVA_SKIP_BUILD=1 DOVA_DIST="$PWD/out/dist-converged-$net"
rm -rf "$DOVA_DIST" && mkdir -p "$DOVA_DIST" && cp -r serve/target/lib serve/target/dova-serve-*.jar "$DOVA_DIST"/
out="${DOVA_CONVERGED_OUT:-out/converged/$net}"
read -r -a extra <<< "${DOVA_COMPRESS_ARGS:-}"
# the suffix compress gives a model trained with these options (Compression.name): the resume
# check and the sweep's naive and control files must look for the names compress writes
suffix=""
[[ " ${DOVA_COMPRESS_ARGS:-} " == *" --prefix-bound-everywhere "* ]] && suffix="-prefix-bound"
mkdir -p "$out"
common=(--model "$net" --data "$data" --from "$ckpt" --epochs 0 --seed 1 --out "$out" "${extra[@]}")

run() { # run NAME ARGS...: one compress run unless its model exists
  local name="$1"; shift
  [ -f "$out/$name$suffix.dova" ] && return 0
  [[ -n "${DOVA_CONVERGED_ONLY:-}" && ! "$name" =~ $DOVA_CONVERGED_ONLY ]] && return 0
  echo "== $name ($(date -u +%T))"
  local qat=(--qat-epochs 2)
  [[ " $* " == *" --qat-epochs "* ]] && qat=()
  ./dova compress "${common[@]}" "${qat[@]}" "$@" > "$out/$name.log" 2> "$out/$name.err" || { echo "   failed: see $out/$name.err"; return 0; }
  grep -a "A[0-9]*/M[0-9]* [a-z]* *[0-9.]*%" "$out/$name.log" | head -2 | sed 's/^/   /'
}
p="$net-$data"
# the runs the targets are judged on first (A16/M12 and A12/M8, the FP32 control), so that an
# interrupted run has them; then the rest of the grid and the ablations
run "$p-a16m12-wrap" --acc-bits 16 --mul-bits 12 --overflow wrap
run "$p-a32m32-wrap-fp32ft2" --acc-bits 32 --mul-bits 32 --overflow wrap --qat-epochs 0 --fine-tune-epochs 2
run "$p-a12m8-wrap" --acc-bits 12 --mul-bits 8 --overflow wrap
run "$p-a12m8-saturate" --acc-bits 12 --mul-bits 8 --overflow saturate
run "$p-a32m12-wrap" --acc-bits 32 --mul-bits 12 --overflow wrap
# then the pairs that show what each technique buys, each pair together so that an interrupted
# run leaves whole comparisons: downscaling-awareness on and off at each M, overflow-awareness
# off at A16; then the rest of the grid and the other ablations
run "$p-a16m12-saturate" --acc-bits 16 --mul-bits 12 --overflow saturate
for m in 8 6 5 4; do
  run "$p-a32m${m}-wrap" --acc-bits 32 --mul-bits "$m" --overflow wrap
  run "$p-a32m${m}-wrap-no-downscaling" --acc-bits 32 --mul-bits "$m" --overflow wrap --no-downscaling-aware
done
run "$p-a16m12-wrap-no-overflow-aware" --acc-bits 16 --mul-bits 12 --overflow wrap --no-overflow-aware
for mode in wrap saturate; do
  for a in 32 16 14 12; do run "$p-a${a}m12-$mode" --acc-bits "$a" --mul-bits 12 --overflow "$mode"; done
  run "$p-a12m8-$mode" --acc-bits 12 --mul-bits 8 --overflow "$mode"
done
run "$p-a32m12-wrap-no-downscaling" --acc-bits 32 --mul-bits 12 --overflow wrap --no-downscaling-aware
for a in 14 12; do run "$p-a${a}m12-wrap-no-overflow-aware" --acc-bits "$a" --mul-bits 12 --overflow wrap --no-overflow-aware; done
run "$p-a16m12-wrap-guaranteed" --acc-bits 16 --mul-bits 12 --overflow wrap --guaranteed
run "$p-a12m8-wrap-guaranteed" --acc-bits 12 --mul-bits 8 --overflow wrap --guaranteed
run "$p-a32m32-wrap-fp32ft2" --acc-bits 32 --mul-bits 32 --overflow wrap --qat-epochs 0 --fine-tune-epochs 2
[ -n "${DOVA_CONVERGED_ONLY:-}" ] && { echo "DOVA_CONVERGED_ONLY set: no sweep"; exit 0; }
fp32=$(tail -n 1 "$hist" | cut -d, -f4)
./dova sweep --dir "$out" --naive "$out/$p-a32m12-wrap$suffix-naive.dova" --control "$out/$p-a32m32-wrap-fp32ft2$suffix-naive.dova" \
  --data "$data" --fp32 "$fp32" --markdown "docs/results/compression-converged-$net.md" \
  --png "docs/results/compression-converged-$net.png" --command "${DOVA_COMPRESS_ARGS:+DOVA_COMPRESS_ARGS=\"$DOVA_COMPRESS_ARGS\" }scripts/converged-comparison.sh $net"
