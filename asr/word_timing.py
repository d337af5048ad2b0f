"""Decoded word times against reference word times: scoring, and the frame offset that centres them.

Where a BiLSTM-CTC model puts its spikes relative to the sound differs from one
training run to the next, so no constant offset fits every model. The export
(``asr.export``) measures the offset on the dev set, when its rows carry reference
``words``, and stores it in the model file (``LoadedModel.frame_offset``);
``tools/word_timing_report.py`` reports the errors that remain.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import jiwer
import torch

from asr.data.manifest import Utterance
from asr.decoding import GreedyDecoder
from asr.model_file import LoadedModel
from asr.results import Word

log = logging.getLogger(__name__)


@dataclass
class Tally:
    """Boundary errors (seconds, signed: hypothesis minus reference) and confidences of right and wrong words."""

    start_errors: list[float] = field(default_factory=list)
    end_errors: list[float] = field(default_factory=list)
    right: list[float] = field(default_factory=list)
    wrong: list[float] = field(default_factory=list)
    reference_words: int = 0

    def centring_offset(self, frame_offset: float) -> float | None:
        """The frame offset that would remove the median signed boundary error of words timed with
        ``frame_offset``; None when no word was matched."""
        errors = self.start_errors + self.end_errors
        if not errors:
            return None
        return frame_offset - torch.tensor(errors, dtype=torch.float64).median().item()


def score(tally: Tally, reference: Sequence[dict], hypothesis: list[Word]) -> None:
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


def measure(model: LoadedModel, utts: Sequence[Utterance], frame_offset: float, snap: bool) -> Tally:
    """Score the words ``asr transcribe`` decodes (greedy; with ``frame_offset``, and with ``snap`` moved
    out of the quiet) from ``utts`` against their reference ``words``; rows whose audio cannot be read
    are skipped with a warning naming the file."""
    from asr.inference import Transcriber  # the engine is loaded only when words are timed, not by training's imports

    device = str(next(model.recognizer.parameters()).device)
    timed = dataclasses.replace(model, frame_offset=frame_offset)
    transcriber = Transcriber(timed, GreedyDecoder(), device=device, snap_words=snap)
    tally = Tally()
    results = transcriber.transcribe([u.audio for u in utts])
    for utt, result in zip(utts, results):
        if result.error:
            log.warning("word timing: skipped %s", result.error)
        else:
            score(tally, utt.words, result.words)
    return tally


def calibrate_frame_offset(
    model: LoadedModel, utts: Sequence[Utterance], max_utterances: int = 500, min_words: int = 20
) -> float | None:
    """The frame offset that centres this model's (unsnapped) word boundaries on the reference word times
    of ``utts`` (the first ``max_utterances`` rows that have them); None when fewer than ``min_words``
    decoded words match a reference word, too few to measure."""
    timed = [u for u in utts if u.words][:max_utterances]
    tally = measure(model, timed, 0.0, snap=False)
    return tally.centring_offset(0.0) if len(tally.right) >= min_words else None
