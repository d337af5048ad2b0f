"""The Python API: asr.load(path).transcribe(x) for every input form, and clear errors for misuse."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

import asr
from asr.config import ConfigError

FIXTURE = Path(__file__).parent / "fixtures" / "tiny_model.pt"


@pytest.fixture(scope="module")
def model():
    return asr.load(FIXTURE, device="cpu")


@pytest.fixture(scope="module")
def recordings(fsdd_dir):
    return [fsdd_dir / "0_jackson_0.wav", fsdd_dir / "1_george_3.wav"]


def as_tuple(result):
    return result.text, [(w.word, round(w.start, 3), round(w.end, 3), round(w.confidence, 4)) for w in result.words]


def test_import_asr_loads_no_torch():
    code = "import sys, asr; assert callable(asr.load); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_every_input_form_gives_the_same_result(model, recordings):
    path = recordings[0]
    expected = model.transcribe(str(path))
    assert expected.text and expected.words and expected.error is None
    assert all(0 <= w.start < w.end <= expected.duration + 0.05 and 0 <= w.confidence <= 1 for w in expected.words)
    samples, rate = sf.read(path, dtype="float32")
    assert rate != model.sample_rate  # FSDD is 8 kHz: the array is resampled as the file is
    assert as_tuple(model.transcribe(path)) == as_tuple(expected)  # a Path
    assert as_tuple(model.transcribe(samples, sample_rate=rate)) == as_tuple(expected)  # numpy
    assert as_tuple(model.transcribe(torch.from_numpy(samples), sample_rate=rate)) == as_tuple(expected)  # torch
    stereo = np.stack([samples, samples])  # (channels, samples): averaged
    assert as_tuple(model.transcribe(stereo, sample_rate=rate)) == as_tuple(expected)
    int16 = (samples * 32767).astype(np.int16)
    assert model.transcribe(int16, sample_rate=rate).text  # int16 samples are scaled, not read as huge floats


def test_a_list_gives_one_result_per_input_in_order(model, recordings):
    singles = [as_tuple(model.transcribe(p)) for p in recordings]
    assert [as_tuple(r) for r in model.transcribe([str(p) for p in recordings])] == singles
    samples, rate = sf.read(recordings[1], dtype="float32")
    mixed = model.transcribe([recordings[0], samples], sample_rate=rate)
    assert [as_tuple(r) for r in mixed] == singles


def test_bad_inputs_in_a_list_come_back_as_errors_and_the_others_still_run(model, recordings, tmp_path):
    results = model.transcribe([tmp_path / "missing.wav", recordings[0], np.zeros(0, np.float32)], sample_rate=8000)
    assert "missing.wav: no such audio file" in results[0].error
    assert results[1].error is None and results[1].text
    assert results[2].error == "<array 2>: contains no samples"


@pytest.mark.parametrize(
    "audio, kwargs, message",
    [
        ("missing.wav", {}, "missing.wav: no such audio file"),
        (np.zeros(8000, np.float32), {}, r"<array>: an array needs sample_rate="),
        (np.zeros((8000, 2), np.float32), {"sample_rate": 8000}, r"looks like \(samples, channels\)"),
        (np.full(8000, np.nan, np.float32), {"sample_rate": 8000}, "NaN or infinite"),
        (np.zeros(8000, np.float32), {"sample_rate": 0}, "sample_rate=0: expected a positive integer"),
    ],
)
def test_one_bad_input_raises_a_clear_error(model, audio, kwargs, message):
    with pytest.raises(asr.TranscriptionError, match=message):
        model.transcribe(audio, **kwargs)


def test_misuse_is_an_error_not_ignored(model, recordings, tmp_path):
    with pytest.raises(ConfigError, match="sample_rate= is for arrays"):
        model.transcribe(recordings[0], sample_rate=16000)
    with pytest.raises(TypeError, match="expected a path, an array, or a list"):
        model.transcribe(42)
    with pytest.raises(ConfigError, match=r"decoder.lm needs decoder=beam"):
        model.transcribe(recordings[0], lm="lm.arpa")
    with pytest.raises(ConfigError, match=r"decoder.beam_size: Value 'wide'"):
        model.transcribe(recordings[0], decoder="beam", beam_size="wide")
    with pytest.raises(ConfigError, match=r"decoder.lm=.*nope.arpa: no such file"):
        model.transcribe(recordings[0], decoder="beam", lm=str(tmp_path / "nope.arpa"))


@pytest.mark.usefixtures("flashlight")
def test_decoder_options_are_keyword_arguments(model, recordings):
    greedy = model.transcribe(recordings[0])
    beam = model.transcribe(recordings[0], decoder="beam", beam_size=8)
    assert beam.text == greedy.text  # no LM: the beam finds the best path too
    assert model.decoder("beam", beam_size=8) is model.decoder("beam", beam_size=8)  # built once


def test_load_errors_are_clear(tmp_path):
    from asr.model_file import ModelFileError

    with pytest.raises(ModelFileError, match="no such model file"):
        asr.load(tmp_path / "missing.pt")
    with (
        pytest.raises(ValueError, match="device cuda: CUDA is not available")
        if not torch.cuda.is_available()
        else (pytest.raises(ValueError, match="this machine has"))
    ):
        asr.load(FIXTURE, device="cuda" if not torch.cuda.is_available() else "cuda:99")


def test_evaluation_reports_a_reference_it_cannot_spell_and_states_its_normalization(model, recordings, tmp_path):
    import json

    from asr.data.manifest import read_manifest
    from asr.evaluation import evaluate

    manifest = tmp_path / "m.jsonl"
    rows = [
        {"id": "paid", "audio_filepath": str(recordings[0]), "duration": 0.64, "text": "I paid $20"},
        {"id": "half", "audio_filepath": str(recordings[1]), "duration": 0.5, "text": "Add 1/2 a cup"},
    ]
    manifest.write_text("".join(json.dumps(row) + "\n" for row in rows))
    report = evaluate(model.transcriber, read_manifest(manifest), tmp_path / "out.jsonl")
    assert report.utterances == 1 and report.words.reference_length == 4  # "i paid twenty dollars"
    assert report.failed == ["half: reference text: '1/2': ambiguous number (a date, version or fraction)"]
    assert "numbers spelled out (num2words)" in report.summary() and report.as_dict()["normalization"]


@pytest.mark.usefixtures("flashlight")
def test_the_readme_example_runs(recordings, tmp_path, monkeypatch):
    """The README's Python example, as written, on two FSDD files and a small LM and lexicon."""
    import re
    import shutil

    from asr.decoding import write_lexicon
    from asr.lm import build_lm
    from asr.model_file import load_model

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    example = re.search(r"### From Python\n\n```python\n(.*?)```", readme, re.S).group(1)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tests" / "fixtures").mkdir(parents=True)
    shutil.copy(FIXTURE, tmp_path / "tests" / "fixtures" / "tiny_model.pt")
    shutil.copy(recordings[0], tmp_path / "a.wav")
    sf.write(tmp_path / "b.flac", sf.read(recordings[1])[0], 8000)
    build_lm(["one two three", "three two one"], tmp_path / "lm.arpa", order=2, use_lmplz="never")
    write_lexicon(["one", "two", "three"], load_model(FIXTURE).tokenizer, tmp_path / "lexicon.txt")
    scope: dict = {}
    exec(compile(example, "README.md", "exec"), scope)
    assert len(scope["results"]) == 1 and scope["results"][0].error is None
    assert scope["result"].text == model_text(recordings[0])


def model_text(path) -> str:
    return asr.load(FIXTURE, device="cpu").transcribe(path).text
