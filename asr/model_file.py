"""The self-contained model file: weights, resolved config, tokenizer and normalization statistics.

It is a plain ``torch.save`` dictionary of tensors, strings and numbers, loaded
with ``weights_only=True`` so opening a model file never runs code from it.
``format_version`` changes only when old files need converting; loaders accept
every version listed in ``READABLE_VERSIONS``.
"""

from __future__ import annotations

import math
import os
import zipfile
from dataclasses import dataclass
from typing import Any

import torch

from asr import __version__
from asr.config import check_decoder, structured
from asr.features import FeatureConfig
from asr.model import ModelConfig, SpeechRecognizer, build_acoustic, build_recognizer
from asr.outputs import atomic_write
from asr.text import Tokenizer, tokenizer_from_dict

FORMAT_VERSION = 1
READABLE_VERSIONS = (1,)
# Seconds from ``frame * seconds_per_frame`` to where output frame ``frame`` starts in the audio, for model
# files that carry no offset of their own. Geometry gives 22.5 ms: output frame i of the 4x model sees
# log-mel frames 4i..4i+6 (two unpadded 3x3 convolutions of stride 2), centred on log-mel frame 4i+3, whose
# 25 ms window is centred 3 * 10 + 12.5 = 42.5 ms after 4i * 10 ms, and a frame starts half a frame (20 ms)
# before its centre. But a BiLSTM places its spikes where training happened to put them, early or late, so
# training measures each model's offset on its dev set and stores it in the model file (``asr.export``);
# recipes/digits/README.md has the offsets its models measured, of which this default is the most common.
FRAME_OFFSET = 0.2


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
        "config": {**config, "decoder": decoder_settings(config.get("decoder"))} if "decoder" in config else config,
        "tokenizer": tokenizer.to_dict(),
        "state_dict": state,
    }
    if frame_offset is not None:
        payload["frame_offset"] = float(frame_offset)
    with atomic_write(path, "wb") as f:  # a killed export leaves the previous model file whole
        torch.save(payload, f)


def load_model(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> LoadedModel:
    """Read a model file and rebuild its recognizer (in eval mode).

    The file is data, never instructions: its structure is checked (``ModelFileError`` names
    what is wrong), the weight shapes its config implies are compared with the stored weights
    before any model is allocated, and its decoder section keeps only the decoder type and
    numbers, so no path stored in it is ever opened.
    """
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
        return _rebuild(payload)
    except (KeyError, TypeError, ValueError, RuntimeError) as e:  # a missing section, a schema's ConfigError, weights
        raise ModelFileError(f"{path}: not a valid model file ({type(e).__name__}: {e})") from None


def decoder_settings(section: Any) -> dict[str, Any]:
    """The part of a decoder config a model file carries: the decoder type, its numbers and word lists
    (``words``). Resources (``lm``, ``lexicon``) are paths on the machine that trained it; they come from
    the command line."""
    if not isinstance(section, dict):
        return {}
    return {
        key: value
        for key, value in section.items()
        if isinstance(key, str)
        and (
            (key == "type" and isinstance(value, str))
            or value is None
            or isinstance(value, (bool, int, float))
            or (isinstance(value, list) and all(isinstance(word, str) for word in value))
        )
    }


def _section(config: dict, name: str) -> dict[str, Any]:
    section = config.get(name)
    if not isinstance(section, dict):
        raise ValueError(f"config section {name!r} is not a mapping")
    return section


def _check_features(features: FeatureConfig) -> None:
    """Feature settings within the ranges any recording uses (they size the frontend's buffers)."""
    if not 1000 <= features.sample_rate <= 384_000:
        raise ValueError(f"features.sample_rate {features.sample_rate} is not from 1000 to 384000 Hz")
    if not 1 <= features.n_mels <= 512:
        raise ValueError(f"features.n_mels {features.n_mels} is not from 1 to 512")
    for key in ("win_ms", "hop_ms"):
        if not 0 < getattr(features, key) <= 1000:
            raise ValueError(f"features.{key} {getattr(features, key)} is not from 0 to 1000 ms")


def _check_weights(state: Any, expected: dict[str, torch.Tensor]) -> None:
    """The stored weights are tensors of exactly the names and shapes of the model the config describes."""
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ValueError("state_dict is not a mapping of tensors")
    missing, unexpected = sorted(expected.keys() - state.keys()), sorted(state.keys() - expected.keys())
    if missing or unexpected:
        raise ValueError(f"weights do not match the config (missing {missing[:3]}, unexpected {unexpected[:3]})")
    for name, value in expected.items():
        if tuple(state[name].shape) != tuple(value.shape):
            shape = tuple(state[name].shape)
            raise ValueError(f"weight {name} has shape {shape}, the config implies {tuple(value.shape)}")


def _rebuild(payload: dict[str, Any]) -> LoadedModel:
    """The recognizer, tokenizer and settings of a model file's payload; raises on anything malformed."""
    config = payload["config"]
    if not isinstance(config, dict):
        raise ValueError("config is not a mapping")
    features = structured(FeatureConfig, _section(config, "features"), "features.")
    model = structured(ModelConfig, _section(config, "model"), "model.")
    _check_features(features)
    if not isinstance(payload["tokenizer"], dict):
        raise ValueError("tokenizer is not a mapping")
    tokenizer = tokenizer_from_dict(payload["tokenizer"])
    stored = config.get("decoder") or {}
    decoder = decoder_settings(stored)
    # Every stored key must be one its decoder takes; paths are checked as keys only, never opened or looked up.
    check_decoder({**{key: None for key in stored if key not in decoder}, **decoder})
    with torch.device("meta"):  # the shapes the config implies, without allocating them
        implied = build_acoustic(features, model, tokenizer.vocab_size).state_dict()
    shapes = {f"acoustic.{name}": value for name, value in implied.items()}
    state = payload["state_dict"]
    acoustic = {k: v for k, v in state.items() if str(k).startswith("acoustic.")} if isinstance(state, dict) else state
    _check_weights(acoustic, shapes)
    recognizer = build_recognizer(features, model, tokenizer.vocab_size)
    _check_weights(state, recognizer.state_dict())
    recognizer.load_state_dict(state)
    frame_offset = payload.get("frame_offset", FRAME_OFFSET)
    if isinstance(frame_offset, bool) or not isinstance(frame_offset, (int, float)) or not math.isfinite(frame_offset):
        raise ValueError(f"frame_offset {frame_offset!r} is not a finite number")
    settings = {**config, "decoder": decoder}
    return LoadedModel(recognizer.eval(), tokenizer, settings, float(frame_offset))
