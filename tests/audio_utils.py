"""Small synthetic audio for tests."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import soundfile as sf


def tone(seconds: float, rate: int = 16000, freq: float = 440.0, channels: int = 1) -> np.ndarray:
    """A sine tone with a little noise, (samples,) or (samples, channels) float32."""
    t = np.arange(int(seconds * rate)) / rate
    rng = np.random.default_rng(0)
    mono = 0.3 * np.sin(2 * np.pi * freq * t) + 0.01 * rng.standard_normal(t.size)
    return mono.astype(np.float32) if channels == 1 else np.stack([mono] * channels, axis=1).astype(np.float32)


def share_above(wav: np.ndarray, rate: int, hz: float) -> float:
    """The share of ``wav``'s spectral energy above ``hz``."""
    power = np.abs(np.fft.rfft(wav.astype(np.float64))) ** 2
    return float(power[np.fft.rfftfreq(len(wav), 1 / rate) > hz].sum() / power.sum())


def write_wav(path: Path, data: np.ndarray, rate: int = 16000) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, data, rate)
    return path


def write_corpus(folder: Path, count: int, seed: int = 0) -> Path:
    """``count`` short tones of 0.6-1.6 s with random two-word transcripts and ids ``utt00``, ...; the manifest path."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(count):
        seconds = round(float(rng.uniform(0.6, 1.6)), 2)
        path = write_wav(folder / f"utt{i:02d}.wav", tone(seconds, freq=float(rng.uniform(200, 2000))))
        text = " ".join("".join(rng.choice(list("abcde"), size=3)) for _ in range(2))
        rows.append({"audio_filepath": path.name, "duration": seconds, "text": text, "id": f"utt{i:02d}"})
    manifest = folder / "manifest.jsonl"
    manifest.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return manifest
