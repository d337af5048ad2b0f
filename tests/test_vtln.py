"""Vocal tract length normalization: the frontend's warp, the choice of warp per speaker, and the commands."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import soundfile as sf
import torch

from asr.audio import AudioSource
from asr.cli.main import main
from asr.data.manifest import read_manifest
from asr.evaluation import evaluate
from asr.features import FeatureConfig, Frontend
from asr.inference import Transcriber
from asr.model_file import load_model
from asr.results import Transcript, Word
from asr.vtln import FACTORS, mean_confidence, transcribe_warped

MODEL = Path(__file__).parent / "fixtures" / "tiny_model.pt"
RATE = 16000


def test_the_frontend_warp_moves_a_tone_up_the_mel_axis_and_one_changes_nothing() -> None:
    frontend = Frontend(FeatureConfig())
    t = torch.arange(RATE) / RATE
    wav = torch.sin(2 * torch.pi * 700 * t)[None]
    lengths = torch.tensor([RATE])
    plain, _ = frontend(wav, lengths)
    frontend.warp = 1.0
    assert torch.equal(frontend(wav, lengths)[0], plain)
    peak = plain[0, 10].argmax().item()
    frontend.warp = 1.3
    warped, _ = frontend(wav, lengths)
    assert abs(warped[0, 10].argmax().item() - 1.3 * peak) <= 1  # content of bin f now at bin 1.3 f


class ScriptedTranscriber:
    """Stands in for a Transcriber: each source's transcript is its reference when the frontend's warp is the
    one scripted for its speaker (confidence 0.9), and a wrong word otherwise (confidence falling with the
    distance from it)."""

    def __init__(self, best: dict[str, float], references: dict[str, str]):
        self.recognizer = SimpleNamespace(frontend=SimpleNamespace(warp=1.0))
        self.best, self.references, self.warps_seen = best, references, []

    def transcribe(self, sources, progress=False):
        warp = self.recognizer.frontend.warp
        self.warps_seen.append(warp)
        for source in sources:
            name = Path(source.path).name
            target = self.best[name.split("-")[0]]
            text = self.references[name] if warp == target else "nine"
            word = Word(text.split()[0], 0.0, 0.5, 0.9 - abs(warp - target))
            yield Transcript(source, text, [word], duration=1.0)


def _manifest(tmp_path: Path, rows: list[tuple[str, str, str]]) -> Path:
    """A manifest of one-second silent files: (file name, speaker, text) per row."""
    lines = []
    for name, speaker, text in rows:
        sf.write(tmp_path / name, np.zeros(RATE, dtype=np.float32), RATE)
        lines.append(json.dumps({"audio_filepath": name, "duration": 1.0, "text": text, "speaker": speaker}))
    path = tmp_path / "m.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_each_speaker_is_decoded_under_its_own_warp_in_manifest_order(tmp_path: Path) -> None:
    rows = [("amy-0.wav", "amy", "one two"), ("bob-0.wav", "bob", "three"), ("amy-1.wav", "amy", "four")]
    manifest = read_manifest(_manifest(tmp_path, rows))
    transcriber = ScriptedTranscriber({"amy": 0.9, "bob": 1.1}, {name: text for name, _, text in rows})
    report = evaluate(transcriber, manifest, vtln=FACTORS)  # type: ignore[arg-type]
    assert report.warps == {"amy": 0.9, "bob": 1.1}
    assert [r.hypothesis for r in report.results] == ["one two", "three", "four"]
    assert report.words.errors == 0 and report.as_dict()["vtln_warps"] == {"amy": 0.9, "bob": 1.1}
    assert transcriber.recognizer.frontend.warp == 1.0  # put back after the search
    assert "vocal tract warp per speaker: amy 0.9, bob 1.1" in report.summary()
    plain = evaluate(transcriber, manifest)  # type: ignore[arg-type]
    assert plain.words.errors == 4 and not plain.warps  # without VTLN, the unwarped (wrong) transcripts


def test_a_failed_pass_puts_the_warp_back_and_bad_factors_or_models_are_named() -> None:
    class Failing(ScriptedTranscriber):
        def transcribe(self, sources, progress=False):
            raise RuntimeError("out of memory")

    failing = Failing({}, {})
    with pytest.raises(RuntimeError):
        transcribe_warped(failing, [AudioSource("a.wav")])  # type: ignore[arg-type]
    assert failing.recognizer.frontend.warp == 1.0
    with pytest.raises(ValueError, match=r"warp factors must lie between 0.5 and 2, got \[3.0\]"):
        transcribe_warped(failing, [AudioSource("a.wav")], [3.0])  # type: ignore[arg-type]
    export = SimpleNamespace(recognizer=SimpleNamespace())
    with pytest.raises(ValueError, match="needs a PyTorch model file"):
        transcribe_warped(export, [AudioSource("a.wav")])  # type: ignore[arg-type]


def test_mean_confidence_counts_transcripts_with_words() -> None:
    source = AudioSource("a.wav")
    words = [Word("one", 0, 1, 0.5), Word("two", 1, 2, 1.0)]
    assert mean_confidence([Transcript(source, "one two", words), Transcript(source, "")]) == 0.75
    assert mean_confidence([Transcript(source, "")]) == 0.0


def test_transcribe_vtln_prints_what_the_chosen_warp_gives(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    rng = np.random.default_rng(0)
    paths = []
    for k in range(2):
        envelope = np.repeat(rng.random(20) > 0.4, 1600)
        paths.append(tmp_path / f"s{k}.wav")
        sf.write(paths[-1], (0.3 * rng.standard_normal(20 * 1600) * envelope).astype(np.float32), RATE)
    assert main(["transcribe", str(MODEL), *map(str, paths), "--vtln", "--device", "cpu"]) == 0
    out, err = capsys.readouterr()
    factor = float(err.strip().splitlines()[-1].removeprefix("vocal tract warp: "))
    assert factor in FACTORS
    model = load_model(MODEL)
    model.recognizer.frontend.warp = factor
    expected = [t.text for t in Transcriber(model, device="cpu").transcribe([str(p) for p in paths])]
    assert out.splitlines() == [f"{p}\t{text}" for p, text in zip(paths, expected)]
