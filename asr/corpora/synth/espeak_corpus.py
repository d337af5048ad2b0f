"""Open-vocabulary English read speech synthesized offline by eSpeak NG, with the synthesizer's own word times.

Sentences come from public-domain prose (``asr.corpora.synth.sentences``), speech
from libespeak-ng (``asr.corpora.synth.espeak``). A voice is an English accent
and a voice variant (``en-gb-x-rp+f3``); each sentence is spoken once, by a
random voice at a random rate and pitch. Every split has variants of its own,
so no dev or test voice is heard in training, and each sentence lies in one
split only.
"""

from __future__ import annotations

import hashlib
import logging
import os
import random
import re
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import soundfile as sf
import torch
from tqdm import tqdm

from asr.audio import to_pcm16
from asr.corpora.audio_writing import remove_stale_audio, resample, write_wav
from asr.corpora.common import SPLITS
from asr.corpora.synth import espeak
from asr.corpora.synth.sentences import default_text, read_sentences
from asr.data.manifest import write_manifest

log = logging.getLogger(__name__)

DEFAULT_HOURS: Mapping[str, float] = MappingProxyType({"train": 3.0, "dev": 0.25, "test": 0.25})
# eSpeak NG's English voices (``en`` is British English; the Shavian-alphabet voice reads another script).
ACCENTS = ("en-us", "en-us-nyc", "en", "en-gb-x-rp", "en-gb-scotland", "en-gb-x-gbclan", "en-gb-x-gbcwmd", "en-029")
# Voice variants (espeak-ng-data/voices/!v) by split: human-sounding ones, male and female in each split.
# Whispers, robots and effects (Demonic, croak, UniRobot, robosoft*, ...) are left out.
VARIANTS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "train": (
            *("m1", "m2", "m3", "m4", "m5", "m6", "f1", "f2", "f3", "klatt", "klatt2", "klatt3"),
            *("adam", "Alex", "Alicia", "Andy", "aunty", "boris", "david", "ed", "edward", "Gene", "gustave"),
            *("ian", "iven", "john", "linda", "max", "Michael", "Mike", "norbert", "paul", "quincy", "rob"),
            *("robert", "sandro", "shelby", "steph", "travis", "victor", "zac", "grandma", "grandpa"),
        ),
        "dev": ("m7", "f4", "klatt4", "Annie", "benjamin", "steph2"),
        "test": ("m8", "f5", "klatt5", "Andrea", "caleb", "belinda"),
    }
)
_LOOKAHEAD = 16  # utterances the synthesis process may run ahead of resampling and writing


@dataclass(frozen=True)
class _Settings:
    """The random choices' ranges, shared by every generated utterance."""

    accents: tuple[str, ...]
    rate: tuple[int, int]
    pitch: tuple[int, int]
    edge_silence: tuple[float, float]
    sample_rate: int
    band_limit: int | None


@dataclass(frozen=True)
class _Request:
    """One utterance to speak: a sentence, a voice, the prosody and the silence around it (samples at 22.05 kHz)."""

    text: str
    voice: str
    rate: int
    pitch: int
    seed: int
    lead: int
    tail: int


def prepare_synthetic(
    out_dir: str | os.PathLike,
    *,
    text: str | os.PathLike | None = None,
    seed: int = 0,
    hours: Mapping[str, float] = DEFAULT_HOURS,
    accents: Iterable[str] = ACCENTS,
    variants: Mapping[str, Iterable[str]] = VARIANTS,
    rate: tuple[int, int] = (140, 210),
    pitch: tuple[int, int] = (30, 70),
    edge_silence: tuple[float, float] = (0.1, 0.3),
    min_words: int = 4,
    max_words: int = 20,
    sample_rate: int = 16000,
    band_limit: int | None = None,
) -> dict[str, Path]:
    """Synthesize train/dev/test sets of about ``hours`` each and return split -> manifest path.

    Sentences come from ``text`` (see ``read_sentences``; default ``default_text()``)
    in a seeded random order, test first, then dev, then train, so no sentence
    is in two splits. Each utterance is one sentence spoken by ``accent+variant``
    (an accent of ``accents``, a variant of the split's ``variants``) at a
    ``rate`` (words a minute) and ``pitch`` (0-100) drawn at random, with
    ``edge_silence`` seconds of silence at both ends, written as 16-bit WAV at
    ``sample_rate``. With ``band_limit`` (Hz) the audio keeps only what lies
    below it, to match real recordings of a narrower band (4000 for 8 kHz
    recordings such as FSDD, whose voices have nothing above 4 kHz). The
    output is deterministic given ``seed``: each split is
    spoken by a fresh eSpeak NG process. A WAV that exists is kept (files are
    completed under a temporary name and named after their content), so a
    stopped run resumes. Raises ValueError for an unknown voice, unusable text
    or bad settings.
    """
    accents = tuple(accents)
    variants = {split: tuple(variants[split]) for split in SPLITS if split in variants}
    settings = _Settings(accents, tuple(rate), tuple(pitch), tuple(edge_silence), sample_rate, band_limit)
    _check_settings(settings, hours, variants)
    text = Path(text) if text is not None else default_text()
    sentences, stats = read_sentences(text, min_words, max_words)
    log.info("%s: %d sentences (%s)", text, len(sentences), stats)
    random.Random(f"synthetic/{seed}").shuffle(sentences)
    out_dir = Path(out_dir)
    manifests = {}
    for split in ("test", "dev", "train"):
        rng = random.Random(f"synthetic/{seed}/{split}")
        rows, used = _generate_split(split, sentences, hours[split], variants[split], rng, settings, out_dir)
        sentences = sentences[used:]
        manifests[split] = out_dir / f"{split}.jsonl"
        write_manifest(manifests[split], rows)
        log.info("%s: %d utterances, %.2f h", split, len(rows), sum(row["duration"] for row in rows) / 3600)
    return {split: manifests[split] for split in SPLITS}


