"""Chunked transcription: windows tile the frame grid, stitched output equals one pass, bad files don't stop others."""

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from asr.audio import AudioSource
from asr.chunking import PAUSE_MARGIN, Chunking, Window, plan, stretch_windows
from asr.inference import Transcriber
from asr.model_file import load_model
from asr.segmentation import find_pauses

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
@pytest.mark.parametrize("last", [True, False])
def test_windows_keep_every_frame_once(seconds, last):
    t = Chunking.from_seconds(0.04, chunk_seconds=10.0, context_seconds=2.0)
    windows = stretch_windows(7.0, seconds, last, t)
    assert windows[-1].last == last and not any(w.last for w in windows[:-1])
    position = round(7.0 / t.frame)
    for w in windows:
        start = round(w.offset / t.frame) + w.keep_from
        assert start == position  # each window's kept frames continue where the last stopped
        if w.keep is not None:
            position = start + w.keep
        assert w.offset >= 7.0 and w.offset + w.duration <= 7.0 + seconds + 1e-9
    if not last:  # a stretch inside a file keeps exactly its length in frames: the next one starts on the grid
        assert position == round((7.0 + seconds) / t.frame)


@pytest.mark.parametrize("pauses", [[], [(3.0, 4.0)], [(2.0, 2.3), (5.0, 9.5), (20.0, 21.0)]])
def test_a_plan_keeps_every_frame_of_the_file_once(pauses):
    chunking = Chunking.from_seconds(0.04, chunk_seconds=6.0, context_seconds=1.0)
    windows = plan(30.0, chunking, pauses)
    assert windows[-1].last and not any(w.last for w in windows[:-1])
    position = 0
    for w in windows:
        assert round(w.offset / chunking.frame) + w.keep_from == position  # kept frames continue on the grid
        assert w.offset >= 0 and w.offset + w.duration <= 30.0 + 1e-9
        if w.keep is not None:
            position += w.keep
    # each pause longer than its two margins has a middle heard as blank frames only
    assert sum(w.duration == 0 for w in windows) == sum(end - start > 2 * PAUSE_MARGIN for start, end in pauses)
    assert sum(w.opens for w in windows if w.duration) == len(pauses) + 1  # one stretch per stretch of speech


def test_a_short_file_is_one_window():
    chunking = Chunking.from_seconds(0.04, chunk_seconds=6.0, context_seconds=1.0)
    assert plan(6.0, chunking, [(1.0, 3.0)]) == [Window(0.0, 6.0, 0, None, True)]
    assert len(plan(6.05, chunking)) > 1


def test_stitched_long_audio_matches_one_pass(model, tmp_path):
    path = tmp_path / "long.wav"
    sf.write(path, speechlike(75.0), 16000)
    windows = Transcriber(model, device="cpu", chunk_seconds=20.0, context_seconds=3.0, min_pause_seconds=None)
    chunked = next(windows.transcribe([str(path)]))
    whole = next(Transcriber(model, device="cpu", chunk_seconds=1000.0).transcribe([str(path)]))
    assert chunked.error is None and whole.error is None
    assert chunked.text == whole.text
    assert [w.word for w in chunked.words] == [w.word for w in whole.words]
    assert chunked.duration == pytest.approx(75.0)


def spoken_with_pauses(pauses: list[float], seconds: float = 4.0) -> np.ndarray:
    """Pieces of ``speechlike`` audio (no inner silence over 0.1 s) separated by digital silences."""
    pieces = [speechlike_dense(seconds, seed=0)]
    for i, pause in enumerate(pauses):
        pieces += [np.zeros(int(pause * 16000), np.float32), speechlike_dense(seconds, seed=i + 1)]
    return np.concatenate(pieces)


