#!/usr/bin/env python
"""Check long-audio transcription: join a manifest's utterances into one file (``--gap`` seconds of
silence between them, as between sentences), transcribe it as ``asr transcribe`` does (cut at pauses,
then windows), and compare with one pass over the whole file and with the utterances transcribed one by one.

    python tools/long_audio_check.py exp/digits/model.pt data/digits/test.jsonl --out /tmp/long.wav --gap 1

``--sample N`` joins N rows drawn at random (seeded) instead of all of them: on rows
of a training speaker, where the model is sure of its words, it shows what the
cutting and stitching alone change.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import time

import soundfile as sf
import torch

from asr.data.manifest import read_manifest
from asr.inference import Transcriber
from asr.metrics import word_errors
from asr.model_file import load_model


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("model")
    p.add_argument("manifest")
    p.add_argument("--out", required=True, help="where to write the joined WAV")
    p.add_argument("--chunk-seconds", type=float, default=30.0)
    p.add_argument("--context-seconds", type=float, default=3.0)
    p.add_argument("--min-pause", type=float, default=0.5, help="as asr transcribe's --min-pause (0: windows only)")
    p.add_argument("--gap", type=float, default=0.0, help="seconds of silence put between the utterances")
    p.add_argument("--sample", type=int, help="join this many rows drawn at random (seed 0), not all")
    args = p.parse_args(argv)
    model = load_model(args.model)
    rate = model.recognizer.frontend.sample_rate
    utterances = read_manifest(args.manifest).utterances
    if args.sample is not None:
        utterances = random.Random(0).sample(utterances, min(args.sample, len(utterances)))
    gap = torch.zeros(round(args.gap * rate))
    pieces = [piece for u in utterances for piece in (u.audio.load(rate), gap)]
    sf.write(args.out, torch.cat(pieces[:-1]).numpy(), rate)
    minutes = sf.info(args.out).duration / 60
    chunked = Transcriber(
        model,
        device="cpu",
        chunk_seconds=args.chunk_seconds,
        context_seconds=args.context_seconds,
        min_pause_seconds=args.min_pause,
    )
    start = time.perf_counter()
    long_text = next(chunked.transcribe([args.out])).text
    seconds = time.perf_counter() - start
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    per_utterance = " ".join(r.text for r in chunked.transcribe([u.audio for u in utterances]))
    one_pass = next(Transcriber(model, device="cpu", chunk_seconds=1e9).transcribe([args.out])).text
    print(f"joined file: {minutes:.1f} min, {len(utterances)} utterances, {args.gap:g} s apart: {args.out}")
    print(
        f"chunked (cut at pauses of {args.min_pause:g} s, then {args.chunk_seconds:g} s windows with "
        f"{args.context_seconds:g} s context): {seconds:.1f} s, "
        f"peak RSS {rss:.2f} GiB (after the chunked run)"
    )
    print(f"chunked vs one pass over the whole file: WER {100 * word_errors(one_pass, long_text).rate:.2f}%")
    print(f"chunked vs per-utterance transcripts:    WER {100 * word_errors(per_utterance, long_text).rate:.2f}%")
    print(f"one pass vs per-utterance transcripts:   WER {100 * word_errors(per_utterance, one_pass).rate:.2f}%")
    reference = " ".join(u.text for u in utterances)
    for name, text in (("chunked", long_text), ("one pass", one_pass), ("per-utterance", per_utterance)):
        print(f"{name} vs the reference text: WER {100 * word_errors(reference, text).rate:.2f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
