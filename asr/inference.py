"""Transcribing audio with a model file: audio is read in chunks, batched by duration and decoded.

Long audio is cut into windows of ``chunk_seconds`` that overlap by ``context_seconds``
on each side. Each window's output frames are kept only for its central part, and
the windows start on the model's output-frame grid, so the kept frames join into
one frame sequence for the whole file, which is then decoded once: no word is cut
or doubled at a window edge, and memory does not grow with the file's length
beyond its frame posteriors. A file that cannot be read comes back as an error
result; it never stops the others.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import torch
from tqdm import tqdm

from asr.audio import AudioError, audio_duration, load_audio
from asr.config import decoder_config
from asr.decoding import Decoder, build_decoder
from asr.decoding.words import Word, words_from_alignment
from asr.model_file import LoadedModel, load_model


@dataclass(frozen=True)
class AudioSource:
    """A span of an audio file: all of it, or ``duration`` seconds from ``offset``."""

    path: str
    offset: float = 0.0
    duration: float | None = None


@dataclass
class Transcript:
    """The result for one source: its text and timed words, or the error that kept it from being transcribed."""

    source: AudioSource
    text: str = ""
    words: list[Word] = field(default_factory=list)
    duration: float = 0.0
    error: str | None = None


@dataclass
class _Window:
    """One forward pass's worth of a source: which output frames of it to keep."""

    source: int
    offset: float
    duration: float
    keep_from: int
    keep_to: int | None  # None: to the end
    last: bool


def resolve_device(device: str) -> torch.device:
    """``auto`` picks CUDA when available."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


class Transcriber:
    """Batched, chunked inference with a loaded model.

    ``max_batch_seconds`` bounds the padded audio of one forward pass; files longer
    than ``chunk_seconds`` are processed in overlapping windows (see module docstring).
    """

    def __init__(
        self,
        model: LoadedModel,
        decoder: Decoder | None = None,
        device: str = "auto",
        max_batch_seconds: float = 300.0,
        chunk_seconds: float = 30.0,
        context_seconds: float = 3.0,
    ):
        self.device = resolve_device(device)
        self.model = model
        self.recognizer = model.recognizer.to(self.device).eval()
        self.decoder = decoder or build_decoder(model.config.get("decoder") or {}, model.tokenizer)
        self.sample_rate = self.recognizer.frontend.sample_rate
        self.max_batch_seconds = max_batch_seconds
        self.min_samples = self.recognizer.min_samples()
        self.frame = self.recognizer.seconds_per_output_frame
        self.context_frames = round(context_seconds / self.frame)
        self.step_frames = round(chunk_seconds / self.frame) - 2 * self.context_frames
        if self.context_frames < 0 or self.step_frames < 1:
            raise ValueError(
                f"chunk_seconds={chunk_seconds} must exceed twice context_seconds={context_seconds} "
                f"by at least one {self.frame * 1000:.0f} ms output frame"
            )

    @classmethod
    def from_file(cls, path: str | os.PathLike, decoder_overrides: Sequence[str] = (), **kwargs) -> Transcriber:
        """A transcriber for a model file, decoding as its saved config says unless ``decoder_overrides``
        (``decoder=beam decoder.lm=...``) change it."""
        model = load_model(path)
        config = decoder_config(model.config.get("decoder") or {}, list(decoder_overrides))
        return cls(model, build_decoder(config, model.tokenizer), **kwargs)

    def _windows(self, index: int, duration: float) -> Iterator[_Window]:
        step, context = self.step_frames * self.frame, self.context_frames * self.frame
        if duration <= step + 2 * context:
            yield _Window(index, 0.0, duration, 0, None, True)
            return
        count = math.ceil(duration / step)
        for k in range(count):
            start = max(0.0, k * step - context)
            end = min(duration, (k + 1) * step + context)
            keep_from = round((k * step - start) / self.frame)
            last = k == count - 1
            yield _Window(index, start, end - start, keep_from, None if last else keep_from + self.step_frames, last)

    @torch.inference_mode()
    def _forward(self, wavs: list[torch.Tensor]) -> list[torch.Tensor]:
        """Log-probabilities (T', V) per waveform; too short for one output frame gives (0, V)."""
        out = [torch.zeros(0, self.model.tokenizer.vocab_size) for _ in wavs]
        keep = [i for i, w in enumerate(wavs) if w.numel() >= self.min_samples]
        if keep:
            batch = torch.nn.utils.rnn.pad_sequence([wavs[i] for i in keep], batch_first=True).to(self.device)
            lengths = torch.tensor([wavs[i].numel() for i in keep], device=self.device)
            log_probs, out_lengths = self.recognizer(batch, lengths)
            for i, lp, n in zip(keep, log_probs.float().cpu(), out_lengths.tolist()):
                out[i] = lp[:n]
        return out

    def decode(self, result: Transcript, log_probs: torch.Tensor, decoder: Decoder | None = None) -> None:
        """Fill in ``result``'s text and timed words from its frame log-probabilities (T', V)."""
        decoder = decoder or self.decoder
        if log_probs.shape[0]:
            hyp = decoder.decode(log_probs[None], torch.tensor([log_probs.shape[0]]))[0]
            result.text = self.model.tokenizer.decode(hyp.tokens)
            result.words = words_from_alignment(
                log_probs, hyp.tokens, self.model.tokenizer, self.frame, frames=hyp.frames
            )

    def transcribe(self, sources: Iterable[AudioSource | str], progress: bool = False) -> Iterator[Transcript]:
        """Transcripts in input order; unreadable sources come back with ``error`` set."""
        for result, log_probs in self.posteriors(sources, progress):
            if not result.error:
                self.decode(result, log_probs)
            yield result

    def posteriors(
        self, sources: Iterable[AudioSource | str], progress: bool = False
    ) -> Iterator[tuple[Transcript, torch.Tensor]]:
        """Each source's frame log-probabilities (T', V), stitched across windows, with its still
        undecoded result, in input order; an unreadable source has ``error`` set and no frames."""
        sources = [AudioSource(s) if isinstance(s, str) else s for s in sources]
        results = [Transcript(s) for s in sources]
        pieces: list[list[torch.Tensor]] = [[] for _ in sources]
        complete = [False] * len(sources)
        pending: list[tuple[_Window, torch.Tensor]] = []
        emitted = 0

        def forward_pending() -> None:
            for (window, _), lp in zip(pending, self._forward([wav for _, wav in pending])):
                pieces[window.source].append(lp[window.keep_from : window.keep_to])
                complete[window.source] |= window.last
            pending.clear()

        def ready() -> Iterator[tuple[Transcript, torch.Tensor]]:
            nonlocal emitted
            while emitted < len(sources) and complete[emitted]:
                frames = pieces[emitted]
                pieces[emitted] = []
                yield results[emitted], torch.cat(frames) if frames else torch.zeros(0, 0)
                emitted += 1

        for index, source in enumerate(tqdm(sources, desc="transcribing", unit="file", disable=not progress)):
            try:
                total = source.duration or audio_duration(source.path) - source.offset
                results[index].duration = total
                for window in self._windows(index, total):
                    wav = load_audio(source.path, self.sample_rate, source.offset + window.offset, window.duration)
                    longest = max([wav.numel(), *(w.numel() for _, w in pending)]) / self.sample_rate
                    if pending and longest * (len(pending) + 1) > self.max_batch_seconds:
                        forward_pending()
                        yield from ready()
                    pending.append((window, wav))
            except AudioError as e:
                results[index].error = str(e)
                pending[:] = [(w, wav) for w, wav in pending if w.source != index]
                complete[index] = True
        forward_pending()
        yield from ready()
