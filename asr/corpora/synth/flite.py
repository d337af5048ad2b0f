"""Flite voices saying single words: extra training speakers for small isolated-word corpora.

Flite (CMU's Festival-Lite, Debian package ``flite``) ships voices built from
recordings of real people (``kal16``, ``awb``, ``rms``, ``slt``), which sound
closer to human speech than eSpeak NG's formant synthesis. Each word is
spoken in several takes with a random speaking rate and pitch, cut to where
the sound is, band-limited like a narrowband recording and returned as
int16 samples, the form ``asr.corpora.synth.flite_digits`` joins into utterances.
Flite's output depends only on its settings, so the takes are reproducible
given a seed.
"""

from __future__ import annotations

import random
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import librosa
import numpy as np
import soundfile as sf
import torch

from asr.audio import to_pcm16
from asr.corpora.audio_writing import resample

FLITE = "flite"
DEFAULT_VOICES = ("kal16", "awb", "rms", "slt")
# The mean pitch (Hz) a take is given, drawn from the voice's natural range; other voices keep their own.
_PITCH = {"kal": (95, 125), "kal16": (95, 125), "awb": (90, 140), "rms": (80, 130), "slt": (150, 230)}
STRETCH = (0.85, 1.5)  # Flite's duration_stretch: 1.5 speaks 1.5 times slower than the voice's own rate
TRIM_DB = 35  # a take keeps the audio within this many dB of its loudest frame


class FliteError(RuntimeError):
    """The flite program is missing, does not know a voice, or failed."""


def available_voices() -> list[str]:
    """The voices the installed flite offers (``flite -lv``)."""
    output = _run(["-lv"])
    return output.split(":", 1)[-1].split()


def say(text: str, voice: str, *, stretch: float = 1.0, pitch: float | None = None) -> tuple[np.ndarray, int]:
    """Float samples of ``voice`` saying ``text`` and their sample rate; ``pitch`` sets the mean F0 in Hz."""
    settings = ["--setf", f"duration_stretch={stretch:.3f}"]
    if pitch is not None:
        settings += ["--setf", f"int_f0_target_mean={pitch:.1f}"]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "say.wav"
        _run(["-voice", voice, *settings, "-t", text, "-o", str(path)])
        samples, rate = sf.read(path, dtype="float32")
    return samples, rate


def spoken_words(
    words: Sequence[str],
    voices: Sequence[str],
    *,
    takes: int,
    sample_rate: int,
    band_limit: int,
    seed: int = 0,
) -> dict[str, dict[int, list[np.ndarray]]]:
    """Voice -> word index -> ``takes`` int16 recordings at ``sample_rate``, nothing above ``band_limit`` Hz.

    Raises FliteError when flite is missing or lacks one of ``voices``, ValueError for bad settings.
    """
    if takes < 1:
        raise ValueError(f"takes must be at least 1, got {takes}")
    if not 0 < band_limit < sample_rate / 2:
        raise ValueError(f"band_limit must be between 0 and {sample_rate / 2:g} Hz, got {band_limit}")
    known = available_voices()
    missing = [voice for voice in voices if voice not in known]
    if missing:
        raise FliteError(f"flite has no voice {', '.join(missing)}; it offers {', '.join(known)}")
    recordings: dict[str, dict[int, list[np.ndarray]]] = {}
    for voice in voices:
        rng = random.Random(f"flite/{seed}/{voice}")
        recordings[voice] = {}
        for index, word in enumerate(words):
            recordings[voice][index] = [_take(word, voice, rng, sample_rate, band_limit) for _ in range(takes)]
    return recordings


def _take(word: str, voice: str, rng: random.Random, sample_rate: int, band_limit: int) -> np.ndarray:
    """One take of ``word``: random rate and pitch, trimmed to its sound, band-limited and resampled."""
    pitch = rng.uniform(*_PITCH[voice]) if voice in _PITCH else None
    samples, rate = say(word, voice, stretch=rng.uniform(*STRETCH), pitch=pitch)
    samples, _ = librosa.effects.trim(samples, top_db=TRIM_DB)
    return to_pcm16(resample(torch.from_numpy(samples), rate, sample_rate, band_limit).numpy())


def _run(arguments: list[str]) -> str:
    """Run flite with ``arguments`` and return what it printed; FliteError if it is missing or fails."""
    program = shutil.which(FLITE)
    if program is None:
        raise FliteError(f"{FLITE} not found: install it (Debian and Ubuntu: apt-get install flite)")
    result = subprocess.run([program, *arguments], capture_output=True, text=True)
    if result.returncode != 0:
        raise FliteError(f"flite {' '.join(arguments)} failed: {result.stderr.strip() or result.stdout.strip()}")
    return result.stdout
