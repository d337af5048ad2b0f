#!/usr/bin/env python
"""How close word times and how telling word confidences are, against a manifest with reference word times.

Transcribes every row (greedy decoding), aligns the decoded words to the
log-probabilities (asr.decoding.words) and compares them with the reference
``words`` ({word, start, end}) of each row, pairing words that jiwer aligns as
equal. Prints a Markdown table: median and 90th-percentile absolute start and
end errors in ms (and the mean signed error, to show a bias), the mean
confidence of correct and of wrong (substituted or inserted) words, and the
``--frame-offset`` that would centre the errors: run it on a dev set to
calibrate a model's offset (asr.decoding.words.FRAME_OFFSET), then on test.

    python tools/word_timing_report.py exp/digits/model.pt data/digits/test.jsonl
    python tools/word_timing_report.py exp/digits/model.pt data/digits/dev.jsonl --frame-offset 0.03
"""

from __future__ import annotations

import argparse
import shlex
import sys
from dataclasses import dataclass, field

import jiwer
import torch

from asr.data.dataset import load_utterance
from asr.data.manifest import Utterance, read_manifest
from asr.decoding import GreedyDecoder, Word, words_from_alignment
from asr.decoding.words import FRAME_OFFSET, snap_to_speech
from asr.inference import resolve_device
from asr.model_file import LoadedModel, load_model
from asr.segmentation import HOP_SECONDS, quiet_frames, waveform_energies_db


@dataclass
class Tally:
    """Boundary errors (seconds, signed: hypothesis minus reference) and confidences of right and wrong words."""

    start_errors: list[float] = field(default_factory=list)
    end_errors: list[float] = field(default_factory=list)
    right: list[float] = field(default_factory=list)
    wrong: list[float] = field(default_factory=list)
    reference_words: int = 0


def decode_words(
    model: LoadedModel, utts: list[Utterance], device: torch.device, frame_offset: float, snap: bool
) -> list[list[Word]]:
    """Timed hypothesis words of each utterance, decoded in one batch; with ``snap`` moved out of the
    quiet as ``asr transcribe`` does."""
    recognizer = model.recognizer
    wavs = [load_utterance(u, recognizer.frontend.sample_rate) for u in utts]
    batch = torch.nn.utils.rnn.pad_sequence(wavs, batch_first=True).to(device)
    lengths = torch.tensor([w.numel() for w in wavs], device=device)
    with torch.inference_mode():
        log_probs, out_lengths = recognizer(batch, lengths)
    hyps = GreedyDecoder().decode(log_probs, out_lengths)
    spf = recognizer.seconds_per_output_frame
    words = [
        words_from_alignment(lp[:n], h.tokens, model.tokenizer, spf, frames=h.frames, frame_offset=frame_offset)
        for lp, n, h in zip(log_probs, out_lengths.tolist(), hyps)
    ]
    if snap:
        rate = recognizer.frontend.sample_rate
        words = [
            snap_to_speech(w, quiet_frames(waveform_energies_db(wav, rate)), HOP_SECONDS) for w, wav in zip(words, wavs)
        ]
    return words


def score(tally: Tally, reference: list[dict], hypothesis: list[Word]) -> None:
    """Add one utterance: pair jiwer's equal words, count the others as wrong."""
    tally.reference_words += len(reference)
    if not hypothesis:
        return
    ref_text = " ".join(w["word"] for w in reference)
    hyp_text = " ".join(w.word for w in hypothesis)
    if not ref_text:
        tally.wrong.extend(w.confidence for w in hypothesis)
        return
    for chunk in jiwer.process_words(ref_text, hyp_text).alignments[0]:
        hyp_words = hypothesis[chunk.hyp_start_idx : chunk.hyp_end_idx]
        if chunk.type != "equal":
            tally.wrong.extend(w.confidence for w in hyp_words)
            continue
        for ref, hyp in zip(reference[chunk.ref_start_idx : chunk.ref_end_idx], hyp_words):
            tally.start_errors.append(hyp.start - ref["start"])
            tally.end_errors.append(hyp.end - ref["end"])
            tally.right.append(hyp.confidence)


def _ms_stats(errors: list[float]) -> str:
    err = torch.tensor(errors, dtype=torch.float64) * 1000
    if not len(err):
        return "– | – | –"
    absolute = err.abs()
    return f"{absolute.median():.0f} | {absolute.quantile(0.9):.0f} | {err.mean():+.0f}"


def _mean(values: list[float]) -> str:
    return f"{sum(values) / len(values):.3f}" if values else "–"


def report(tally: Tally, frame_offset: float) -> str:
    """The Markdown tables, and the frame offset that would centre these boundary errors."""
    signed = torch.tensor(tally.start_errors + tally.end_errors or [0.0], dtype=torch.float64)
    return "\n".join(
        [
            f"Matched words: {len(tally.right)} of {tally.reference_words} reference words",
            "",
            "| boundary | median abs error (ms) | p90 abs error (ms) | mean signed error (ms) |",
            "| --- | --- | --- | --- |",
            f"| start | {_ms_stats(tally.start_errors)} |",
            f"| end | {_ms_stats(tally.end_errors)} |",
            "",
            "| decoded words | count | mean confidence |",
            "| --- | --- | --- |",
            f"| correct | {len(tally.right)} | {_mean(tally.right)} |",
            f"| wrong (substituted or inserted) | {len(tally.wrong)} | {_mean(tally.wrong)} |",
            "",
            f"Frame offset centring these boundaries (median signed error removed): "
            f"--frame-offset {frame_offset - signed.median().item():.3f}",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", help="model file (model.pt)")
    parser.add_argument("manifest", help="manifest whose rows have reference 'words' with start/end")
    parser.add_argument("--frame-offset", type=float, default=FRAME_OFFSET, help="seconds (default %(default)s)")
    parser.add_argument("--no-snap", action="store_true", help="keep the alignment's times as they are")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--device", default="auto")
    argv = sys.argv[1:] if argv is None else argv
    args = parser.parse_args(argv)

    device = resolve_device(args.device)
    model = load_model(args.model)
    model.recognizer.to(device)
    manifest = read_manifest(args.manifest)
    utts = [u for u in manifest.utterances if u.words]
    if not utts:
        print(f"{args.manifest}: no rows with reference 'words'", file=sys.stderr)
        return 1
    tally = Tally()
    for i in range(0, len(utts), args.batch_size):
        batch = utts[i : i + args.batch_size]
        for utt, words in zip(batch, decode_words(model, batch, device, args.frame_offset, not args.no_snap)):
            score(tally, list(utt.words), words)
    print(f"`{shlex.join(['python', 'tools/word_timing_report.py', *argv])}`\n")
    print(report(tally, args.frame_offset))
    return 0


if __name__ == "__main__":
    sys.exit(main())
