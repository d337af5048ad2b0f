"""The self-contained model file: weights, resolved config, tokenizer and normalization statistics.

It is a plain ``torch.save`` dictionary of tensors, strings and numbers, loaded
with ``weights_only=True`` so opening a model file never runs code from it.
``format_version`` changes only when old files need converting; loaders accept
every version listed in ``READABLE_VERSIONS``.
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from typing import Any

import torch

from asr import __version__
from asr.config import check_decoder
from asr.decoding.words import FRAME_OFFSET
from asr.model import SpeechRecognizer, build_recognizer
from asr.text import Tokenizer, tokenizer_from_dict

FORMAT_VERSION = 1
READABLE_VERSIONS = (1,)


class ModelFileError(RuntimeError):
    """A model file is missing, corrupt or of an unknown format."""


@dataclass
class LoadedModel:
    """Everything needed to transcribe: the recognizer, its tokenizer, the config it was trained with, and
    where its output frames sit in the audio for word times (see ``asr.word_timing``)."""

    recognizer: SpeechRecognizer
    tokenizer: Tokenizer
    config: dict[str, Any]
    frame_offset: float = FRAME_OFFSET


def save_model(
    path: str | os.PathLike,
    recognizer: SpeechRecognizer,
    tokenizer: Tokenizer,
    config: dict,
    frame_offset: float | None = None,
) -> None:
    """Write a model file; ``config`` needs the ``features`` and ``model`` sections. ``frame_offset``
    (seconds) is the word-time offset measured for this model; without it loaders use ``FRAME_OFFSET``."""
    state = {k: v.detach().cpu() for k, v in recognizer.state_dict().items()}
    payload = {
        "format_version": FORMAT_VERSION,
        "asr_version": __version__,
        "config": config,
        "tokenizer": tokenizer.to_dict(),
        "state_dict": state,
    }
    if frame_offset is not None:
        payload["frame_offset"] = float(frame_offset)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    torch.save(payload, path)


def load_model(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> LoadedModel:
    """Read a model file and rebuild its recognizer (in eval mode)."""
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except FileNotFoundError:
        raise ModelFileError(f"{path}: no such model file") from None
    except Exception as e:  # torch raises many types for corrupt files
        if "Weights only load failed" in str(e) and zipfile.is_zipfile(path):  # a torch.save file, with objects
            raise ModelFileError(
                f"{path}: not an asr model file: it holds Python objects, which are never loaded "
                "(a training checkpoint? asr train writes model.pt beside checkpoints/)"
            ) from None
        first = str(e).strip().splitlines()[0] if str(e).strip() else ""
        raise ModelFileError(f"{path}: not a readable model file ({type(e).__name__}: {first})") from None
    if isinstance(payload, dict) and "state_dict" in payload and "format_version" not in payload:
        raise ModelFileError(
            f"{path}: a training checkpoint, not a model file (asr train writes model.pt beside checkpoints/)"
        )
    if not isinstance(payload, dict) or "format_version" not in payload:
        raise ModelFileError(f"{path}: not an asr model file (no format_version)")
    version = payload["format_version"]
    if version not in READABLE_VERSIONS:
        raise ModelFileError(
            f"{path}: model format version {version} is not supported (this asr reads {READABLE_VERSIONS})"
        )
    try:
        config = payload["config"]
        tokenizer = tokenizer_from_dict(payload["tokenizer"])
        check_decoder(config.get("decoder") or {})
        recognizer = build_recognizer(config["features"], config["model"], tokenizer.vocab_size)
        recognizer.load_state_dict(payload["state_dict"])
    except (KeyError, ValueError, RuntimeError) as e:  # a missing section, a config its schema rejects, weights
        raise ModelFileError(f"{path}: not a valid model file ({type(e).__name__}: {e})") from None
    return LoadedModel(recognizer.eval(), tokenizer, config, payload.get("frame_offset", FRAME_OFFSET))
