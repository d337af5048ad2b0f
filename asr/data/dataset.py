"""Utterances to training examples: filtering what CTC cannot learn, loading audio, batching with padding."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch.utils.data import Dataset

from asr.audio import AudioError, resample
from asr.data.manifest import Manifest, Utterance
from asr.text import Tokenizer, TokenizerError, UnspellableError, normalize_text

log = logging.getLogger(__name__)


def ctc_min_frames(tokens: Sequence[int]) -> int:
    """Fewest output frames a CTC alignment of ``tokens`` needs: one per label, plus a blank between repeats."""
    return len(tokens) + sum(a == b for a, b in zip(tokens, tokens[1:]))


@dataclass
class LabeledSet:
    """Utterances with their encoded transcripts and the normalized reference texts they are scored against."""

    utterances: list[Utterance]
    tokens: list[list[int]]
    texts: list[str]

    @property
    def durations(self) -> list[float]:
        return [u.duration for u in self.utterances]


def _spellable(tokenizer: Tokenizer, text: str) -> str:
    """``text`` without the characters the tokenizer cannot spell."""
    known = {}
    for char in set(text) - {" "}:
        try:
            known[char] = bool(tokenizer.encode(char))
        except TokenizerError:
            known[char] = False
    return " ".join("".join(c for c in word if known[c]) for word in text.split()).strip()


def select_trainable(
    manifest: Manifest,
    tokenizer: Tokenizer,
    output_frames: Callable[[float], int],
    max_duration: float = float("inf"),
    scored: bool = False,
) -> LabeledSet:
    """Keep the rows a CTC model can learn from; count and log the others by reason.

    ``output_frames(seconds)`` gives the model's output frames for that much audio
    (at the shortest speed perturbation), so too-short rows are found without reading audio.
    ``scored`` (validation) keeps rows with characters outside the vocabulary: their loss
    uses what can be spelled and their reference text keeps everything, so what the model
    cannot spell counts as errors instead of leaving the row out of the error rate.
    """
    kept, tokens, texts, skipped, unspellable = [], [], [], Counter(), 0
    for utt in manifest.utterances:
        try:
            text = normalize_text(utt.text)
            ids = tokenizer.encode(text)
        except UnspellableError as e:
            log.warning("%s: skipped: %s", utt.id or utt.audio_filepath, e)
            skipped["a number whose reading is unclear"] += 1
            continue
        except TokenizerError:
            if not scored:
                skipped["text outside the vocabulary"] += 1
                continue
            ids = tokenizer.encode(_spellable(tokenizer, text))
            unspellable += 1
        if utt.duration > max_duration:
            skipped[f"longer than {max_duration:g} s"] += 1
        elif output_frames(utt.duration) < max(ctc_min_frames(ids), 1):
            skipped["too short for its transcript under CTC"] += 1
        else:
            kept.append(utt)
            tokens.append(ids)
            texts.append(text)
    if skipped:
        reasons = ", ".join(f"{n} {why}" for why, n in skipped.items())
        log.warning("%s: skipped %d of %d utterances: %s", manifest.path, sum(skipped.values()), len(manifest), reasons)
    if unspellable:
        log.warning(
            "%s: %d utterances have characters outside the vocabulary; they are scored, those characters as errors",
            manifest.path,
            unspellable,
        )
    return LabeledSet(kept, tokens, texts)


class UtteranceDataset(Dataset):
    """Loads each utterance's audio, optionally speed-perturbed, with a random gain and with random
    stretches of silence added before and after it (``edge_silence``: [low, high] seconds each side).

    Unreadable files yield ``None`` and a warning naming them.
    """

    def __init__(
        self,
        data: LabeledSet,
        sample_rate: int,
        speed_perturb: Sequence[float] = (),
        gain_db: Sequence[float] | None = None,
        edge_silence: Sequence[float] | None = None,
    ):
        self.data = data
        self.sample_rate = sample_rate
        self.speeds = [float(s) for s in speed_perturb]
        self.gain_db = tuple(gain_db) if gain_db else None
        self.edge_silence = tuple(edge_silence) if edge_silence else None
        if self.edge_silence and not (
            len(self.edge_silence) == 2 and 0 <= self.edge_silence[0] <= self.edge_silence[1]
        ):
            raise ValueError(
                f"augment.edge_silence={list(self.edge_silence)}: expected [low, high] with 0 <= low <= high"
            )

    def __len__(self) -> int:
        return len(self.data.utterances)

    def __getitem__(self, index: int) -> dict | None:
        utt = self.data.utterances[index]
        try:
            wav = utt.audio.load(self.sample_rate)
        except AudioError as e:
            log.warning("skipping utterance: %s", e)
            return None
        if self.speeds:
            speed = self.speeds[int(torch.randint(len(self.speeds), ()))]
            if speed != 1.0:
                # Resampling from speed*rate to rate plays the audio `speed` times faster, as in Kaldi's recipes.
                wav = resample(wav, self.sample_rate * speed, self.sample_rate)
        if self.gain_db:
            low, high = self.gain_db
            wav = wav * 10 ** ((low + (high - low) * float(torch.rand(()))) / 20)
        if self.edge_silence:
            low, high = self.edge_silence
            before, after = (round((low + (high - low) * float(u)) * self.sample_rate) for u in torch.rand(2))
            wav = torch.nn.functional.pad(wav, (before, after))
        tokens = torch.tensor(self.data.tokens[index], dtype=torch.long)
        return {"index": index, "wav": wav, "tokens": tokens, "text": self.data.texts[index]}


def collate(items: list[dict | None]) -> dict[str, torch.Tensor | int]:
    """Pad waveforms and targets of the readable items; count the unreadable ones."""
    good = [item for item in items if item is not None]
    wavs = [item["wav"] for item in good]
    tokens = [item["tokens"] for item in good]
    return {
        "wav": torch.nn.utils.rnn.pad_sequence(wavs, batch_first=True) if wavs else torch.zeros(0, 0),
        "wav_lengths": torch.tensor([w.numel() for w in wavs], dtype=torch.long),
        "targets": torch.nn.utils.rnn.pad_sequence(tokens, batch_first=True)
        if tokens
        else torch.zeros(0, 0, dtype=torch.long),
        "target_lengths": torch.tensor([t.numel() for t in tokens], dtype=torch.long),
        "indices": torch.tensor([item["index"] for item in good], dtype=torch.long),
        "texts": [item["text"] for item in good],
        "failed": len(items) - len(good),
    }
