#!/usr/bin/env bash
# Regenerates the model the playground ships with (public/models/b158-tiny-brown/): the b1.58-tiny preset
# (0.86 M parameters, a 1024-token byte-level BPE learned from the Brown training split) trained by the project's
# own trainer on the Brown corpus, exported as a onebit folder (config.json + model.safetensors + tokenizer.json),
# then scored by `onebit eval` on the whole Brown validation split; TRAINING.txt beside the model records both.
# Deterministic for a given seed (tfjs wasm, one thread). ≈ 8 minutes on an idle core, longer on a shared machine;
# `nice` keeps the machine usable meanwhile.
# Usage (from anywhere): apps/web/scripts/train-shipped-model.sh [steps]   (default 600)
set -euo pipefail
cd "$(dirname "$0")/../../.."
STEPS="${1:-600}"
OUT="$PWD/apps/web/public/models/b158-tiny-brown"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
onebit() { nice -n 10 pnpm --silent --filter @onebit/cli onebit "$@"; }

TRAIN_ARGS=(--preset b1.58-tiny --data brown --steps "$STEPS" --batch-size 8 --seq-len 64 --seed 1)
onebit train "${TRAIN_ARGS[@]}" --checkpoint-dir "$WORK/state" -o "$WORK/model" 2>"$WORK/train.err" | tee "$WORK/train.out"
mkdir -p "$OUT"
cp "$WORK/model/config.json" "$WORK/model/model.safetensors" "$WORK/model/tokenizer.json" "$OUT/"
# the trainer's own validation is a sample (8 batches); score the whole validation split too
onebit eval "$OUT" --data brown --seq-len 64 --sequences 100000 --threads 1 2>/dev/null | tee "$WORK/eval.out"
{
  echo "onebit train ${TRAIN_ARGS[*]}"
  grep -v '^train \[' "$WORK/train.err" | sed 's/^/  /' || true
  sed "s|$WORK/model|<out>|" "$WORK/train.out" | sed 's/^/  /'
  echo "onebit eval <this folder> --data brown --seq-len 64"
  sed "s|$OUT|<this folder>|" "$WORK/eval.out" | sed 's/^/  /'
} > "$OUT/TRAINING.txt"
rm -f "$OUT/last-step.json" "$OUT/train-summary.txt"
cat "$OUT/TRAINING.txt"
du -sh "$OUT"
