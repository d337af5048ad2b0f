"""asr: a BiLSTM-CTC speech recognition pipeline.

``asr.load(path)`` loads a model file for transcription (see ``asr.api``). Importing ``asr``
itself loads no torch, so that the ``asr`` command can set OpenMP's wait (``asr.runtime``)
before torch loads.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from asr.api import Model

__version__ = "0.1.0"
__all__ = ["Model", "TranscriptionError", "load"]


def load(path: str | os.PathLike, device: str = "auto", runtime: str = "auto", **transcriber_options: Any) -> Model:
    """A model file loaded for transcription onto ``device`` (auto, cpu, cuda, cuda:1, ...): ``model.transcribe(x)``.
    An exported ``.onnx`` file (or ``runtime="onnx"``) runs on ONNX Runtime.

    ``transcriber_options`` are ``asr.inference.Transcriber``'s (``chunk_seconds``, ``snap_words``, ...).
    """
    from asr.api import Model

    return Model.load(path, device, runtime, **transcriber_options)


def __getattr__(name: str) -> Any:
    """``asr.Model`` and ``asr.TranscriptionError``, imported (with torch) on first use."""
    if name in ("Model", "TranscriptionError"):
        from asr import api

        return getattr(api, name)
    raise AttributeError(f"module 'asr' has no attribute {name!r}")
