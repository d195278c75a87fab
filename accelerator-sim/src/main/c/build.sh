#!/usr/bin/env bash
# Builds dova's native kernels (dova_sim.c) into the module's classes; run by Maven (exec-maven-plugin).
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
if [ -f "$out/libdovasim.so" ] && [ "$out/libdovasim.so" -nt "$src" ]; then
  exit 0
fi
if gcc -O3 -std=gnu11 -fPIC -shared -Wall -Wextra -Wno-unused-parameter -fno-strict-aliasing \
    -I"$java_home/include" -I"$java_home/include/linux" "$src" -o "$out/libdovasim.so.tmp"; then
  mv "$out/libdovasim.so.tmp" "$out/libdovasim.so"
  echo "dova native kernels: built $out/libdovasim.so"
else
  rm -f "$out/libdovasim.so.tmp"
  echo "dova native kernels: gcc failed (pure-Java executor only)"
fi
exit 0
