from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from audio_utils import tone, write_wav

from asr.audio import AudioError, AudioSource
from asr.segmentation import waveform_energies_db


def test_stereo_8k_becomes_mono_16k(tmp_path):
    path = write_wav(tmp_path / "a.wav", tone(0.5, rate=8000, channels=2), rate=8000)
    wav = AudioSource(str(path)).load(16000)
    assert wav.dtype == torch.float32 and wav.ndim == 1
    assert wav.numel() == 8000


def test_flac_and_ogg_read(tmp_path):
    for ext in ("flac", "ogg"):
        path = tmp_path / f"a.{ext}"
        sf.write(path, tone(0.25), 16000)
        assert abs(AudioSource(str(path)).load(16000).numel() - 4000) <= 1


def test_offset_and_duration_select_a_span(tmp_path):
    data = np.concatenate([np.zeros(16000, np.float32), np.ones(16000, np.float32) * 0.5])
    path = write_wav(tmp_path / "a.wav", data)
    span = AudioSource(str(path), offset=1.0, duration=0.5).load(16000)
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
        AudioSource(str(path)).load(16000)
    assert str(path) in str(err.value)


def test_header_only_wav_has_no_samples(tmp_path):
    path = write_wav(tmp_path / "silent.wav", np.zeros(0, np.float32))
    with pytest.raises(AudioError, match="no samples"):
        AudioSource(str(path)).load(16000)


MEASURE_PEAK = """
import resource, sys
import torch
from asr.audio import AudioSource
AudioSource(sys.argv[1]).load(16000)  # warm up on a 16 kHz file: imports, allocator
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
for path in sys.argv[2:]:
    wav = AudioSource(path).load(16000)
    assert abs(wav.numel() - 60 * 16000) <= 16, wav.numel()
    del wav
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) // 1024)
"""


def test_a_minute_at_awkward_rates_resamples_in_bounded_memory(tmp_path):
    """Rates whose ratio to 16 kHz has large terms made a resampling kernel of gigabytes."""
    import subprocess
    import sys

    rng = np.random.default_rng(0)
    warm = write_wav(tmp_path / "warm.wav", tone(1.0))
    paths = []
    for rate in (4001, 11127, 44101, 191999):
        samples = (0.1 * rng.standard_normal(60 * rate)).astype(np.float32)
        paths.append(str(write_wav(tmp_path / f"{rate}.wav", samples, rate)))
    run = subprocess.run(
        [sys.executable, "-c", MEASURE_PEAK, str(warm), *paths],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert int(run.stdout) < 300  # MB over the warmed-up peak; the 16-bit files take 2-23 MB on disk


def test_resampling_keeps_a_tone_where_it_was(tmp_path):
    from asr.audio import resample

    rate = 11127
    wav = torch.from_numpy(tone(1.0, rate=rate, freq=440.0))
    out = resample(wav, rate, 16000).numpy()
    assert abs(out.size - 16000) <= 1
    peak = np.argmax(np.abs(np.fft.rfft(out))) * 16000 / out.size
    assert abs(peak - 440.0) < 2


def test_a_span_reads_its_own_seconds_samples_and_energies(tmp_path):
    path = str(write_wav(tmp_path / "a.wav", tone(3.0)))
    whole, span = AudioSource(path), AudioSource(path, offset=1.0, duration=1.5)
    assert whole.seconds() == pytest.approx(3.0) and span.seconds() == 1.5
    assert AudioSource(path, offset=1.0).seconds() == pytest.approx(2.0)
    assert torch.equal(span.load(16000), whole.load(16000)[16000:40000])
    assert span.load(16000, offset=0.5).numel() == 16000  # to the end of the span, not of the file
    assert np.array_equal(span.read()[0], whole.read()[0][16000:40000]) and span.read()[1] == 16000
    streamed = span.energies_db(16000, 1.5, block_seconds=0.25)  # read in six blocks
    assert torch.allclose(streamed, waveform_energies_db(span.load(16000), 16000))


def test_samples_in_memory_are_a_span_like_a_file(tmp_path):
    data = tone(2.0, rate=8000)
    in_memory = AudioSource.from_array(data, 8000, "mine")
    on_disk = AudioSource(str(write_wav(tmp_path / "a.wav", data, rate=8000)))
    assert in_memory.seconds() == on_disk.seconds() == pytest.approx(2.0)
    assert torch.allclose(in_memory.load(16000), on_disk.load(16000), atol=1e-4)  # the file holds 16-bit samples
