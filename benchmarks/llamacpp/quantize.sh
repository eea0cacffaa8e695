#!/usr/bin/env bash
# Builds quantize.c against the libllama that node-llama-cpp ships (headers from the llama.cpp source bundle in
# the same package, so they match the binaries), then runs it:
#   benchmarks/llamacpp/quantize.sh IN.gguf OUT.gguf q8_0|q4_0|f16|f32 [threads] [--pure] [--output-type T] [--embd-type T]
# Needs `npm install --omit=optional` in benchmarks/llamacpp first, and gcc (or cc).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bins="$here/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64"
bundle="$here/node_modules/node-llama-cpp/llama/gitRelease.bundle"
build="$here/build"
if [[ ! -d "$bins" || ! -f "$bundle" ]]; then
  echo "quantize.sh: run 'npm install --omit=optional' in $here first" >&2
  exit 2
fi
lib="$(ls "$bins"/libllama.v*.so 2>/dev/null | head -1 || true)"
[[ -n "$lib" ]] || lib="$bins/libllama.so"
if [[ ! -x "$build/quantize" || "$here/quantize.c" -nt "$build/quantize" ]]; then
  mkdir -p "$build"
  if [[ ! -f "$build/include/llama.h" ]]; then
    rm -rf "$build/src"
    git clone -q --no-checkout "$bundle" "$build/src"
    git -C "$build/src" archive HEAD include/llama.h ggml/include | tar -x -C "$build"
    mv "$build/ggml/include"/* "$build/include/"
    rm -rf "$build/src" "$build/ggml"
  fi
  "${CC:-$(command -v gcc || command -v cc)}" -O2 -Wall -o "$build/quantize" "$here/quantize.c" \
    -I"$build/include" "$lib" -Wl,-rpath,"$bins"
fi
exec "$build/quantize" "$@"
