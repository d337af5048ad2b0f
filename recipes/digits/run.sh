#!/usr/bin/env bash
# The digits recipe end to end, in stages: 0 prepare (FSDD speakers, and Flite voices saying the digits)
# -> 1 language model -> 2 train (and draw its curves) -> 3 evaluate (greedy and beam, with an error report)
# -> 4 transcribe a sample.
# Usage: bash recipes/digits/run.sh [--stage N] [--stop-stage M] [FSDD_RECORDINGS_DIR] [extra Hydra overrides...]
#   e.g. bash recipes/digits/run.sh --stage 2 ../shared/data/fsdd/recordings overwrite=true  (retrain, same data)
set -euo pipefail
cd "$(dirname "$0")/../.."
source recipes/stages.sh
FSDD=${1:-../shared/data/fsdd/recordings}
shift || true
DATA=data/digits
EXP=exp/digits
BEAM=(decoder=beam "decoder.lm=$EXP/lm/digits3.arpa" "decoder.lexicon=$EXP/lm/lexicon.txt")

if run_stage 0 "prepare FSDD and the Flite voices"; then
  asr prepare digits --fsdd-dir "$FSDD" --out-dir "$DATA"
  asr prepare flite-digits --out-dir data/digits_flite --utterances 800 --takes 20
fi
if run_stage 1 "3-gram language model and lexicon"; then
  mkdir -p "$EXP/lm"
  asr lm build --manifest "$DATA/train.jsonl" --order 3 --out "$EXP/lm/digits3.arpa" --lexicon "$EXP/lm/lexicon.txt"
fi
if run_stage 2 "train"; then
  asr train recipes/digits output_dir="$EXP" "$@"
  asr plot "$EXP" || echo "asr plot: see the message above (the curves are optional; the recipe goes on)"
fi
if run_stage 3 "evaluate"; then
  for split in dev test; do
    echo "== $split, greedy"
    asr evaluate "$EXP/model.pt" "$DATA/$split.jsonl" --summary "$EXP/$split-greedy.json"
    echo "== $split, beam search with lexicon and 3-gram LM"
    asr evaluate "$EXP/model.pt" "$DATA/$split.jsonl" "${BEAM[@]}" --summary "$EXP/$split-beam-lm.json" \
      --per-utterance "$EXP/eval-$split-beam-lm.jsonl" --report "$EXP/report-$split-beam-lm"
  done
fi
if run_stage 4 "transcribe a test utterance"; then
  SAMPLE=$(head -n 1 "$DATA/test.jsonl")
  echo "reference:  $(python -c 'import json,sys; print(json.loads(sys.argv[1])["text"])' "$SAMPLE")"
  echo "transcript: $(asr transcribe "$EXP/model.pt" "$DATA/$(python -c 'import json,sys; print(json.loads(sys.argv[1])["audio_filepath"])' "$SAMPLE")")"
fi
