#!/usr/bin/env bash
# The real-client check of onebit's GGUF export: a trained onebit model, converted with `onebit convert`, must get
# the same perplexity from llama.cpp's / bitnet.cpp's llama-perplexity as from `onebit eval --text-file --ctx`
# (within 2 %), and the same token ids from llama-tokenize as from `onebit tokenize`.
#
#   LLAMA_CPP_BIN=<llama.cpp build/bin>  BITNET_CPP_BIN=<bitnet.cpp build/bin>  \
#     tooling/native/real-client-check.sh <onebit model folder> <text file> <work dir> [ctx] [types]
#
# The engines are built beside the project, never vendored (see docs/native-engines.md). types: a comma list of
# tq2_0, tq1_0 (run by llama.cpp) and i2_s (run by bitnet.cpp); default "tq2_0,tq1_0,i2_s". Prints one markdown
# row per type: onebit's and the engine's perplexity and their ratio, and whether the token ids agree.
set -euo pipefail
model=${1:?onebit model folder}; text=${2:?text file}; work=${3:?work dir}; ctx=${4:-64}; types=${5:-tq2_0,tq1_0,i2_s}
root=$(cd "$(dirname "$0")/../.." && pwd)
onebit() { (cd "$root/apps/cli" && node --import tsx --conditions=source src/bin.ts "$@"); }
mkdir -p "$work"
sample=$(head -c 400 "$text" | tr '\n' ' ')
echo "| type | engine | arch | onebit eval ppl | engine llama-perplexity ppl | ratio | tokens scored | tokenize ids equal |"
echo "|---|---|---|---|---|---|---|---|"
IFS=, read -ra list <<< "$types"
for type in "${list[@]}"; do
  if [ "$type" = i2_s ]; then bin=${BITNET_CPP_BIN:?set BITNET_CPP_BIN}; engine=bitnet.cpp; else bin=${LLAMA_CPP_BIN:?set LLAMA_CPP_BIN}; engine=llama.cpp; fi
  gguf="$work/model-$type.gguf"
  onebit convert "$model" "$gguf" --type "$type" --force > "$work/convert-$type.log" 2>&1 || { echo "| $type | $engine | — | convert refused: $(tail -1 "$work/convert-$type.log") | | | | |"; continue; }
  arch=$(grep -o 'architecture [^)]*' "$work/convert-$type.log" | head -1 | cut -d' ' -f2)
  ours=$(onebit eval "$gguf" --text-file "$text" --ctx "$ctx" --json 2> "$work/eval-$type.log") || { echo "| $type | $engine | $arch | onebit eval failed: $(tail -1 "$work/eval-$type.log") | | | | |"; continue; }
  ours_ppl=$(node -e 'const r=JSON.parse(process.argv[1]);console.log(r.perplexity.toFixed(4))' "$ours")
  scored=$(node -e 'const r=JSON.parse(process.argv[1]);console.log(r.tokens_scored)' "$ours")
  "$bin/llama-perplexity" -m "$gguf" -f "$text" -c "$ctx" -b "$ctx" -t 2 > "$work/ppl-$type.log" 2>&1
  theirs=$(grep -o 'Final estimate: PPL = [0-9.]*' "$work/ppl-$type.log" | grep -o '[0-9.]*$')
  ratio=$(node -e 'console.log((+process.argv[1] / +process.argv[2]).toFixed(4))' "$ours_ppl" "$theirs")
  theirs_ids=$("$bin/llama-tokenize" -m "$gguf" -p "$sample" --ids --log-disable 2>/dev/null | tail -1 | tr -d ' ')
  ours_ids=$(onebit tokenize "$gguf" --text "$sample" | tr -d ' ')
  same=$([ "$theirs_ids" = "$ours_ids" ] && echo yes || echo "NO")
  echo "| $type | $engine | $arch | $ours_ppl | $theirs | $ratio | $scored | $same |"
done
