#!/usr/bin/env bash
# The digits recipe end to end, in stages: 0 prepare (FSDD speakers, and Flite voices saying the digits)
# -> 1 language model -> 2 train (and draw its curves) -> 3 evaluate (greedy and beam, each also with VTLN;
# an error report)
# -> 4 transcribe a sample.
# Usage: bash recipes/digits/run.sh [--stage N] [--stop-stage M] [options] [FSDD_RECORDINGS_DIR] [Hydra overrides...]
#   options (defaults in brackets): --test-speaker [jackson] --dev-speaker [lucas] --data [data/digits]
#   --exp [exp/digits] --prepare-flite [true]: false reuses data/digits_flite, as recipes/digits/cross_speaker.sh does
#   e.g. bash recipes/digits/run.sh --stage 2 ../shared/data/fsdd/recordings overwrite=true  (retrain, same data)
set -euo pipefail
cd "$(dirname "$0")/../.."
test_speaker=jackson
dev_speaker=lucas
data=data/digits
exp=exp/digits
prepare_flite=true
recipe_options="--test-speaker, --dev-speaker, --data, --exp, --prepare-flite"
source recipes/stages.sh
FSDD=${1:-../shared/data/fsdd/recordings}
shift || true
FLITE=data/digits_flite
BEAM=(decoder=beam "decoder.lm=$exp/lm/digits3.arpa" "decoder.lexicon=$exp/lm/lexicon.txt")

if run_stage 0 "prepare FSDD and the Flite voices"; then
  asr prepare digits --fsdd-dir "$FSDD" --out-dir "$data" --test-speaker "$test_speaker" --dev-speaker "$dev_speaker"
  if [ "$prepare_flite" = true ]; then
    asr prepare flite-digits --out-dir "$FLITE" --utterances 800 --takes 20
  fi
fi
if run_stage 1 "3-gram language model and lexicon"; then
  mkdir -p "$exp/lm"
  asr lm build --manifest "$data/train.jsonl" --order 3 --out "$exp/lm/digits3.arpa" --lexicon "$exp/lm/lexicon.txt"
fi
if run_stage 2 "train"; then
  asr train recipes/digits output_dir="$exp" "data.train_manifest=[$data/train.jsonl,$FLITE/train.jsonl]" \
    "data.val_manifest=$data/dev.jsonl" "$@"
  asr plot "$exp" || echo "asr plot: see the message above (the curves are optional; the recipe goes on)"
fi
if run_stage 3 "evaluate"; then
  for split in dev test; do
    echo "== $split, greedy"
    asr evaluate "$exp/model.pt" "$data/$split.jsonl" decoder=greedy --summary "$exp/$split-greedy.json"
    echo "== $split, greedy, each speaker under its own vocal tract warp (VTLN)"
    asr evaluate "$exp/model.pt" "$data/$split.jsonl" decoder=greedy --vtln --summary "$exp/$split-greedy-vtln.json" \
      --per-utterance "$exp/eval-$split-greedy-vtln.jsonl"
    echo "== $split, beam search with lexicon and 3-gram LM"
    asr evaluate "$exp/model.pt" "$data/$split.jsonl" "${BEAM[@]}" --summary "$exp/$split-beam-lm.json" \
      --per-utterance "$exp/eval-$split-beam-lm.jsonl"
    echo "== $split, beam search with lexicon and 3-gram LM, VTLN"
    asr evaluate "$exp/model.pt" "$data/$split.jsonl" "${BEAM[@]}" --vtln --summary "$exp/$split-beam-lm-vtln.json" \
      --per-utterance "$exp/eval-$split-beam-lm-vtln.jsonl" --report "$exp/report-$split-beam-lm-vtln"
  done
fi
if run_stage 4 "transcribe a test utterance"; then
  SAMPLE=$(head -n 1 "$data/test.jsonl")
  echo "reference:  $(python -c 'import json,sys; print(json.loads(sys.argv[1])["text"])' "$SAMPLE")"
  echo "transcript: $(asr transcribe "$exp/model.pt" "$data/$(python -c 'import json,sys; print(json.loads(sys.argv[1])["audio_filepath"])' "$SAMPLE")")"
fi
