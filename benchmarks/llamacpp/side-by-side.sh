#!/usr/bin/env bash
# gpt4j and llama.cpp on the same GGUF files, alternately: prompt processing (64 and 256 tokens) and generation (128
# tokens, batch 1), tokens/s, for each shape and weight type. From the project root, after
#   mvn -q -B -DskipTests package && (cd benchmarks/llamacpp && npm install --omit=optional)
# run
#   benchmarks/llamacpp/side-by-side.sh [--shapes small,medium,gpt2-124m] [--dtypes f32,f16,q8_0,q4_0] [--threads 2]
#       [--rounds 2] [--repeat 3] [--kv f32|f16] [--dir /tmp/gpt4j-gguf-speed] [--gpt2 ../shared/data/gpt2]
# Files (random weights, GPT-2's initialisation; 124M with GPT-2's own tokenizer) are made once in --dir and reused.
# Each round runs every (shape, type) on both sides, gpt4j first in odd rounds and llama.cpp first in even ones, each
# side in a fresh process with --repeat timed runs after a warm-up; results go to DIR/results-DATE.jsonl and the
# table (medians over rounds) is printed at the end. The KV cache is float32 on both sides by default (gpt4j's);
# --kv f16 gives llama.cpp its default. Timings need a quiet machine: see README.md.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
shapes=small,medium,gpt2-124m dtypes=f32,f16,q8_0,q4_0 threads=2 rounds=2 repeat=3 kv=f32
dir=/tmp/gpt4j-gguf-speed gpt2="$root/../shared/data/gpt2"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --shapes) shapes="$2"; shift 2 ;;
    --dtypes) dtypes="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --repeat) repeat="$2"; shift 2 ;;
    --kv) kv="$2"; shift 2 ;;
    --dir) dir="$2"; shift 2 ;;
    --gpt2) gpt2="$2"; shift 2 ;;
    *) echo "side-by-side.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
jar="$root/benchmarks/target/benchmarks.jar"
[[ -f "$jar" ]] || { echo "side-by-side.sh: build first (mvn -q -B -DskipTests package): no $jar" >&2; exit 2; }
[[ -d "$root/benchmarks/llamacpp/node_modules/node-llama-cpp" ]] || { echo "side-by-side.sh: run 'npm install --omit=optional' in benchmarks/llamacpp first" >&2; exit 2; }
mkdir -p "$dir"
results="$dir/results-$(date +%Y%m%d-%H%M%S).jsonl"
# gpt4j on T threads: the JVM sees T processors (Kernels' pool), OpenBLAS runs T threads for one-row products
java_run() {
  OPENBLAS_NUM_THREADS="$threads" OMP_NUM_THREADS="$threads" java -XX:ActiveProcessorCount="$threads" -Xmx8g \
    -Dorg.bytedeco.javacpp.maxphysicalbytes=16G --add-modules jdk.incubator.vector \
    -cp "$jar" dev.gpt4j.benchmarks.GgufSpeed "$@" 2> >(grep -v "incubator" >&2)
}
file_of() { echo "$dir/$1-$2.gguf"; }

for s in ${shapes//,/ }; do
  for d in ${dtypes//,/ }; do
    f="$(file_of "$s" "$d")"
    [[ -f "$f" ]] || java_run make --shape "$s" --dtype "$d" --out "$f" --gpt2 "$gpt2"
  done
done

echo '[]' > "$dir/no-prompts.json"
gpt4j_side() { java_run run "$1" --pp 64,256 --tg 128 --repeat "$repeat"; }
llama_side() {
  node "$root/benchmarks/llamacpp/run.mjs" "$1" "$dir/no-prompts.json" --threads "$threads" --kv "$kv" --pp 64,256 --tg 128 \
    --repeat "$repeat" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.stringify(JSON.parse(s).timings)))'
}
record() { # shape dtype side round json
  printf '{"shape":"%s","dtype":"%s","side":"%s","round":%s,"threads":%s,"kv":"%s","timings":%s}\n' "$1" "$2" "$3" "$4" "$threads" "$kv" "$5" >> "$results"
}
for ((r = 1; r <= rounds; r++)); do
  for s in ${shapes//,/ }; do
    for d in ${dtypes//,/ }; do
      f="$(file_of "$s" "$d")"
      if (( r % 2 == 1 )); then order="gpt4j llama.cpp"; else order="llama.cpp gpt4j"; fi
      for side in $order; do
        echo "round $r: $s $d $side" >&2
        if [[ $side == gpt4j ]]; then record "$s" "$d" gpt4j "$r" "$(gpt4j_side "$f")"
        else record "$s" "$d" llama.cpp "$r" "$(llama_side "$f")"; fi
      done
    done
  done
done
java_run table "$results"
