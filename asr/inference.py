"""Transcribing audio with a model file: audio is read in chunks, batched by duration and decoded.

Audio longer than ``chunk_seconds`` is first cut at its pauses of at least
``min_pause_seconds`` (see ``asr.segmentation``), so each stretch of speech is
heard on its own with a little of the quiet around it, as the model heard its
training utterances; the rest of each pause gets blank frames. A stretch still
longer than ``chunk_seconds`` is cut into windows that overlap by
``context_seconds`` on each side, and each window's output frames are kept only
for its central part. Stretches and windows start on the model's output-frame
grid, so the kept frames join into one frame sequence for the whole file, decoded
stretch by stretch: no word is cut or doubled at an edge, word times stay exact,
and memory does not grow with the file's length beyond its frame posteriors.
Word boundaries that fall in quiet audio are then moved to where the sound is
(``snap_words``; see ``asr.decoding.words.snap_to_speech``). A
file that cannot be read comes back as an error result; it never stops the others.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from tqdm import tqdm

from asr.audio import AudioError, audio_duration, load_audio, resample
from asr.config import decoder_config
from asr.data.manifest import Utterance
from asr.decoding import Decoder, build_decoder
from asr.decoding.words import Word, snap_to_speech, words_from_alignment
from asr.model_file import LoadedModel, load_model
from asr.segmentation import HOP_SECONDS, find_pauses, frame_energies_db, quiet_frames, waveform_energies_db

PAUSE_MARGIN = 0.2  # seconds of a pause heard with the speech on each side of it, as utterances have in corpora


@dataclass(frozen=True)
class AudioSource:
    """A span of audio: all of it, or ``duration`` seconds from ``offset``. The audio is a file, or its
    ``byte_range`` (start, size), a member of a tar shard, or ``samples`` in memory (mono, at
    ``sample_rate``; ``path`` then only names them in messages)."""

    path: str
    offset: float = 0.0
    duration: float | None = None
    byte_range: tuple[int, int] | None = None
    samples: torch.Tensor | None = field(default=None, repr=False, compare=False)
    sample_rate: int | None = None  # of samples

    @classmethod
    def from_utterance(cls, utt: Utterance) -> AudioSource:
        """A manifest row's audio: its segment, or its member of a tar shard."""
        return cls(utt.audio_filepath, utt.offset, utt.read_duration, utt.byte_range)

    @classmethod
    def from_array(cls, data: Any, sample_rate: int, name: str = "<array>") -> AudioSource:
        """Audio in memory: a numpy array or torch tensor of float (or int16) samples, 1-D, or 2-D as
        (channels, samples), channels averaged. Raises ``AudioError`` naming ``name`` for anything else."""
        if not isinstance(sample_rate, int) or isinstance(sample_rate, bool) or sample_rate <= 0:
            raise AudioError(f"{name}: sample_rate={sample_rate!r}: expected a positive integer (Hz)")
        try:
            wav = torch.as_tensor(data)
        except (TypeError, ValueError, RuntimeError) as e:
            raise AudioError(f"{name}: not an array of samples ({type(data).__name__})") from e
        if wav.dtype == torch.int16:
            wav = wav / 32768.0
        if not wav.is_floating_point():
            raise AudioError(f"{name}: samples of type {wav.dtype}: expected float or int16")
        if wav.dim() == 2 and wav.shape[0] > wav.shape[1]:
            shape = tuple(wav.shape)
            raise AudioError(f"{name}: shape {shape} looks like (samples, channels); pass (channels, samples)")
        if wav.dim() not in (1, 2):
            raise AudioError(f"{name}: shape {tuple(wav.shape)}: expected (samples,) or (channels, samples)")
        wav = (wav.mean(0) if wav.dim() == 2 else wav).detach().to("cpu", torch.float32)
        if wav.numel() == 0:
            raise AudioError(f"{name}: contains no samples")
        if not torch.isfinite(wav).all():
            raise AudioError(f"{name}: contains NaN or infinite samples")
        return cls(name, samples=wav.contiguous(), sample_rate=sample_rate)

    def length(self) -> float:
        """Seconds of audio from ``offset`` to the end (read from the file's header)."""
        if self.samples is not None:
            return self.samples.numel() / self.sample_rate - self.offset
        return audio_duration(self.path, self.byte_range) - self.offset

    def load(self, sample_rate: int, offset: float = 0.0, duration: float | None = None) -> torch.Tensor:
        """``duration`` seconds (None: to the end) from ``offset`` within this span, mono at ``sample_rate``."""
        if self.samples is None:
            return load_audio(self.path, sample_rate, self.offset + offset, duration, self.byte_range)
        start = round((self.offset + offset) * self.sample_rate)
        stop = None if duration is None else start + round(duration * self.sample_rate)
        wav = self.samples[start:stop]
        return resample(wav, self.sample_rate, sample_rate)  # as load_audio resamples a file

    def energies_db(self, sample_rate: int, duration: float) -> torch.Tensor:
        """10 ms frame energies of ``duration`` seconds, read in one streamed pass for a file."""
        if self.samples is None:
            return frame_energies_db(self.path, sample_rate, self.offset, duration, self.byte_range)
        return waveform_energies_db(self.load(sample_rate, 0.0, duration), sample_rate)


