#!/usr/bin/env bash
# The digits recipe end to end: prepare -> train -> evaluate on the test speaker -> transcribe a sample.
# Usage: bash recipes/digits/run.sh [FSDD_RECORDINGS_DIR] [extra Hydra overrides for training...]
set -euo pipefail
cd "$(dirname "$0")/../.."
FSDD=${1:-../shared/data/fsdd/recordings}
shift || true
DATA=data/digits
EXP=exp/digits

asr prepare digits --fsdd-dir "$FSDD" --out-dir "$DATA"
asr train recipes/digits output_dir="$EXP" "$@"
asr evaluate "$EXP/model.pt" "$DATA/dev.jsonl" --summary "$EXP/dev-summary.json"
asr evaluate "$EXP/model.pt" "$DATA/test.jsonl" --summary "$EXP/test-summary.json"
SAMPLE=$(python -c "import json,sys; r=json.loads(open('$DATA/test.jsonl').readline()); print(r['audio_filepath'] + '\t' + r['text'])")
echo "reference:  $(cut -f2 <<<"$SAMPLE")"
echo "transcript: $(asr transcribe "$EXP/model.pt" "$DATA/$(cut -f1 <<<"$SAMPLE")")"