def _check_settings(settings: _Settings, hours: Mapping[str, float], variants: dict[str, tuple[str, ...]]) -> None:
    """Raise ValueError naming the first setting that cannot work."""
    engine = espeak.espeak()
    english = [voice for voice in engine.voices if voice.startswith("en")]
    unknown = [accent for accent in settings.accents if accent.lower() not in english]
    if unknown or not settings.accents:
        raise ValueError(f"unknown eSpeak NG English voice(s) {unknown}; available: {', '.join(english)}")
    if set(variants) != set(SPLITS) or not all(variants.values()):
        raise ValueError(f"variants need at least one voice variant for each of {SPLITS}, got {variants}")
    unknown = sorted({v for names in variants.values() for v in names} - set(engine.variants))
    if unknown:
        raise ValueError(f"unknown eSpeak NG voice variant(s) {unknown}; available: {', '.join(engine.variants)}")
    for a, b in (("train", "dev"), ("train", "test"), ("dev", "test")):
        if set(variants[a]) & set(variants[b]):
            raise ValueError(f"{a} and {b} share voice variants {sorted(set(variants[a]) & set(variants[b]))}")
    if set(hours) != set(SPLITS) or any(not h >= 0 for h in hours.values()):
        raise ValueError(f"hours needs a number >= 0 for each of {SPLITS}, got {dict(hours)}")
    for name, low, high in (("rate", 80, 450), ("pitch", 0, 100), ("edge_silence", 0, float("inf"))):
        value = getattr(settings, name)
        if not low <= value[0] <= value[1] <= high:
            raise ValueError(f"{name} must be (low, high) with {low} <= low <= high <= {high}, got {value}")
    if settings.sample_rate <= 0:
        raise ValueError(f"sample_rate must be positive, got {settings.sample_rate}")
    nyquist = min(settings.sample_rate, espeak.SAMPLE_RATE) / 2
    if settings.band_limit is not None and not 0 < settings.band_limit < nyquist:
        raise ValueError(
            f"band_limit must be between 0 and {nyquist:g} Hz (half the sample rate), got {settings.band_limit}"
        )


def _requests(
    sentences: list[str], variants: tuple[str, ...], rng: random.Random, settings: _Settings
) -> Iterator[_Request]:
    """One random voice, prosody and silence for each sentence in turn."""
    for sentence in sentences:
        yield _Request(
            text=sentence,
            voice=f"{rng.choice(settings.accents)}+{rng.choice(variants)}",
            rate=rng.randint(*settings.rate),
            pitch=rng.randint(*settings.pitch),
            seed=rng.getrandbits(31),
            lead=round(rng.uniform(*settings.edge_silence) * espeak.SAMPLE_RATE),
            tail=round(rng.uniform(*settings.edge_silence) * espeak.SAMPLE_RATE),
        )


def _spoken(requests: Iterator[_Request]) -> Iterator[tuple[_Request, np.ndarray, list[tuple[int, int]]]]:
    """Each request with its samples and word events, from a fresh eSpeak NG process working ahead.

    The library's state carries from one utterance to the next, so a fresh process
    makes the audio depend on the requests alone. Requests are drawn ahead only as
    far as ``_LOOKAHEAD``; what is left when the caller stops is dropped.
    """
    with espeak.SynthesisProcess() as process:
        pending: deque[_Request] = deque()
        for request in requests:
            process.submit(request.text, request.voice, request.rate, request.pitch, request.seed)
            pending.append(request)
            if len(pending) > _LOOKAHEAD:
                yield pending.popleft(), *process.receive()
        while pending:
            yield pending.popleft(), *process.receive()


