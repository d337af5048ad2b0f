"""Transcribing audio with a model file: files are loaded, batched by duration and decoded.

A file that cannot be read comes back as an error result; it never stops the others.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import torch
from tqdm import tqdm

from asr.audio import AudioError, load_audio
from asr.decoding import Decoder, build_decoder
from asr.model_file import LoadedModel, load_model


@dataclass(frozen=True)
class AudioSource:
    """A span of an audio file: all of it, or ``duration`` seconds from ``offset``."""

    path: str
    offset: float = 0.0
    duration: float | None = None


@dataclass
class Transcript:
    """The result for one source: its text, or the error that kept it from being transcribed."""

    source: AudioSource
    text: str = ""
    duration: float = 0.0
    error: str | None = None


def resolve_device(device: str) -> torch.device:
    """``auto`` picks CUDA when available."""
    return torch.device(
        "cuda" if device == "auto" and torch.cuda.is_available() else "cpu" if device == "auto" else device
    )


class Transcriber:
    """Batched inference with a loaded model; ``max_batch_seconds`` bounds the padded audio per forward pass."""

    def __init__(
        self, model: LoadedModel, decoder: Decoder | None = None, device: str = "auto", max_batch_seconds: float = 300.0
    ):
        self.device = resolve_device(device)
        self.model = model
        self.recognizer = model.recognizer.to(self.device).eval()
        self.decoder = decoder or build_decoder(model.config.get("decoder") or {})
        self.sample_rate = self.recognizer.frontend.sample_rate
        self.max_batch_seconds = max_batch_seconds
        self.min_samples = self.recognizer.min_samples()

    @classmethod
    def from_file(cls, path: str | os.PathLike, **kwargs) -> Transcriber:
        return cls(load_model(path), **kwargs)

    @torch.inference_mode()
    def transcribe_waveforms(self, wavs: list[torch.Tensor]) -> list[str]:
        """Texts of 16 kHz mono waveforms, decoded in one batch; audio too short for one output frame gives ''."""
        texts = [""] * len(wavs)
        keep = [i for i, w in enumerate(wavs) if w.numel() >= self.min_samples]
        if not keep:
            return texts
        batch = torch.nn.utils.rnn.pad_sequence([wavs[i] for i in keep], batch_first=True).to(self.device)
        lengths = torch.tensor([wavs[i].numel() for i in keep], device=self.device)
        log_probs, out_lengths = self.recognizer(batch, lengths)
        for i, hyp in zip(keep, self.decoder.decode(log_probs.float(), out_lengths)):
            texts[i] = self.model.tokenizer.decode(hyp.tokens)
        return texts

    def _flush(self, pending: list[tuple[Transcript, torch.Tensor]]) -> list[Transcript]:
        texts = self.transcribe_waveforms([wav for _, wav in pending])
        for (result, _), text in zip(pending, texts):
            result.text = text
        return [result for result, _ in pending]

    def transcribe(self, sources: Iterable[AudioSource | str], progress: bool = False) -> Iterator[Transcript]:
        """Transcripts in input order; unreadable sources come back with ``error`` set."""
        pending: list[tuple[Transcript, torch.Tensor]] = []
        longest = 0.0
        sources = list(sources)
        for source in tqdm(sources, desc="transcribing", unit="file", disable=not progress):
            source = AudioSource(source) if isinstance(source, str) else source
            try:
                wav = load_audio(source.path, self.sample_rate, source.offset, source.duration)
            except AudioError as e:
                if pending:  # keep results in input order
                    yield from self._flush(pending)
                    pending, longest = [], 0.0
                yield Transcript(source, error=str(e))
                continue
            seconds = wav.numel() / self.sample_rate
            if pending and max(longest, seconds) * (len(pending) + 1) > self.max_batch_seconds:
                yield from self._flush(pending)
                pending, longest = [], 0.0
            pending.append((Transcript(source, duration=seconds), wav))
            longest = max(longest, seconds)
        if pending:
            yield from self._flush(pending)
