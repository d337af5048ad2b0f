"""Flite voices as extra digit speakers: takes, band limit, determinism, manifests and clear errors."""

from __future__ import annotations

import filecmp
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from audio_utils import share_above

from asr.cli.main import main
from asr.corpora.digits import DIGIT_WORDS
from asr.corpora.synth import flite
from asr.corpora.synth.flite_digits import prepare_flite_digits
from asr.data.manifest import read_manifest

RATE = 16000


@pytest.mark.usefixtures("flite_program")
def test_takes_differ_stay_in_band_and_repeat_with_the_seed() -> None:
    takes = flite.spoken_words(["two", "nine"], ["slt"], takes=2, sample_rate=RATE, band_limit=4000, seed=3)
    assert set(takes) == {"slt"} and set(takes["slt"]) == {0, 1}
    for recordings in takes["slt"].values():
        assert len(recordings) == 2
        first, second = recordings
        assert first.dtype == np.int16 and 0.2 * RATE < len(first) < 1.5 * RATE
        assert len(first) != len(second) or not np.array_equal(first, second)  # a random rate and pitch per take
        for take in recordings:
            assert np.abs(take).max() > 3000  # spoken
            assert share_above(take / 32768.0, RATE, 5000) < 1e-5  # nothing left above FSDD's band
    again = flite.spoken_words(["two", "nine"], ["slt"], takes=2, sample_rate=RATE, band_limit=4000, seed=3)
    assert all(np.array_equal(a, b) for a, b in zip(takes["slt"][1], again["slt"][1]))


@pytest.mark.usefixtures("flite_program")
def test_unknown_voice_and_bad_settings_are_named() -> None:
    with pytest.raises(flite.FliteError, match=r"no voice nobody; it offers .*slt"):
        flite.spoken_words(["one"], ["slt", "nobody"], takes=1, sample_rate=RATE, band_limit=4000)
    with pytest.raises(ValueError, match="takes must be at least 1"):
        flite.spoken_words(["one"], ["slt"], takes=0, sample_rate=RATE, band_limit=4000)
    with pytest.raises(ValueError, match="band_limit must be between 0 and 8000 Hz"):
        flite.spoken_words(["one"], ["slt"], takes=1, sample_rate=RATE, band_limit=8000)
    with pytest.raises(ValueError, match="utterances per voice must be at least 1, got 0"):
        prepare_flite_digits(Path("unused"), voices=["slt"], utterances_per_voice=0)


def test_missing_flite_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(flite.shutil, "which", lambda name: None)
    with pytest.raises(flite.FliteError, match=r"flite not found: .*apt-get install flite"):
        flite.available_voices()


@pytest.mark.usefixtures("flite_program")
def test_connected_digits_have_exact_word_times_and_repeat(tmp_path: Path) -> None:
    kwargs = {"voices": ["slt", "rms"], "utterances_per_voice": 3, "takes": 1, "max_digits": 3}
    manifest = read_manifest(prepare_flite_digits(tmp_path / "a", **kwargs))
    assert len(manifest) == 6
    assert {u.speaker for u in manifest.utterances} == {"flite_slt", "flite_rms"}
    for u in manifest.utterances:
        wav, rate = sf.read(u.audio_filepath, dtype="int16")
        assert rate == RATE and abs(len(wav) - u.duration * RATE) <= 1
        assert " ".join(w["word"] for w in u.words) == u.text and set(u.text.split()) <= set(DIGIT_WORDS)
        for w in u.words:
            start, end = round(w["start"] * RATE), round(w["end"] * RATE)
            assert np.abs(wav[start:end]).max() > 1000  # a spoken word
            assert not wav[end + 1 : end + int(0.05 * RATE)].any()  # digital silence after it (pause or edge)
    again = read_manifest(prepare_flite_digits(tmp_path / "b", **kwargs))
    for u, v in zip(manifest.utterances, again.utterances):
        assert u.text == v.text and filecmp.cmp(u.audio_filepath, v.audio_filepath, shallow=False)


@pytest.mark.usefixtures("flite_program")
def test_cli_reports_a_missing_voice(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["prepare", "flite-digits", "--out-dir", str(tmp_path), "--voices", "nobody"]) == 2
    assert capsys.readouterr().err.startswith("error: flite has no voice nobody")
    assert not (tmp_path / "train.jsonl").exists()
