import numpy as np
import pytest
import soundfile as sf
import torch
from audio_utils import tone, write_wav

from asr.audio import AudioError, load_audio


def test_stereo_8k_becomes_mono_16k(tmp_path):
    path = write_wav(tmp_path / "a.wav", tone(0.5, rate=8000, channels=2), rate=8000)
    wav = load_audio(path, 16000)
    assert wav.dtype == torch.float32 and wav.ndim == 1
    assert wav.numel() == 8000


def test_flac_and_ogg_read(tmp_path):
    for ext in ("flac", "ogg"):
        path = tmp_path / f"a.{ext}"
        sf.write(path, tone(0.25), 16000)
        assert abs(load_audio(path).numel() - 4000) <= 1


def test_offset_and_duration_select_a_span(tmp_path):
    data = np.concatenate([np.zeros(16000, np.float32), np.ones(16000, np.float32) * 0.5])
    path = write_wav(tmp_path / "a.wav", data)
    span = load_audio(path, 16000, offset=1.0, duration=0.5)
    assert span.numel() == 8000 and torch.allclose(span, torch.full((8000,), 0.5), atol=1e-4)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: None, "no such audio file"),
        (lambda p: p.write_bytes(b""), "file is empty"),
        (lambda p: p.write_bytes(b"RIFF garbage that is not audio" * 10), "cannot decode audio"),
    ],
)
def test_bad_files_name_the_file_and_problem(tmp_path, make, message):
    path = tmp_path / "bad.wav"
    make(path)
    with pytest.raises(AudioError, match=message) as err:
        load_audio(path)
    assert str(path) in str(err.value)


def test_header_only_wav_has_no_samples(tmp_path):
    path = write_wav(tmp_path / "silent.wav", np.zeros(0, np.float32))
    with pytest.raises(AudioError, match="no samples"):
        load_audio(path)
