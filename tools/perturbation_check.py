#!/usr/bin/env python
"""How much a model's transcripts move when the audio changes in ways that keep the words: silence added
around each utterance, and a faster tempo.

Transcribes a manifest's rows as ``asr transcribe`` does, then again with ``--silence`` seconds of digital
silence before and after each of the first ``--first`` rows (counting the transcripts that change), and
with the whole set played ``--tempo`` times faster (librosa's time stretch, pitch kept; WER against the
reference). A model that is sure of its words changes few transcripts under either.

    python tools/perturbation_check.py exp/digits/model.pt data/digits/test.jsonl --silence 0.2 0.5 --tempo 1.1 1.2
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import librosa
import numpy as np
import soundfile as sf

from asr.data.manifest import read_manifest
from asr.inference import Transcriber
from asr.metrics import corpus_errors
from asr.model_file import load_model


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("model")
    p.add_argument("manifest")
    p.add_argument("--silence", type=float, nargs="*", default=[0.2, 0.5], help="seconds added at both ends")
    p.add_argument("--first", type=int, default=40, help="rows the silence is added to")
    p.add_argument("--tempo", type=float, nargs="*", default=[1.1, 1.2], help="playback speed factors")
    args = p.parse_args(argv)
    model = load_model(args.model)
    transcriber = Transcriber(model, device="cpu")
    rate = transcriber.sample_rate
    utterances = read_manifest(args.manifest).utterances
    wavs = [u.audio.load(rate).numpy() for u in utterances]
    references = [u.text for u in utterances]

    with tempfile.TemporaryDirectory() as tmp:

        def transcripts(audio: list[np.ndarray], tag: str) -> list[str]:
            paths = [str(Path(tmp) / f"{tag}-{i}.wav") for i in range(len(audio))]
            for path, wav in zip(paths, audio):
                sf.write(path, wav, rate)
            return [result.text for result in transcriber.transcribe(paths)]

        plain = transcripts(wavs, "plain")
        print(f"as is: WER {corpus_errors(references, plain)[0].rate:.2%} on {len(wavs)} rows")
        for seconds in args.silence:
            pad = np.zeros(round(seconds * rate), dtype=np.float32)
            padded = transcripts([np.concatenate([pad, w, pad]) for w in wavs[: args.first]], f"pad{seconds}")
            changed = sum(a != b for a, b in zip(plain, padded))
            print(f"{seconds:g} s of silence at both ends: {changed} of {len(padded)} transcripts change")
        for factor in args.tempo:
            faster = transcripts([librosa.effects.time_stretch(w, rate=factor) for w in wavs], f"tempo{factor}")
            print(f"tempo x{factor:g}: WER {corpus_errors(references, faster)[0].rate:.2%}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
