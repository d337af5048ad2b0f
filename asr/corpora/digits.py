"""Connected-digits corpus built from the Free Spoken Digit Dataset (FSDD).

FSDD holds isolated digits (``{digit}_{speaker}_{index}.wav``). Concatenating
random recordings of one speaker with random silences gives connected-digit
utterances whose word times are exact, split by speaker so that test and dev
speakers are never heard in training. ``generate_split`` joins any speaker's
recordings of single digits this way (``asr.corpora.synth.flite_digits`` gives
it Flite voices).
"""

from __future__ import annotations

import hashlib
import logging
import os
import random
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
from tqdm import tqdm

from asr.audio import AudioError, AudioSource, to_pcm16
from asr.corpora.audio_writing import remove_stale_audio, write_wav
from asr.corpora.common import SPLITS
from asr.data.manifest import write_manifest

log = logging.getLogger(__name__)

DEV_SPEAKER = "lucas"
TEST_SPEAKER = "jackson"
DEFAULT_UTTERANCES: Mapping[str, int] = MappingProxyType({"train": 1000, "dev": 200, "test": 200})
FSDD_BAND_LIMIT = 4000  # Hz: FSDD is recorded at 8 kHz
DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_FILE_NAME = re.compile(r"^(\d)_([A-Za-z0-9]+)_(\d+)\.wav$")

# speaker -> digit -> recordings as int16 samples at the output rate
Recordings = dict[str, dict[int, list[np.ndarray]]]


@dataclass(frozen=True)
class Composition:
    """How recordings of single digits are joined into utterances: the random choices' ranges and the output rate."""

    min_digits: int
    max_digits: int
    pause: tuple[float, float]
    edge_silence: tuple[float, float]
    sample_rate: int

    def check(self) -> None:
        """Raise ValueError naming the first setting that cannot work."""
        if not 1 <= self.min_digits <= self.max_digits:
            raise ValueError(f"need 1 <= min_digits <= max_digits, got {self.min_digits}, {self.max_digits}")
        for name in ("pause", "edge_silence"):
            low, high = getattr(self, name)
            if not 0 <= low <= high:
                raise ValueError(f"{name} must be (low, high) seconds with 0 <= low <= high, got {(low, high)}")
        if self.sample_rate <= 0:
            raise ValueError(f"sample_rate must be positive, got {self.sample_rate}")


def prepare_digits(
    fsdd_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    seed: int = 0,
    dev_speaker: str = DEV_SPEAKER,
    test_speaker: str = TEST_SPEAKER,
    utterances_per_speaker: Mapping[str, int] = DEFAULT_UTTERANCES,
    min_digits: int = 1,
    max_digits: int = 7,
    pause: tuple[float, float] = (0.05, 0.35),
    edge_silence: tuple[float, float] = (0.1, 0.3),
    sample_rate: int = 16000,
) -> dict[str, Path]:
    """Generate connected-digit train/dev/test sets from FSDD and return split -> manifest path.

    Each utterance is ``min_digits``..``max_digits`` recordings of one speaker
    joined by digital silence (``pause`` seconds between digits, ``edge_silence``
    at both ends), so every word's start and end time is exact. Speakers other
    than ``dev_speaker`` and ``test_speaker`` train. The output is deterministic
    given ``seed``; unreadable recordings are skipped, logged and counted.
    Raises ValueError for an impossible speaker split or bad settings.
    """
    settings = Composition(min_digits, max_digits, tuple(pause), tuple(edge_silence), sample_rate)
    utterances = utterances_per_speaker
    if set(utterances) != set(SPLITS) or any(not isinstance(n, int) or n < 0 for n in utterances.values()):
        raise ValueError(f"utterances_per_speaker needs a count >= 0 for each of {SPLITS}, got {dict(utterances)}")
    settings.check()
    files = _find_recordings(Path(fsdd_dir))
    split_speakers = _split_speakers(sorted(files), dev_speaker, test_speaker)
    recordings, skipped = _load_recordings(files, sample_rate)
    out_dir = Path(out_dir)
    manifests = {}
    for split, speakers in split_speakers.items():
        rows = generate_split(split, speakers, recordings, utterances_per_speaker[split], seed, settings, out_dir)
        manifests[split] = out_dir / f"{split}.jsonl"
        write_manifest(manifests[split], rows)
        hours = sum(row["duration"] for row in rows) / 3600
        log.info("%s: %d utterances, %.2f h, speakers %s", split, len(rows), hours, ", ".join(speakers))
    log.info("skipped %d unreadable recording(s) of %d", skipped, sum(len(f) for f in files.values()))
    return manifests


def _find_recordings(fsdd_dir: Path) -> dict[str, list[Path]]:
    """Speaker -> sorted recording paths, from the ``{digit}_{speaker}_{index}.wav`` names."""
    if not fsdd_dir.is_dir():
        raise ValueError(f"{fsdd_dir}: FSDD recordings folder not found")
    files: dict[str, list[Path]] = defaultdict(list)
    ignored = []
    for path in sorted(fsdd_dir.glob("*.wav")):
        match = _FILE_NAME.match(path.name)
        if match:
            files[match.group(2)].append(path)
        else:
            ignored.append(path.name)
    if ignored:
        log.warning(
            "%s: ignoring %d file(s) not named digit_speaker_index.wav, e.g. %s", fsdd_dir, len(ignored), ignored[0]
        )
    if not files:
        raise ValueError(f"{fsdd_dir}: no FSDD recordings ({{digit}}_{{speaker}}_{{index}}.wav) found")
    return dict(files)


