"""The feature and model settings the tests build small recognizers from: one place, not a copy per test file."""

from __future__ import annotations

import json
from typing import Any


def features(**overrides: Any) -> dict[str, Any]:
    """The ``features`` section of the recipes (80 log-mel bins, 25 ms windows, 10 ms hop at 16 kHz), a new dict."""
    return {"sample_rate": 16000, "n_mels": 80, "win_ms": 25.0, "hop_ms": 10.0, **overrides}


def quiet_cpu_trainer(**overrides: Any) -> dict[str, Any]:
    """Trainer settings for a test: on the CPU, without the progress bar and model summary, a new dict."""
    return {"accelerator": "cpu", "enable_progress_bar": False, "enable_model_summary": False, **overrides}


def hydra_overrides(**sections: dict[str, Any]) -> list[str]:
    """Hydra command-line overrides (``section.key=value``, values in JSON, which Hydra reads) setting ``sections``."""
    return [f"{name}.{key}={json.dumps(value)}" for name, values in sections.items() for key, value in values.items()]


def tiny_model(**overrides: Any) -> dict[str, Any]:
    """A ``model`` section of a few thousand weights (4x subsampling, one BiLSTM layer of 16), a new dict."""
    return {"subsampling": 4, "conv_channels": 4, "hidden_size": 16, "num_layers": 1, "dropout": 0.0, **overrides}
