"""The eSpeak NG corpus: manifests, 16 kHz audio, word times, voice and sentence splits, determinism, resuming."""

from __future__ import annotations

import filecmp
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from audio_utils import share_above

from asr.cli.main import main
from asr.corpora.synth.espeak_corpus import VARIANTS, prepare_synthetic
from asr.corpora.synth.sentences import oov_rate, read_sentences
from asr.data.manifest import read_manifest
from asr.text import normalize_text

RATE = 16000
TINY = {"train": 0.008, "dev": 0.003, "test": 0.003}  # about 30, 11 and 11 seconds
PROSE = """The old mill stood by the river for 150 years, and nobody knew who built it.

Every morning the miller's daughter walked down to the water. She counted the boats that
passed the bend; there were never more than 3 on the 1st day of the week!

"Where to?" she asked her father. He only smiled and said that rivers keep their secrets.

* * *

One winter the river froze so hard that the children skated from one village to the next.
The miller mended the wheel by lantern light, humming a song his mother had taught him.
In spring the ice broke with a sound like thunder, and the wheel turned again at dawn.
The daughter grew up and followed the boats, though she wrote home every single month.
Her letters told of harbours, markets and cities where the streets were paved with stone.
The miller kept them in a wooden box beside the fire and read them when the nights were long.
When he grew old she came back, and together they watched the water go by in silence.
The mill still stands there today, though its wheel has not turned for many years.
Travellers who stop to rest beneath its walls say they can hear the river singing softly.
Some say the miller's song still drifts across the water on quiet summer evenings.
"""


def _prepare(out_dir: Path, text: Path, **kwargs) -> dict[str, Path]:
    return prepare_synthetic(out_dir, text=text, **{"hours": TINY, **kwargs})


