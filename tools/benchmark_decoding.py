#!/usr/bin/env python
"""Compare CTC decoders on one set of cached posteriors: accuracy and speed; record them in BENCHMARKS.md.

The acoustic model runs once over the manifest; its frame log-probabilities are
then decoded by greedy search, flashlight beam search without an LM, flashlight
beam search with the lexicon and word n-gram LM and, for reference, pyctcdecode
with the same LM and beam width (when it is installed). Each row gives WER and
CER on normalized text and the decoding speed alone; the shared forward pass is
a row of its own. The section ``## <machine> / decoding`` of ``--out`` is
replaced (see tools/benchmark.py).

    python tools/benchmark_decoding.py exp/digits/model.pt data/digits/dev.jsonl \\
        --lm exp/digits/lm/digits3.arpa --lexicon exp/digits/lm/lexicon.txt --lm-weight 0.5 --word-score 1
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import math
import os
import platform
import shlex
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from benchmark import cpu_description, device_name, machine_name, publish

from asr.data.manifest import read_manifest
from asr.decoding import BeamSearchOptions, Decoder, GreedyDecoder, build_decoder
from asr.decoding.beam import flashlight_tokens, read_lexicon
from asr.inference import Transcriber
from asr.metrics import corpus_errors
from asr.model_file import load_model
from asr.text import CharTokenizer, normalize_text

PACKAGES = ("torch", "torchaudio", "flashlight-text", "kenlm", "pyctcdecode")
DEFAULTS = BeamSearchOptions()
# pyctcdecode's own defaults, passed explicitly so that the notes stay true whatever its version.
PYCTC_BEAM_PRUNE_LOGP = -10.0
PYCTC_TOKEN_MIN_LOGP = -5.0
PYCTC_UNK_SCORE_OFFSET = -10.0

DecodeFn = Callable[[torch.Tensor], str]  # one utterance's (T, V) log-probabilities to its text


@dataclass(frozen=True)
class Utterance:
    """A readable utterance's reference text, frame log-probabilities (T, V) and audio seconds."""

    reference: str
    log_probs: torch.Tensor
    seconds: float


@dataclass(frozen=True)
class Row:
    """One line of the results table; ``wer`` and ``cer`` are None for the forward pass."""

    name: str
    wer: float | None
    cer: float | None
    seconds: float
    speed: float
    setting: str


@dataclass(frozen=True)
class Context:
    """What the notes of the section say about the run besides its arguments."""

    device: str
    corpus: str  # utterances and audio hours
    lexicon_words: int
    load: float  # 1-minute load average when the run started


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("model")
    p.add_argument("manifest")
    p.add_argument("--lm", required=True, help="word n-gram LM (ARPA or KenLM binary)")
    p.add_argument("--lexicon", required=True, help="lexicon file ('word w o r d' a line)")
    p.add_argument("--beam-size", type=int, default=DEFAULTS.beam_size)
    p.add_argument("--lm-weight", type=float, default=DEFAULTS.lm_weight, help="alpha, on flashlight's scale")
    p.add_argument("--word-score", type=float, default=DEFAULTS.word_score, help="beta: bonus per word")
    p.add_argument("--limit", type=int, help="only the first N utterances of the manifest")
    p.add_argument("--device", default="cpu", help="where the acoustic model runs: cpu, cuda, auto, ...")
    p.add_argument("--out", default="BENCHMARKS.md", help="Markdown file to write the results into")
    return p.parse_args(argv)


def forward_pass(transcriber: Transcriber, manifest: str, limit: int | None) -> tuple[list[Utterance], float, int]:
    """Readable utterances with their posteriors, the seconds the pass took after a one-file warm-up, and how many
    were unreadable."""
    rows = read_manifest(manifest).utterances[:limit]
    sources = [u.audio for u in rows]
    list(transcriber.posteriors(sources[:1]))
    start = time.perf_counter()
    cached = [
        Utterance(normalize_text(u.text), p.log_probs, p.duration)
        for u, p in zip(rows, transcriber.posteriors(sources))
        if not p.error
    ]
    return cached, time.perf_counter() - start, len(rows) - len(cached)


