"""Decoded word times against reference word times: scoring, and the frame offset that centres them.

Where a BiLSTM-CTC model puts its spikes relative to the sound differs from one
training run to the next (by several hundred ms between two runs of the same
digits recipe), so no constant offset fits every model. Training measures the
offset on the dev set, when its rows carry reference ``words``, and stores it
in the model file (``LoadedModel.frame_offset``); ``tools/word_timing_report.py``
reports the errors that remain.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import jiwer
import torch

from asr.audio import AudioError
from asr.data.dataset import load_utterance
from asr.data.manifest import Utterance
from asr.decoding import GreedyDecoder, Word, words_from_alignment
from asr.decoding.words import snap_to_speech
from asr.model_file import LoadedModel
from asr.segmentation import HOP_SECONDS, quiet_frames, waveform_energies_db

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


def decode_words(model: LoadedModel, wavs: Sequence[torch.Tensor], frame_offset: float, snap: bool) -> list[list[Word]]:
    """Timed greedy hypothesis words of each waveform, decoded in one batch on the model's device; with
    ``snap`` moved out of the quiet as ``asr transcribe`` does."""
    recognizer = model.recognizer
    device = next(recognizer.parameters()).device
    batch = torch.nn.utils.rnn.pad_sequence(list(wavs), batch_first=True).to(device)
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


def measure(
    model: LoadedModel, utts: Sequence[Utterance], frame_offset: float, snap: bool, batch_size: int = 16
) -> Tally:
    """Score the words decoded from ``utts`` (rows with reference ``words``) against them; rows whose
    audio cannot be read are skipped with a warning naming the file."""
    tally = Tally()
    rate = model.recognizer.frontend.sample_rate
    for i in range(0, len(utts), batch_size):
        readable = []
        for utt in utts[i : i + batch_size]:
            try:
                readable.append((utt, load_utterance(utt, rate)))
            except AudioError as e:
                log.warning("word timing: skipped %s", e)
        if readable:
            hypotheses = decode_words(model, [wav for _, wav in readable], frame_offset, snap)
            for (utt, _), words in zip(readable, hypotheses):
                score(tally, utt.words, words)
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
