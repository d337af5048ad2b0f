"""Connected digits spoken by Flite voices (``asr prepare flite-digits``): extra training speakers for FSDD digits."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

from asr.corpora.digits import DIGIT_WORDS, FSDD_BAND_LIMIT, Composition, generate_split
from asr.corpora.synth import flite
from asr.data.manifest import write_manifest

log = logging.getLogger(__name__)


def prepare_flite_digits(
    out_dir: str | os.PathLike,
    *,
    voices: Sequence[str] = flite.DEFAULT_VOICES,
    utterances_per_voice: int = 800,
    takes: int = 20,
    seed: int = 0,
    band_limit: int = FSDD_BAND_LIMIT,
    min_digits: int = 1,
    max_digits: int = 7,
    pause: tuple[float, float] = (0.05, 0.35),
    edge_silence: tuple[float, float] = (0.1, 0.3),
    sample_rate: int = 16000,
) -> Path:
    """Connected digits spoken by Flite voices, as extra training speakers; returns the train manifest's path.

    Each voice says every digit in ``takes`` takes of random rate and pitch
    (see ``asr.corpora.synth.flite``), cut to FSDD's band, and the takes are joined
    into ``utterances_per_voice`` utterances exactly as ``prepare_digits`` joins
    FSDD recordings, with exact word times. Deterministic given ``seed``.
    Raises FliteError when flite or a voice is missing, ValueError for bad settings.
    """
    settings = Composition(min_digits, max_digits, tuple(pause), tuple(edge_silence), sample_rate)
    if not isinstance(utterances_per_voice, int) or utterances_per_voice < 1:
        raise ValueError(f"utterances per voice must be at least 1, got {utterances_per_voice}")
    settings.check()
    recordings = flite.spoken_words(
        DIGIT_WORDS, voices, takes=takes, sample_rate=sample_rate, band_limit=band_limit, seed=seed
    )
    speakers = {f"flite_{voice}": by_digit for voice, by_digit in recordings.items()}
    out_dir = Path(out_dir)
    rows = generate_split("train", sorted(speakers), speakers, utterances_per_voice, seed, settings, out_dir)
    manifest = out_dir / "train.jsonl"
    write_manifest(manifest, rows)
    log.info("train: %d utterances, %.2f h, voices %s", len(rows), sum(r["duration"] for r in rows) / 3600, voices)
    return manifest