def asr_decoder(decoder: Decoder, tokenizer: CharTokenizer) -> DecodeFn:
    """Text of one utterance with one of our decoders (search and detokenization; no word timing)."""

    def decode(log_probs: torch.Tensor) -> str:
        hyp = decoder.decode(log_probs[None], torch.tensor([log_probs.shape[0]]))[0]
        return tokenizer.decode(hyp.tokens)

    return decode


def pyctcdecode_decoder(
    tokenizer: CharTokenizer, lm: str, words: list[str], alpha: float, beta: float, beam: int
) -> DecodeFn | None:
    """pyctcdecode over our ids (blank ``""`` first, space ``" "``) with a KenLM word LM; None if not installed.

    It takes log-probabilities as they are: its log-softmax of them is the identity.
    """
    try:
        import pyctcdecode
    except ImportError:
        return None
    labels = ["", *tokenizer.symbols]
    decoder = pyctcdecode.build_ctcdecoder(
        labels, kenlm_model_path=lm, unigrams=words, alpha=alpha, beta=beta, unk_score_offset=PYCTC_UNK_SCORE_OFFSET
    )

    def decode(log_probs: torch.Tensor) -> str:
        return decoder.decode(
            log_probs.numpy(),
            beam_width=beam,
            beam_prune_logp=PYCTC_BEAM_PRUNE_LOGP,
            token_min_logp=PYCTC_TOKEN_MIN_LOGP,
        )

    return decode


def evaluate(name: str, decode: DecodeFn, cached: list[Utterance], setting: str) -> Row:
    """Decode every utterance one at a time after one untimed warm-up decode; score and time it.

    Empty posteriors (audio shorter than one output frame) give empty text without a decoder call.
    """
    print(f"{name} ...", file=sys.stderr)
    decode(next(u.log_probs for u in cached if u.log_probs.shape[0]))
    start = time.perf_counter()
    texts = [decode(u.log_probs) if u.log_probs.shape[0] else "" for u in cached]
    seconds = time.perf_counter() - start
    words, chars = corpus_errors([u.reference for u in cached], [normalize_text(t) for t in texts])
    audio = sum(u.seconds for u in cached)
    return Row(name, words.rate, chars.rate, seconds, audio / seconds, setting)


def decoder_rows(
    args: argparse.Namespace, tokenizer: CharTokenizer, words: list[str], cached: list[Utterance]
) -> list[Row]:
    """Greedy, flashlight without and with the LM, and pyctcdecode when it is installed."""
    beam = {"type": "beam", "beam_size": args.beam_size}
    fused = {**beam, "lm": args.lm, "lexicon": args.lexicon, "lm_weight": args.lm_weight, "word_score": args.word_score}
    alpha = args.lm_weight / math.log(10)
    threshold = f"beam threshold {DEFAULTS.beam_threshold:g}"
    rows = [
        evaluate("greedy (GreedyDecoder)", asr_decoder(GreedyDecoder(), tokenizer), cached, "best path"),
        evaluate(
            "flashlight beam, no LM",
            asr_decoder(build_decoder(beam, tokenizer), tokenizer),
            cached,
            f"lexicon-free; beam {args.beam_size}, {threshold}",
        ),
        evaluate(
            "flashlight beam + lexicon + word LM",
            asr_decoder(build_decoder(fused, tokenizer), tokenizer),
            cached,
            f"beam {args.beam_size}, {threshold}; lm_weight {args.lm_weight:g}, word_score {args.word_score:g}, "
            "words outside the lexicon forbidden",
        ),
    ]
    pyctc = pyctcdecode_decoder(tokenizer, args.lm, words, alpha, args.word_score, args.beam_size)
    if pyctc is None:
        print("pyctcdecode is not installed: its row is skipped (pip install pyctcdecode)", file=sys.stderr)
        return rows
    setting = (
        f"beam width {args.beam_size}, beam_prune_logp {PYCTC_BEAM_PRUNE_LOGP:g}, "
        f"token_min_logp {PYCTC_TOKEN_MIN_LOGP:g} (its defaults); "
        f"alpha {alpha:.4g} (= lm_weight / ln 10), beta {args.word_score:g}; lexicon words as unigrams"
    )
    return [*rows, evaluate("pyctcdecode + word LM (reference)", pyctc, cached, setting)]


def versions() -> str:
    """Python and the installed versions of the packages that decode."""
    found = []
    for name in PACKAGES:
        try:
            found.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            found.append(f"{name} not installed")
    return ", ".join([f"Python {platform.python_version()}", *found])


