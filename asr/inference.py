"""Transcribing audio with a model file: sources are read window by window, batched by duration, run
through the recognizer and decoded.

The windows over a long file are planned by ``asr.chunking`` (cut at pauses of at
least ``min_pause_seconds``, then into overlapping windows on the output-frame grid);
here they are batched, run, and their kept frames stitched into one ``Posteriors``
record per source, so memory does not grow with a file's length beyond its frame
posteriors. Decoding a record gives a new ``Transcript`` (``asr.results``), each stretch
of speech decoded on its own, with word boundaries that fall in quiet audio moved to
where the sound is (``snap_words``; see ``asr.decoding.words.snap_to_speech``). A file
that cannot be read comes back as an error result; it never stops the others.
"""

from __future__ import annotations

import collections
import dataclasses
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import torch
from tqdm import tqdm

from asr.audio import AudioError, AudioSource
from asr.chunking import Chunking, Window, plan
from asr.config import decoder_config
from asr.decoding import Decoder, build_decoder
from asr.decoding.words import snap_to_speech, words_from_alignment
from asr.model_file import LoadedModel, load_model
from asr.results import Transcript
from asr.segmentation import HOP_SECONDS, find_pauses, quiet_frames, waveform_energies_db


@dataclass(frozen=True)
class Posteriors:
    """One source's frame log-probabilities (T', V), stitched across its windows, with what decoding needs:
    the first frame of each stretch heard on its own, the 10 ms frame energies read with the audio (None when
    not read) and the duration; an unreadable source has ``error`` set and no frames."""

    source: AudioSource
    log_probs: torch.Tensor = field(repr=False)
    stretches: list[int] = field(default_factory=list)
    energies_db: torch.Tensor | None = field(default=None, repr=False)
    duration: float = 0.0
    error: str | None = None


@dataclass
class _Assembly:
    """A source's posteriors while its windows come back from the forward passes."""

    source: AudioSource
    duration: float = 0.0
    energies_db: torch.Tensor | None = None
    pieces: list[torch.Tensor] = field(default_factory=list)
    stretches: list[int] = field(default_factory=list)
    frames: int = 0
    complete: bool = False
    error: str | None = None

    def add(self, window: Window, log_probs: torch.Tensor) -> None:
        """A window's log-probabilities: keep its frames, mark where a stretch opens."""
        if window.opens:
            self.stretches.append(self.frames)
        kept = window.kept(log_probs)
        self.pieces.append(kept)
        self.frames += kept.shape[0]
        self.complete |= window.last

    def fail(self, error: Exception) -> None:
        """Whatever went wrong with this source is its error, never the run's."""
        self.error = (
            str(error) if isinstance(error, AudioError) else f"{self.source.path}: {type(error).__name__}: {error}"
        )
        self.pieces, self.stretches, self.complete = [], [], True

    def posteriors(self) -> Posteriors:
        log_probs = torch.cat(self.pieces) if self.pieces else torch.zeros(0, 0)
        return Posteriors(self.source, log_probs, self.stretches, self.energies_db, self.duration, self.error)


