"""Planning the forward passes over long audio: windows cut at pauses, on the model's output-frame grid.

Audio longer than one window is first cut at its pauses (found by ``asr.segmentation``),
so each stretch of speech is heard on its own with ``PAUSE_MARGIN`` seconds of the quiet
around it, as the model heard its training utterances; the rest of each pause gets blank
frames. A stretch still longer than one window is cut into windows that overlap by the
context on each side, and each window's output frames are kept only for its central
part. Stretches and windows start on the output-frame grid, so the kept frames join into
one frame sequence for the whole file: no word is cut or doubled at an edge and word
times stay exact. Everything here is pure arithmetic on seconds and frames.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch

PAUSE_MARGIN = 0.2  # seconds of a pause heard with the speech on each side of it, as utterances have in corpora


@dataclass(frozen=True)
class Window:
    """One forward pass's worth of a file: ``duration`` seconds from ``offset``, and which of its output
    frames to keep (``keep`` from ``keep_from``; None: all to the end). A window of no duration is the
    middle of a pause: ``keep`` blank frames, nothing to hear."""

    offset: float
    duration: float
    keep_from: int
    keep: int | None
    last: bool  # the file's last window
    opens: bool = True  # starts a stretch: decoded apart from the frames before it

    def kept(self, log_probs: torch.Tensor) -> torch.Tensor:
        """The frames this window contributes from its log-probabilities (T', V); a stretch's frame count is
        made exact by repeating its last frame (it ends inside a pause) or, for a stretch too short for any
        frame, with blank frames."""
        kept = log_probs[self.keep_from :]
        if self.keep is None:
            return kept
        kept = kept[: self.keep]
        missing = self.keep - kept.shape[0]
        if missing > 0:
            if kept.shape[0]:
                fill = kept[-1:].expand(missing, -1)
            else:
                fill = torch.full((missing, log_probs.shape[1]), -math.inf).index_fill_(1, torch.tensor([0]), 0.0)
            kept = torch.cat([kept, fill])
        return kept


@dataclass(frozen=True)
class Chunking:
    """Window geometry on the output-frame grid: ``frame`` seconds per output frame, windows of
    ``step_frames`` kept frames with ``context_frames`` of overlap on each side."""

    frame: float
    step_frames: int
    context_frames: int

    @classmethod
    def from_seconds(cls, frame: float, chunk_seconds: float, context_seconds: float) -> Chunking:
        """Windows of ``chunk_seconds`` overlapping by ``context_seconds`` on each side; a ``ValueError`` when
        no frame would be kept."""
        context = round(context_seconds / frame)
        step = round(chunk_seconds / frame) - 2 * context
        if context < 0 or step < 1:
            raise ValueError(
                f"chunk_seconds={chunk_seconds} must exceed twice context_seconds={context_seconds} "
                f"by at least one {frame * 1000:.0f} ms output frame"
            )
        return cls(frame, step, context)

    def fits_one_window(self, duration: float) -> bool:
        """Whether ``duration`` seconds are heard in one forward pass."""
        return duration <= (self.step_frames + 2 * self.context_frames) * self.frame


def plan(duration: float, chunking: Chunking, pauses: Sequence[tuple[float, float]] = ()) -> list[Window]:
    """The forward passes over ``duration`` seconds: one if it fits one window, else its stretches of speech
    between ``pauses`` ((start, end) seconds), each with ``PAUSE_MARGIN`` seconds of its pauses; the rest of
    a pause is blank frames."""
    if chunking.fits_one_window(duration):
        return [Window(0.0, duration, 0, None, True)]
    bounds = [0.0]
    for start, end in pauses:
        middle = (start + end) / 2
        bounds += [min(start + PAUSE_MARGIN, middle), max(end - PAUSE_MARGIN, middle)]
    grid = [round(t / chunking.frame) for t in bounds] + [None]
    windows = []
    for k in range(0, len(bounds), 2):
        last = k + 2 >= len(bounds)
        start, end = grid[k] * chunking.frame, duration if last else grid[k + 1] * chunking.frame
        windows += stretch_windows(start, end - start, last, chunking)
        if not last and grid[k + 2] > grid[k + 1]:  # the pause's middle: blank frames, nothing to hear
            windows.append(Window(end, 0.0, 0, grid[k + 2] - grid[k + 1], False))
    return windows


def stretch_windows(start: float, length: float, last: bool, chunking: Chunking) -> list[Window]:
    """Overlapping windows over ``length`` seconds from ``start``; unless it ends the file (``last``), the
    stretch keeps exactly its length in output frames, so the next stretch's frames follow on the grid."""
    frame, step_frames = chunking.frame, chunking.step_frames
    frames = round((start + length) / frame) - round(start / frame)
    step, context = step_frames * frame, chunking.context_frames * frame
    count = 1 if length <= step + 2 * context else math.ceil(length / step)
    windows = []
    for k in range(count):
        begin = max(0.0, k * step - context) if count > 1 else 0.0
        end = min(length, (k + 1) * step + context) if count > 1 else length
        keep_from = round((k * step - begin) / frame) if count > 1 else 0
        final = k == count - 1
        keep = (None if last else frames - k * step_frames) if final else step_frames
        windows.append(Window(start + begin, end - begin, keep_from, keep, last and final, opens=k == 0))
    return windows