def _split_speakers(speakers: list[str], dev_speaker: str, test_speaker: str) -> dict[str, list[str]]:
    """Split -> speakers; everyone who is neither dev nor test trains."""
    if dev_speaker == test_speaker:
        raise ValueError(f"dev and test speaker must differ, both are {dev_speaker!r}")
    for role, speaker in (("dev", dev_speaker), ("test", test_speaker)):
        if speaker not in speakers:
            raise ValueError(f"{role} speaker {speaker!r} has no recordings; speakers found: {', '.join(speakers)}")
    train = [s for s in speakers if s not in (dev_speaker, test_speaker)]
    if not train:
        raise ValueError(f"no training speaker left: found only {', '.join(speakers)}")
    return {"train": train, "dev": [dev_speaker], "test": [test_speaker]}


def _load_recordings(files: dict[str, list[Path]], sample_rate: int) -> tuple[Recordings, int]:
    """Load every recording once as int16 at ``sample_rate``; return them and how many failed."""
    recordings: Recordings = {speaker: defaultdict(list) for speaker in files}
    skipped = 0
    paths = [(speaker, path) for speaker, speaker_files in files.items() for path in speaker_files]
    for speaker, path in tqdm(paths, desc="loading FSDD", unit="file"):
        try:
            wav = AudioSource(str(path)).load(sample_rate).numpy()
        except AudioError as e:
            log.warning("skipping recording: %s", e)
            skipped += 1
            continue
        recordings[speaker][int(path.name.split("_", 1)[0])].append(to_pcm16(wav))
    for speaker, by_digit in recordings.items():
        if not by_digit:
            raise ValueError(f"speaker {speaker!r}: none of the recordings could be read")
    return recordings, skipped


def _stable_seed(*parts: object) -> int:
    """A seed derived from ``parts`` that is the same in every process (unlike ``hash``)."""
    digest = hashlib.sha256("/".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "little")


def generate_split(
    split: str,
    speakers: list[str],
    recordings: Recordings,
    count: int,
    seed: int,
    settings: Composition,
    out_dir: Path,
) -> list[dict[str, Any]]:
    """Write ``count`` utterances per speaker under ``out_dir/audio/split`` and return their manifest rows.

    Each speaker's utterances are joined from its ``recordings`` as ``settings`` says, with a random
    generator seeded by ``seed``, ``split`` and the speaker alone.
    """
    audio_dir = out_dir / "audio" / split
    audio_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    with tqdm(total=count * len(speakers), desc=f"generating {split}", unit="utt") as progress:
        for speaker in speakers:
            rng = random.Random(_stable_seed(seed, split, speaker))
            for index in range(count):
                utt_id = f"{speaker}-{split}-{index:05d}"
                wav, words = _compose(rng, recordings[speaker], settings)
                path = audio_dir / f"{utt_id}.wav"
                write_wav(path, wav, settings.sample_rate)
                rows.append(_row(path, wav, words, speaker, utt_id, settings.sample_rate))
                progress.update()
    remove_stale_audio(audio_dir, {Path(row["audio_filepath"]).name for row in rows})
    return rows


def _compose(
    rng: random.Random, by_digit: dict[int, list[np.ndarray]], settings: Composition
) -> tuple[np.ndarray, list[tuple[int, int, int]]]:
    """One utterance: int16 samples and (digit, start sample, end sample) per word."""
    rate = settings.sample_rate
    digits = sorted(by_digit)
    pieces = [np.zeros(_silence(rng, settings.edge_silence, rate), dtype=np.int16)]
    position = len(pieces[0])
    words = []
    for n in range(rng.randint(settings.min_digits, settings.max_digits)):
        if n:
            pieces.append(np.zeros(_silence(rng, settings.pause, rate), dtype=np.int16))
            position += len(pieces[-1])
        digit = rng.choice(digits)
        recording = rng.choice(by_digit[digit])
        pieces.append(recording)
        words.append((digit, position, position + len(recording)))
        position += len(recording)
    pieces.append(np.zeros(_silence(rng, settings.edge_silence, rate), dtype=np.int16))
    return np.concatenate(pieces), words


def _silence(rng: random.Random, seconds: tuple[float, float], rate: int) -> int:
    """A random silence length in samples."""
    return round(rng.uniform(*seconds) * rate)


def _row(
    path: Path, wav: np.ndarray, words: list[tuple[int, int, int]], speaker: str, utt_id: str, rate: int
) -> dict[str, Any]:
    """The manifest row of one generated utterance."""
    return {
        "audio_filepath": str(path),
        "duration": round(len(wav) / rate, 4),
        "text": " ".join(DIGIT_WORDS[digit] for digit, _, _ in words),
        "speaker": speaker,
        "id": utt_id,
        "words": [
            {"word": DIGIT_WORDS[digit], "start": round(start / rate, 4), "end": round(end / rate, 4)}
            for digit, start, end in words
        ],
    }