def _generate_split(
    split: str,
    sentences: list[str],
    hours: float,
    variants: tuple[str, ...],
    rng: random.Random,
    settings: _Settings,
    out_dir: Path,
) -> tuple[list[dict[str, Any]], int]:
    """Speak ``sentences`` in turn until ``hours`` of audio are under ``out_dir/audio/split``.

    Returns the manifest rows and how many sentences were used up.
    """
    audio_dir = out_dir / "audio" / split
    audio_dir.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    seconds, target, used, untimed = 0.0, hours * 3600, 0, 0
    if target > 0:
        spoken = closing(_spoken(_requests(sentences, variants, rng, settings)))
        with tqdm(total=round(target), desc=f"synthesizing {split}", unit="s") as progress, spoken as results:
            for request, samples, events in results:
                used += 1
                spans = _word_spans(request.text, events, samples)
                if spans is None:
                    untimed += 1
                    continue
                utt_id = f"{split}-{len(rows):06d}-{_digest(request, settings)}"
                path = audio_dir / f"{utt_id}.wav"
                if not path.exists():
                    _write(path, np.pad(samples, (request.lead, request.tail)), settings)
                duration = sf.info(path).frames / settings.sample_rate
                rows.append(_row(path, duration, request, utt_id, spans))
                seconds += duration
                progress.update(min(round(seconds), round(target)) - progress.n)
                if seconds >= target:
                    break
            else:
                log.warning("%s: the text ran out after %.2f of %.2f h", split, seconds / 3600, hours)
    if untimed:
        log.warning("%s: skipped %d sentence(s) eSpeak gave no word times for", split, untimed)
    remove_stale_audio(audio_dir, {Path(row["audio_filepath"]).name for row in rows})
    return rows, used


def _digest(request: _Request, settings: _Settings) -> str:
    """A short hash of what an utterance's audio is made of, so a kept file always matches its row."""
    return hashlib.sha256(repr((request, settings.sample_rate, settings.band_limit)).encode()).hexdigest()[:10]


def _word_spans(text: str, events: list[tuple[int, int]], samples: np.ndarray) -> list[tuple[int, int]] | None:
    """Each word's (start, end) sample: from its word event to the next one, less silence at either edge.

    eSpeak speaks some pairs as one word (``of the``, ``in the``) with one event;
    such words share their span in proportion to their letters. None when the
    first word has no event or a span has no sound.
    """
    words = [(m.start() + 1, len(m.group())) for m in re.finditer(r"\S+", text)]  # eSpeak counts from 1
    at = dict(events)
    heads = [i for i, (position, _) in enumerate(words) if position in at]
    if not heads or heads[0] != 0:
        return None
    bounds = [min(round(at[words[i][0]] * espeak.SAMPLE_RATE / 1000), len(samples)) for i in heads] + [len(samples)]
    level = np.abs(samples.astype(np.int32))
    loud = level > 0.02 * max(int(level.max(initial=0)), 1)
    spans = []
    for first, last, begin, end in zip(heads, heads[1:] + [len(words)], bounds, bounds[1:]):
        sound = np.flatnonzero(loud[begin:end])
        if not sound.size:
            return None
        letters = np.cumsum([0] + [length for _, length in words[first:last]])
        edges = begin + sound[0] + np.round((sound[-1] + 1 - sound[0]) * letters / letters[-1]).astype(int)
        spans += [(int(a), int(b)) for a, b in zip(edges, edges[1:])]
    return spans


def _write(path: Path, samples: np.ndarray, settings: _Settings) -> None:
    """Resample eSpeak's int16 output (see ``resample``); write it as 16-bit WAV, under a temporary name until done."""
    wav = torch.from_numpy(samples.astype(np.float32) / 32768.0)
    wav = resample(wav, espeak.SAMPLE_RATE, settings.sample_rate, settings.band_limit)
    write_wav(path, to_pcm16(wav.numpy()), settings.sample_rate)


def _row(path: Path, duration: float, request: _Request, utt_id: str, spans: list[tuple[int, int]]) -> dict[str, Any]:
    """The manifest row of one utterance; ``spans`` are its words' samples in eSpeak's output, before the lead."""
    rate = espeak.SAMPLE_RATE
    return {
        "audio_filepath": str(path),
        "duration": round(duration, 4),
        "text": request.text,
        "speaker": request.voice,
        "id": utt_id,
        "words": [
            {"word": word, "start": round((request.lead + a) / rate, 4), "end": round((request.lead + b) / rate, 4)}
            for word, (a, b) in zip(request.text.split(), spans)
        ],
    }