@dataclass
class Transcript:
    """The result for one source: its text and timed words, or the error that kept it from being transcribed."""

    source: AudioSource
    text: str = ""
    words: list[Word] = field(default_factory=list)
    duration: float = 0.0
    error: str | None = None
    stretches: list[int] = field(default_factory=list)  # first frame of each stretch heard on its own
    energies_db: torch.Tensor | None = field(default=None, repr=False)  # 10 ms frames, read with the audio


@dataclass
class _Window:
    """One forward pass's worth of a source: which output frames of it to keep."""

    source: int
    offset: float
    duration: float
    keep_from: int
    keep: int | None  # how many frames to keep from keep_from; None: all to the end
    last: bool
    opens: bool = True  # starts a stretch: decoded apart from the frames before it


def resolve_device(device: str | torch.device) -> torch.device:
    """``auto`` picks CUDA when available; a device this machine does not have is a ``ValueError``."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError) as e:
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
        self.context_frames = round(context_seconds / self.frame)
        self.step_frames = round(chunk_seconds / self.frame) - 2 * self.context_frames
        if min_pause_seconds is not None and min_pause_seconds < 0:
            raise ValueError(f"min_pause_seconds={min_pause_seconds} must be 0 (no cutting at pauses) or more")
        self.min_pause = min_pause_seconds
        self.snap_words = snap_words
        if self.context_frames < 0 or self.step_frames < 1:
            raise ValueError(
                f"chunk_seconds={chunk_seconds} must exceed twice context_seconds={context_seconds} "
                f"by at least one {self.frame * 1000:.0f} ms output frame"
            )

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

    def _fits_one_window(self, duration: float) -> bool:
        return duration <= (self.step_frames + 2 * self.context_frames) * self.frame

    def _windows(self, index: int, duration: float, energies_db: torch.Tensor | None) -> Iterator[_Window]:
        """The forward passes for a source: whole if it fits one window, else its stretches of speech
        between pauses, each with ``PAUSE_MARGIN`` seconds of its pauses; the rest of a pause is blank."""
        if self._fits_one_window(duration):
            yield _Window(index, 0.0, duration, 0, None, True)
            return
        pauses = find_pauses(energies_db, self.min_pause) if self.min_pause and energies_db is not None else []
        bounds = [0.0]
        for start, end in pauses:
            middle = (start + end) / 2
            bounds += [min(start + PAUSE_MARGIN, middle), max(end - PAUSE_MARGIN, middle)]
        grid = [round(t / self.frame) for t in bounds] + [None]
        for k in range(0, len(bounds), 2):
            last = k + 2 >= len(bounds)
            start, end = grid[k] * self.frame, duration if last else grid[k + 1] * self.frame
            yield from self._stretch_windows(index, start, end - start, last)
            if not last and grid[k + 2] > grid[k + 1]:  # the pause's middle: blank frames, nothing to hear
                yield _Window(index, end, 0.0, 0, grid[k + 2] - grid[k + 1], False)

    def _stretch_windows(self, index: int, start: float, length: float, last: bool) -> Iterator[_Window]:
        """Overlapping windows over ``length`` seconds from ``start``; unless it ends the file, the stretch
        keeps exactly its length in output frames, so the next stretch's frames follow on the grid."""
        frames = round((start + length) / self.frame) - round(start / self.frame)
        step, context = self.step_frames * self.frame, self.context_frames * self.frame
        count = 1 if length <= step + 2 * context else math.ceil(length / step)
        for k in range(count):
            begin = max(0.0, k * step - context) if count > 1 else 0.0
            end = min(length, (k + 1) * step + context) if count > 1 else length
            keep_from = round((k * step - begin) / self.frame) if count > 1 else 0
            final = k == count - 1
            keep = (None if last else frames - k * self.step_frames) if final else self.step_frames
            yield _Window(index, start + begin, end - begin, keep_from, keep, last and final, opens=k == 0)

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

    def _kept(self, log_probs: torch.Tensor, window: _Window) -> torch.Tensor:
        """The frames a window contributes; a stretch's frame count is made exact by repeating its last
        frame (it ends inside a pause) or, for a stretch too short for any frame, with blank frames."""
        kept = log_probs[window.keep_from :]
        if window.keep is None:
            return kept
        kept = kept[: window.keep]
        missing = window.keep - kept.shape[0]
        if missing > 0:
            if kept.shape[0]:
                fill = kept[-1:].expand(missing, -1)
            else:
                fill = torch.full((missing, log_probs.shape[1]), -math.inf).index_fill_(1, torch.tensor([0]), 0.0)
            kept = torch.cat([kept, fill])
        return kept

    def decode(self, result: Transcript, log_probs: torch.Tensor, decoder: Decoder | None = None) -> None:
        """Fill in ``result``'s text and timed words from its frame log-probabilities (T', V), each stretch
        of speech decoded on its own, as an utterance: a word never runs across a pause that cut the audio."""
        decoder = decoder or self.decoder
        ends = [*result.stretches[1:], log_probs.shape[0]]
        spans = [(start, end) for start, end in zip(result.stretches or [0], ends) if end > start]
        if not spans:
            return
        batch = torch.nn.utils.rnn.pad_sequence([log_probs[a:b] for a, b in spans], batch_first=True)
        hyps = decoder.decode(batch, torch.tensor([b - a for a, b in spans]))
        texts = []
        for (a, b), hyp in zip(spans, hyps):
            texts.append(self.model.tokenizer.decode(hyp.tokens))
            result.words += words_from_alignment(
                log_probs[a:b],
                hyp.tokens,
                self.model.tokenizer,
                self.frame,
                a * self.frame,
                frames=hyp.frames,
                frame_offset=self.model.frame_offset,
            )
        result.text = " ".join(text for text in texts if text)

    def transcribe(
        self,
        sources: Iterable[AudioSource | str | os.PathLike] | AudioSource | str | os.PathLike,
        progress: bool = False,
        decoder: Decoder | None = None,
    ) -> Iterator[Transcript]:
        """Transcripts in input order, decoded by ``decoder`` (default: the transcriber's); unreadable
        sources come back with ``error`` set."""
        for result, log_probs in self.posteriors(sources, progress):
            if not result.error:
                self.decode(result, log_probs, decoder)
                if self.snap_words and result.energies_db is not None:
                    result.words = snap_to_speech(result.words, quiet_frames(result.energies_db), HOP_SECONDS)
            yield result

    def posteriors(
        self, sources: Iterable[AudioSource | str], progress: bool = False
    ) -> Iterator[tuple[Transcript, torch.Tensor]]:
        """Each source's frame log-probabilities (T', V), stitched across windows, with its still
        undecoded result, in input order; an unreadable source has ``error`` set and no frames."""
        if isinstance(sources, (str, os.PathLike, AudioSource)):  # one source, not an iterable of characters
            sources = [sources]
        sources = [s if isinstance(s, AudioSource) else AudioSource(os.fspath(s)) for s in sources]
        results = [Transcript(s) for s in sources]
        pieces: list[list[torch.Tensor]] = [[] for _ in sources]
        complete = [False] * len(sources)
        pending: list[tuple[_Window, torch.Tensor]] = []
        emitted = 0

        def forward_pending() -> None:
            for (window, _), lp in zip(pending, self._forward([wav for _, wav in pending])):
                if window.opens:
                    results[window.source].stretches.append(sum(piece.shape[0] for piece in pieces[window.source]))
                pieces[window.source].append(self._kept(lp, window))
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
                total = source.duration or source.length()
                if not total > 0:  # as read_audio says of every empty read, in every command
                    raise AudioError(f"{source.path}: contains no samples")
                results[index].duration = total
                whole = self._fits_one_window(total)
                if not whole and (self.min_pause or self.snap_words):  # one streamed pass, before the windows
                    results[index].energies_db = source.energies_db(self.sample_rate, total)
                for window in self._windows(index, total, results[index].energies_db):
                    wav = (
                        source.load(self.sample_rate, window.offset, window.duration)
                        if window.duration
                        else torch.zeros(0)  # the middle of a pause
                    )
                    if whole and self.snap_words:
                        results[index].energies_db = waveform_energies_db(wav, self.sample_rate)
                    longest = max([wav.numel(), *(w.numel() for _, w in pending)]) / self.sample_rate
                    if pending and longest * (len(pending) + 1) > self.max_batch_seconds:
                        forward_pending()
                        yield from ready()
                    pending.append((window, wav))
            except Exception as e:  # whatever goes wrong with one file is that file's error, never the run's
                why = str(e) if isinstance(e, AudioError) else f"{source.path}: {type(e).__name__}: {e}"
                results[index].error = why
                pending[:] = [(w, wav) for w, wav in pending if w.source != index]
                complete[index] = True
        forward_pending()
        yield from ready()