def resolve_device(device: str | torch.device) -> torch.device:
    """``auto`` picks CUDA when available; a device this machine does not have is a ``ValueError``."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(f"device {device!r}: not a device name (auto, cpu, cuda, cuda:1, ...)") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device}: CUDA is not available on this machine (use cpu or auto)")
    if device.type == "cuda" and (device.index or 0) >= torch.cuda.device_count():
        raise ValueError(f"device {device}: this machine has {torch.cuda.device_count()} CUDA device(s)")
    return device


RUNTIMES = ("auto", "torch", "onnx")


def open_model(
    path: str | os.PathLike, runtime: str = "auto", device: str = "cpu", threads: int | None = None
) -> LoadedModel:
    """A model file run by PyTorch, or an exported ONNX file run by ONNX Runtime: ``runtime`` ``onnx``,
    or ``auto`` and a ``.onnx`` name. ``threads`` sets ONNX Runtime's threads (PyTorch's are process-wide)."""
    if runtime not in RUNTIMES:
        raise ValueError(f"runtime {runtime!r}: expected one of {', '.join(RUNTIMES)}")
    if runtime == "onnx" or (runtime == "auto" and str(path).lower().endswith(".onnx")):
        from asr.onnx_model import load_onnx_model

        return load_onnx_model(path, threads, device)
    return load_model(path)


class Transcriber:
    """Batched inference with a loaded model: sources in, ``Posteriors`` and ``Transcript``s out.

    ``max_batch_seconds`` bounds the padded audio of one forward pass; files longer
    than ``chunk_seconds`` are processed in windows planned by ``asr.chunking``.
    """

    def __init__(
        self,
        model: LoadedModel,
        decoder: Decoder | None = None,
        device: str = "auto",
        max_batch_seconds: float = 300.0,
        chunk_seconds: float = 30.0,
        context_seconds: float = 3.0,
        min_pause_seconds: float | None = 0.5,
        snap_words: bool = True,
    ):
        self.device = resolve_device(device)
        self.model = model
        self.recognizer = model.recognizer.to(self.device).eval()
        self.decoder = decoder or build_decoder(model.config.get("decoder") or {}, model.tokenizer)
        self.sample_rate = self.recognizer.sample_rate
        self.max_batch_seconds = max_batch_seconds
        self.min_samples = self.recognizer.min_samples()
        self.frame = self.recognizer.seconds_per_output_frame
        if min_pause_seconds is not None and min_pause_seconds < 0:
            raise ValueError(f"min_pause_seconds={min_pause_seconds} must be 0 (no cutting at pauses) or more")
        self.min_pause = min_pause_seconds
        self.snap_words = snap_words
        self.chunking = Chunking.from_seconds(self.frame, chunk_seconds, context_seconds)

    @classmethod
    def from_file(
        cls,
        path: str | os.PathLike,
        decoder_overrides: Sequence[str] = (),
        runtime: str = "auto",
        threads: int | None = None,
        **kwargs,
    ) -> Transcriber:
        """A transcriber for a model file or an exported ONNX file (see ``open_model``), decoding as its
        saved config says unless ``decoder_overrides`` (``decoder=beam decoder.lm=...``) change it."""
        model = open_model(path, runtime, str(resolve_device(kwargs.get("device", "auto"))), threads)
        config = decoder_config(model.config.get("decoder") or {}, list(decoder_overrides))
        return cls(model, build_decoder(config, model.tokenizer), **kwargs)

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

    def decode(self, posteriors: Posteriors, decoder: Decoder | None = None) -> Transcript:
        """A source's transcript from its posteriors, decoded by ``decoder`` (default: the transcriber's): each
        stretch of speech on its own, as an utterance, so a word never runs across a pause that cut the audio;
        with ``snap_words``, word boundaries in quiet audio are moved to where the sound is."""
        result = Transcript(posteriors.source, duration=posteriors.duration, error=posteriors.error)
        log_probs = posteriors.log_probs
        ends = [*posteriors.stretches[1:], log_probs.shape[0]]
        spans = [(start, end) for start, end in zip(posteriors.stretches or [0], ends) if end > start]
        if posteriors.error or not spans:
            return result
        batch = torch.nn.utils.rnn.pad_sequence([log_probs[a:b] for a, b in spans], batch_first=True)
        hyps = (decoder or self.decoder).decode(batch, torch.tensor([b - a for a, b in spans]))
        texts, words = [], []
        for (a, b), hyp in zip(spans, hyps):
            texts.append(self.model.tokenizer.decode(hyp.tokens))
            words += words_from_alignment(
                log_probs[a:b],
                hyp.tokens,
                self.model.tokenizer,
                self.frame,
                a * self.frame,
                frames=hyp.frames,
                frame_offset=self.model.frame_offset,
            )
        if self.snap_words and posteriors.energies_db is not None:
            words = snap_to_speech(words, quiet_frames(posteriors.energies_db), HOP_SECONDS)
        return dataclasses.replace(result, text=" ".join(text for text in texts if text), words=words)

    def transcribe(
        self,
        sources: Iterable[AudioSource | str | os.PathLike] | AudioSource | str | os.PathLike,
        progress: bool = False,
        decoder: Decoder | None = None,
    ) -> Iterator[Transcript]:
        """Transcripts in input order, decoded by ``decoder`` (default: the transcriber's); unreadable
        sources come back with ``error`` set."""
        for posteriors in self.posteriors(sources, progress):
            yield self.decode(posteriors, decoder)

    def posteriors(
        self,
        sources: Iterable[AudioSource | str | os.PathLike] | AudioSource | str | os.PathLike,
        progress: bool = False,
    ) -> Iterator[Posteriors]:
        """Each source's ``Posteriors``, in input order, its windows batched with other sources' windows up to
        ``max_batch_seconds`` of padded audio; an unreadable source has ``error`` set and no frames."""
        if isinstance(sources, (str, os.PathLike, AudioSource)):  # one source, not an iterable of characters
            sources = [sources]
        files = [_Assembly(s if isinstance(s, AudioSource) else AudioSource(os.fspath(s))) for s in sources]
        waiting = collections.deque(files)  # not yet given back, in input order
        batch: list[tuple[_Assembly, Window, torch.Tensor]] = []
        for file in tqdm(files, desc="transcribing", unit="file", disable=not progress):
            try:
                for window, wav in self._read_windows(file):
                    longest = max([wav.numel(), *(w.numel() for _, _, w in batch)]) / self.sample_rate
                    if batch and longest * (len(batch) + 1) > self.max_batch_seconds:
                        self._run(batch)
                        yield from _finished(waiting)
                    batch.append((file, window, wav))
            except Exception as e:  # whatever goes wrong with one file is that file's error, never the run's
                file.fail(e)
                batch = [entry for entry in batch if entry[0] is not file]
        self._run(batch)
        yield from _finished(waiting)

    def _read_windows(self, file: _Assembly) -> Iterator[tuple[Window, torch.Tensor]]:
        """A source's planned windows with their audio, read as they are needed; sets the source's duration
        and, where pauses or snapping need them, its frame energies."""
        source = file.source
        file.duration = source.seconds()
        if not file.duration > 0:  # as every empty read is reported, in every command
            raise AudioError(f"{source.path}: contains no samples")
        whole = self.chunking.fits_one_window(file.duration)
        if not whole and (self.min_pause or self.snap_words):  # one streamed pass, before the windows
            file.energies_db = source.energies_db(self.sample_rate, file.duration)
        pauses = (
            find_pauses(file.energies_db, self.min_pause) if self.min_pause and file.energies_db is not None else []
        )
        for window in plan(file.duration, self.chunking, pauses):
            wav = source.load(self.sample_rate, window.offset, window.duration) if window.duration else torch.zeros(0)
            if whole and self.snap_words:
                file.energies_db = waveform_energies_db(wav, self.sample_rate)
            yield window, wav

    def _run(self, batch: list[tuple[_Assembly, Window, torch.Tensor]]) -> None:
        """One forward pass over the batched windows, each window's frames given to its source; empties ``batch``."""
        for (file, window, _), log_probs in zip(batch, self._forward([wav for _, _, wav in batch])):
            file.add(window, log_probs)
        batch.clear()


def _finished(waiting: collections.deque[_Assembly]) -> Iterator[Posteriors]:
    """The posteriors of the sources at the front of ``waiting`` that are complete, in order."""
    while waiting and waiting[0].complete:
        yield waiting.popleft().posteriors()
