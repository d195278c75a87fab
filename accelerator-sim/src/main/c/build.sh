#!/usr/bin/env bash
# Builds dova's native kernels (dova_sim.c) into the module's classes, three times:
# libdovasim-vnni.so (AVX-512 VNNI kernels, and the AVX2 ones), libdovasim-avx2.so (-mavx2: the AVX2
# micro-kernels) and libdovasim.so (baseline x86-64: the portable C kernels); NativeKernels loads
# the best one this CPU runs. Run by Maven (exec-maven-plugin).
# Never fails the build: without gcc or jni.h the simulator runs its pure-Java executor instead.
#   build.sh JAVA_HOME OUTPUT_DIR
set -u
java_home="$1"
out="$2"
src="$(dirname "$0")/dova_sim.c"
if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
  echo "dova native kernels: not built on $(uname -s)-$(uname -m) (pure-Java executor only)"; exit 0
fi
if ! command -v gcc >/dev/null; then
  echo "dova native kernels: no gcc on PATH (pure-Java executor only)"; exit 0
fi
if [ ! -f "$java_home/include/jni.h" ]; then
  echo "dova native kernels: no $java_home/include/jni.h (pure-Java executor only)"; exit 0
fi
mkdir -p "$out"
build() { # name, extra flags
  local lib="$out/$1"
  shift
  if [ -f "$lib" ] && [ "$lib" -nt "$src" ] && [ "$lib" -nt "$0" ]; then
    return 0
  fi
  if gcc -O3 -std=gnu11 -fPIC -shared -Wall -Wextra -Wno-unused-parameter -fno-strict-aliasing "$@" \
      -I"$java_home/include" -I"$java_home/include/linux" "$src" -o "$lib.tmp"; then
    mv "$lib.tmp" "$lib"
    echo "dova native kernels: built $lib"
  else
    rm -f "$lib.tmp"
    echo "dova native kernels: gcc failed for $lib (that variant is not available)"
  fi
}
build libdovasim.so
build libdovasim-avx2.so -mavx2 -mfma
build libdovasim-vnni.so -mavx2 -mfma -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512vnni
exit 0
