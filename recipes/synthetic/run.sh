#!/usr/bin/env bash
# The synthetic-English recipe end to end, offline, in stages: 0 generate -> 1 train -> 2 evaluate
# -> 3 transcribe a sample.
# Usage: bash recipes/synthetic/run.sh [--stage N] [--stop-stage M] [options] [extra Hydra overrides for training...]
#   options (defaults in brackets): --train-hours [10] hours of training speech to generate, --data [data/synthetic]
#   e.g. bash recipes/synthetic/run.sh tokenizer=sentencepiece output_dir=exp/synthetic-sp
set -euo pipefail
cd "$(dirname "$0")/../.."
train_hours=10
data=data/synthetic
recipe_options="--train-hours, --data"
source recipes/stages.sh
DATA=$data
EXP=exp/synthetic
for arg in "$@"; do
  case "$arg" in output_dir=*) EXP=${arg#output_dir=} ;; esac
done

if run_stage 0 "generate the corpus"; then
  asr prepare synthetic --out-dir "$DATA" --train-hours "$train_hours"
fi
if run_stage 1 "train"; then
  asr train recipes/synthetic output_dir="$EXP" "data.train_manifest=$DATA/train.jsonl" "data.val_manifest=$DATA/dev.jsonl" "$@"
fi
if run_stage 2 "evaluate"; then
  for split in dev test; do
    echo "== $split, greedy"
    asr evaluate "$EXP/model.pt" "$DATA/$split.jsonl" --summary "$EXP/$split-greedy.json" \
      --per-utterance "$EXP/eval-$split.jsonl"
  done
fi
if run_stage 3 "transcribe a test utterance"; then
  SAMPLE=$(head -n 1 "$DATA/test.jsonl")
  field() { python -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$SAMPLE" "$1"; }
  echo "reference:  $(field text)"
  echo "transcript: $(asr transcribe "$EXP/model.pt" "$DATA/$(field audio_filepath)")"
fi
