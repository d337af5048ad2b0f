"""What the corpora this project generates itself (digits, synthetic) share when they write audio."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def to_pcm16(wav: np.ndarray) -> np.ndarray:
    """Quantize float samples to int16 (clipping), so what is written is exactly what is kept."""
    return np.clip(np.round(wav * 32768.0), -32768, 32767).astype(np.int16)


def remove_stale_audio(audio_dir: Path, keep: set[str]) -> None:
    """Delete WAVs left in ``audio_dir`` by an earlier, larger run, so the folder matches the manifest."""
    for path in audio_dir.glob("*.wav"):
        if path.name not in keep:
            path.unlink()