def cell(rate: float | None) -> str:
    return "—" if rate is None else f"{100 * rate:.2f}%"


def render_section(heading: str, args: argparse.Namespace, rows: list[Row], context: Context) -> str:
    """A ``## machine / decoding`` section: what was run and how, then the table."""
    has_pyctc = any(r.name.startswith("pyctcdecode") for r in rows)
    lines = [
        f"## {heading}",
        "",
        f"- date: {datetime.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}",
        f"- machine: {cpu_description()}; {os.cpu_count()} cores; torch threads {torch.get_num_threads()}; "
        f"load average {context.load:.2f} at the start; acoustic model on {context.device}; decoding on the CPU",
        f"- versions: {versions()}",
        f"- model: `{args.model}`; manifest: `{args.manifest}`: {context.corpus}",
        f"- LM: `{args.lm}`; lexicon: `{args.lexicon}` ({context.lexicon_words} words); beam size {args.beam_size}, "
        f"lm_weight {args.lm_weight:g}, word_score {args.word_score:g}",
        f"- command: `python {shlex.join(sys.argv)}`",
        "- decode time: every utterance decoded alone, search plus token-to-text, after one untimed warm-up "
        "decode; decoder construction (LM loading) and word timing excluded. Speed: audio seconds / decode seconds. "
        "WER and CER on normalized text.",
        "- the forward row is shared by every decoder and not in their times: audio loading, features and model, "
        "batched by duration as `asr transcribe` does, after a one-file warm-up.",
    ]
    if has_pyctc:
        lines.append(
            "- pyctcdecode is a different search: lexicon-free, scoring partial words against the lexicon's "
            f"unigrams (a word outside them costs unk_score_offset {PYCTC_UNK_SCORE_OFFSET:g}) where flashlight "
            "only forms lexicon words, and it prunes by its own rules: the same LM, word bonus and beam width, not "
            "the same algorithm. Flashlight adds lm_weight × KenLM's log10 score, pyctcdecode alpha × the natural-log "
            "score, so alpha is lm_weight / ln 10 for the same weight."
        )
    else:
        lines.append("- pyctcdecode was not installed: no reference row (pip install pyctcdecode).")
    lines += [
        "",
        "| decoding | WER | CER | time | speed | setting |",
        "| --- | --- | --- | --- | --- | --- |",
        *(
            f"| {r.name} | {cell(r.wer)} | {cell(r.cer)} | {r.seconds:.3f} s | {r.speed:,.0f} × real time "
            f"| {r.setting} |"
            for r in rows
        ),
    ]
    return "\n".join(lines) + "\n"


def corpus_summary(cached: list[Utterance], unreadable: int, limit: int | None) -> str:
    """How many utterances and hours of audio were decoded."""
    hours = sum(u.seconds for u in cached) / 3600
    return (
        f"{len(cached)} utterances, {hours:.3f} h of audio"
        + (f" ({unreadable} unreadable, left out)" if unreadable else "")
        + (f"; the first {limit} of the manifest (--limit)" if limit else "")
    )


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    load = os.getloadavg()[0]
    model = load_model(args.model)
    words = list(read_lexicon(args.lexicon, flashlight_tokens(model.tokenizer)))
    transcriber = Transcriber(model, device=args.device)
    device = device_name(transcriber.device)
    print(f"acoustic model on {device} ...", file=sys.stderr)
    cached, forward_seconds, unreadable = forward_pass(transcriber, args.manifest, args.limit)
    if not any(u.log_probs.shape[0] for u in cached):
        raise SystemExit(f"error: {args.manifest}: no readable utterance long enough for one output frame")
    if unreadable:
        print(f"warning: {unreadable} utterance(s) could not be read and are left out", file=sys.stderr)
    audio = sum(u.seconds for u in cached)
    setting = f"batches of up to {transcriber.max_batch_seconds:g} s on {device}"
    forward = Row("acoustic model forward (shared)", None, None, forward_seconds, audio / forward_seconds, setting)
    rows = [forward, *decoder_rows(args, model.tokenizer, words, cached)]
    heading = f"{machine_name()} / decoding"
    context = Context(device, corpus_summary(cached, unreadable, args.limit), len(words), load)
    publish(Path(args.out), heading, render_section(heading, args, rows, context))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