@pytest.fixture(scope="module")
def text(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("text") / "mill.txt"
    path.write_text(PROSE, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def prepared(text: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return _prepare(tmp_path_factory.mktemp("synthetic"), text)


def test_text_is_normalized_spelled_out_and_cut_into_sentences(text: Path) -> None:
    sentences, stats = read_sentences(text, min_words=4, max_words=13)
    # a sentence over 13 words is cut at its commas
    assert sentences[:2] == [
        "the old mill stood by the river for one hundred and fifty years",
        "and nobody knew who built it",
    ]
    assert "there were never more than three on the first day of the week" in sentences
    assert "every morning the miller's daughter walked down to the water" in sentences
    assert all(normalize_text(s) == s and 4 <= len(s.split()) <= 13 for s in sentences)
    assert len(set(sentences)) == len(sentences)
    assert stats.passages == 5 and stats.empty == 1  # the "* * *" paragraph
    assert stats.too_short == 1  # "where to"
    assert stats.too_long == 4  # the sentences of 14 to 19 words without commas


def test_manifests_and_audio_are_well_formed(prepared: dict[str, Path]) -> None:
    assert list(prepared) == ["train", "dev", "test"]
    for split, path in prepared.items():
        manifest = read_manifest(path)
        assert manifest.skipped == [] and len(manifest) >= 2
        assert manifest.total_duration >= TINY[split] * 3600
        assert len({u.id for u in manifest.utterances}) == len(manifest)
        for u in manifest.utterances:
            assert Path(u.audio_filepath) == path.parent / "audio" / split / f"{u.id}.wav"
            info = sf.info(u.audio_filepath)
            assert (info.samplerate, info.channels, info.subtype) == (RATE, 1, "PCM_16")
            assert abs(info.frames / RATE - u.duration) <= 5e-5
            assert normalize_text(u.text) == u.text and [w["word"] for w in u.words] == u.text.split()


def test_word_times_are_ordered_disjoint_and_on_speech(prepared: dict[str, Path]) -> None:
    for path in prepared.values():
        for u in read_manifest(path).utterances:
            edges = [t for w in u.words for t in (w["start"], w["end"])]
            assert edges == sorted(edges) and all(w["start"] < w["end"] for w in u.words)
            assert u.words[0]["start"] >= 0.1 - 1e-3 and u.words[-1]["end"] <= u.duration - 0.1 + 1e-3
            wav, _ = sf.read(u.audio_filepath, dtype="float32")
            assert np.abs(wav[: int(0.05 * RATE)]).max() < 1e-3  # the leading silence
            for w in u.words:
                assert np.abs(wav[int(w["start"] * RATE) : int(w["end"] * RATE)]).max() > 0.01


def test_voices_and_sentences_do_not_cross_splits(prepared: dict[str, Path]) -> None:
    texts, variants = {}, {}
    for split, path in prepared.items():
        utterances = read_manifest(path).utterances
        texts[split] = {u.text for u in utterances}
        variants[split] = {u.speaker.split("+")[1] for u in utterances}
        assert variants[split] <= set(VARIANTS[split])
    for a, b in (("train", "dev"), ("train", "test"), ("dev", "test")):
        assert not variants[a] & variants[b] and not texts[a] & texts[b]


def test_same_seed_gives_the_same_corpus(prepared: dict[str, Path], text: Path, tmp_path: Path) -> None:
    again = _prepare(tmp_path, text)
    for split, path in prepared.items():
        assert filecmp.cmp(path, again[split], shallow=False)
        for u in read_manifest(path).utterances:
            other = again[split].parent / "audio" / split / Path(u.audio_filepath).name
            assert filecmp.cmp(u.audio_filepath, other, shallow=False)


def test_rerun_keeps_complete_files_and_redoes_missing_ones(text: Path, tmp_path: Path) -> None:
    first = _prepare(tmp_path, text, hours={"train": 0.003, "dev": 0.001, "test": 0.001})
    wavs = sorted((tmp_path / "audio").rglob("*.wav"))
    times = {p: p.stat().st_mtime_ns for p in wavs}
    expected = wavs[0].read_bytes()
    wavs[0].unlink()
    stale = wavs[1].with_suffix(".partial.wav")
    stale.write_bytes(b"interrupted")
    manifests = {split: path.read_text() for split, path in first.items()}
    again = _prepare(tmp_path, text, hours={"train": 0.003, "dev": 0.001, "test": 0.001})
    assert {split: path.read_text() for split, path in again.items()} == manifests
    assert sorted((tmp_path / "audio").rglob("*.wav")) == wavs and not stale.exists()
    assert wavs[0].read_bytes() == expected
    assert all(p.stat().st_mtime_ns == t for p, t in times.items() if p != wavs[0])


def test_test_words_missing_from_training_text() -> None:
    assert oov_rate(["a b c", "c d"], ["a e", "f d"]) == (0.5, 4)


def _share_above(path: Path, hz: float) -> float:
    """The share of a file's spectral energy above ``hz``."""
    return share_above(*sf.read(path, dtype="float32"), hz)


def test_band_limit_removes_what_lies_above_it(prepared: dict[str, Path], text: Path, tmp_path: Path) -> None:
    limited = _prepare(tmp_path, text, band_limit=4000)
    full = {u.text: u.audio_filepath for u in read_manifest(prepared["train"]).utterances}
    for u in read_manifest(limited["train"]).utterances:
        assert sf.info(u.audio_filepath).samplerate == RATE
        # the resampler's low-pass filter fades out between 4 and 5 kHz; above that only 16-bit rounding is left
        assert _share_above(u.audio_filepath, 5000) < 1e-5
        assert _share_above(full[u.text], 5000) > 5e-4  # eSpeak's voices do reach above 5 kHz
    with pytest.raises(ValueError, match="band_limit must be between 0 and 8000 Hz"):
        _prepare(tmp_path, text, band_limit=8000)


def test_unknown_voice_is_named_with_the_available_ones(text: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"en-xx.*available: .*en-us"):
        _prepare(tmp_path, text, accents=["en-us", "en-xx"])
    with pytest.raises(ValueError, match=r"'nobody'.*available: .*klatt"):
        _prepare(tmp_path, text, variants={**VARIANTS, "test": ("nobody",)})
    with pytest.raises(ValueError, match=r"train and test share voice variants \['m1'\]"):
        _prepare(tmp_path, text, variants={**VARIANTS, "test": ("m1",)})


def test_text_without_sentences_is_named(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("* * *\n\n1.\n\nYes.\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"empty\.txt: no usable sentences .*1 empty after normalization"):
        _prepare(tmp_path / "out", empty)
    with pytest.raises(ValueError, match="missing.txt: no such text file"):
        _prepare(tmp_path / "out", tmp_path / "missing.txt")


def test_cli_reports_bad_voice(capsys: pytest.CaptureFixture[str], text: Path, tmp_path: Path) -> None:
    args = ["prepare", "synthetic", "--out-dir", str(tmp_path), "--text", str(text), "--accents", "en-xx"]
    assert main(args) == 2
    assert "en-xx" in capsys.readouterr().err
