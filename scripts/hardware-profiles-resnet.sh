#!/usr/bin/env bash
# The ResNet rows of docs/results/hardware-profiles.md, from the converged FP32 checkpoint
# (scripts/baselines.sh resnet): the profile's narrowing alone, 7-bit weights, and QAT for
# x86-avx2 (2 epochs at 1e-4); each model on x86-vnni and x86-avx2 over a stratified sample of
# 1,000 test images (the reference executor, the only one with the pair stage, runs about 8 ResNet
# images per second). Each compress run is stopped once its model is written, before its own
# full-test-set report. About 45 min on 2 cores.
#   scripts/hardware-profiles-resnet.sh
set -uo pipefail
cd "$(dirname "$0")/.."
./dova --version >/dev/null
export DOVA_SKIP_BUILD=1
common=(--model resnet --data fashion-mnist --from out/baselines/resnet-fashion-mnist-fp32.ckpt --epochs 0 --mul-bits 12 --seed 1)
one() { # DIR MODEL ARGS...
  local dir=$1 model=$2; shift 2
  mkdir -p "$dir"
  ./dova compress "${common[@]}" --out "$dir" "$@" > "$dir/compress.log" 2> "$dir/compress.err" &
  local pid=$!
  # the naive model is written right after the run's own: then the run has nothing left but its report
  while [ ! -f "$dir/${model%-naive}-naive.dova" ] && kill -0 $pid 2>/dev/null; do sleep 5; done
  sleep 3; kill $pid 2>/dev/null; pkill -f -- "--out $dir" || true
  ./dova simulate --model "$dir/$model.dova" --data fashion-mnist --profile x86-avx2 --sample 1000 --threads 2 > "$dir/$model.simulate" 2>&1
}
one out/profiles/resnet-narrowed resnet-fashion-mnist-a32m12-wrap-x86-avx2 --profile x86-avx2 --qat-epochs 0
one out/profiles/resnet-w7 resnet-fashion-mnist-a32m12-wrap-w7-naive --acc-bits 32 --weight-bits 7 --qat-epochs 0
one out/profiles/resnet resnet-fashion-mnist-a32m12-wrap-x86-avx2 --profile x86-avx2 --qat-epochs 2 --qat-lr 0.0001
# the naive 8-bit model, written by the last run beside its own
./dova simulate --model out/profiles/resnet/resnet-fashion-mnist-a32m12-wrap-x86-avx2-naive.dova --data fashion-mnist \
  --profile x86-avx2 --sample 1000 --threads 2 > out/profiles/resnet/resnet-fashion-mnist-a32m12-wrap-x86-avx2-naive.simulate 2>&1
echo done
