#!/usr/bin/env bash
# Leave-one-speaker-out over the FSDD speakers with the digits recipe's exact settings: each speaker once as
# the test speaker, the next one (in name order, wrapping around) as dev, the other three and the Flite voices
# for training. Each fold is recipes/digits/run.sh (stages 0-3) into data/digits_loso/TEST and
# exp/digits_loso/TEST; a finished fold is kept, so a rerun completes an interrupted protocol. The table of
# WER and CER per fold, greedy and beam + LM, with the mean and the worst fold, goes to exp/digits_loso/table.md.
# Usage: bash recipes/digits/cross_speaker.sh [FSDD_RECORDINGS_DIR] [training overrides...]
set -euo pipefail
cd "$(dirname "$0")/../.."
FSDD=${1:-../shared/data/fsdd/recordings}
shift || true
OUT=exp/digits_loso
if [ ! -d "$FSDD" ]; then
  echo "error: $FSDD: no such folder of FSDD recordings" >&2
  exit 2
fi
mapfile -t speakers < <(find "$FSDD" -maxdepth 1 -name '*.wav' -printf '%f\n' | sed -n 's/^[0-9]_\([^_]*\)_[0-9]*\.wav$/\1/p' | sort -u)
if [ "${#speakers[@]}" -lt 3 ]; then
  echo "error: $FSDD: leave-one-speaker-out needs recordings ({digit}_{speaker}_{index}.wav) of 3 or more speakers" >&2
  exit 2
fi
prepare_flite=true
for i in "${!speakers[@]}"; do
  test_speaker=${speakers[$i]}
  dev_speaker=${speakers[$(((i + 1) % ${#speakers[@]}))]}
  fold=$OUT/$test_speaker
  if [ -f "$fold/fold.json" ]; then
    echo "== fold $test_speaker: done before, kept"
    continue
  fi
  echo "== fold $test_speaker: test $test_speaker, dev $dev_speaker"
  start=$SECONDS
  bash recipes/digits/run.sh --stop-stage 3 --test-speaker "$test_speaker" --dev-speaker "$dev_speaker" \
    --data "data/digits_loso/$test_speaker" --exp "$fold" --prepare-flite "$prepare_flite" "$FSDD" overwrite=true "$@"
  prepare_flite=false
  printf '{"test_speaker": "%s", "dev_speaker": "%s", "wall_seconds": %d}\n' \
    "$test_speaker" "$dev_speaker" $((SECONDS - start)) > "$fold/fold.json"
done
python recipes/digits/cross_speaker_table.py "$OUT" | tee "$OUT/table.md"
