#!/usr/bin/env bash
# The ResNet-20-like and MobileNet-style networks on Fashion-MNIST, compressed at A16/M12 WRAP,
# measured on accelerator-sim (full test set); appends the reports to
# docs/results/compression-fashion-models.md.   About 15 minutes per network (one core each: two invocations can run side by side).
#   scripts/fashion-models.sh [resnet] [mobilenet]
set -euo pipefail
cd "$(dirname "$0")/.."
./dova --version >/dev/null
models=("$@")
[ ${#models[@]} -gt 0 ] || models=(resnet mobilenet)
# a frozen copy of the jars per invocation, so that two invocations can run side by side
export DOVA_SKIP_BUILD=1 DOVA_DIST="$PWD/out/dist-fashion-models-$(IFS=-; echo "${models[*]}")"
rm -rf "$DOVA_DIST" && mkdir -p "$DOVA_DIST" && cp -r serve/target/lib serve/target/dova-serve-*.jar "$DOVA_DIST"/
md=docs/results/compression-fashion-models.md
for m in "${models[@]}"; do
  cmd="./dova compress --model $m --data fashion-mnist --epochs 2 --qat-epochs 1 --acc-bits 16 --mul-bits 12 --overflow wrap --qat-lr 0.0001 --seed 1 --out out/results/fashion-$m"
  log="out/results/fashion-$m.log"
  mkdir -p out/results
  status=0
  /usr/bin/time -v $cmd > "$log.out" 2> "$log" || status=$?
  {
    echo "## $m on Fashion-MNIST, A16/M12 WRAP"
    echo
    echo "Command: \`$cmd\` ($(date -u +%Y-%m-%d)), exit status $status"
    echo
    echo '```'
    cat "$log.out"
    grep -a "resident memory" "$log" | tr '\r' '\n' | grep -a "resident memory" || true
    tr '\r' '\n' < "$log" | grep -a "dova compress:" || true
    grep -a "Maximum resident set size" "$log" || true
    echo '```'
    echo
  } >> "$md"
done
