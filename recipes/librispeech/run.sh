#!/usr/bin/env bash
# LibriSpeech end to end, in stages: 0 (download and) prepare -> 1 train -> 2 evaluate on the dev and test sets.
# Usage: bash recipes/librispeech/run.sh [--stage N] [--stop-stage M] [100|960] [extra Hydra overrides...]
# Set LIBRISPEECH_ARCHIVES to a folder of already-downloaded tarballs to work offline.
set -euo pipefail
cd "$(dirname "$0")/../.."
source recipes/stages.sh
SIZE=${1:-100}
shift || true
DATA=data/librispeech
EVAL_SETS=(dev-clean dev-other test-clean test-other)
case "$SIZE" in
  100) TRAIN=(train-clean-100); RECIPE=recipes/librispeech; EXP=exp/librispeech-100 ;;
  960) TRAIN=(train-clean-100 train-clean-360 train-other-500); RECIPE=recipes/librispeech/960h.yaml; EXP=exp/librispeech-960 ;;
  *) echo "usage: $0 [--stage N] [--stop-stage M] [100|960] [overrides...]" >&2; exit 2 ;;
esac

if run_stage 0 "download and prepare"; then
  python tools/download_librispeech.py "${TRAIN[@]}" "${EVAL_SETS[@]}" --out-dir "$DATA" \
    ${LIBRISPEECH_ARCHIVES:+--archive-dir "$LIBRISPEECH_ARCHIVES"}
  asr prepare librispeech --root "$DATA" --out-dir "$DATA" --subsets "${TRAIN[@]}" "${EVAL_SETS[@]}"
  if [ "$SIZE" = 960 ]; then
    for subset in "${TRAIN[@]}"; do cat "$DATA/$subset.jsonl"; done > "$DATA/train-960.jsonl"
  fi
fi
if run_stage 1 "train"; then
  asr train "$RECIPE" output_dir="$EXP" "$@"
fi
if run_stage 2 "evaluate"; then
  for subset in "${EVAL_SETS[@]}"; do
    echo "== $subset, greedy"
    asr evaluate "$EXP/model.pt" "$DATA/$subset.jsonl" --summary "$EXP/$subset-greedy.json"
  done
fi
