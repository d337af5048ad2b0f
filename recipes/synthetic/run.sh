#!/usr/bin/env bash
# The synthetic-English recipe end to end, offline: generate -> train -> evaluate -> transcribe a sample.
# Usage: bash recipes/synthetic/run.sh [extra Hydra overrides for training...]
#   e.g. bash recipes/synthetic/run.sh tokenizer=sentencepiece output_dir=exp/synthetic-sp
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA=data/synthetic
EXP=exp/synthetic
for arg in "$@"; do
  case "$arg" in output_dir=*) EXP=${arg#output_dir=} ;; esac
done

asr prepare synthetic --out-dir "$DATA"
asr train recipes/synthetic output_dir="$EXP" "$@"
for split in dev test; do
  echo "== $split, greedy"
  asr evaluate "$EXP/model.pt" "$DATA/$split.jsonl" --summary "$EXP/$split-greedy.json" \
    --per-utterance "$EXP/eval-$split.jsonl"
done
SAMPLE=$(head -n 1 "$DATA/test.jsonl")
field() { python -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$SAMPLE" "$1"; }
echo "== a test utterance"
echo "reference:  $(field text)"
echo "transcript: $(asr transcribe "$EXP/model.pt" "$DATA/$(field audio_filepath)")"
