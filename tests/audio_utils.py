"""Small synthetic audio for tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf


def tone(seconds: float, rate: int = 16000, freq: float = 440.0, channels: int = 1) -> np.ndarray:
    """A sine tone with a little noise, (samples,) or (samples, channels) float32."""
    t = np.arange(int(seconds * rate)) / rate
    rng = np.random.default_rng(0)
    mono = 0.3 * np.sin(2 * np.pi * freq * t) + 0.01 * rng.standard_normal(t.size)
    return mono.astype(np.float32) if channels == 1 else np.stack([mono] * channels, axis=1).astype(np.float32)


def write_wav(path: Path, data: np.ndarray, rate: int = 16000) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, data, rate)
    return path