def speechlike_dense(seconds: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (0.3 * rng.standard_normal(int(seconds * 16000))).astype(np.float32)


def test_pauses_of_long_audio_are_found(tmp_path):
    path = tmp_path / "talk.wav"
    pauses = [1.0, 0.2, 2.0, 0.6]
    sf.write(path, spoken_with_pauses(pauses), 16000)
    duration = sf.info(path).duration
    found = find_pauses(AudioSource(str(path)).energies_db(16000, duration, block_seconds=3.0), min_pause=0.5)
    # pieces are 4 s long; pause k starts after k+1 pieces and the pauses before it
    starts = [4.0 * (k + 1) + sum(pauses[:k]) for k in range(len(pauses))]
    expected = [(start, start + pause) for start, pause in zip(starts, pauses) if pause >= 0.5]
    assert [t for pause in found for t in pause] == pytest.approx([t for p in expected for t in p], abs=0.011)
    # a span of a file: times from its offset; it starts in a pause, and leading silence is no pause
    found = find_pauses(AudioSource(str(path), 4.0).energies_db(16000, duration - 4.0), min_pause=0.5)
    assert [t for pause in found for t in pause] == pytest.approx([t - 4.0 for p in expected[1:] for t in p], abs=0.011)


def test_stretches_between_pauses_keep_the_frame_grid(model, tmp_path):
    path = tmp_path / "talk.wav"
    sf.write(path, spoken_with_pauses([1.0, 0.2, 2.0, 0.6, 1.3]), 16000)
    t = Transcriber(model, device="cpu", chunk_seconds=6.0, context_seconds=1.0, min_pause_seconds=0.5)
    duration = sf.info(path).duration
    windows = plan(duration, t.chunking, find_pauses(AudioSource(str(path)).energies_db(16000, duration), 0.5))
    assert sum(w.duration == 0 for w in windows) == 4  # the middles of the four pauses over 0.5 s are not heard
    cut, whole = [
        next(tr.posteriors([str(path)])) for tr in (t, Transcriber(model, device="cpu", chunk_seconds=1000.0))
    ]
    assert cut.log_probs.shape == whole.log_probs.shape  # stretches join on the frame grid: word times stay exact
    result = t.decode(cut)
    assert " ".join(w.word for w in result.words) == result.text
    assert all(0 <= w.start < w.end <= result.duration + 0.1 for w in result.words)


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


def test_word_times_follow_the_model_files_frame_offset(model, tmp_path):
    path = tmp_path / "a.wav"
    sf.write(path, speechlike(12.0, seed=1), 16000)
    later = dataclasses.replace(model, frame_offset=model.frame_offset + 0.05)
    words, shifted = (
        next(Transcriber(m, device="cpu", snap_words=False).transcribe([str(path)])).words for m in (model, later)
    )
    assert [w.word for w in words] == [w.word for w in shifted]
    inside = [(a, b) for a, b in zip(words, shifted) if a.start + 0.05 < 12.0 - 0.1]  # away from the clamp at the end
    assert inside and all(b.start - a.start == pytest.approx(0.05) for a, b in inside)


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


def test_negative_pause_is_an_error(model):
    with pytest.raises(ValueError, match="min_pause_seconds"):
        Transcriber(model, device="cpu", min_pause_seconds=-1.0)


@pytest.mark.parametrize("chunk, context", [(0.0, 0.0), (6.0, 3.0), (5.0, -1.0)])
def test_impossible_chunking_is_an_error(model, chunk, context):
    with pytest.raises(ValueError, match="chunk_seconds"):
        Transcriber(model, device="cpu", chunk_seconds=chunk, context_seconds=context)


def test_one_path_is_one_source_not_its_characters(model, tmp_path):
    path = tmp_path / "tone.wav"
    sf.write(path, speechlike(1.0), 16000)
    transcriber = Transcriber(model, device="cpu")
    for one in (str(path), path):
        results = list(transcriber.transcribe(one))
        assert len(results) == 1 and results[0].error is None and results[0].source.path == str(path)


def test_any_failure_reading_one_file_is_that_files_error(model, tmp_path, monkeypatch):
    good, odd = tmp_path / "good.wav", tmp_path / "odd.wav"
    for path in (good, odd):
        sf.write(path, speechlike(1.0), 16000)
    real = AudioSource.load

    def load(source, *args, **kwargs):
        if source.path == str(odd):
            raise RuntimeError("out of memory")  # what a resampler once raised
        return real(source, *args, **kwargs)

    monkeypatch.setattr(AudioSource, "load", load)
    results = list(Transcriber(model, device="cpu").transcribe([str(good), str(odd), str(good)]))
    assert [r.error for r in results] == [None, f"{odd}: RuntimeError: out of memory", None]
    assert results[0].text == results[2].text


def test_audio_with_no_samples_is_an_error_as_in_every_command(model, tmp_path):
    empty, good = tmp_path / "empty.wav", tmp_path / "good.wav"
    sf.write(empty, np.zeros(0, np.float32), 16000)
    sf.write(good, speechlike(1.0), 16000)
    results = list(Transcriber(model, device="cpu").transcribe([str(empty), str(good)]))
    assert results[0].error == f"{empty}: contains no samples" and results[1].error is None


def test_one_forward_pass_decodes_into_new_transcripts(model, tmp_path):
    from asr.decoding import BeamSearchDecoder, BeamSearchOptions

    path = tmp_path / "a.wav"
    sf.write(path, speechlike(4.0, seed=2), 16000)
    transcriber = Transcriber(model, device="cpu")
    (posteriors,) = transcriber.posteriors(str(path))
    frames = posteriors.log_probs.clone()
    greedy = transcriber.decode(posteriors)
    beam = transcriber.decode(posteriors, BeamSearchDecoder(model.tokenizer, BeamSearchOptions(beam_size=4)))
    assert greedy is not beam and greedy.text == beam.text  # no LM: the beam finds the best path too
    assert torch.equal(posteriors.log_probs, frames)  # decoding reads the posteriors, never fills them in
    assert greedy == next(transcriber.transcribe(str(path)))
