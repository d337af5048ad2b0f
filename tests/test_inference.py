"""Chunked transcription: windows tile the frame grid, stitched output equals one pass, bad files don't stop others."""

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from asr.inference import AudioSource, Transcriber
from asr.model_file import load_model

FIXTURE = Path(__file__).parent / "fixtures" / "tiny_model.pt"


@pytest.fixture(scope="module")
def model():
    return load_model(FIXTURE)


def speechlike(seconds: float, seed: int = 0) -> np.ndarray:
    """Noise bursts and pauses, so posteriors vary along the file."""
    rng = np.random.default_rng(seed)
    n = int(seconds * 16000)
    envelope = np.repeat(rng.random(n // 1600 + 1) > 0.4, 1600)[:n]
    return (0.3 * rng.standard_normal(n) * envelope).astype(np.float32)


@pytest.mark.parametrize("seconds", [5.0, 24.0, 61.3, 200.0])
def test_windows_keep_every_frame_once(model, seconds):
    t = Transcriber(model, device="cpu", chunk_seconds=10.0, context_seconds=2.0)
    windows = list(t._windows(0, seconds))
    assert windows[-1].last and not any(w.last for w in windows[:-1])
    position = 0
    for w in windows:
        start = round(w.offset / t.frame) + w.keep_from
        assert start == position  # each window's kept frames continue where the last stopped
        if w.keep_to is not None:
            position = round(w.offset / t.frame) + w.keep_to
        assert w.offset >= 0 and w.offset + w.duration <= seconds + 1e-9


def test_stitched_long_audio_matches_one_pass(model, tmp_path):
    path = tmp_path / "long.wav"
    sf.write(path, speechlike(75.0), 16000)
    chunked = next(Transcriber(model, device="cpu", chunk_seconds=20.0, context_seconds=3.0).transcribe([str(path)]))
    whole = next(Transcriber(model, device="cpu", chunk_seconds=1000.0).transcribe([str(path)]))
    assert chunked.error is None and whole.error is None
    assert chunked.text == whole.text
    assert [w.word for w in chunked.words] == [w.word for w in whole.words]
    assert chunked.duration == pytest.approx(75.0)


def test_words_are_timed_within_the_audio(model, tmp_path):
    path = tmp_path / "a.wav"
    sf.write(path, speechlike(12.0, seed=1), 16000)
    result = next(Transcriber(model, device="cpu", chunk_seconds=5.0, context_seconds=1.0).transcribe([str(path)]))
    assert result.words, "the random model should emit something on 12 s of noise"
    assert " ".join(w.word for w in result.words) == result.text
    for a, b in zip(result.words, result.words[1:]):
        assert a.start < a.end <= b.start
    assert 0 <= result.words[0].start and result.words[-1].end <= 12.0 + 0.1
    assert all(0 <= w.confidence <= 1 for w in result.words)


def test_bad_and_short_files_do_not_stop_the_others(model, tmp_path):
    good = tmp_path / "good.wav"
    sf.write(good, speechlike(3.0), 16000)
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    short = tmp_path / "short.wav"
    sf.write(short, speechlike(0.05), 16000)
    sources = [str(good), str(empty), str(tmp_path / "missing.flac"), str(short), AudioSource(str(good), 1.0, 1.5)]
    results = list(Transcriber(model, device="cpu").transcribe(sources))
    assert [r.source.path for r in results] == [
        str(good),
        str(empty),
        str(tmp_path / "missing.flac"),
        str(short),
        str(good),
    ]
    assert results[0].error is None and results[4].error is None
    assert "file is empty" in results[1].error and "no such audio file" in results[2].error
    assert results[3].error is None and results[3].text == "" and results[3].words == []
    assert results[4].duration == pytest.approx(1.5)


def test_batching_does_not_change_results(model, tmp_path):
    paths = []
    for i, seconds in enumerate((2.0, 4.5, 3.2)):
        paths.append(str(tmp_path / f"{i}.wav"))
        sf.write(paths[-1], speechlike(seconds, seed=i), 16000)
    one_by_one = [r.text for r in Transcriber(model, device="cpu", max_batch_seconds=1).transcribe(paths)]
    batched = [r.text for r in Transcriber(model, device="cpu", max_batch_seconds=100).transcribe(paths)]
    assert one_by_one == batched


@pytest.mark.parametrize("chunk, context", [(0.0, 0.0), (6.0, 3.0), (5.0, -1.0)])
def test_impossible_chunking_is_an_error(model, chunk, context):
    with pytest.raises(ValueError, match="chunk_seconds"):
        Transcriber(model, device="cpu", chunk_seconds=chunk, context_seconds=context)
