#!/usr/bin/env bash
# The digits recipe end to end: prepare (FSDD speakers, and Flite voices saying the digits)
# -> language model -> train -> evaluate (greedy and beam) -> transcribe a sample.
# Usage: bash recipes/digits/run.sh [FSDD_RECORDINGS_DIR] [extra Hydra overrides for training...]
set -euo pipefail
cd "$(dirname "$0")/../.."
FSDD=${1:-../shared/data/fsdd/recordings}
shift || true
DATA=data/digits
EXP=exp/digits
BEAM=(decoder=beam "decoder.lm=$EXP/lm/digits3.arpa" "decoder.lexicon=$EXP/lm/lexicon.txt")

asr prepare digits --fsdd-dir "$FSDD" --out-dir "$DATA"
asr prepare flite-digits --out-dir data/digits_flite --utterances 800 --takes 20
mkdir -p "$EXP/lm"
asr lm build --manifest "$DATA/train.jsonl" --order 3 --out "$EXP/lm/digits3.arpa" --lexicon "$EXP/lm/lexicon.txt"
asr train recipes/digits output_dir="$EXP" "$@"
for split in dev test; do
  echo "== $split, greedy"
  asr evaluate "$EXP/model.pt" "$DATA/$split.jsonl" --summary "$EXP/$split-greedy.json"
  echo "== $split, beam search with lexicon and 3-gram LM"
  asr evaluate "$EXP/model.pt" "$DATA/$split.jsonl" "${BEAM[@]}" --summary "$EXP/$split-beam-lm.json" \
    --per-utterance "$EXP/eval-$split-beam-lm.jsonl"
done
SAMPLE=$(head -n 1 "$DATA/test.jsonl")
echo "== a test utterance"
echo "reference:  $(python -c 'import json,sys; print(json.loads(sys.argv[1])["text"])' "$SAMPLE")"
echo "transcript: $(asr transcribe "$EXP/model.pt" "$DATA/$(python -c 'import json,sys; print(json.loads(sys.argv[1])["audio_filepath"])' "$SAMPLE")")"
