#!/usr/bin/env python
"""Pick the beam decoder's LM weight (alpha) and word score (beta) on a dev manifest by grid search.

The acoustic model runs once; every grid point re-decodes the cached frame
posteriors, so a 5x5 grid costs 25 beam searches, not 25 forward passes. It prints
a WER table and the best setting as the overrides to pass to ``asr evaluate`` or
``asr transcribe``.

    python tools/tune_decoder.py exp/digits/model.pt data/digits/dev.jsonl \\
        decoder.lm=exp/digits/lm/digits3.arpa decoder.lexicon=exp/digits/lm/lexicon.txt \\
        --lm-weights 0 0.5 1 2 --word-scores -1 0 1
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import sys
import time

from asr.config import decoder_config
from asr.data.manifest import read_manifest
from asr.decoding import build_decoder
from asr.inference import Transcriber
from asr.metrics import corpus_errors
from asr.model_file import load_model
from asr.outputs import atomic_write
from asr.text import normalize_text


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("model")
    p.add_argument("manifest", help="dev manifest (never the test set)")
    p.add_argument(
        "overrides", nargs="*", help="decoder settings shared by every point: decoder.lm=... decoder.lexicon=..."
    )
    p.add_argument("--lm-weights", type=float, nargs="+", default=[0.0, 0.25, 0.5, 1.0, 2.0])
    p.add_argument("--word-scores", type=float, nargs="+", default=[-1.0, 0.0, 1.0, 2.0])
    p.add_argument("--device", default="auto")
    p.add_argument("--json", help="write every point's WER here")
    return p.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    model = load_model(args.model)
    base = decoder_config({}, ["decoder=beam", *args.overrides])
    transcriber = Transcriber(model, device=args.device, snap_words=False)  # text only: word times are not scored
    utterances = read_manifest(args.manifest).utterances
    sources = [u.audio for u in utterances]
    cached = [(u, p) for u, p in zip(utterances, transcriber.posteriors(sources)) if not p.error]
    if len(cached) < len(sources):
        print(f"warning: {len(sources) - len(cached)} utterance(s) could not be read", file=sys.stderr)
    references = [normalize_text(u.text) for u, _ in cached]
    points = []
    print("| lm_weight | word_score | WER | decode s |\n| --- | --- | --- | --- |")
    for alpha, beta in itertools.product(args.lm_weights, args.word_scores):
        decoder = build_decoder(dataclasses.replace(base, lm_weight=alpha, word_score=beta), model.tokenizer)
        start = time.perf_counter()
        texts = [transcriber.decode(posteriors, decoder).text for _, posteriors in cached]
        seconds = time.perf_counter() - start
        words, _ = corpus_errors(references, [normalize_text(text) for text in texts])
        points.append({"lm_weight": alpha, "word_score": beta, "wer": words.rate, "decode_seconds": seconds})
        print(f"| {alpha:g} | {beta:g} | {100 * words.rate:.2f}% | {seconds:.1f} |", flush=True)
    best = min(points, key=lambda p: p["wer"])
    print(
        f"\nbest: decoder.lm_weight={best['lm_weight']:g} decoder.word_score={best['word_score']:g} "
        f"(WER {100 * best['wer']:.2f}% on {len(cached)} utterances of {args.manifest})"
    )
    if args.json:
        with atomic_write(args.json) as f:
            json.dump({"base": base, "points": points, "best": best}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
