"""Word times against reference times: pairing, the offset that centres them, calibration of a model's offset."""

import dataclasses
import logging
from pathlib import Path

import pytest
import soundfile as sf
from test_inference import speechlike

from asr.audio import AudioSource
from asr.data.manifest import Utterance
from asr.inference import Transcriber
from asr.model_file import load_model
from asr.results import Word
from asr.word_timing import Tally, calibrate_frame_offset, score

FIXTURE = Path(__file__).parent / "fixtures" / "tiny_model.pt"


def reference(words: list[Word], shift: float) -> list[dict]:
    return [{"word": w.word, "start": w.start - shift, "end": w.end - shift} for w in words]


def test_score_pairs_equal_words_and_counts_the_others_wrong():
    hypothesis = [Word("one", 1.0, 1.5, 0.9), Word("six", 2.0, 2.5, 0.4), Word("three", 3.0, 3.5, 0.8)]
    ref = reference(hypothesis, 0.1)
    ref[1]["word"] = "two"
    tally = Tally()
    score(tally, ref, hypothesis)
    assert tally.reference_words == 3 and tally.right == [0.9, 0.8] and tally.wrong == [0.4]
    assert tally.start_errors == pytest.approx([0.1, 0.1]) and tally.end_errors == pytest.approx([0.1, 0.1])


def test_centring_offset_removes_the_median_error():
    tally = Tally(start_errors=[0.30, 0.25, 0.9], end_errors=[0.35, -0.5, 0.31])
    assert tally.centring_offset(0.2) == pytest.approx(0.2 - 0.30)
    assert Tally().centring_offset(0.2) is None


def test_calibration_recovers_the_shift_and_skips_unreadable_audio(tmp_path, caplog):
    model = load_model(FIXTURE)
    wav = speechlike(6.0, seed=3)
    sf.write(tmp_path / "a.wav", wav, 16000)
    untimed_model = dataclasses.replace(model, frame_offset=0.0)
    words = next(Transcriber(untimed_model, device="cpu", snap_words=False).transcribe([str(tmp_path / "a.wav")])).words
    assert words, "the random model should emit words on 6 s of noise bursts"
    audio, missing_audio = AudioSource(str(tmp_path / "a.wav")), AudioSource(str(tmp_path / "missing.wav"))
    timed = Utterance(audio, 6.0, " ".join(w.word for w in words), words=reference(words, -0.25))
    missing = Utterance(missing_audio, 1.0, "one", words=({"word": "one", "start": 0, "end": 1},))
    untimed = Utterance(audio, 6.0, timed.text)
    with caplog.at_level(logging.WARNING):
        offset = calibrate_frame_offset(model, [missing, untimed, timed], min_words=len(words))
    assert offset == pytest.approx(0.25)  # words come 0.25 s early: the offset moves them later
    assert "missing.wav: no such audio file" in caplog.text
    assert calibrate_frame_offset(model, [missing, untimed, timed], min_words=len(words) + 1) is None
