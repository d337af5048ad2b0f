"""Connected-digits preparation from FSDD: manifests, audio, exact word times, speaker split, determinism."""

from __future__ import annotations

import filecmp
import logging
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from asr.audio import AudioSource
from asr.cli.main import main
from asr.corpora.digits import DIGIT_WORDS, prepare_digits
from asr.data.manifest import read_manifest

RATE = 16000
TINY = {"train": 3, "dev": 4, "test": 4}
SPEAKERS = {"train": {"george", "nicolas", "yweweler"}, "dev": {"lucas"}, "test": {"jackson"}}


@pytest.fixture(scope="module")
def prepared(fsdd_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Tiny splits generated from the full FSDD folder."""
    return prepare_digits(fsdd_dir, tmp_path_factory.mktemp("digits"), utterances_per_speaker=TINY)


@pytest.fixture
def small_fsdd(fsdd_dir: Path, tmp_path: Path) -> Path:
    """A copy of two recordings of each digit by each speaker (100 files)."""
    folder = tmp_path / "recordings"
    folder.mkdir()
    for path in sorted(fsdd_dir.glob("*.wav")):
        if int(path.stem.split("_")[2]) < 2:
            shutil.copy(path, folder / path.name)
    return folder


def test_manifests_are_well_formed(prepared: dict[str, Path]) -> None:
    assert set(prepared) == {"train", "dev", "test"}
    for split, path in prepared.items():
        manifest = read_manifest(path)
        assert manifest.skipped == []
        assert len(manifest) == TINY[split] * len(SPEAKERS[split])
        assert len({u.id for u in manifest.utterances}) == len(manifest)
        for u in manifest.utterances:
            assert u.id.startswith(f"{u.speaker}-{split}-")
            assert Path(u.audio_filepath) == path.parent / "audio" / split / f"{u.id}.wav"


def test_audio_is_16k_pcm16_and_matches_duration(prepared: dict[str, Path]) -> None:
    for path in prepared.values():
        for u in read_manifest(path).utterances:
            info = sf.info(u.audio_filepath)
            assert (info.samplerate, info.channels, info.subtype) == (RATE, 1, "PCM_16")
            assert abs(info.frames / RATE - u.duration) <= 5e-5


def test_word_times_are_ordered_and_match_text(prepared: dict[str, Path]) -> None:
    for path in prepared.values():
        for u in read_manifest(path).utterances:
            words = [w["word"] for w in u.words]
            assert words == u.text.split()
            assert 1 <= len(words) <= 7 and set(words) <= set(DIGIT_WORDS)
            edges = [t for w in u.words for t in (w["start"], w["end"])]
            assert edges == sorted(edges) and all(w["start"] < w["end"] for w in u.words)
            assert u.words[0]["start"] >= 0.1 - 1e-4 and u.words[-1]["end"] <= u.duration - 0.1 + 1e-4
            gaps = [b["start"] - a["end"] for a, b in zip(u.words, u.words[1:])]
            assert all(0.05 - 1e-4 <= g <= 0.35 + 1e-4 for g in gaps)


def _find_span(samples: np.ndarray, start: int, candidates: list[np.ndarray]) -> tuple[int, int]:
    """Where one candidate recording lies (to 16-bit precision) at ``start`` +- 1 sample."""
    for recording in candidates:
        expected = np.clip(recording, -1.0, 32767 / 32768)
        for begin in (start - 1, start, start + 1):
            span = samples[begin : begin + len(expected)]
            if len(span) == len(expected) and np.allclose(span, expected, rtol=0, atol=0.51 / 32768):
                return begin, begin + len(expected)
    raise AssertionError(f"no source recording found at sample {start}")


def test_samples_are_source_recordings_joined_by_digital_silence(prepared: dict[str, Path], fsdd_dir: Path) -> None:
    u = max(read_manifest(prepared["test"]).utterances, key=lambda u: len(u.words))
    samples, rate = sf.read(u.audio_filepath, dtype="float64")
    covered = np.zeros(len(samples), dtype=bool)
    for word in u.words:
        digit = DIGIT_WORDS.index(word["word"])
        recordings = sorted(fsdd_dir.glob(f"{digit}_{u.speaker}_*.wav"))
        candidates = [AudioSource(str(p)).load(RATE).double().numpy() for p in recordings]
        begin, end = _find_span(samples, round(word["start"] * rate), candidates)
        assert abs(begin / rate - word["start"]) <= 5e-5 and abs(end / rate - word["end"]) <= 5e-5
        covered[begin:end] = True
    assert np.all(samples[~covered] == 0.0)


def test_speakers_are_split_and_test_speaker_is_unheard_in_training(prepared: dict[str, Path]) -> None:
    found = {split: {u.speaker for u in read_manifest(path).utterances} for split, path in prepared.items()}
    assert found == SPEAKERS
    assert not (found["train"] & found["dev"] or found["train"] & found["test"] or found["dev"] & found["test"])


def _contents(out_dir: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out_dir)): p.read_bytes() for p in sorted(out_dir.rglob("*")) if p.is_file()}


def test_same_seed_same_output_and_rerun_is_idempotent(small_fsdd: Path, tmp_path: Path) -> None:
    first = _contents(
        Path(prepare_digits(small_fsdd, tmp_path / "a", seed=3, utterances_per_speaker=TINY)["train"]).parent
    )
    prepare_digits(small_fsdd, tmp_path / "a", seed=3, utterances_per_speaker=TINY)
    prepare_digits(small_fsdd, tmp_path / "b", seed=3, utterances_per_speaker=TINY)
    assert _contents(tmp_path / "a") == first == _contents(tmp_path / "b")
    prepare_digits(small_fsdd, tmp_path / "c", seed=4, utterances_per_speaker=TINY)
    assert not filecmp.cmp(tmp_path / "a" / "train.jsonl", tmp_path / "c" / "train.jsonl", shallow=False)


def test_rerun_with_fewer_utterances_leaves_no_stale_audio(small_fsdd: Path, tmp_path: Path) -> None:
    prepare_digits(small_fsdd, tmp_path, utterances_per_speaker=TINY)
    prepare_digits(small_fsdd, tmp_path, utterances_per_speaker={"train": 1, "dev": 1, "test": 1})
    assert len(list((tmp_path / "audio" / "train").glob("*.wav"))) == 3


@pytest.mark.filterwarnings(
    "ignore:PySoundFile failed", "ignore::FutureWarning"
)  # librosa's fallback for the corrupt file
def test_bad_recordings_are_skipped_and_counted(
    small_fsdd: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (small_fsdd / "3_george_99.wav").write_bytes(b"")
    (small_fsdd / "4_lucas_99.wav").write_bytes(b"RIFF\x00\x00 not a wave file")
    with caplog.at_level(logging.INFO, logger="asr.corpora.digits"):
        manifests = prepare_digits(small_fsdd, tmp_path / "out", utterances_per_speaker=TINY)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("3_george_99.wav" in m for m in warnings) and any("4_lucas_99.wav" in m for m in warnings)
    assert any("skipped 2 unreadable recording(s) of 102" in r.getMessage() for r in caplog.records)
    for split, path in manifests.items():
        assert len(read_manifest(path)) == TINY[split] * len(SPEAKERS[split])


@pytest.mark.parametrize(
    ("speakers", "message"),
    [
        ({"dev_speaker": "lucas", "test_speaker": "lucas"}, "must differ"),
        ({"dev_speaker": "nobody"}, "dev speaker 'nobody'"),
        ({"test_speaker": "nobody"}, "test speaker 'nobody'"),
    ],
)
def test_bad_speaker_choice_raises(small_fsdd: Path, tmp_path: Path, speakers: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        prepare_digits(small_fsdd, tmp_path, **speakers)


def test_no_training_speaker_left_raises(small_fsdd: Path, tmp_path: Path) -> None:
    for path in small_fsdd.glob("*.wav"):
        if path.stem.split("_")[1] not in ("lucas", "jackson"):
            path.unlink()
    with pytest.raises(ValueError, match="no training speaker"):
        prepare_digits(small_fsdd, tmp_path)


def test_cli_prepares_and_reports_errors(small_fsdd: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sizes = ["--train-utterances", "1", "--dev-utterances", "2", "--test-utterances", "2"]
    assert main(["prepare", "digits", "--fsdd-dir", str(small_fsdd), "--out-dir", str(tmp_path), *sizes]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == ["train", "dev", "test"]
    assert "3 utterances" in lines[0] and str(tmp_path / "dev.jsonl") in lines[1]
    args = ["prepare", "digits", "--fsdd-dir", str(small_fsdd), "--out-dir", str(tmp_path), "--test-speaker", "lucas"]
    assert main(args) == 2
    assert capsys.readouterr().err.startswith("error: dev and test speaker must differ")
